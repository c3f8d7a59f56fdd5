using Microsoft.AspNetCore.Mvc;
using Tessera.Segmentation;
using Tessera.Segmentation.Audiences;

namespace Tessera.Server.Api;

/// <summary>
/// The sandbox's audience catalog (admin keys; docs/segmentation.md). <c>{audience}</c> is an id or a
/// name. Creating is not idempotent (a name in use is a 409); PUT replaces the definition (pql,
/// description, merge policy), PATCH changes only what the body carries; DELETE marks the audience
/// deleted and returns it.
/// </summary>
internal static class AudienceEndpoints
{
    private const string Base = "/segmentation/v1/audiences";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Base)
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
            .WithTags("Audiences");

        group.MapGet("", List)
            .WithName("ListAudiences")
            .WithSummary("The sandbox's audiences, oldest first: every one but the deleted, or those in ?state= (draft, published, inactive, deleted).")
            .WithQuery(QueryParameterSpec.OneOf("state", "Only the audiences in this state (default: every one but the deleted).", "draft", "published", "inactive", "deleted"))
            .Produces<List<Audience>>();
        group.MapPost("", CreateAsync)
            .WithName("CreateAudience")
            .WithSummary("Creates a draft audience (name and pql required; publish=true publishes it too). The expression is checked against the sandbox's schemas and classified.")
            .Accepts<AudienceRequest>("application/json")
            .Produces<Audience>(StatusCodes.Status201Created);
        group.MapGet("/{audience}", (string audience, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Audiences.Require(http.Caller().Sandbox, audience), ServerJson.Default.Audience))
            .WithName("GetAudience")
            .WithSummary("An audience by id (whatever its state) or by name (not deleted).")
            .Produces<Audience>();
        group.MapPut("/{audience}", (string audience, HttpContext http, [FromServices] Workspace workspace) => UpdateAsync(audience, http, workspace, replace: true))
            .WithName("ReplaceAudience")
            .WithSummary("Replaces the definition: pql required; a description or merge policy left out is cleared.")
            .Accepts<AudienceRequest>("application/json")
            .Produces<Audience>();
        group.MapPatch("/{audience}", (string audience, HttpContext http, [FromServices] Workspace workspace) => UpdateAsync(audience, http, workspace, replace: false))
            .WithName("UpdateAudience")
            .WithSummary("Changes what the body carries (pql, description, mergePolicy; \"\" clears the last two).")
            .Accepts<AudienceRequest>("application/json")
            .Produces<Audience>();
        group.MapDelete("/{audience}", async (string audience, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Audiences.DeleteAsync(http.Caller().Sandbox, audience), ServerJson.Default.Audience))
            .WithName("DeleteAudience")
            .WithSummary("Marks the audience deleted and returns it; 409 AUDIENCE_IN_USE while another audience reads it through inSegment.")
            .Produces<Audience>();
        group.MapPost("/{audience}/publish", async (string audience, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Audiences.PublishAsync(http.Caller().Sandbox, audience), ServerJson.Default.Audience))
            .WithName("PublishAudience")
            .WithSummary("Publishes a draft or inactive audience; every audience it reads must be published, and the streaming and edge limits hold.")
            .Produces<Audience>();
        group.MapPost("/{audience}/deactivate", async (string audience, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Audiences.DeactivateAsync(http.Caller().Sandbox, audience), ServerJson.Default.Audience))
            .WithName("DeactivateAudience")
            .WithSummary("Published → inactive; 409 AUDIENCE_IN_USE while a published audience reads it.")
            .Produces<Audience>();
    }

    private static IResult List(HttpContext http, [FromServices] Workspace workspace)
    {
        // The declared values are the states' names: anything else was refused as PARAMETER_INVALID.
        AudienceState? filter = QueryParameter.String(http, "state") is { } state ? Enum.Parse<AudienceState>(state, ignoreCase: true) : null;
        return TypedResults.Json(workspace.Audiences.List(http.Caller().Sandbox, filter), ServerJson.Default.ListAudience);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var request = await RequestBody.ReadAsync(http, ServerJson.Default.AudienceRequest);
        if (request.Name is null || request.Pql is null)
        {
            throw ApiException.BadRequest("AUDIENCE_INVALID", "an audience needs a name and a pql expression");
        }
        var sandbox = http.Caller().Sandbox;
        var audience = await workspace.Audiences.CreateAsync(sandbox, request.Name, request.Pql, request.Description, request.MergePolicy, request.Id);
        if (request.Publish)
        {
            audience = await workspace.Audiences.PublishAsync(sandbox, audience.Id);
        }
        http.Response.Headers.Location = $"{Base}/{Uri.EscapeDataString(audience.Id)}";
        return TypedResults.Json(audience, ServerJson.Default.Audience, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> UpdateAsync(string idOrName, HttpContext http, Workspace workspace, bool replace)
    {
        var request = await RequestBody.ReadAsync(http, ServerJson.Default.AudienceRequest);
        var sandbox = http.Caller().Sandbox;
        var current = workspace.Audiences.Require(sandbox, idOrName);
        if (request.Name is { } name && name != current.Name)
        {
            throw ApiException.BadRequest("AUDIENCE_INVALID", $"the body names audience '{name}' but the route names '{current.Name}'; an audience is not renamed");
        }
        if (request.Id is { } id && id != current.Id)
        {
            throw ApiException.BadRequest("AUDIENCE_INVALID", $"the body carries id '{id}' but audience '{current.Name}' has id '{current.Id}'; an id does not change");
        }
        if (replace && request.Pql is null)
        {
            throw ApiException.BadRequest("AUDIENCE_INVALID", "PUT replaces the definition and needs pql; PATCH changes only what the body carries");
        }
        var audience = replace
            ? await workspace.Audiences.UpdateAsync(sandbox, current.Id, request.Pql, request.Description ?? "", request.MergePolicy ?? "")
            : await workspace.Audiences.UpdateAsync(sandbox, current.Id, request.Pql, request.Description, request.MergePolicy);
        return TypedResults.Json(audience, ServerJson.Default.Audience);
    }
}

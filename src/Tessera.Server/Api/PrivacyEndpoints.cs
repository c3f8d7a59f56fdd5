using Microsoft.AspNetCore.Mvc;
using Tessera.Profiles.Privacy;

namespace Tessera.Server.Api;

/// <summary>
/// Privacy requests (admin keys): access exports everything held about a person, delete removes it
/// from every store. A request runs synchronously in the call, which answers with it finished.
/// </summary>
internal static class PrivacyEndpoints
{
    /// <summary>Most requests one list returns (newest first).</summary>
    public const int MaxListed = 1_000;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/privacy/v1/requests")
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound)
            .WithTags("Privacy");
        group.MapPost("", SubmitAsync)
            .WithName("CreatePrivacyRequest")
            .WithSummary("Runs an access or delete request about the person the identities name (their graphs included); answers with the finished request, its receipt and (access) its export.")
            .Accepts<PrivacyRequestBody>("application/json")
            .Produces<PrivacyRequest>(StatusCodes.Status201Created);
        group.MapGet("", List)
            .WithName("ListPrivacyRequests")
            .WithSummary("The sandbox's privacy requests, newest first (?limit=, default 100), without exports.")
            .WithQuery(QueryParameterSpec.Int32("limit", "Requests to list.", minimum: 1, maximum: MaxListed, @default: 100))
            .Produces<List<PrivacyRequest>>();
        group.MapGet("/{id}", Get)
            .WithName("GetPrivacyRequest")
            .WithSummary("One privacy request: status, times, receipt.")
            .Produces<PrivacyRequest>();
        group.MapGet("/{id}/export", Export)
            .WithName("GetPrivacyExport")
            .WithSummary("An access request's export: every record version, event and link of the person's identities, the merged profiles, quarantined rows.")
            .Produces<PrivacyExport>();
    }

    private static async Task<IResult> SubmitAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        var body = await RequestBody.ReadAsync(http, PrivacyJson.Default.PrivacyRequestBody);
        if (!PrivacyRequestTypes.IsKnown(body.Type))
        {
            throw ApiException.BadRequest("PRIVACY_REQUEST_INVALID", $"'type' must be '{PrivacyRequestTypes.Access}' or '{PrivacyRequestTypes.Delete}'");
        }
        if (body.Identities is not { Count: > 0 })
        {
            throw ApiException.BadRequest("PRIVACY_REQUEST_INVALID", "'identities' must list at least one Namespace:value");
        }
        var identities = body.Identities.Select(i => workspace.ParseIdentity(sandbox, i ?? "")).ToList();
        // Not the request's token: a delete that has started runs to its end even if the client goes away.
        var request = await workspace.Privacy.SubmitAsync(sandbox, body.Type!, identities, CancellationToken.None);
        return TypedResults.Json(request, PrivacyJson.Default.PrivacyRequest, statusCode: StatusCodes.Status201Created);
    }

    private static IResult List(HttpContext http, [FromServices] Workspace workspace)
    {
        var take = QueryParameter.IntWithDefault(http, "limit");
        List<PrivacyRequest> requests = [.. workspace.Privacy.List(http.Caller().Sandbox).Take(take)];
        return TypedResults.Json(requests, PrivacyJson.Default.ListPrivacyRequest);
    }

    private static IResult Get(string id, HttpContext http, [FromServices] Workspace workspace) =>
        TypedResults.Json(workspace.Privacy.Require(http.Caller().Sandbox, id), PrivacyJson.Default.PrivacyRequest);

    private static IResult Export(string id, HttpContext http, [FromServices] Workspace workspace) =>
        TypedResults.Bytes(workspace.Privacy.RequireExportJson(http.Caller().Sandbox, id), "application/json");
}

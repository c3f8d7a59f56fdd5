using Microsoft.AspNetCore.Mvc;
using Tessera.Abstractions;

namespace Tessera.Server.Api;

/// <summary>
/// The sandbox's merge policies (admin keys). Unlike the catalog's objects, creating is not
/// idempotent: a name in use is a 409, and a policy changes with PUT. At most
/// <c>profiles.maxMergePolicies</c> per sandbox; exactly one is the default once any exists.
/// </summary>
internal static class MergePolicyEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/profile/v1/merge-policies")
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
            .WithTags("Profiles");

        group.MapGet("", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Catalog.ListMergePolicies(http.Caller().Sandbox), ServerJson.Default.ListMergePolicy))
            .WithName("ListMergePolicies")
            .WithSummary("The sandbox's merge policies; none means lookups use the built-in default (timestamp, stitched over the graph).");
        group.MapPost("", CreateAsync)
            .WithName("CreateMergePolicy")
            .WithSummary("Creates a merge policy; the sandbox's first one, or one with default=true, becomes the default.")
            .Accepts<MergePolicy>("application/json")
            .Produces<MergePolicy>(StatusCodes.Status201Created);
        group.MapGet("/{name}", (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Catalog.ResolveMergePolicy(http.Caller().Sandbox, name), ServerJson.Default.MergePolicy))
            .WithName("GetMergePolicy")
            .Produces<MergePolicy>();
        group.MapPut("/{name}", UpdateAsync)
            .WithName("UpdateMergePolicy")
            .WithSummary("Replaces a policy's rules; default=true makes it the default (the old one stops being it), default=false changes nothing.")
            .Accepts<MergePolicy>("application/json")
            .Produces<MergePolicy>();
        group.MapDelete("/{name}", DeleteAsync)
            .WithName("DeleteMergePolicy")
            .WithSummary("Deletes a policy; the default only when it is the last one (409 MERGE_POLICY_IS_DEFAULT otherwise).")
            .Produces(StatusCodes.Status204NoContent);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var policy = await RequestBody.ReadAsync(http, ServerJson.Default.MergePolicy);
        var stored = await workspace.Catalog.CreateMergePolicyAsync(http.Caller().Sandbox, policy, workspace.Config.Profiles.MaxMergePolicies);
        http.Response.Headers.Location = $"/profile/v1/merge-policies/{Uri.EscapeDataString(stored.Name)}";
        return TypedResults.Json(stored, ServerJson.Default.MergePolicy, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> UpdateAsync(string name, HttpContext http, [FromServices] Workspace workspace)
    {
        var policy = await RequestBody.ReadAsync(http, ServerJson.Default.MergePolicy);
        if (policy.Name != name)
        {
            // A rename would change what audiences naming the policy get; it is a new policy instead.
            throw ApiException.BadRequest("MERGE_POLICY_INVALID", $"the body names merge policy '{policy.Name}' but the route '{name}'; a policy is not renamed");
        }
        return TypedResults.Json(await workspace.Catalog.UpdateMergePolicyAsync(http.Caller().Sandbox, policy), ServerJson.Default.MergePolicy);
    }

    private static async Task<IResult> DeleteAsync(string name, HttpContext http, [FromServices] Workspace workspace)
    {
        await workspace.Catalog.DeleteMergePolicyAsync(http.Caller().Sandbox, name);
        return TypedResults.NoContent();
    }
}

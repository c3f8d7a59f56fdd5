using Microsoft.AspNetCore.Mvc;
using Tessera.Abstractions;
using Tessera.Profiles;

namespace Tessera.Server.Api;

/// <summary>Unified profile lookup by any identity (admin keys): merged attributes with their sources, the graph's identities, the newest events.</summary>
internal static class ProfileEndpoints
{
    /// <summary>Most events one page returns.</summary>
    public const int MaxEventsPerPage = 1_000;

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/profile/v1")
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound)
            .WithTags("Profiles")
            .MapGet("/profile", Lookup)
            .WithName("GetProfile")
            .WithSummary("The profile of ?identity=Namespace:value under ?policy= (the default when absent), with ?events= newest events (default 10) after the ?before= cursor.")
            .Produces<ProfileReport>();
    }

    private static IResult Lookup([FromQuery] string? identity, [FromQuery] string? policy, [FromQuery(Name = "events")] string? eventsText, [FromQuery] string? before,
        HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        if (string.IsNullOrWhiteSpace(identity))
        {
            throw ApiException.BadRequest("PARAMETER_MISSING", "query parameter 'identity' is required (Namespace:value)");
        }
        var count = QueryParameter.Int(eventsText, "events") ?? 10;
        if (count is < 0 or > MaxEventsPerPage)
        {
            throw ApiException.BadRequest("PARAMETER_INVALID", $"query parameter 'events' must be between 0 and {MaxEventsPerPage}, not {count}");
        }
        var key = workspace.ParseIdentity(sandbox, identity);
        var report = workspace.Profiles.Lookup(sandbox, key, policy, count, before)
            ?? throw new CatalogException("PROFILE_NOT_FOUND", $"no profile of sandbox '{sandbox}' holds anything about {key}");
        return TypedResults.Json(report, ProfileJson.Default.ProfileReport);
    }
}

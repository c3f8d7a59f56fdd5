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
            .WithQuery(
                QueryParameterSpec.String("identity", "Any identity of the person, Namespace:value.", required: true),
                QueryParameterSpec.String("policy", "A merge policy (default: the sandbox's default)."),
                QueryParameterSpec.Int32("events", "Newest events to show.", minimum: 0, maximum: MaxEventsPerPage, @default: 10),
                QueryParameterSpec.String("before", "The events cursor of the previous page (its next)."))
            .Produces<ProfileReport>();
    }

    private static IResult Lookup(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        var identity = QueryParameter.RequiredString(http, "identity");
        var policy = QueryParameter.String(http, "policy");
        var before = QueryParameter.String(http, "before");
        var count = QueryParameter.IntWithDefault(http, "events");
        var key = workspace.ParseIdentity(sandbox, identity);
        var report = workspace.Profiles.Lookup(sandbox, key, policy, count, before)
            ?? throw new CatalogException("PROFILE_NOT_FOUND", $"no profile of sandbox '{sandbox}' holds anything about {key}");
        return TypedResults.Json(report, ProfileJson.Default.ProfileReport);
    }
}

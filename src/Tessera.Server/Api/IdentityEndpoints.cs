using Microsoft.AspNetCore.Mvc;
using Tessera.Abstractions;
using Tessera.Identity;
using Tessera.Identity.Graph;

namespace Tessera.Server.Api;

/// <summary>
/// The sandbox's identity graph (admin keys): an identity's graph, why two identities are or are
/// not joined, the graph rules (with a dry run), and deletions from the link ledger. Identities are
/// written <c>Namespace:value</c> and normalized as ingestion does.
/// </summary>
internal static class IdentityEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/identity/v1")
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound)
            .WithTags("Identity");
        group.MapGet("/graph", Graph)
            .WithName("GetIdentityGraph")
            .WithSummary("The graph of ?identity=Namespace:value: its primary identity, identities and links (kept and cut).")
            .WithQuery(QueryParameterSpec.String("identity", "The identity, Namespace:value.", required: true))
            .Produces<IdentityGraphResponse>();
        group.MapGet("/explain", Explain)
            .WithName("ExplainIdentities")
            .WithSummary("Why ?a= and ?b= are joined (the path of links) or not (which rule cut which link).")
            .WithQuery(
                QueryParameterSpec.String("a", "One identity, Namespace:value.", required: true),
                QueryParameterSpec.String("b", "The other identity, Namespace:value.", required: true))
            .Produces<ExplainResponse>();
        group.MapGet("/rules", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Identity.GetRules(http.Caller().Sandbox), ServerJson.Default.IdentityGraphRules))
            .WithName("GetIdentityRules");
        group.MapPut("/rules", SetRulesAsync)
            .WithName("SetIdentityRules")
            .WithSummary("Replaces the graph rules and derives every graph again; ?dryRun=true only reports what would change.")
            .WithQuery(QueryParameterSpec.Boolean("dryRun", "Only report what would change."))
            .Accepts<IdentityGraphRules>("application/json")
            .Produces<RulesChangeResponse>();
        group.MapPost("/deletions", DeleteAsync)
            .WithName("DeleteFromIdentityLedger")
            .WithSummary("Removes a batch's or a dataset's links, or one identity, from the ledger and derives the graphs again.")
            .Accepts<LedgerDeletionRequest>("application/json")
            .Produces<LedgerDeletion>();
    }

    private static IResult Graph(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        var key = workspace.ParseIdentity(sandbox, QueryParameter.RequiredString(http, "identity"));
        var found = workspace.Identity.Find(sandbox, key)
            ?? throw new CatalogException("IDENTITY_NOT_FOUND", $"no record or event of sandbox '{sandbox}' carries {key}");
        return TypedResults.Json(IdentityGraphResponse.From(found), ServerJson.Default.IdentityGraphResponse);
    }

    private static IResult Explain(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        var a = QueryParameter.RequiredString(http, "a");
        var b = QueryParameter.RequiredString(http, "b");
        var why = workspace.Identity.Explain(sandbox, workspace.ParseIdentity(sandbox, a), workspace.ParseIdentity(sandbox, b));
        return TypedResults.Json(ExplainResponse.From(why), ServerJson.Default.ExplainResponse);
    }

    private static async Task<IResult> SetRulesAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var dryRun = QueryParameter.Bool(http, "dryRun");
        var rules = await RequestBody.ReadAsync(http, ServerJson.Default.IdentityGraphRules);
        try
        {
            var diff = await workspace.Identity.SetRulesAsync(http.Caller().Sandbox, rules, dryRun, http.RequestAborted);
            return TypedResults.Json(new RulesChangeResponse(!(dryRun), rules, diff), ServerJson.Default.RulesChangeResponse);
        }
        catch (InvalidGraphRulesException error)
        {
            throw ApiException.BadRequest(InvalidGraphRulesException.Code, error.Message);
        }
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var request = await RequestBody.ReadAsync(http, ServerJson.Default.LedgerDeletionRequest);
        var sandbox = http.Caller().Sandbox;
        var given = (request.Batch is null ? 0 : 1) + (request.Dataset is null ? 0 : 1) + (request.Identity is null ? 0 : 1);
        if (given != 1)
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, "give exactly one of batch, dataset or identity");
        }
        var filter = workspace.ResolveLedgerFilter(sandbox, request.Batch, request.Dataset, request.Identity);
        var receipt = await workspace.Identity.DeleteAsync(sandbox, filter, http.RequestAborted);
        return TypedResults.Json(receipt, ServerJson.Default.LedgerDeletion);
    }
}

/// <summary>A link as the API shows it; <c>state</c> is kept, cut-unique-namespace or cut-size-cap.</summary>
public sealed record LinkResponse(string From, string To, string State, string Dataset, string Batch, string? Record, DateTimeOffset Time, int Occurrences)
{
    public static LinkResponse Of(LinkInfo link) => new(link.From.ToString(), link.To.ToString(), StateName(link.State),
        link.Origin.Dataset, link.Origin.Batch, link.Origin.Record, link.Origin.Time, link.Occurrences);

    public static string StateName(LinkState state) => state switch
    {
        LinkState.Kept => "kept",
        LinkState.CutUniqueNamespace => "cut-unique-namespace",
        _ => "cut-size-cap",
    };
}

public sealed record IdentityGraphResponse(string Identity, string Primary, List<string> Identities, List<LinkResponse> Links)
{
    public static IdentityGraphResponse From(IdentityLookup lookup) => new(lookup.Identity.ToString(), lookup.Graph.Primary.ToString(),
        [.. lookup.Graph.Identities.Select(i => i.ToString())], [.. lookup.Links.Select(LinkResponse.Of)]);
}

public sealed record CutResponse(LinkResponse Link, string Rule, string Detail);

public sealed record ExplainResponse(string A, string B, bool Joined, string Summary, List<LinkResponse> Path, List<CutResponse> Cuts)
{
    public static ExplainResponse From(Explanation why) => new(why.A.ToString(), why.B.ToString(), why.Joined, why.Summary,
        [.. why.Path.Select(LinkResponse.Of)], [.. why.Cuts.Select(c => new CutResponse(LinkResponse.Of(c.Link), c.Rule, c.Detail))]);
}

public sealed record RulesChangeResponse(bool Applied, IdentityGraphRules Rules, GraphDiff Changes);

public sealed record LedgerDeletionRequest(string? Batch, string? Dataset, string? Identity);

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Segmentation.Engines;
using Tessera.Segmentation.Estimates;
using Tessera.Segmentation.Memberships;

namespace Tessera.Server.Api;

/// <summary>A request to the edge engine: who, the page's events (stored in <see cref="Dataset"/>), the attributes to return.</summary>
public sealed record EdgeRequest
{
    public string? Identity { get; set; }

    public string? Dataset { get; set; }

    public List<JsonElement>? Events { get; set; }

    public List<string>? Attributes { get; set; }
}

/// <summary>
/// The edge engine's answer: the profile's id, the edge audiences it qualifies for now, the attributes asked for, and
/// what became of the request's events (absent when it sent none).
/// </summary>
public sealed record EdgeResponse(string? Profile, IReadOnlyList<string> Audiences, JsonObject Attributes, EdgeEvents? Events);

/// <summary>
/// The request's events as the collection endpoint would report them: their batch, its counts, and each rejected event's
/// index and errors (an accepted or duplicate event needs no line of its own on a page).
/// </summary>
public sealed record EdgeEvents(string BatchId, BatchCounts Counts, IReadOnlyList<RecordOutcome> Rejected);

/// <summary>The body of an estimate or a preview: an audience (id or name) or a draft expression, not both.</summary>
public sealed record EstimateRequest
{
    public string? Audience { get; set; }

    public string? Pql { get; set; }

    /// <summary>Merge policy for a draft (default: the sandbox's default).</summary>
    public string? MergePolicy { get; set; }

    /// <summary>Estimate: profiles to sample (10,000).</summary>
    public int? Sample { get; set; }

    /// <summary>Estimate: seed of the sample (the same seed draws the same sample).</summary>
    public int? Seed { get; set; }

    /// <summary>Preview: profiles to show (20).</summary>
    public int? Count { get; set; }
}

/// <summary>
/// Running the engines and reading their results (docs/segmentation.md): a batch run on demand,
/// the membership change feed and current members, estimates, previews, overlaps and size history (admin keys), and the edge endpoint (collect keys:
/// it is called from the page).
/// </summary>
internal static class SegmentationEndpoints
{
    private const int MaxChanges = 10_000;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/segmentation/v1")
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound)
            .WithTags("Memberships");
        admin.MapPost("/evaluate", async (HttpContext http, [FromServices] Workspace workspace, CancellationToken cancellationToken) =>
            {
                var sandbox = http.Caller().Sandbox;
                var audience = QueryParameter.String(http, "audience");
                IReadOnlyCollection<string>? only = audience is null ? null : [workspace.Audiences.Require(sandbox, audience).Id];
                var report = await workspace.Batch.RunAsync(sandbox, only, cancellationToken);
                return TypedResults.Json(report, ServerJson.Default.BatchRunReport);
            })
            .WithName("EvaluateAudiences")
            .WithSummary("A batch run now: every published audience (or ?audience=) over every profile; the changes go to the membership feed.")
            .WithQuery(QueryParameterSpec.String("audience", "Only this audience (id or name)."))
            .Produces<BatchRunReport>();
        admin.MapGet("/memberships/changes", (HttpContext http, [FromServices] Workspace workspace) =>
            {
                var after = QueryParameter.LongWithDefault(http, "after");
                var count = QueryParameter.IntWithDefault(http, "max");
                return TypedResults.Json(workspace.Memberships.Read(http.Caller().Sandbox, after, count), ServerJson.Default.IReadOnlyListMembershipChange);
            })
            .WithName("ReadMembershipChanges")
            .WithSummary("The membership change feed after ?after= (a sequence number, 0 for the start), at most ?max= (1,000) changes, in order.")
            .WithQuery(
                QueryParameterSpec.Int64("after", "The sequence number of the last change read (0 for the start).", minimum: 0, @default: 0),
                QueryParameterSpec.Int32("max", "Changes to read.", minimum: 1, maximum: MaxChanges, @default: 1000))
            .Produces<IReadOnlyList<MembershipChange>>();
        admin.MapGet("/audiences/{audience}/members", (string audience, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var sandbox = http.Caller().Sandbox;
                var id = workspace.Audiences.Require(sandbox, audience).Id;
                return TypedResults.Json(workspace.Memberships.Members(sandbox, id).ToList(), ServerJson.Default.ListMembership);
            })
            .WithName("ListAudienceMembers")
            .WithSummary("The audience's current members (realized and existing).")
            .Produces<List<Membership>>();

        admin.MapPost("/estimate", async (HttpContext http, [FromServices] Workspace workspace, CancellationToken cancellationToken) =>
            {
                var request = await ReadTargetAsync(http);
                var sandbox = http.Caller().Sandbox;
                var estimator = workspace.Estimator;
                var sample = request.Sample ?? 10_000;
                var estimate = request.Audience is { } audience
                    ? estimator.EstimateAudience(sandbox, audience, sample, request.Seed, cancellationToken)
                    : estimator.EstimatePql(sandbox, request.Pql!, request.MergePolicy, sample, request.Seed, cancellationToken);
                return TypedResults.Json(estimate, ServerJson.Default.SizeEstimate);
            })
            .WithName("EstimateAudience")
            .WithSummary("How many profiles an audience or a draft expression matches: an estimate with a 95% interval from a uniform sample of profiles.")
            .Accepts<EstimateRequest>("application/json")
            .Produces<SizeEstimate>();
        admin.MapPost("/preview", async (HttpContext http, [FromServices] Workspace workspace, CancellationToken cancellationToken) =>
            {
                var request = await ReadTargetAsync(http);
                var sandbox = http.Caller().Sandbox;
                var estimator = workspace.Estimator;
                var count = request.Count ?? 20;
                var preview = request.Audience is { } audience
                    ? estimator.PreviewAudience(sandbox, audience, count, cancellationToken)
                    : estimator.PreviewPql(sandbox, request.Pql!, request.MergePolicy, count, cancellationToken);
                return TypedResults.Json(preview, ServerJson.Default.Preview);
            })
            .WithName("PreviewAudience")
            .WithSummary("The first profiles (in key order) an audience or a draft expression matches, with their attributes.")
            .Accepts<EstimateRequest>("application/json")
            .Produces<Preview>();
        admin.MapGet("/audiences/{audience}/overlap/{other}", (string audience, string other, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Estimator.Overlap(http.Caller().Sandbox, audience, other), ServerJson.Default.AudienceOverlap))
            .WithName("AudienceOverlap")
            .WithSummary("Current members of two audiences, each and in common, and the Jaccard share.")
            .Produces<AudienceOverlap>();
        admin.MapGet("/audiences/{audience}/history", (string audience, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var sandbox = http.Caller().Sandbox;
                var id = workspace.Audiences.Require(sandbox, audience).Id;
                return TypedResults.Json(workspace.SizeHistory.History(sandbox, id), ServerJson.Default.ListAudienceSize);
            })
            .WithName("AudienceSizeHistory")
            .WithSummary("The audience's size after each batch run, oldest first.")
            .Produces<List<AudienceSize>>();

        routes.MapPost("/edge/v1/evaluate", EdgeAsync)
            .RequireAccess(ApiAccess.Collect)
            .ProducesApiErrors(StatusCodes.Status404NotFound)
            .WithTags("Edge")
            .WithName("EvaluateEdge")
            .WithSummary("Stores the page's events (if any) and answers which edge audiences the identity's profile is in now, with the attributes asked for.")
            .Accepts<EdgeRequest>("application/json")
            .Produces<EdgeResponse>()
            .Produces<EdgeResponse>(StatusCodes.Status207MultiStatus);
    }

    private static async Task<EstimateRequest> ReadTargetAsync(HttpContext http)
    {
        var request = await RequestBody.ReadAsync(http, ServerJson.Default.EstimateRequest);
        if ((request.Audience is null) == (request.Pql is null))
        {
            throw ApiException.BadRequest("PARAMETER_INVALID", "give an audience or a pql expression, not both");
        }
        return request;
    }

    private static async Task<IResult> EdgeAsync(HttpContext http, [FromServices] Workspace workspace, CancellationToken cancellationToken)
    {
        var request = await RequestBody.ReadAsync(http, ServerJson.Default.EdgeRequest);
        var sandbox = http.Caller().Sandbox;
        if (request.Identity is not { } text || !IdentityKey.TryParse(text, out _))
        {
            throw ApiException.BadRequest("EDGE_REQUEST_INVALID", "identity must be Namespace:value, e.g. ECID:1234");
        }
        var events = request.Events ?? [];
        if (events.Count > 0 && request.Dataset is null)
        {
            throw ApiException.BadRequest("EDGE_REQUEST_INVALID", "events need the dataset they are stored in");
        }
        // As the collection endpoint refuses: a page's events stored as profile records would be facts of another kind.
        if (events.Count > 0 && CollectionEndpoints.OtherClass(workspace, sandbox, request.Dataset!, SchemaClass.Event) is { } schema)
        {
            throw ApiException.BadRequest(ApiErrorCodes.DatasetClassMismatch,
                $"dataset '{request.Dataset}' holds profile records (schema '{schema.Name}' is of class profile); the edge stores a page's events in an event dataset");
        }
        var identity = workspace.ParseIdentity(sandbox, text); // IDENTITY_INVALID, NAMESPACE_NOT_FOUND as the other endpoints name them
        var answer = await workspace.Edge.EvaluateAsync(sandbox, identity, request.Dataset, events, request.Attributes ?? [], cancellationToken);
        // As collection answers: 207 when an event was quarantined, so a page's sender can tell without reading the counts.
        var stored = answer.Stored is { } result
            ? new EdgeEvents(result.Batch.Id, result.Batch.Counts, [.. result.Records.Where(r => r.Status == RecordOutcome.Rejected)])
            : null;
        return TypedResults.Json(new EdgeResponse(answer.Profile, answer.Audiences, answer.Attributes, stored), ServerJson.Default.EdgeResponse,
            statusCode: stored is { Counts.Failed: > 0 } ? StatusCodes.Status207MultiStatus : StatusCodes.Status200OK);
    }
}

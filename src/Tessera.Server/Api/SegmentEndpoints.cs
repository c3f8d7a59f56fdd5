using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Server.Segment;

namespace Tessera.Server.Api;

/// <summary>
/// Segment HTTP Tracking API: <c>POST /v1/identify|track|page|screen|group|alias</c> with one
/// message, <c>/v1/batch</c> (and <c>/v1/import</c>) with <c>{"batch":[...]}</c>, and the short
/// paths analytics.js uses (<c>/v1/i|t|p|s|g|a|b</c>). The key may be sent as HTTP Basic user
/// name (Segment's server libraries), as <c>writeKey</c> in the body (analytics.js in a browser),
/// or like any other Tessera key. Messages go to the datasets of the sandbox's
/// <see cref="SegmentBinding"/>; see <see cref="SegmentMapper"/> for the mapping.
/// </summary>
internal static class SegmentEndpoints
{
    private static readonly (string Path, string? Type)[] Routes =
    [
        ("identify", "identify"), ("track", "track"), ("page", "page"), ("screen", "screen"), ("group", "group"), ("alias", "alias"),
        ("batch", null), ("import", null),
        ("i", "identify"), ("t", "track"), ("p", "page"), ("s", "screen"), ("g", "group"), ("a", "alias"), ("b", null),
    ];

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1")
            .RequireAccess(ApiAccess.CollectOrBodyWriteKey)
            .RequireCors(TesseraServer.CollectCorsPolicy)
            .ProducesApiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge)
            .WithTags("Segment");
        foreach (var (path, type) in Routes)
        {
            var builder = group.MapPost("/" + path, (HttpContext http, [FromServices] Workspace workspace, [FromServices] RequestClock clock) =>
                    HandleAsync(type, http, workspace, clock.Time))
                .WithName("Segment_" + path)
                .Accepts<JsonElement>("application/json", "text/plain")
                .Produces<SegmentResponse>(StatusCodes.Status200OK)
                .Produces<SegmentResponse>(StatusCodes.Status207MultiStatus);
            builder.WithSummary(type is null
                ? "Segment batch: {\"batch\":[messages], \"context\"?, \"sentAt\"?}."
                : $"Segment {type} call.");
            if (path.Length == 1)
            {
                builder.ExcludeFromDescription();
            }
        }
    }

    private static async Task<IResult> HandleAsync(string? type, HttpContext http, Workspace workspace, TimeProvider time)
    {
        using var document = await RequestBody.ReadJsonAsync(http);
        var root = document.RootElement;
        // What is read here for the whole request: a bad string refuses it. A message's own are that message's to fail
        // (SegmentMapper.Add), as a batch's other messages are stored.
        RequestBody.RequireUnicodeText(root, type is null ? ["writeKey", "context", "sentAt"] : ["writeKey"]);
        var caller = http.Features.Get<ApiCaller>() ?? ApiKeyMiddleware.Authorize(http, BodyWriteKey(root), ApiAccess.CollectOrBodyWriteKey, workspace);
        var binding = workspace.SegmentBindingFor(caller.Sandbox);
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, type is null
                ? "a Segment batch is a JSON object {\"batch\":[...]}"
                : $"a Segment {type} call is one JSON object");
        }
        using var mapper = new SegmentMapper(binding, time.GetUtcNow());
        if (type is null)
        {
            if (!root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
            {
                throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, "a Segment batch needs a \"batch\" array of messages");
            }
            root.TryGetProperty("context", out var context);
            root.TryGetProperty("sentAt", out var sentAt);
            var index = 0;
            foreach (var message in batch.EnumerateArray())
            {
                mapper.Add(message, null, index++, context, sentAt);
            }
        }
        else
        {
            mapper.Add(root, type, 0);
        }
        if (mapper.Count > workspace.Ingestion.Limits.MaxRecordsPerRequest)
        {
            throw new CatalogException("TOO_MANY_RECORDS",
                $"{mapper.Count} messages in one request, more than the limit of {workspace.Ingestion.Limits.MaxRecordsPerRequest} (limits.maxRecordsPerRequest)");
        }
        if (mapper.EventIndexes.Count > 0)
        {
            RequireDataset(workspace, caller.Sandbox, binding.EventDataset);
        }
        if (mapper.ProfileIndexes.Count > 0)
        {
            RequireDataset(workspace, caller.Sandbox, binding.ProfileDataset);
        }
        var source = $"segment:{caller.KeyId}";
        var rejected = new List<SegmentRejection>();
        var batches = new List<string>(2);
        long accepted = 0;
        foreach (var (dataset, indexes, records) in new[]
        {
            (binding.EventDataset, mapper.EventIndexes, mapper.EventRecords()),
            (binding.ProfileDataset, mapper.ProfileIndexes, mapper.ProfileRecords()),
        })
        {
            if (indexes.Count == 0)
            {
                continue;
            }
            using var converted = JsonDocument.Parse(records);
            var elements = new List<JsonElement>(indexes.Count);
            foreach (var element in converted.RootElement.EnumerateArray())
            {
                elements.Add(element);
            }
            var result = await workspace.Ingestion.IngestRecordsAsync(caller.Sandbox, dataset, elements, source, http.RequestAborted);
            batches.Add(result.Batch.Id);
            accepted += result.Batch.Counts.Accepted;
            foreach (var outcome in result.Records)
            {
                if (outcome.Status == RecordOutcome.Rejected)
                {
                    rejected.Add(new SegmentRejection(indexes[outcome.Index], dataset, outcome.Errors ?? []));
                }
            }
        }
        if (rejected.Count == 0)
        {
            return TypedResults.Json(new SegmentResponse { Success = true }, ServerJson.Default.SegmentResponse);
        }
        rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        return TypedResults.Json(new SegmentResponse { Success = false, Accepted = (int)accepted, Rejected = rejected, Batches = batches },
            ServerJson.Default.SegmentResponse, statusCode: StatusCodes.Status207MultiStatus);
    }

    private static string? BodyWriteKey(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("writeKey", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString() : null;

    private static void RequireDataset(Workspace workspace, string sandbox, string dataset)
    {
        if (workspace.Catalog.GetDataset(sandbox, dataset) is null)
        {
            throw new CatalogException("DATASET_NOT_FOUND",
                $"Segment dataset '{dataset}' does not exist in sandbox '{sandbox}'; create the Segment schemas and datasets first (POST /catalog/v1/segment with an admin key)");
        }
    }
}

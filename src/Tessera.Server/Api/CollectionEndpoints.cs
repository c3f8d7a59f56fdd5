using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Tessera.Abstractions;
using Tessera.Ingestion;

namespace Tessera.Server.Api;

/// <summary>
/// Streaming collection in Tessera's own shape: <c>POST /collection/v1/datasets/{dataset}/events</c>
/// (event datasets) and <c>.../records</c> (profile datasets). The body is one JSON object, an array
/// of objects, or <c>{"records":[...]}</c>. Each record is validated on its own; the good ones are
/// stored and the bad ones quarantined in one durable write, and only then is the request answered:
/// 200 when all were accepted (duplicates included), 207 when some were rejected.
/// </summary>
internal static class CollectionEndpoints
{
    private static readonly QueryParameterSpec Outcomes = QueryParameterSpec.OneOfWithDefault("outcomes",
        "Which records' outcomes the answer lists: all, rejected only, or none (counts only).", "all", "all", "rejected", "none");

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/collection/v1/datasets/{dataset}")
            .RequireAccess(ApiAccess.Collect)
            .RequireCors(TesseraServer.CollectCorsPolicy)
            .ProducesApiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge)
            .WithTags("Collection");
        group.MapPost("/events", (string dataset, HttpContext http, [FromServices] Workspace workspace) =>
                IngestAsync(dataset, SchemaClass.Event, http, workspace))
            .WithName("SendEvents")
            .WithSummary("Stores events (deduplicated by _id) and quarantines the invalid ones.")
            .WithQuery(Outcomes)
            .Accepts<JsonElement>("application/json")
            .Produces<IngestResponse>(StatusCodes.Status200OK)
            .Produces<IngestResponse>(StatusCodes.Status207MultiStatus);
        group.MapPost("/records", (string dataset, HttpContext http, [FromServices] Workspace workspace) =>
                IngestAsync(dataset, SchemaClass.Profile, http, workspace))
            .WithName("SendRecords")
            .WithSummary("Stores profile records and quarantines the invalid ones.")
            .WithQuery(Outcomes)
            .Accepts<JsonElement>("application/json")
            .Produces<IngestResponse>(StatusCodes.Status200OK)
            .Produces<IngestResponse>(StatusCodes.Status207MultiStatus);
    }

    /// <summary>The schema of <paramref name="dataset"/> when it is not of class <paramref name="expected"/> (DATASET_NOT_FOUND when there is no such dataset).</summary>
    internal static SchemaDocument? OtherClass(Workspace workspace, string sandbox, string dataset, SchemaClass expected) =>
        workspace.Catalog.GetSchema(sandbox, workspace.Catalog.RequireDataset(sandbox, dataset).Schema) is { } schema && schema.Class != expected ? schema : null;

    private static async Task<IResult> IngestAsync(string dataset, SchemaClass expected, HttpContext http, Workspace workspace)
    {
        var caller = http.Caller();
        if (OtherClass(workspace, caller.Sandbox, dataset, expected) is { } schema)
        {
            var (holds, path) = schema.Class == SchemaClass.Event ? ("events", "events") : ("profile records", "records");
            throw ApiException.BadRequest(ApiErrorCodes.DatasetClassMismatch,
                $"dataset '{dataset}' holds {holds} (schema '{schema.Name}' is of class {schema.Class.ToString().ToLowerInvariant()}); send them to /collection/v1/datasets/{dataset}/{path}");
        }
        var filter = QueryParameter.StringWithDefault(http, "outcomes");
        using var document = await RequestBody.ReadJsonAsync(http);
        var records = Records(document.RootElement);
        var result = await workspace.Ingestion.IngestRecordsAsync(caller.Sandbox, dataset, records, $"http:{caller.KeyId}", http.RequestAborted);
        var response = new IngestResponse
        {
            BatchId = result.Batch.Id,
            Dataset = dataset,
            Status = result.Batch.Status,
            Counts = result.Batch.Counts,
            Records = filter switch
            {
                "none" => null,
                "rejected" => [.. result.Records.Where(r => r.Status == RecordOutcome.Rejected)],
                _ => result.Records,
            },
        };
        var status = result.Batch.Counts.Failed > 0 ? StatusCodes.Status207MultiStatus : StatusCodes.Status200OK;
        return TypedResults.Json(response, ServerJson.Default.IngestResponse, statusCode: status);
    }

    /// <summary>The records of a body: one object, an array, or an object with a <c>records</c> array.</summary>
    public static List<JsonElement> Records(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("records", out var nested) && nested.ValueKind == JsonValueKind.Array)
        {
            root = nested;
        }
        List<JsonElement> records;
        if (root.ValueKind == JsonValueKind.Array)
        {
            records = new List<JsonElement>(root.GetArrayLength());
            foreach (var element in root.EnumerateArray())
            {
                records.Add(element);
            }
        }
        else if (root.ValueKind == JsonValueKind.Object)
        {
            records = [root];
        }
        else
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, "the body must be a JSON object, an array of objects, or {\"records\":[...]}");
        }
        if (records.Count == 0)
        {
            throw ApiException.BadRequest(ApiErrorCodes.NoRecords, "the request holds no records");
        }
        return records;
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;
using Tessera.Ingestion.Sources;

namespace Tessera.Server.Api;

/// <summary>
/// File batches (admin keys): upload, list, show, quarantine, replay.
/// <para>Upload, <c>POST /batches/v1/datasets/{dataset}</c>, takes the file in either of two forms:
/// the raw body, with <c>?format=csv|jsonl|json|parquet</c> (else the mapping's format, else the
/// Content-Type) and optionally <c>?mapping=</c> holding the mapping JSON; or
/// <c>multipart/form-data</c> with a <c>file</c> part (its file name's extension can give the format)
/// and an optional <c>mapping</c> part holding the mapping JSON. The file is staged durably, then
/// ingested as one batch; the answer (201) is the finished batch, whose status may be
/// <c>failed</c> when too many records were rejected. The staged copy is removed once the batch
/// has finished (it is kept only while a restart may need to finish the batch).</para>
/// </summary>
internal static class BatchEndpoints
{
    private static readonly string[] Formats = ["csv", "jsonl", "json", "parquet"];

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/batches/v1")
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge)
            .WithTags("Batches");
        group.MapPost("/datasets/{dataset}", UploadAsync)
            .WithName("UploadBatch")
            .WithSummary("Ingests an uploaded file (raw body or multipart file+mapping) as one batch.")
            .Accepts<string>("text/csv", "application/x-ndjson", "application/json", "application/vnd.apache.parquet", "application/octet-stream", "multipart/form-data")
            .WithQuery(
                QueryParameterSpec.String("format", "csv, jsonl, json or parquet (default: the mapping's format, the file name's extension or the Content-Type)."),
                QueryParameterSpec.String("mapping", "The mapping as JSON (or send it as the multipart part 'mapping')."))
            .Produces<BatchInfo>(StatusCodes.Status201Created);
        group.MapGet("/", List)
            .WithName("ListBatches")
            .WithSummary("Lists the sandbox's batches, newest first.")
            .WithQuery(
                QueryParameterSpec.String("dataset", "Only this dataset's batches."),
                QueryParameterSpec.OneOf("status", "Only batches in this state.", "loading", "writing", "success", "failed"),
                QueryParameterSpec.Int32("limit", "Batches to list.", minimum: 1, maximum: 10_000, @default: 100),
                QueryParameterSpec.String("before", "A batch id: list the batches older than it (the next page)."))
            .Produces<List<BatchInfo>>();
        group.MapGet("/{id}", Get)
            .WithName("GetBatch")
            .Produces<BatchInfo>();
        group.MapGet("/{id}/quarantine", Quarantine)
            .WithName("GetBatchQuarantine")
            .WithSummary("Lists a batch's rejected records with row, field path, error code and message.")
            .WithQuery(
                QueryParameterSpec.Int32("offset", "Entries to skip (nextOffset of the previous page).", minimum: 0, @default: 0),
                QueryParameterSpec.Int32("limit", "Entries to list.", minimum: 1, maximum: 10_000, @default: 1000),
                QueryParameterSpec.Boolean("unresolved", "Only the entries no replay has resolved yet."))
            .Produces<QuarantinePage>();
        group.MapPost("/{id}/replay", ReplayAsync)
            .WithName("ReplayBatch")
            .WithSummary("Runs a batch's unresolved quarantined records again (optionally with a new mapping as the body).")
            .Accepts<JsonElement>("application/json")
            .Produces<BatchInfo>(StatusCodes.Status201Created);
    }

    private static async Task<IResult> UploadAsync(string dataset, HttpContext http, [FromServices] Workspace workspace, [FromServices] IHostApplicationLifetime lifetime)
    {
        var format = QueryParameter.String(http, "format");
        var mapping = QueryParameter.String(http, "mapping");
        var caller = http.Caller();
        workspace.Catalog.RequireDataset(caller.Sandbox, dataset);
        var spec = mapping is null ? null : ParseMapping(mapping);
        string? staged = null;
        try
        {
            if (MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var contentType)
                && contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                (staged, spec, format) = await ReadMultipartAsync(http, contentType, workspace, spec, format);
            }
            else
            {
                format = ResolveFormat(format, spec, fileName: null, http.Request.ContentType);
                staged = await workspace.Ingestion.StageUploadAsync(http.Request.Body, "." + format, http.RequestAborted);
            }
            spec = (spec ?? new MappingSpec()) with { Format = format };
            // Once staged, the batch runs to its end even if the client goes away (or it is
            // recovered at the next start when the server stops first).
            var batch = await workspace.Ingestion.IngestFileAsync(caller.Sandbox, dataset, staged, spec, lifetime.ApplicationStopping);
            if (batch.Status is BatchStatus.Success or BatchStatus.Failed)
            {
                // The staged copy only serves recovery; a finished batch's rejected rows live on in
                // its quarantine (which replay reads), so the copy would just fill the disk.
                File.Delete(staged);
            }
            http.Response.Headers.Location = $"/batches/v1/{batch.Id}";
            return TypedResults.Json(batch, ServerJson.Default.BatchInfo, statusCode: StatusCodes.Status201Created);
        }
        catch (Exception error) when (staged is not null && error is not OperationCanceledException)
        {
            // The ingestion recorded the batch as failed with the cause; its staged copy is of no further use
            // (only a server stopping leaves the batch to the next start's recovery, which needs the copy).
            File.Delete(staged);
            throw;
        }
    }

    private static async Task<(string Staged, MappingSpec? Mapping, string Format)> ReadMultipartAsync(HttpContext http, MediaTypeHeaderValue contentType,
        Workspace workspace, MappingSpec? mapping, string? format)
    {
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, "multipart/form-data without a boundary");
        }
        if (boundary.Length > MaxBoundaryLength)
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"a multipart boundary is at most {MaxBoundaryLength} characters (RFC 2046), not {boundary.Length}");
        }
        var reader = new MultipartReader(boundary, http.Request.Body);
        var explicitFormat = format is not null;
        string? staged = null;
        string? fileName = null;
        try
        {
            while (await NextSectionAsync(reader, http.RequestAborted) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, "a multipart section without Content-Disposition");
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                switch (name)
                {
                    case "mapping":
                        using (var text = new StreamReader(new SectionBody(section.Body)))
                        {
                            mapping = ParseMapping(await text.ReadToEndAsync(http.RequestAborted));
                        }
                        break;
                    case "file" when staged is null:
                        fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                        // The format decides the staged file's extension; a mapping part after the file cannot change it.
                        format = ResolveFormat(format, mapping, fileName, section.ContentType);
                        // A gzip file (crm.csv.gz) is staged as one, so that the ingestion un-gzips it and can tell when it was cut short.
                        var gzip = fileName?.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) == true ? ".gz" : "";
                        staged = await workspace.Ingestion.StageUploadAsync(new SectionBody(section.Body), "." + format + gzip, http.RequestAborted);
                        break;
                    case "file":
                        throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, "one 'file' part per upload");
                    default:
                        throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"unexpected multipart part '{name}': send 'file' and optionally 'mapping'");
                }
            }
        }
        catch
        {
            if (staged is not null)
            {
                File.Delete(staged);
            }
            throw;
        }
        if (staged is null)
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, "the multipart form has no 'file' part");
        }
        if (!explicitFormat && mapping?.Format is { } mapped && !mapped.Equals(format, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(staged);
            throw ApiException.BadRequest(ApiErrorCodes.FormatUnknown,
                $"the mapping says format '{mapped}' but the file part was taken as '{format}'; send the mapping part before the file, or set ?format=");
        }
        return (staged, mapping, format!);
    }

    /// <summary>The longest boundary RFC 2046 allows (the multipart reader refuses longer ones with an IOException).</summary>
    private const int MaxBoundaryLength = 70;

    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellationToken);
        }
        catch (IOException error)
        {
            throw SectionBody.Malformed(error);
        }
    }

    /// <summary>
    /// A multipart section's body as it is read: the multipart reader says a body that ends before the section's closing
    /// boundary with an IOException, which is the client's malformed body (400 BODY_INVALID), not the server's failure.
    /// </summary>
    private sealed class SectionBody(Stream section) : ReadOnlyStream
    {
        public static ApiException Malformed(IOException error) =>
            ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"the multipart body is malformed (a part without its closing boundary?): {error.Message.Trim()}");

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return section.Read(buffer);
            }
            catch (IOException error)
            {
                throw Malformed(error);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await section.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException error)
            {
                throw Malformed(error);
            }
        }
    }

    private static string ResolveFormat(string? format, MappingSpec? mapping, string? fileName, string? contentType)
    {
        var resolved = format ?? mapping?.Format ?? FromFileName(fileName) ?? FromContentType(contentType)
            ?? throw ApiException.BadRequest(ApiErrorCodes.FormatUnknown,
                "cannot tell the file's format: add ?format=csv|jsonl|json|parquet, set \"format\" in the mapping, or send a Content-Type such as text/csv");
        resolved = resolved.ToLowerInvariant();
        if (Array.IndexOf(Formats, resolved) < 0)
        {
            throw ApiException.BadRequest(ApiErrorCodes.FormatUnknown, $"unknown format '{resolved}': use csv, jsonl, json or parquet");
        }
        return resolved;
    }

    private static string? FromFileName(string? fileName) => Path.GetExtension(
        fileName?.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) == true ? fileName[..^3] : fileName ?? "").ToLowerInvariant() switch
    {
        ".csv" or ".tsv" or ".txt" => "csv",
        ".jsonl" or ".ndjson" => "jsonl",
        ".json" => "json",
        ".parquet" => "parquet",
        _ => null,
    };

    private static string? FromContentType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return null;
        }
        return parsed.MediaType.Value?.ToLowerInvariant() switch
        {
            "text/csv" or "text/tab-separated-values" => "csv",
            "application/x-ndjson" or "application/jsonl" or "application/x-jsonlines" or "application/jsonlines" => "jsonl",
            "application/json" => "json",
            "application/vnd.apache.parquet" or "application/x-parquet" => "parquet",
            _ => null,
        };
    }

    private static MappingSpec ParseMapping(string json)
    {
        try
        {
            return MappingSpec.FromJson(json) ?? throw ApiException.BadRequest(ErrorCodes.MappingError, "the mapping must be a JSON object, not null");
        }
        catch (JsonException error)
        {
            throw ApiException.BadRequest(ErrorCodes.MappingError, $"the mapping is not valid mapping JSON: {error.Message}");
        }
    }

    private static IResult List(HttpContext http, [FromServices] Workspace workspace)
    {
        var caller = http.Caller();
        var dataset = QueryParameter.String(http, "dataset");
        var status = QueryParameter.String(http, "status");
        var before = QueryParameter.String(http, "before");
        var take = QueryParameter.IntWithDefault(http, "limit");
        // The declared values are the statuses' names: anything else was refused as PARAMETER_INVALID.
        BatchStatus? wanted = status is null ? null : Enum.Parse<BatchStatus>(status, ignoreCase: true);
        // Newest first, read lazily: a page costs what it shows, not every batch ever made.
        var result = workspace.Catalog.BatchesNewestFirst(caller.Sandbox, before)
            .Where(batch => (dataset is null || batch.Dataset == dataset) && (wanted is null || batch.Status == wanted))
            .Take(take)
            .ToList();
        return TypedResults.Json(result, ServerJson.Default.ListBatchInfo);
    }

    private static IResult Get(string id, HttpContext http, [FromServices] Workspace workspace) =>
        TypedResults.Json(workspace.Catalog.RequireBatch(http.Caller().Sandbox, id), ServerJson.Default.BatchInfo);

    private static IResult Quarantine(string id, HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        workspace.Catalog.RequireBatch(sandbox, id);
        var skip = QueryParameter.IntWithDefault(http, "offset");
        var take = QueryParameter.IntWithDefault(http, "limit");
        var unresolved = QueryParameter.Bool(http, "unresolved");
        var entries = workspace.Ingestion.Quarantine(sandbox, id);
        if (unresolved)
        {
            entries = entries.Where(e => e.ResolvedBy is null);
        }
        var page = entries.Skip(skip).Take(take + 1).ToList();
        var more = page.Count > take;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }
        return TypedResults.Json(new QuarantinePage { BatchId = id, Entries = page, NextOffset = more ? skip + take : null }, ServerJson.Default.QuarantinePage);
    }

    private static async Task<IResult> ReplayAsync(string id, HttpContext http, [FromServices] Workspace workspace, [FromServices] IHostApplicationLifetime lifetime)
    {
        var sandbox = http.Caller().Sandbox;
        workspace.Catalog.RequireBatch(sandbox, id);
        var body = await RequestBody.ReadTextAsync(http);
        var mapping = string.IsNullOrWhiteSpace(body) ? null : ParseMapping(body);
        var replay = await workspace.Ingestion.ReplayAsync(sandbox, id, mapping, lifetime.ApplicationStopping);
        http.Response.Headers.Location = $"/batches/v1/{replay.Id}";
        return TypedResults.Json(replay, ServerJson.Default.BatchInfo, statusCode: StatusCodes.Status201Created);
    }
}

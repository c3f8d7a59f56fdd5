using System.Net;
using System.Text;
using Tessera.Abstractions;

namespace Tessera.Server.Tests;

public sealed class BatchTests
{
    private static StringContent Csv(string text) => new(text, Encoding.UTF8, "text/csv");

    [Fact]
    public async Task A_csv_upload_is_ingested_as_one_batch_and_can_be_listed_and_shown()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using var upload = await admin.PostAsync("/batches/v1/datasets/crm?format=csv", Csv("crmId,email,age\n00001,a@x.com,31\n00002,b@x.com,42\n00003,,27\n"), ct);
        var batch = await upload.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("success", batch.Str("status"));
        Assert.Equal("file", batch.Str("kind"));
        Assert.Equal("csv", batch.Str("format"));
        Assert.Equal(3, batch.GetProperty("counts").Long("accepted"));
        Assert.Equal($"/batches/v1/{batch.Str("id")}", upload.Headers.Location?.OriginalString);
        var record = StoredFacts.Record(server.Workspace, "prod", "crm", new IdentityValue("CRMID", "00001", true));
        Assert.NotNull(record);
        Assert.Equal("00001", record.Value.GetProperty("record").Str("crmId"));

        server.Time.Advance(TimeSpan.FromSeconds(1));
        using (var second = await admin.PostAsync("/batches/v1/datasets/crm", Csv("crmId\n00004\n"), ct))
        {
            // The format comes from the Content-Type here.
            Assert.Equal(1, (await second.ExpectAsync(HttpStatusCode.Created)).GetProperty("counts").Long("accepted"));
        }
        using (var show = await admin.GetAsync($"/batches/v1/{batch.Str("id")}", ct))
        {
            Assert.Equal(3, (await show.ExpectAsync(HttpStatusCode.OK)).GetProperty("counts").Long("input"));
        }
        using (var list = await admin.GetAsync("/batches/v1?dataset=crm", ct))
        {
            var batches = (await list.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().ToList();
            Assert.Equal(2, batches.Count);
            Assert.Equal(batch.Str("id"), batches[1].Str("id")); // newest first
        }
        string newest;
        using (var limited = await admin.GetAsync("/batches/v1?limit=1&status=success", ct))
        {
            newest = Assert.Single((await limited.ExpectAsync(HttpStatusCode.OK)).EnumerateArray()).Str("id");
        }
        using (var next = await admin.GetAsync($"/batches/v1?limit=1&status=success&before={newest}", ct))
        {
            // The next page starts below the cursor: the older batch.
            Assert.Equal(batch.Str("id"), Assert.Single((await next.ExpectAsync(HttpStatusCode.OK)).EnumerateArray()).Str("id"));
        }
        using (var bad = await admin.GetAsync("/batches/v1?status=done", ct))
        {
            await bad.ExpectErrorAsync(HttpStatusCode.BadRequest, "PARAMETER_INVALID");
        }
        using (var missing = await admin.GetAsync("/batches/v1/b000", ct))
        {
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "BATCH_NOT_FOUND");
        }
    }

    [Fact]
    public async Task A_mapping_can_come_as_a_query_parameter_or_a_multipart_part()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        var mapping = Uri.EscapeDataString("""{"delimiter":"whitespace","header":false,"columns":["crmId","age"]}""");
        using (var query = await admin.PostAsync($"/batches/v1/datasets/crm?format=csv&mapping={mapping}", Csv("00001   31\n00002  42\n"), ct))
        {
            var batch = await query.ExpectAsync(HttpStatusCode.Created);
            Assert.Equal(2, batch.GetProperty("counts").Long("accepted"));
            Assert.Contains("whitespace", batch.Str("mapping"), StringComparison.Ordinal);
        }
        using var form = new MultipartFormDataContent
        {
            { new StringContent("""{"fields":{"joined":"signup"},"formats":{"joined":"M/d/yyyy"}}""", Encoding.UTF8, "application/json"), "mapping" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("crmId;joined\n00003;5/1/2024\n00004;12/31/2023\n")), "file", "members.csv" },
        };
        using var multipart = await admin.PostAsync("/batches/v1/datasets/crm", form, ct);
        var formBatch = await multipart.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("csv", formBatch.Str("format"));
        Assert.Equal(2, formBatch.GetProperty("counts").Long("accepted"));
        var record = StoredFacts.Record(server.Workspace, "prod", "crm", new IdentityValue("CRMID", "00004", true));
        Assert.Equal("2023-12-31", record!.Value.GetProperty("record").Str("signup"));
    }

    [Fact]
    public async Task Json_lines_upload_and_format_errors()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using (var jsonl = await admin.PostAsync("/batches/v1/datasets/web?format=jsonl", new StringContent("""
            {"_id":"e1","timestamp":"2026-11-01T10:00:00Z","ecid":"d1"}
            {"_id":"e2","timestamp":"2026-11-01T10:00:00Z","ecid":"d2"}
            """, Encoding.UTF8, "application/octet-stream"), ct))
        {
            Assert.Equal(2, (await jsonl.ExpectAsync(HttpStatusCode.Created)).GetProperty("counts").Long("accepted"));
        }
        using (var unknown = await admin.PostAsync("/batches/v1/datasets/crm?format=xlsx", Csv("crmId\n1\n"), ct))
        {
            await unknown.ExpectErrorAsync(HttpStatusCode.BadRequest, "FORMAT_UNKNOWN");
        }
        using (var untold = await admin.PostAsync("/batches/v1/datasets/crm", new ByteArrayContent("crmId\n1\n"u8.ToArray()), ct))
        {
            await untold.ExpectErrorAsync(HttpStatusCode.BadRequest, "FORMAT_UNKNOWN");
        }
        using (var badMapping = await admin.PostAsync("/batches/v1/datasets/crm?format=csv&mapping=%7Bnope", Csv("crmId\n1\n"), ct))
        {
            await badMapping.ExpectErrorAsync(HttpStatusCode.BadRequest, "MAPPING_ERROR");
        }
        // Nothing is left staged: finished batches drop their copy, refused uploads never kept one.
        Assert.Empty(Directory.GetFiles(server.Workspace.Ingestion.UploadDirectory));
    }

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }
        return buffer.ToArray();
    }

    private static string CrmRows(int count) => "crmId,age\n" + string.Concat(Enumerable.Range(1, count).Select(i => $"{i:D5},{i % 90}\n"));

    [Fact]
    public async Task A_gzip_body_cut_short_is_refused_and_the_whole_one_is_ingested()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        var bytes = Gzip(CrmRows(2_000));
        ByteArrayContent Body(byte[] content)
        {
            var body = new ByteArrayContent(content);
            body.Headers.ContentType = new("text/csv");
            body.Headers.ContentEncoding.Add("gzip");
            return body;
        }

        using (var cut = await admin.PostAsync("/batches/v1/datasets/crm", Body(bytes[..(bytes.Length / 2)]), ct))
        {
            var error = await cut.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
            Assert.Contains("the request body (Content-Encoding: gzip) cannot be decompressed: it ends early", error.Str("message"), StringComparison.Ordinal);
        }
        using (var trailerless = await admin.PostAsync("/batches/v1/datasets/crm", Body(bytes[..^8]), ct))
        {
            await trailerless.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        }
        Assert.Empty(server.Workspace.Catalog.ListBatches("prod"));
        using (var whole = await admin.PostAsync("/batches/v1/datasets/crm", Body(bytes), ct))
        {
            Assert.Equal(2_000, (await whole.ExpectAsync(HttpStatusCode.Created)).GetProperty("counts").Long("accepted"));
        }
        Assert.Empty(Directory.GetFiles(server.Workspace.Ingestion.UploadDirectory));
    }

    [Fact]
    public async Task A_gz_file_part_cut_short_fails_its_batch_as_FILE_UNREADABLE_and_the_whole_one_is_ingested()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        var bytes = Gzip(CrmRows(2_000));
        MultipartFormDataContent Form(byte[] content) => new() { { new ByteArrayContent(content), "file", "crm.csv.gz" } };

        using (var cut = await admin.PostAsync("/batches/v1/datasets/crm", Form(bytes[..^3]), ct))
        {
            var error = await cut.ExpectErrorAsync(HttpStatusCode.BadRequest, "FILE_UNREADABLE");
            Assert.Contains("cannot be read as gzip-compressed csv: it ends early, after row 2000", error.Str("message"), StringComparison.Ordinal);
        }
        Assert.Equal(BatchStatus.Failed, Assert.Single(server.Workspace.Catalog.ListBatches("prod")).Status);
        Assert.Null(StoredFacts.Record(server.Workspace, "prod", "crm", new IdentityValue("CRMID", "00001", true)));
        using (var whole = await admin.PostAsync("/batches/v1/datasets/crm", Form(bytes), ct))
        {
            var batch = await whole.ExpectAsync(HttpStatusCode.Created);
            Assert.Equal("csv", batch.Str("format"));
            Assert.Equal(2_000, batch.GetProperty("counts").Long("accepted"));
        }
        Assert.Empty(Directory.GetFiles(server.Workspace.Ingestion.UploadDirectory));
    }

    [Fact]
    public async Task A_mapping_the_ingestion_refuses_fails_the_batch_instead_of_leaving_it_loading()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        var mapping = Uri.EscapeDataString("""{"fields":{"a":"crmId","b":"crmId"}}""");
        using var response = await admin.PostAsync($"/batches/v1/datasets/crm?format=csv&mapping={mapping}", Csv("a,b\n1,2\n"), ct);
        var error = await response.ExpectErrorAsync(HttpStatusCode.BadRequest, "MAPPING_ERROR");
        Assert.Contains("crmId", error.Str("message"), StringComparison.Ordinal);
        var batch = Assert.Single(server.Workspace.Catalog.ListBatches("prod"));
        Assert.Equal(BatchStatus.Failed, batch.Status);
        Assert.Contains(error.Str("message"), batch.FailureReason, StringComparison.Ordinal);
        Assert.False(File.Exists(batch.Source));
    }

    [Fact]
    public async Task A_batch_over_the_failure_threshold_fails_as_a_whole_and_shows_why()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using var upload = await admin.PostAsync("/batches/v1/datasets/crm?format=csv", Csv("crmId,age\n1,20\n2,300\n3,400\n"), ct);
        var batch = await upload.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("failed", batch.Str("status"));
        Assert.Contains("threshold", batch.Str("failureReason"), StringComparison.Ordinal);
        using var quarantine = await admin.GetAsync($"/batches/v1/{batch.Str("id")}/quarantine", ct);
        Assert.Equal(2, (await quarantine.ExpectAsync(HttpStatusCode.OK)).GetProperty("entries").GetArrayLength());
        Assert.Equal(0, StoredFacts.Count(server.Workspace, "prod", "crm"));
    }

    [Fact]
    public async Task Quarantined_rows_of_a_file_are_replayed_with_a_corrected_mapping()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        var rows = string.Join('\n', ["crmId,signup", .. Enumerable.Range(1, 40).Select(i => $"{i:D5},2024-01-{1 + (i % 28):D2}"), "00041,5/1/2024"]);
        using var upload = await admin.PostAsync("/batches/v1/datasets/crm?format=csv", Csv(rows), ct);
        var batch = await upload.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("success", batch.Str("status"));
        Assert.Equal(1, batch.GetProperty("counts").Long("failed"));

        using var replay = await admin.PostAsync($"/batches/v1/{batch.Str("id")}/replay", Http.Json("""{"formats":{"signup":"M/d/yyyy"}}"""), ct);
        var replayed = await replay.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(1, replayed.GetProperty("counts").Long("accepted"));
        var record = StoredFacts.Record(server.Workspace, "prod", "crm", new IdentityValue("CRMID", "00041", true));
        Assert.Equal("2024-05-01", record!.Value.GetProperty("record").Str("signup"));

        using var badMapping = await admin.PostAsync($"/batches/v1/{batch.Str("id")}/replay", Http.Json("[1]"), ct);
        await badMapping.ExpectErrorAsync(HttpStatusCode.BadRequest, "MAPPING_ERROR");
    }

    [Fact]
    public async Task Interrupted_batches_are_finished_before_the_server_listens()
    {
        string? batchId = null;
        await using var server = await ApiServer.StartAsync(beforeStart: async workspace =>
        {
            // A batch that was staged and registered when the process died.
            var file = Path.Combine(workspace.Directory, "interrupted.csv");
            await File.WriteAllTextAsync(file, "crmId,age\n1,20\n2,30\n", TestContext.Current.CancellationToken);
            batchId = workspace.Catalog.NewBatchId();
            await workspace.Catalog.SaveBatchAsync(new BatchInfo
            {
                Id = batchId,
                Sandbox = "prod",
                Dataset = "crm",
                Kind = BatchKind.File,
                Format = "csv",
                Status = BatchStatus.Loading,
                CreatedAt = ApiServer.Start,
                Source = file,
                SchemaVersion = 1,
                Mapping = """{"format":"csv"}""",
            });
        });
        using var response = await server.Client(server.Key.ProdAdmin).GetAsync($"/batches/v1/{batchId}", TestContext.Current.CancellationToken);
        var batch = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("success", batch.Str("status"));
        Assert.Equal(2, batch.GetProperty("counts").Long("accepted"));
    }
}

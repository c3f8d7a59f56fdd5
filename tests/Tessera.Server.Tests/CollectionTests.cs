using System.Net;

namespace Tessera.Server.Tests;

public sealed class CollectionTests
{
    private const string ThreeEvents = """
        [{"_id":"e1","timestamp":"2026-11-01T10:00:00Z","ecid":"d1","page":"/","value":1},
         {"_id":"e2","timestamp":"2026-11-01T10:01:00Z","ecid":"d1","page":"/cart","value":2},
         {"_id":"e3","timestamp":"2026-11-01T10:02:00Z","ecid":"d2","page":"/","value":3}]
        """;

    [Fact]
    public async Task Events_are_acknowledged_after_the_write_and_a_resent_batch_is_stored_once()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client(server.Key.ProdCollect);
        var ct = TestContext.Current.CancellationToken;

        using var first = await client.PostAsync("/collection/v1/datasets/web/events", Http.Json(ThreeEvents), ct);
        var body = await first.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("success", body.Str("status"));
        Assert.Equal(3, body.GetProperty("counts").Long("accepted"));
        Assert.Equal(0, body.GetProperty("counts").Long("duplicates"));
        Assert.All(body.GetProperty("records").EnumerateArray(), r => Assert.Equal("accepted", r.Str("status")));
        // Acknowledged means durable and visible: the batch record is already there.
        var stored = server.Workspace.Catalog.GetBatch("prod", body.Str("batchId"));
        Assert.NotNull(stored);
        Assert.Equal(3, stored.Counts.Accepted);

        using var again = await client.PostAsync("/collection/v1/datasets/web/events", Http.Json(ThreeEvents), ct);
        var second = await again.ExpectAsync(HttpStatusCode.OK);
        Assert.NotEqual(body.Str("batchId"), second.Str("batchId"));
        Assert.Equal(3, second.GetProperty("counts").Long("duplicates"));
        Assert.All(second.GetProperty("records").EnumerateArray(), r => Assert.Equal("duplicate", r.Str("status")));
        Assert.Equal(3, StoredFacts.Count(server.Workspace, "prod", "web"));
    }

    [Fact]
    public async Task Body_may_be_one_object_an_array_or_a_records_wrapper()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client(server.Key.ProdCollect);
        var ct = TestContext.Current.CancellationToken;
        foreach (var (json, count) in new[]
        {
            ("""{"crmId":"c1","age":30}""", 1),
            ("""[{"crmId":"c2"},{"crmId":"c3"}]""", 2),
            ("""{"records":[{"crmId":"c4"},{"crmId":"c5"},{"crmId":"c6"}]}""", 3),
        })
        {
            using var response = await client.PostAsync("/collection/v1/datasets/crm/records", Http.Json(json), ct);
            var body = await response.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(count, body.GetProperty("counts").Long("accepted"));
            Assert.Equal(count, body.GetProperty("records").GetArrayLength());
        }
        using (var none = await client.PostAsync("/collection/v1/datasets/crm/records?outcomes=none", Http.Json("""{"crmId":"c7"}"""), ct))
        {
            Assert.False((await none.ExpectAsync(HttpStatusCode.OK)).TryGetProperty("records", out _));
        }
        using (var empty = await client.PostAsync("/collection/v1/datasets/crm/records", Http.Json("[]"), ct))
        {
            await empty.ExpectErrorAsync(HttpStatusCode.BadRequest, "NO_RECORDS");
        }
        using (var broken = await client.PostAsync("/collection/v1/datasets/crm/records", Http.Json("""[{"crmId":"c8"""), ct))
        {
            await broken.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        }
        using (var scalar = await client.PostAsync("/collection/v1/datasets/crm/records", Http.Json("42"), ct))
        {
            await scalar.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        }
        using (var unknown = await client.PostAsync("/collection/v1/datasets/nope/records", Http.Json("""{"crmId":"c9"}"""), ct))
        {
            await unknown.ExpectErrorAsync(HttpStatusCode.NotFound, "DATASET_NOT_FOUND");
        }
        using (var mismatch = await client.PostAsync("/collection/v1/datasets/crm/events", Http.Json("""{"crmId":"c9"}"""), ct))
        {
            var error = await mismatch.ExpectErrorAsync(HttpStatusCode.BadRequest, "DATASET_CLASS_MISMATCH");
            Assert.Contains("/collection/v1/datasets/crm/records", error.Str("message"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_record_with_a_string_that_is_not_unicode_text_is_rejected_by_name_and_the_rest_stored()
    {
        await using var server = await ApiServer.StartAsync();
        using var response = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/web/events", Http.Json("""
            [{"_id":"e1","timestamp":"2026-11-01T10:00:00Z","ecid":"d1","page":"\ud800"},
             {"_id":"e2","timestamp":"2026-11-01T10:01:00Z","ecid":"d1","page":"\ud83d\ude00"}]
            """), TestContext.Current.CancellationToken);
        var body = await response.ExpectAsync(HttpStatusCode.MultiStatus);
        Assert.Equal((1L, 1L), (body.GetProperty("counts").Long("accepted"), body.GetProperty("counts").Long("failed")));
        var error = body.GetProperty("records")[0].GetProperty("errors")[0];
        Assert.Equal("PARSE_ERROR", error.Str("code"));
        Assert.Contains("\\ud800", error.Str("message"), StringComparison.Ordinal);
        Assert.Equal(1, StoredFacts.Count(server.Workspace, "prod", "web"));
    }

    [Fact]
    public async Task Rejected_records_are_answered_207_and_listed_in_the_quarantine()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var response = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/crm/records?outcomes=rejected", Http.Json("""
            [{"crmId":"c1","age":40},
             {"crmId":"c2","age":200},
             {"email":"x@example.com"},
             {"crmId":"c4","signup":"2026-02-30"}]
            """), ct);
        var body = await response.ExpectAsync(HttpStatusCode.MultiStatus);
        Assert.Equal(1, body.GetProperty("counts").Long("accepted"));
        Assert.Equal(3, body.GetProperty("counts").Long("failed"));
        var rejected = body.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], rejected.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal("age", rejected[0].GetProperty("errors")[0].Str("path"));
        Assert.Equal("ABOVE_MAXIMUM", rejected[0].GetProperty("errors")[0].Str("code"));

        var admin = server.Client(server.Key.ProdAdmin);
        var batchId = body.Str("batchId");
        using var quarantine = await admin.GetAsync($"/batches/v1/{batchId}/quarantine", ct);
        var page = await quarantine.ExpectAsync(HttpStatusCode.OK);
        var entries = page.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal([2L, 3L, 4L], entries.Select(e => e.Long("row")));
        Assert.Equal(["ABOVE_MAXIMUM", "REQUIRED_MISSING", "FORMAT_INVALID"], entries.Select(e => e.GetProperty("errors")[0].Str("code")));
        Assert.Equal(["age", "crmId", "signup"], entries.Select(e => e.GetProperty("errors")[0].Str("path")));
        Assert.Contains("200", entries[0].Str("raw"), StringComparison.Ordinal);
        Assert.False(page.TryGetProperty("nextOffset", out _));

        using var paged = await admin.GetAsync($"/batches/v1/{batchId}/quarantine?offset=1&limit=1", ct);
        var second = await paged.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(3, Assert.Single(second.GetProperty("entries").EnumerateArray()).Long("row"));
        Assert.Equal(2, second.GetProperty("nextOffset").GetInt32());
    }

    [Fact]
    public async Task Quarantined_events_are_replayed_after_an_additive_schema_change()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var sent = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/web/events", Http.Json("""
            [{"_id":"e1","timestamp":"2026-11-01T10:00:00Z","ecid":"d1"},
             {"_id":"e2","timestamp":"2026-11-01T10:00:00Z","ecid":"d1","referrer":"https://example.com"}]
            """), ct);
        var batch = await sent.ExpectAsync(HttpStatusCode.MultiStatus);
        var batchId = batch.Str("batchId");
        Assert.Equal("UNKNOWN_FIELD", batch.GetProperty("records")[1].GetProperty("errors")[0].Str("code"));

        var admin = server.Client(server.Key.ProdAdmin);
        var evolved = TestSchemas.Web.Replace("\"page\":{\"type\":\"string\"},", "\"page\":{\"type\":\"string\"},\"referrer\":{\"type\":\"string\"},", StringComparison.Ordinal);
        using (var schema = await admin.PostAsync("/catalog/v1/schemas", Http.Json(evolved), ct))
        {
            Assert.Equal(2, (await schema.ExpectAsync(HttpStatusCode.Created)).GetProperty("version").GetInt32());
        }
        using var replay = await admin.PostAsync($"/batches/v1/{batchId}/replay", null, ct);
        var replayed = await replay.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(batchId, replayed.Str("replayOf"));
        Assert.Equal("replay", replayed.Str("kind"));
        Assert.Equal(1, replayed.GetProperty("counts").Long("accepted"));
        Assert.Equal(0, replayed.GetProperty("counts").Long("failed"));
        Assert.Equal($"/batches/v1/{replayed.Str("id")}", replay.Headers.Location?.OriginalString);

        using var quarantine = await admin.GetAsync($"/batches/v1/{batchId}/quarantine", ct);
        var entry = Assert.Single((await quarantine.ExpectAsync(HttpStatusCode.OK)).GetProperty("entries").EnumerateArray());
        Assert.Equal(replayed.Str("id"), entry.Str("resolvedBy"));
        using var open = await admin.GetAsync($"/batches/v1/{batchId}/quarantine?unresolved=true", ct);
        Assert.Empty((await open.ExpectAsync(HttpStatusCode.OK)).GetProperty("entries").EnumerateArray());
        Assert.Equal(2, StoredFacts.Count(server.Workspace, "prod", "web"));
    }

    [Fact]
    public async Task Too_many_records_in_one_request_is_refused_with_the_limit_named()
    {
        await using var server = await ApiServer.StartAsync("""{"limits":{"maxRecordsPerRequest":2}}""");
        using var response = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/crm/records",
            Http.Json("""[{"crmId":"c1"},{"crmId":"c2"},{"crmId":"c3"}]"""), TestContext.Current.CancellationToken);
        var error = await response.ExpectErrorAsync(HttpStatusCode.RequestEntityTooLarge, "TOO_MANY_RECORDS");
        Assert.Contains("limits.maxRecordsPerRequest", error.Str("message"), StringComparison.Ordinal);
    }
}

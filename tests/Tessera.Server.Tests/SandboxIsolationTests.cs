using System.Net;

namespace Tessera.Server.Tests;

public sealed class SandboxIsolationTests
{
    [Fact]
    public async Task A_dev_key_sees_nothing_of_prod()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var sent = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/crm/records",
            Http.Json("""[{"crmId":"c1"},{"crmId":"c2","age":-1}]"""), ct);
        var prodBatch = (await sent.ExpectAsync(HttpStatusCode.MultiStatus)).Str("batchId");

        var dev = server.Client(server.Key.DevAdmin);
        using (var datasets = await dev.GetAsync("/catalog/v1/datasets", ct))
        {
            var names = (await datasets.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().Select(d => d.Str("name")).ToList();
            Assert.Contains("web-dev", names);
            Assert.DoesNotContain("crm", names);
            Assert.DoesNotContain("web", names);
        }
        using (var dataset = await dev.GetAsync("/catalog/v1/datasets/crm", ct))
        {
            await dataset.ExpectErrorAsync(HttpStatusCode.NotFound, "DATASET_NOT_FOUND");
        }
        using (var batches = await dev.GetAsync("/batches/v1", ct))
        {
            Assert.Empty((await batches.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
        }
        foreach (var path in new[] { $"/batches/v1/{prodBatch}", $"/batches/v1/{prodBatch}/quarantine" })
        {
            using var response = await dev.GetAsync(path, ct);
            await response.ExpectErrorAsync(HttpStatusCode.NotFound, "BATCH_NOT_FOUND");
        }
        using (var replay = await dev.PostAsync($"/batches/v1/{prodBatch}/replay", null, ct))
        {
            await replay.ExpectErrorAsync(HttpStatusCode.NotFound, "BATCH_NOT_FOUND");
        }
        using (var upload = await dev.PostAsync("/batches/v1/datasets/crm?format=csv", Http.Json("crmId\nc9\n"), ct))
        {
            await upload.ExpectErrorAsync(HttpStatusCode.NotFound, "DATASET_NOT_FOUND");
        }
        using (var collect = await server.Client(server.Key.DevCollect).PostAsync("/collection/v1/datasets/crm/records", Http.Json("""{"crmId":"c3"}"""), ct))
        {
            await collect.ExpectErrorAsync(HttpStatusCode.NotFound, "DATASET_NOT_FOUND");
        }
        Assert.Equal(1, StoredFacts.Count(server.Workspace, "prod", "crm"));
        Assert.Equal(0, StoredFacts.Count(server.Workspace, "dev", "crm"));

        // Prod's admin key sees its own batch.
        using var own = await server.Client(server.Key.ProdAdmin).GetAsync($"/batches/v1/{prodBatch}", ct);
        Assert.Equal("crm", (await own.ExpectAsync(HttpStatusCode.OK)).Str("dataset"));
    }

    [Fact]
    public async Task Naming_another_sandbox_than_the_keys_is_forbidden()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var prod = server.Client(server.Key.ProdAdmin);
        using (var query = await prod.GetAsync("/catalog/v1/datasets?sandbox=dev", ct))
        {
            var error = await query.ExpectErrorAsync(HttpStatusCode.Forbidden, "SANDBOX_FORBIDDEN");
            Assert.Contains("'prod'", error.Str("message"), StringComparison.Ordinal);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/batches/v1"))
        {
            request.Headers.Add("X-Tessera-Sandbox", "dev");
            using var header = await prod.SendAsync(request, ct);
            await header.ExpectErrorAsync(HttpStatusCode.Forbidden, "SANDBOX_FORBIDDEN");
        }
        using (var collect = await server.Client(server.Key.DevCollect).PostAsync("/collection/v1/datasets/web/events?sandbox=prod",
            Http.Json("""{"_id":"e1","timestamp":"2026-11-01T10:00:00Z","ecid":"d1"}"""), ct))
        {
            await collect.ExpectErrorAsync(HttpStatusCode.Forbidden, "SANDBOX_FORBIDDEN");
        }
        using var same = await prod.GetAsync("/catalog/v1/datasets?sandbox=prod", ct);
        await same.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Segment_calls_land_in_the_keys_sandbox()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var response = await server.BasicClient(server.Key.DevCollect).PostAsync("/v1/track",
            Http.Json("""{"messageId":"m1","userId":"u1","event":"Signed Up","timestamp":"2026-11-01T10:00:00Z"}"""), ct);
        await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, StoredFacts.Count(server.Workspace, "dev", "segment-events"));
        Assert.Equal(0, StoredFacts.Count(server.Workspace, "prod", "segment-events"));
    }
}

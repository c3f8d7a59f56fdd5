using System.Net;

namespace Tessera.Server.Tests;

/// <summary>Estimates, previews, overlaps and size history through the real server.</summary>
public sealed class EstimateApiTests
{
    [Fact]
    public async Task Estimate_preview_overlap_and_history_answer_over_http()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var collect = server.Client(server.Key.ProdCollect);
        var ct = TestContext.Current.CancellationToken;
        foreach (var (visitor, page) in new[] { ("K1", "cart"), ("K2", "cart"), ("K3", "home") })
        {
            using var posted = await collect.PostAsync("/collection/v1/datasets/web/events",
                Http.Json($$"""{"_id":"e-{{visitor}}","timestamp":"2026-11-01T11:30:00Z","ecid":"{{visitor}}","page":"{{page}}"}"""), ct);
            await posted.ExpectAsync(HttpStatusCode.OK);
        }

        // Three profiles, every one sampled: the exact count.
        using (var estimate = await admin.PostAsync("/segmentation/v1/estimate", Http.Json("""{"pql":"xEvent[page = \"cart\"]","sample":100}"""), ct))
        {
            var body = await estimate.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal((3L, 3, 2, 2L, 2L, 2L), (body.GetProperty("profiles").GetInt64(), body.GetProperty("sampled").GetInt32(),
                body.GetProperty("matched").GetInt32(), body.GetProperty("low").GetInt64(), body.GetProperty("estimate").GetInt64(), body.GetProperty("high").GetInt64()));
        }
        using (var preview = await admin.PostAsync("/segmentation/v1/preview", Http.Json("""{"pql":"xEvent[page = \"home\"]"}"""), ct))
        {
            var profile = Assert.Single((await preview.ExpectAsync(HttpStatusCode.OK)).GetProperty("profiles").EnumerateArray());
            Assert.Equal("ECID:K3", profile.Str("primary"));
        }
        using (var wrong = await admin.PostAsync("/segmentation/v1/estimate", Http.Json("""{"pql":"page = ","sample":100}"""), ct))
        {
            await wrong.ExpectErrorAsync(HttpStatusCode.BadRequest, "PQL_INVALID");
        }
        using (var neither = await admin.PostAsync("/segmentation/v1/preview", Http.Json("{}"), ct))
        {
            await neither.ExpectErrorAsync(HttpStatusCode.BadRequest, "PARAMETER_INVALID");
        }

        foreach (var (id, pql) in new[] { ("cart", "xEvent[page = \\\"cart\\\"]"), ("k1", "xEvent[ecid = \\\"K1\\\"]") })
        {
            using var created = await admin.PostAsync("/segmentation/v1/audiences", Http.Json($$"""{"id":"{{id}}","name":"{{id}}","publish":true,"pql":"{{pql}}"}"""), ct);
            await created.ExpectAsync(HttpStatusCode.Created);
        }
        using (var run = await admin.PostAsync("/segmentation/v1/evaluate", null, ct))
        {
            await run.ExpectAsync(HttpStatusCode.OK);
        }
        using (var overlap = await admin.GetAsync("/segmentation/v1/audiences/cart/overlap/k1", ct))
        {
            var body = await overlap.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal((2L, 1L, 1L, 0.5), (body.GetProperty("membersA").GetInt64(), body.GetProperty("membersB").GetInt64(),
                body.GetProperty("both").GetInt64(), body.GetProperty("jaccard").GetDouble()));
        }
        using (var history = await admin.GetAsync("/segmentation/v1/audiences/cart/history", ct))
        {
            var size = Assert.Single((await history.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
            Assert.Equal(2, size.GetProperty("members").GetInt64());
        }
    }
}

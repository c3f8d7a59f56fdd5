using System.Net;

namespace Tessera.Server.Tests;

/// <summary>
/// The engines through the real server: events streamed over HTTP realize a window audience, the
/// feed shows it, and the clock alone (no new event) exits it at the right instant; the edge
/// endpoint stores the page's event and answers on the same request; a batch run on demand.
/// </summary>
public sealed class SegmentationApiTests
{
    [Fact]
    public async Task Streamed_events_realize_and_the_clock_exits_a_window_audience_through_the_feed_in_order()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var collect = server.Client(server.Key.ProdCollect);
        var ct = TestContext.Current.CancellationToken;
        using (var created = await admin.PostAsync("/segmentation/v1/audiences", Http.Json("""
            {"id":"cart-3h","name":"cart-3h","publish":true,
             "pql":"chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])"}
            """), ct))
        {
            await created.ExpectAsync(HttpStatusCode.Created);
        }
        // ApiServer.Start is 2026-11-01 12:00; the cart event at 11:30 is in the window until 14:30.
        using (var posted = await collect.PostAsync("/collection/v1/datasets/web/events",
            Http.Json("""{"_id":"e1","timestamp":"2026-11-01T11:30:00Z","ecid":"K1","page":"cart"}"""), ct))
        {
            await posted.ExpectAsync(HttpStatusCode.OK);
        }
        await server.Workspace.Streaming!.WhenIdleAsync();
        using (var feed = await admin.GetAsync("/segmentation/v1/memberships/changes?after=0", ct))
        {
            var change = Assert.Single((await feed.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
            Assert.Equal(("cart-3h", "ECID:K1", "realized", 1L), (change.Str("audienceId"), change.Str("profileId"), change.Str("status"), change.GetProperty("sequence").GetInt64()));
        }
        using (var members = await admin.GetAsync("/segmentation/v1/audiences/cart-3h/members", ct))
        {
            Assert.Single((await members.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
        }

        server.Time.Advance(TimeSpan.FromMinutes(150)); // 14:30
        await server.Workspace.Streaming.WhenIdleAsync();
        using (var feed = await admin.GetAsync("/segmentation/v1/memberships/changes?after=1", ct))
        {
            var change = Assert.Single((await feed.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
            Assert.Equal(("exited", 2L), (change.Str("status"), change.GetProperty("sequence").GetInt64()));
            Assert.Equal(new DateTimeOffset(2026, 11, 1, 14, 30, 0, TimeSpan.Zero), change.GetProperty("at").GetDateTimeOffset());
        }
        using (var wrong = await admin.GetAsync("/segmentation/v1/memberships/changes?max=0", ct))
        {
            await wrong.ExpectErrorAsync(HttpStatusCode.BadRequest, "PARAMETER_INVALID");
        }
    }

    [Fact]
    public async Task The_edge_endpoint_stores_the_page_event_and_answers_on_the_same_request()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using (var created = await admin.PostAsync("/segmentation/v1/audiences", Http.Json("""
            {"id":"home-now","name":"home-now","publish":true,
             "pql":"chain(xEvent, timestamp, [A: WHAT(page = \"home\") WHEN(< 1 hours before now)])"}
            """), ct))
        {
            await created.ExpectAsync(HttpStatusCode.Created);
        }
        using var answer = await server.Client(server.Key.ProdCollect).PostAsync("/edge/v1/evaluate", Http.Json("""
            {"identity":"ECID:K9","dataset":"web","attributes":["page"],
             "events":[{"_id":"p1","timestamp":"2026-11-01T11:59:00Z","ecid":"K9","page":"home"}]}
            """), ct);
        var body = await answer.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["home-now"], body.GetProperty("audiences").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("ECID:K9", body.Str("profile"));

        using var invalid = await server.Client(server.Key.ProdCollect).PostAsync("/edge/v1/evaluate", Http.Json("""{"identity":"nonsense"}"""), ct);
        await invalid.ExpectErrorAsync(HttpStatusCode.BadRequest, "EDGE_REQUEST_INVALID");

        using var run = await admin.PostAsync("/segmentation/v1/evaluate", null, ct);
        var report = await run.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, report.GetProperty("members").GetProperty("home-now").GetInt32());
    }

    [Fact]
    public async Task The_edge_endpoint_reports_a_quarantined_event_and_still_answers_with_the_stored_one()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var answer = await server.Client(server.Key.ProdCollect).PostAsync("/edge/v1/evaluate", Http.Json("""
            {"identity":"ECID:K8","dataset":"web",
             "events":[{"_id":"q1","timestamp":"2026-11-01T11:59:00Z","ecid":"K8","page":"home"},
                       {"_id":"q2","timestamp":"not a time","ecid":"K8","page":"cart"}]}
            """), ct);
        var body = await answer.ExpectAsync((HttpStatusCode)207);
        Assert.Equal("ECID:K8", body.Str("profile"));
        var events = body.GetProperty("events");
        Assert.Equal(2, events.GetProperty("counts").GetProperty("input").GetInt32());
        Assert.Equal(1, events.GetProperty("counts").GetProperty("accepted").GetInt32());
        Assert.Equal(1, events.GetProperty("counts").GetProperty("failed").GetInt32());
        var rejected = Assert.Single(events.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejected.GetProperty("index").GetInt32());
        Assert.Equal("timestamp", Assert.Single(rejected.GetProperty("errors").EnumerateArray()).Str("path"));

        // The quarantined event is in its batch's quarantine, as a collection request's would be.
        using var quarantine = await server.Client(server.Key.ProdAdmin).GetAsync($"/batches/v1/{events.Str("batchId")}/quarantine", ct);
        var page = await quarantine.ExpectAsync(HttpStatusCode.OK);
        Assert.Single(page.GetProperty("entries").EnumerateArray());

        using var clean = await server.Client(server.Key.ProdCollect).PostAsync("/edge/v1/evaluate", Http.Json("""{"identity":"ECID:K8"}"""), ct);
        Assert.False((await clean.ExpectAsync(HttpStatusCode.OK)).TryGetProperty("events", out _));
    }
}

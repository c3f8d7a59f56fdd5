namespace Tessera.Segmentation.Tests.Engines;

/// <summary>What a full batch run does to members it no longer finds, and to profiles of several identities.</summary>
public sealed class BatchEngineTests
{
    private const string Sandbox = "prod";

    [Fact]
    public async Task A_member_whose_profile_was_merged_away_exits_on_the_next_full_run()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var workspace = test.Workspace;
        await workspace.Audiences.CreateAsync(Sandbox, "visitors", "count(xEvent) > 0", id: "visitors");
        await workspace.Audiences.PublishAsync(Sandbox, "visitors");
        await workspace.Audiences.CreateAsync(Sandbox, "gold", "tier = \"gold\"", id: "gold");
        await workspace.Audiences.PublishAsync(Sandbox, "gold");
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"},{"crmId":"2","tier":"silver"}]""");
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T10:00:00Z","ecid":"K1","page":"home"},{"_id":"e2","timestamp":"2026-06-10T10:00:00Z","ecid":"K2","page":"home"}]""");

        var first = await workspace.Batch.RunAsync(Sandbox);
        Assert.Equal(4, first.Profiles);
        Assert.Equal(["ECID:K1", "ECID:K2"], Members(workspace, "visitors"));
        Assert.Equal(["CRMID:1"], Members(workspace, "gold"));

        // K1 logs in as CRM 1: its profile is now CRM 1's, and K1 on its own holds nothing any more.
        await test.StreamAsync("web", """[{"_id":"e3","timestamp":"2026-06-10T11:00:00Z","ecid":"K1","crmId":"1","page":"login"}]""");
        var second = await workspace.Batch.RunAsync(Sandbox);

        Assert.Equal(3, second.Profiles);
        Assert.Equal(["CRMID:1", "ECID:K2"], Members(workspace, "visitors"));
        Assert.Equal(["CRMID:1"], Members(workspace, "gold"));
        Assert.Empty(workspace.Memberships.Of(Sandbox, "ECID:K1")); // Exited, and its rows gone.
        Assert.Equal(new Dictionary<string, int> { ["visitors"] = 2, ["gold"] = 1 }, second.Members);
    }

    [Fact]
    public async Task Audiences_answered_in_columns_and_audiences_that_are_not_share_a_run()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var workspace = test.Workspace;
        (string Id, string Pql)[] audiences =
        [
            ("checkout", "count(xEvent[page = \"checkout\"]) >= 1"),
            ("home-then-checkout", "chain(xEvent, timestamp, [A: WHAT(page = \"home\"), B: WHAT(page = \"checkout\")])"),
            ("two-after-nine", "count(xEvent[timestamp > \"2026-06-10T09:15:00Z\"]) >= 2"), // the time read outside a window
            ("home", "exists X from xEvent where X.page = \"home\""), // a quantifier
            ("big", "sum(xEvent[page = \"checkout\"].price) > 50"),
        ];
        foreach (var (id, pql) in audiences)
        {
            await workspace.Audiences.CreateAsync(Sandbox, id, pql, id: id);
            await workspace.Audiences.PublishAsync(Sandbox, id);
        }
        await test.StreamAsync("web", """
            [{"_id":"e1","timestamp":"2026-06-10T10:00:00Z","ecid":"K1","page":"home"},
             {"_id":"e2","timestamp":"2026-06-10T10:30:00Z","ecid":"K1","page":"checkout","price":80},
             {"_id":"e3","timestamp":"2026-06-10T09:00:00Z","ecid":"K2","page":"checkout","price":20},
             {"_id":"e4","timestamp":"2026-06-10T09:30:00Z","ecid":"K2","page":"home"}]
            """);

        var report = await workspace.Batch.RunAsync(Sandbox);

        Assert.Equal(["big", "checkout", "home-then-checkout"], report.Columnar!.Order(StringComparer.Ordinal));
        Assert.Equal(["ECID:K1", "ECID:K2"], Members(workspace, "checkout"));
        Assert.Equal(["ECID:K1"], Members(workspace, "home-then-checkout"));
        Assert.Equal(["ECID:K1"], Members(workspace, "two-after-nine"));
        Assert.Equal(["ECID:K1", "ECID:K2"], Members(workspace, "home"));
        Assert.Equal(["ECID:K1"], Members(workspace, "big"));
    }

    [Fact]
    public async Task A_device_whose_events_all_expired_is_no_profile_before_and_after_they_are_purged()
    {
        // The run finds profiles from the identity graph, which still marks K1 once its events are gone.
        await using var test = await SegmentationWorkspace.CreateAsync();
        var workspace = test.Workspace;
        await workspace.Catalog.CreateDatasetAsync(Sandbox, new Abstractions.DatasetDefinition { Name = "short", Schema = "web", EventTtl = TimeSpan.FromHours(2) });
        await workspace.Audiences.CreateAsync(Sandbox, "visitors", "count(xEvent) > 0", id: "visitors");
        await workspace.Audiences.PublishAsync(Sandbox, "visitors");
        await test.StreamAsync("short", """[{"_id":"s1","timestamp":"2026-06-10T11:30:00Z","ecid":"K1","page":"home"},{"_id":"s2","timestamp":"2026-06-10T11:50:00Z","ecid":"K2","page":"home"}]""");
        await test.StreamAsync("web", """[{"_id":"w1","timestamp":"2026-06-10T11:00:00Z","ecid":"K2","page":"home"}]""");

        var first = await workspace.Batch.RunAsync(Sandbox);
        Assert.Equal(2, first.Profiles);
        Assert.Equal(["ECID:K1", "ECID:K2"], Members(workspace, "visitors"));

        test.Time.Advance(TimeSpan.FromHours(2)); // 14:00: both events of "short" are past its TTL; K2 keeps its web event.
        var second = await workspace.Batch.RunAsync(Sandbox);
        Assert.Equal(1, second.Profiles);
        Assert.Equal(["ECID:K2"], Members(workspace, "visitors"));
        Assert.Empty(workspace.Memberships.Of(Sandbox, "ECID:K1"));

        Assert.Equal(2, (await workspace.Profiles.ExpireAsync(Sandbox)).EventsExpired);
        var third = await workspace.Batch.RunAsync(Sandbox);
        Assert.Equal(1, third.Profiles);
        Assert.Equal(["ECID:K2"], Members(workspace, "visitors"));
    }

    private static List<string> Members(Server.Workspace workspace, string audience) =>
        [.. workspace.Memberships.Members(Sandbox, audience).Select(m => m.ProfileId).Order(StringComparer.Ordinal)];
}

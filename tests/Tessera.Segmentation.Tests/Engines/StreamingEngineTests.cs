namespace Tessera.Segmentation.Tests.Engines;

/// <summary>The streaming engine over a real workspace: commits realize memberships, the clock alone exits a window audience on time.</summary>
public sealed class StreamingEngineTests
{
    private const string Sandbox = "prod";

    [Fact]
    public async Task Commits_realize_memberships_and_a_window_exits_when_its_event_leaves_it()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var audiences = test.Workspace.Audiences;
        var gold = await audiences.CreateAsync(Sandbox, "gold", "tier = \"gold\"", id: "gold");
        var cart = await audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])", id: "cart");
        await audiences.PublishAsync(Sandbox, "gold");
        await audiences.PublishAsync(Sandbox, "cart");
        Assert.Equal("edge", gold.Mode);
        Assert.Equal("edge", cart.Mode); // one event within 24 hours: the streaming engine keeps edge audiences too
        var engine = test.Workspace.StartStreaming();

        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"},{"crmId":"2","tier":"silver"}]""");
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T11:00:00Z","ecid":"K1","crmId":"1","page":"cart"}]""");
        await engine.WhenIdleAsync();

        var memberships = test.Workspace.Memberships;
        Assert.Equal(["CRMID:1"], memberships.Members(Sandbox, "gold").Select(m => m.ProfileId));
        Assert.Equal(["CRMID:1"], memberships.Members(Sandbox, "cart").Select(m => m.ProfileId));
        var feed = memberships.Read(Sandbox, 0, 100);
        Assert.All(feed, change => Assert.Equal(MembershipStatus.Realized, change.Status));
        Assert.Contains(feed, change => change.AudienceId == "cart" && change.Identities.Contains("ECID:K1"));

        // The cart event (11:00) leaves the 3-hour window at 14:00: exited then, with no new event.
        test.Time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        await engine.WhenIdleAsync();
        Assert.Single(memberships.Members(Sandbox, "cart"));
        test.Time.Advance(TimeSpan.FromSeconds(1));
        await engine.WhenIdleAsync();
        Assert.Empty(memberships.Members(Sandbox, "cart"));
        var exit = memberships.Read(Sandbox, feed[^1].Sequence, 100).Single();
        Assert.Equal(("cart", "CRMID:1", MembershipStatus.Exited), (exit.AudienceId, exit.ProfileId, exit.Status));
        Assert.Equal(new DateTimeOffset(2026, 6, 10, 14, 0, 0, TimeSpan.Zero), exit.At);
        Assert.Single(memberships.Members(Sandbox, "gold"));

        // A record that changes the tier exits the attribute audience.
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"silver"}]""");
        await engine.WhenIdleAsync();
        Assert.Empty(memberships.Members(Sandbox, "gold"));
    }

    [Fact]
    public async Task An_audience_that_reads_another_is_evaluated_again_when_an_event_moves_that_one()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var audiences = test.Workspace.Audiences;
        await audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])", id: "cart");
        // Reads no event itself: only following "cart" brings it to the worker's attention on a web event.
        var follower = await audiences.CreateAsync(Sandbox, "gold-cart", "inSegment(\"cart\") and tier = \"gold\"", id: "gold-cart");
        await audiences.PublishAsync(Sandbox, "cart");
        await audiences.PublishAsync(Sandbox, "gold-cart");
        Assert.NotEqual("batch", follower.Mode);
        var engine = test.Workspace.StartStreaming();

        // The profile is known, its identities linked and evaluated, before the cart event: that event changes nothing else.
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"}]""");
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T10:00:00Z","ecid":"K1","crmId":"1","page":"home"}]""");
        await engine.WhenIdleAsync();
        Assert.Empty(test.Workspace.Memberships.Members(Sandbox, "gold-cart"));

        await test.StreamAsync("web", """[{"_id":"e2","timestamp":"2026-06-10T11:00:00Z","ecid":"K1","crmId":"1","page":"cart"}]""");
        await engine.WhenIdleAsync();

        Assert.Equal(["CRMID:1"], test.Workspace.Memberships.Members(Sandbox, "cart").Select(m => m.ProfileId));
        Assert.Equal(["CRMID:1"], test.Workspace.Memberships.Members(Sandbox, "gold-cart").Select(m => m.ProfileId));
    }
}

using Tessera.Identity.Graph;
using Tessera.Profiles.Privacy;
using Tessera.Segmentation.Engines;
using Tessera.Segmentation.Memberships;
using Tessera.Segmentation.Tests.Engines;
using Tessera.Storage;

namespace Tessera.Segmentation.Tests.Memberships;

/// <summary>Privacy requests over a real workspace with streaming: delete exits, removes and scrubs the person's memberships; access exports them.</summary>
public sealed class MembershipPrivacyTests
{
    private const string Sandbox = "prod";
    private static readonly string[] Ann = ["CRMID:1", "ECID:K1"];

    /// <summary>Ann (CRMID:1 with device ECID:K1) and Bob (CRMID:2) are both in the gold audience.</summary>
    private static async Task<(SegmentationWorkspace Test, StreamingEngine Engine)> TwoGoldMembersAsync()
    {
        var test = await SegmentationWorkspace.CreateAsync();
        await test.Workspace.Audiences.CreateAsync(Sandbox, "gold", "tier = \"gold\"", id: "gold");
        await test.Workspace.Audiences.PublishAsync(Sandbox, "gold");
        var engine = test.Workspace.StartStreaming();
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"},{"crmId":"2","tier":"gold"}]""");
        // Evaluated before the web event arrives: one pass over both commits would realize Ann once, never make her existing
        // (and the feed then says so: her cookie joins her identities, an `existing` change after her entry).
        await engine.WhenIdleAsync();
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T11:00:00Z","ecid":"K1","crmId":"1","page":"cart"}]""");
        await engine.WhenIdleAsync();
        Assert.Equal(["CRMID:1", "CRMID:2"], test.Workspace.Memberships.Members(Sandbox, "gold").Select(m => m.ProfileId).Order());
        return (test, engine);
    }

    private static IdentityKey Key(string text) => IdentityKey.TryParse(text, out var key) ? key : throw new ArgumentException(text);

    private static string Describe(MembershipChange change) => $"{change with { Identities = [] }} {string.Join(",", change.Identities)}";

    private static bool NamesAnn(MembershipChange change) => Ann.Contains(change.ProfileId) || change.Identities.Any(Ann.Contains);

    [Fact]
    public async Task A_delete_exits_removes_and_scrubs_the_persons_memberships_and_leaves_others_alone()
    {
        var (test, engine) = await TwoGoldMembersAsync();
        await using var _ = test;
        var memberships = test.Workspace.Memberships;
        var bobBefore = memberships.Read(Sandbox, 0, 100).Where(c => c.ProfileId == "CRMID:2").Select(Describe).ToList();
        Assert.True(engine.Remembers(Sandbox, "ECID:K1"));

        var request = await test.Workspace.Privacy.DeleteAsync(Sandbox, [Key("ECID:K1")]);

        Assert.Equal(PrivacyRequestStatus.Completed, request.Status);
        Assert.Equal(["CRMID:2"], memberships.Members(Sandbox, "gold").Select(m => m.ProfileId));
        Assert.Empty(memberships.Of(Sandbox, "CRMID:1"));
        var counts = memberships.Counts(Sandbox, "gold");
        Assert.Equal((1L, 0L), (counts.Members, counts.Exited)); // Bob only: Ann's row is gone, not kept as exited
        var feed = memberships.Read(Sandbox, 0, 100);
        Assert.Equal([1L, 2, 3, 4], feed.Select(c => c.Sequence)); // gapless: scrubbed in place
        var exit = feed[^1];
        Assert.Equal(("gold", MembershipStatus.Exited), (exit.AudienceId, exit.Status)); // what tells destinations
        Assert.DoesNotContain(feed, NamesAnn);
        Assert.All(feed.Where(c => c.ProfileId == MembershipStore.ErasedProfile), c => Assert.Empty(c.Identities));
        Assert.Equal(bobBefore, feed.Where(c => c.ProfileId == "CRMID:2").Select(Describe));
        Assert.False(engine.Remembers(Sandbox, "ECID:K1"));
        Assert.False(engine.Remembers(Sandbox, "CRMID:1"));

        var receipt = request.Receipt!;
        Assert.Equal((1, 1L, 3L, 0L), (receipt.Memberships, receipt.MembershipsExited, receipt.FeedEntriesScrubbed, receipt.FeedEntriesHeld));
        Assert.Equal(PrivacyService.MembershipsCoveredNote, receipt.MembershipsNote);
        Assert.Equal(3, receipt.Participants[PrivacyCounts.Memberships][PrivacyCounts.FeedEntries]);

        // Again: nothing left to exit or scrub, and the feed does not move.
        var again = (await test.Workspace.Privacy.DeleteAsync(Sandbox, [Key("CRMID:1")])).Receipt!;
        Assert.Equal((0, 0L, 0L), (again.Memberships, again.MembershipsExited, again.FeedEntriesScrubbed));
        Assert.Equal(4, memberships.LastSequence(Sandbox));

        // Later traffic of someone else does not bring the person back.
        await test.StreamAsync("crm", """[{"crmId":"2","tier":"gold","points":5}]""");
        await engine.WhenIdleAsync();
        Assert.Equal(["CRMID:2"], memberships.Members(Sandbox, "gold").Select(m => m.ProfileId));
        Assert.DoesNotContain(memberships.Read(Sandbox, 0, 100), NamesAnn);
    }

    [Fact]
    public async Task A_delete_drops_the_persons_timers_from_memory_and_the_store()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        await test.Workspace.Audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])", id: "cart");
        await test.Workspace.Audiences.PublishAsync(Sandbox, "cart");
        var engine = test.Workspace.StartStreaming();
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T11:00:00Z","ecid":"K1","crmId":"1","page":"cart"}]""");
        await engine.WhenIdleAsync();
        Assert.Equal(1, engine.PendingTimers);

        await test.Workspace.Privacy.DeleteAsync(Sandbox, [Key("CRMID:1")]);

        Assert.Equal(0, engine.PendingTimers);
        Assert.Empty(test.Workspace.Store.Scan(StoreSpace.Catalog, 0, "segtimer\0"u8.ToArray()));
        Assert.Empty(test.Workspace.Memberships.Members(Sandbox, "cart"));
        Assert.DoesNotContain(test.Workspace.Memberships.Read(Sandbox, 0, 100), NamesAnn);
    }

    [Fact]
    public async Task An_exit_a_consumer_has_not_read_keeps_its_identities_until_a_later_run()
    {
        var (test, _) = await TwoGoldMembersAsync();
        await using var __ = test;
        var memberships = test.Workspace.Memberships;
        await memberships.SaveCursorAsync(Sandbox, "destination", memberships.LastSequence(Sandbox));

        var first = (await test.Workspace.Privacy.DeleteAsync(Sandbox, [Key("CRMID:1")])).Receipt!;

        Assert.Equal((1L, 2L, 1L), (first.MembershipsExited, first.FeedEntriesScrubbed, first.FeedEntriesHeld));
        var exit = Assert.Single(memberships.Read(Sandbox, 3, 100));
        Assert.Equal(("CRMID:1", MembershipStatus.Exited), (exit.ProfileId, exit.Status));
        Assert.Equal(Ann.Order(), exit.Identities.Order()); // what the destination needs to remove Ann

        await memberships.SaveCursorAsync(Sandbox, "destination", exit.Sequence);
        var second = (await test.Workspace.Privacy.DeleteAsync(Sandbox, [Key("CRMID:1")])).Receipt!;

        Assert.Equal((0L, 1L, 0L), (second.MembershipsExited, second.FeedEntriesScrubbed, second.FeedEntriesHeld));
        Assert.DoesNotContain(memberships.Read(Sandbox, 0, 100), NamesAnn);
    }

    [Fact]
    public async Task A_delete_a_crash_interrupted_after_the_exits_finishes_the_scrub_when_recovered()
    {
        var (test, _) = await TwoGoldMembersAsync();
        await using var __ = test;
        var memberships = test.Workspace.Memberships;
        // As a crash would leave it: the request processing, the exits written, nothing scrubbed.
        await memberships.RemoveProfileAsync(Sandbox, "CRMID:1", SegmentationWorkspace.Start);
        var crashed = new PrivacyRequest
        {
            Id = "p0000000000000000000001",
            Sandbox = Sandbox,
            Type = PrivacyRequestTypes.Delete,
            Identities = ["CRMID:1"],
            Members = [.. Ann],
            Status = PrivacyRequestStatus.Processing,
            CreatedAt = SegmentationWorkspace.Start,
            Runs = 1,
        };
        using (var writes = new WriteSet())
        {
            PrivacyService.Put(writes, crashed);
            await test.Workspace.Store.CommitAsync(writes);
        }

        var recovered = Assert.Single(await test.Workspace.Privacy.RecoverAsync());

        Assert.Equal((PrivacyRequestStatus.Completed, 2), (recovered.Status, recovered.Runs));
        Assert.Equal((0L, 3L), (recovered.Receipt!.MembershipsExited, recovered.Receipt.FeedEntriesScrubbed)); // exited before the crash
        Assert.Equal(4, memberships.LastSequence(Sandbox));
        Assert.DoesNotContain(memberships.Read(Sandbox, 0, 100), NamesAnn);
        Assert.Equal(["CRMID:2"], memberships.Members(Sandbox, "gold").Select(m => m.ProfileId));
    }

    [Fact]
    public async Task An_access_export_lists_the_persons_memberships_and_feed_changes()
    {
        var (test, _) = await TwoGoldMembersAsync();
        await using var __ = test;

        var request = await test.Workspace.Privacy.AccessAsync(Sandbox, [Key("ECID:K1")]);

        Assert.Equal(PrivacyRequestStatus.Completed, request.Status);
        var membership = Assert.Single(request.Export!.Memberships);
        Assert.Equal(("gold", "CRMID:1", "existing"), // evaluated again with the web event
            (membership["audienceId"]!.GetValue<string>(), membership["profileId"]!.GetValue<string>(), membership["status"]!.GetValue<string>()));
        var section = request.Export.Participants[PrivacyCounts.Memberships];
        Assert.Equal(["gold realized", "gold existing"], // entered, then stayed in with her cookie among her identities
            section["feed"]!.AsArray().Select(c => $"{c!["audienceId"]!.GetValue<string>()} {c["status"]!.GetValue<string>()}"));
        Assert.Equal(1, request.Receipt!.Memberships);
        Assert.Equal(2, request.Receipt.Participants[PrivacyCounts.Memberships][PrivacyCounts.FeedEntries]);

        // The stored export (what GET .../export returns) has them too; nothing was changed.
        var stored = test.Workspace.Privacy.RequireExport(Sandbox, request.Id);
        Assert.Single(stored.Memberships);
        Assert.Equal(2, stored.Participants[PrivacyCounts.Memberships]["feed"]!.AsArray().Count);
        Assert.Equal(2, test.Workspace.Memberships.Members(Sandbox, "gold").Count());
    }
}

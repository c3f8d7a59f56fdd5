using System.Text;
using Tessera.Abstractions;
using Tessera.Segmentation.Memberships;
using Tessera.Server;
using Tessera.Storage;
using static Tessera.Segmentation.Tests.Memberships.MembershipFixture;

namespace Tessera.Segmentation.Tests.Memberships;

public sealed class MembershipLifecycleTests
{
    [Fact]
    public async Task Reopening_the_workspace_keeps_memberships_counts_cursors_and_continues_the_sequence()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var directory = Path.Combine(Path.GetTempPath(), "tessera-memberships-ws-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var workspace = await Workspace.OpenAsync(directory))
            {
                await workspace.Memberships.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:2", "a"), In("CRMID:1", "b")], Start, cancellationToken);
                await workspace.Memberships.ApplyAsync("prod", [Out("CRMID:2", "a"), In("CRMID:1", "a")], Start.AddHours(1), cancellationToken);
                await workspace.Memberships.SaveCursorAsync("prod", "webhook", 2, cancellationToken);
            }
            using (var workspace = await Workspace.OpenAsync(directory))
            {
                var memberships = workspace.Memberships;
                Assert.Equal(4, memberships.LastSequence("prod"));
                Assert.Equal(2, memberships.Cursor("prod", "webhook"));
                Assert.Equal(new MembershipCounts(0, 1, 1), memberships.Counts("prod", "a"));
                Assert.Equal(MembershipStatus.Existing, memberships.Get("prod", "a", "CRMID:1")!.Status);
                Assert.Equal(Start.AddHours(1), memberships.Get("prod", "a", "CRMID:1")!.LastQualifiedAt);

                Assert.Equal(1, await memberships.ApplyAsync("prod", [In("CRMID:3", "a")], Start.AddHours(2), cancellationToken));
                var next = Assert.Single(memberships.Read("prod", 4, 10));
                Assert.Equal(5, next.Sequence);
                Assert.Equal(new MembershipCounts(1, 1, 1), memberships.Counts("prod", "a"));
                Assert.Equal(["CRMID:1", "CRMID:3"], memberships.Members("prod", "a").Select(m => m.ProfileId));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_store_in_the_earlier_layout_is_upgraded_and_reads_and_writes_as_before()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        await fixture.Memberships.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:1", "b"), In("CRMID:2", "a"), In("CRMID:3", "a"), In("CRMID:4", "b")], Start, cancellationToken);
        await fixture.Memberships.ApplyAsync("dev", [In("CRMID:1", "c")], Start, cancellationToken);
        // Profiles 3 and 4 have new identities by their second entry, in the audience after and before the first one.
        await fixture.Memberships.ApplyAsync("prod", [Out("CRMID:1", "b"), Renamed(In("CRMID:3", "b")), Renamed(In("CRMID:4", "a"))], Start.AddMinutes(1), cancellationToken);
        var before = Snapshot(fixture.Memberships);
        Assert.Equal(["CRMID:3", "Email:new@x.com"], fixture.Memberships.Get("prod", "a", "CRMID:3")!.Identities);

        // What earlier builds wrote: the feed among the memberships, and a key per membership with its state and the identities
        // of its own last verdict; beside it a 'p' key per membership (the first layout), a profile rows key naming the audiences
        // only (the second), or a profile rows key with the states but no identities (the third).
        using (var old = new WriteSet())
        {
            foreach (var (key, value) in fixture.Store.Scan(StoreSpace.MembershipFeed, 0, "f\0"u8.ToArray()))
            {
                old.Put(StoreSpace.Memberships, 0, key, value);
                old.Delete(StoreSpace.MembershipFeed, 0, key);
            }
            foreach (var sandbox in new[] { "prod", "dev" })
            {
                foreach (var membership in fixture.Memberships.All(sandbox))
                {
                    var identities = membership is { ProfileId: "CRMID:3", AudienceId: "a" } or { ProfileId: "CRMID:4", AudienceId: "b" }
                        ? In(membership.ProfileId, membership.AudienceId).Identities
                        : membership.Identities;
                    old.Put(StoreSpace.Memberships, 0, Encoding.UTF8.GetBytes($"m\0{sandbox}\0{membership.AudienceId}\0{membership.ProfileId}"), LegacyRow(membership, identities));
                }
            }
            foreach (var (sandbox, profile, audiences) in new[] { ("prod", "CRMID:1", "ab"), ("dev", "CRMID:1", "c") })
            {
                old.Delete(StoreSpace.Memberships, 0, Encoding.UTF8.GetBytes($"a\0{sandbox}\0{profile}"));
                foreach (var audience in audiences)
                {
                    old.Put(StoreSpace.Memberships, 0, Encoding.UTF8.GetBytes($"p\0{sandbox}\0{profile}\0{audience}"), []);
                }
            }
            // A row no by-profile key names (not written by any build; folded all the same).
            var unnamed = new Membership("c", "CRMID:5", ["CRMID:5"], MembershipStatus.Realized, Start, Start);
            old.Put(StoreSpace.Memberships, 0, "m\0prod\0c\0CRMID:5"u8, LegacyRow(unnamed, unnamed.Identities));
            before = [.. before.Append(Line(unnamed)).Order()];
            old.Delete(StoreSpace.Memberships, 0, "a\0prod\0CRMID:2"u8);
            // version 1, one audience: "a"
            old.Put(StoreSpace.Memberships, 0, "r\0prod\0CRMID:2"u8, [1, 1, 0, 0, 0, 1, 0, 0, 0, (byte)'a']);
            foreach (var profile in new[] { "CRMID:3", "CRMID:4" })
            {
                var key = Encoding.UTF8.GetBytes($"a\0prod\0{profile}");
                var value = fixture.Store.Get(StoreSpace.Memberships, 0, key)!;
                MembershipValues.ReadProfileRows(value, out var identitiesAt);
                value[0] = 1;
                old.Put(StoreSpace.Memberships, 0, key, value[..identitiesAt]);
            }
            await fixture.Store.CommitAsync(old, cancellationToken);
        }
        var memberships = fixture.Reopen();
        Assert.Empty(memberships.Of("prod", "CRMID:1"));
        Assert.Empty(memberships.Read("prod", 0, 10));
        Assert.Empty(memberships.AudiencesOf("prod", "CRMID:2"));
        Assert.Empty(memberships.Get("prod", "a", "CRMID:3")!.Identities);

        // three feed pages, three and one earlier index keys, nine rows
        Assert.Equal(3 + 3 + 1 + 9, await memberships.UpgradeAsync(cancellationToken));
        foreach (var tag in new[] { "p", "r", "f", "m" })
        {
            Assert.Empty(fixture.Store.Scan(StoreSpace.Memberships, 0, Encoding.UTF8.GetBytes(tag + "\0")));
        }
        // Every membership reads as it did, identities included: the profile's latest verdict's, whichever audience it was in.
        Assert.Equal(before, Snapshot(memberships));
        Assert.Equal(["CRMID:3", "Email:new@x.com"], memberships.Get("prod", "b", "CRMID:3")!.Identities);
        Assert.Equal(["CRMID:4", "Email:new@x.com"], memberships.Get("prod", "b", "CRMID:4")!.Identities);
        Assert.Equal(["a realized", "b realized", "a realized", "a realized", "b realized", "b exited", "b realized", "a realized"],
            Feed(memberships, "prod").Select(c => $"{c.AudienceId} {c.Status.ToString().ToLowerInvariant()}"));
        Assert.Equal(["c realized"], Feed(memberships, "dev").Select(c => $"{c.AudienceId} {c.Status.ToString().ToLowerInvariant()}"));
        Assert.Equal(["a realized", "b exited"], memberships.Of("prod", "CRMID:1").Select(m => $"{m.AudienceId} {m.Status.ToString().ToLowerInvariant()}"));
        Assert.Equal(["CRMID:1", "CRMID:2", "CRMID:3", "CRMID:4", "CRMID:5"], memberships.ProfilesWithRows("prod"));
        Assert.Equal(["CRMID:1", "CRMID:2", "CRMID:3", "CRMID:4"], memberships.Members("prod", "a").Select(m => m.ProfileId));
        Assert.Equal(["c"], memberships.Of("dev", "CRMID:1").Select(m => m.AudienceId));
        Assert.Equal(["a"], memberships.AudiencesOf("prod", "CRMID:1"));
        Assert.Equal(["a"], memberships.AudiencesOf("prod", "CRMID:2"));
        Assert.Equal(0, await memberships.UpgradeAsync(cancellationToken));
        // Rows' states read from the upgraded index: staying in emits nothing, coming back is an entry, leaving an exit.
        Assert.Equal(2, await memberships.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:1", "b"), Out("CRMID:2", "a")], Start.AddMinutes(2), cancellationToken));
        Assert.Equal(["b realized", "a exited"], Feed(memberships, "prod", 8).Select(c => $"{c.AudienceId} {c.Status.ToString().ToLowerInvariant()}"));
        Assert.Equal(new MembershipCounts(2, 1, 1), memberships.Counts("prod", "a"));

        static Evaluation Renamed(Evaluation verdict) => verdict with { Identities = [verdict.ProfileId, "Email:new@x.com"] };

        static List<string> Snapshot(MembershipStore memberships) => [.. new[] { "prod", "dev" }.SelectMany(memberships.All).Select(Line).Order()];

        static string Line(Membership m) => $"{m.AudienceId} {m.ProfileId} {string.Join(',', m.Identities)} {m.Status} {m.LastQualifiedAt:O} {m.ChangedAt:O}";

        // version 1, status, last qualified and changed ticks, identities
        static byte[] LegacyRow(Membership membership, IReadOnlyList<string> identities)
        {
            var bytes = new List<byte> { 1, (byte)membership.Status };
            bytes.AddRange(BitConverter.GetBytes(membership.LastQualifiedAt.UtcTicks));
            bytes.AddRange(BitConverter.GetBytes(membership.ChangedAt.UtcTicks));
            bytes.AddRange(BitConverter.GetBytes(identities.Count));
            foreach (var identity in identities)
            {
                bytes.AddRange(BitConverter.GetBytes(Encoding.UTF8.GetByteCount(identity)));
                bytes.AddRange(Encoding.UTF8.GetBytes(identity));
            }
            return [.. bytes];
        }
    }

    [Fact]
    public async Task A_full_run_writes_only_what_changes_and_its_completion_confirms_the_existing_members_that_stay()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;
        await store.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:2", "a"), In("CRMID:1", "b")], Start, cancellationToken);

        // Realized members become existing as always (a change of status is written).
        var first = Start.AddHours(1);
        var run = store.BeginFullRun("prod", ["a"], first);
        Assert.Equal(2, await store.ApplyAsync("prod", [In("CRMID:1", "a"), Out("CRMID:2", "a"), In("CRMID:3", "a"), In("CRMID:1", "b")], first, cancellationToken, run: run));
        await store.CompleteFullRunAsync(run, cancellationToken);
        Assert.Equal((MembershipStatus.Existing, first, first), Read(store.Get("prod", "a", "CRMID:1")));
        Assert.Equal((MembershipStatus.Realized, first, first), Read(store.Get("prod", "a", "CRMID:3")));
        Assert.Equal(new MembershipCounts(1, 1, 1), store.Counts("prod", "a"));

        // An existing member that stays in is not written: the run's completion confirms it.
        var second = Start.AddHours(2);
        run = store.BeginFullRun("prod", ["a"], second);
        Assert.Equal(0, await store.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:3", "a"), In("CRMID:1", "b")], second, cancellationToken, run: run));
        Assert.Equal((MembershipStatus.Existing, first, first), Read(store.Get("prod", "a", "CRMID:1")));
        await store.CompleteFullRunAsync(run, cancellationToken);
        Assert.Equal(first.UtcTicks, StoredLastQualified(fixture, "a", "CRMID:1"));
        Assert.Equal((MembershipStatus.Existing, second, first), Read(store.Get("prod", "a", "CRMID:1")));
        Assert.Equal((MembershipStatus.Existing, second, second), Read(store.Get("prod", "a", "CRMID:3")));
        // Audience b was not in the run: its verdict was written as always.
        Assert.Equal(second.UtcTicks, StoredLastQualified(fixture, "b", "CRMID:1"));
        Assert.Equal(new MembershipCounts(0, 2, 1), store.Counts("prod", "a"));

        // A run that does not complete confirms nothing; what it wrote (an exit) stays written. A run that
        // completes after a later one changes nothing.
        var third = Start.AddHours(3);
        var stale = store.BeginFullRun("prod", ["a"], third.AddMinutes(-1));
        run = store.BeginFullRun("prod", ["a"], third);
        Assert.Equal(1, await store.ApplyAsync("prod", [In("CRMID:1", "a"), Out("CRMID:3", "a")], third, cancellationToken, run: run));
        Assert.Equal((MembershipStatus.Existing, second, first), Read(store.Get("prod", "a", "CRMID:1")));
        Assert.Equal((MembershipStatus.Exited, second, third), Read(store.Get("prod", "a", "CRMID:3")));
        Assert.Equal(new MembershipCounts(0, 1, 2), store.Counts("prod", "a"));
        await store.CompleteFullRunAsync(run, cancellationToken);
        await store.CompleteFullRunAsync(stale, cancellationToken);
        Assert.Equal((MembershipStatus.Existing, third, first), Read(store.Get("prod", "a", "CRMID:1")));

        // Every reader sees the confirmed state, after a restart too, and later verdicts start from it.
        store = fixture.Reopen();
        Assert.Equal([("CRMID:1", third)], store.Members("prod", "a").Select(m => (m.ProfileId, m.LastQualifiedAt)));
        Assert.Equal([third, second], store.Of("prod", "CRMID:1").Select(m => m.LastQualifiedAt));
        Assert.Contains(store.All("prod"), m => m is { AudienceId: "a", ProfileId: "CRMID:1" } && m.LastQualifiedAt == third);
        var fourth = Start.AddHours(4);
        Assert.Equal(1, await store.ApplyAsync("prod", [In("CRMID:1", "a"), Out("CRMID:1", "b")], fourth, cancellationToken));
        Assert.Equal((MembershipStatus.Existing, fourth, first), Read(store.Get("prod", "a", "CRMID:1")));
        Assert.Equal(new MembershipCounts(0, 1, 2), store.Counts("prod", "a"));
        Assert.Equal(["b exited"], Feed(store, "prod", 6).Select(c => $"{c.AudienceId} {c.Status.ToString().ToLowerInvariant()}"));

        static (MembershipStatus, DateTimeOffset, DateTimeOffset) Read(Membership? membership) => (membership!.Status, membership.LastQualifiedAt, membership.ChangedAt);
        static long StoredLastQualified(MembershipFixture fixture, string audience, string profile) =>
            MembershipValues.TryFindRow(fixture.Store.Get(StoreSpace.Memberships, 0, Encoding.UTF8.GetBytes($"a\0prod\0{profile}")), Encoding.UTF8.GetBytes(audience), out var row, out _)
                ? row.LastQualifiedTicks : -1;
    }

    [Fact]
    public async Task A_member_that_stays_in_under_other_identities_emits_an_existing_change_with_them_once()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;
        await store.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:1", "b"), In("CRMID:2", "a"), Out("CRMID:2", "b")], Start, cancellationToken);
        await store.ApplyAsync("prod", [Out("CRMID:2", "a")], Start, cancellationToken);
        Assert.Equal(4, store.LastSequence("prod"));

        // Profile 1 gains a phone (a merge): every audience it stays in says so, once, with the new identities; the same
        // identities in another order, and a profile that is no member, say nothing.
        string[] merged = ["Phone:+15550001", "CRMID:1", "Email:1@x.com"];
        var later = Start.AddMinutes(1);
        Assert.Equal(2, await store.ApplyAsync("prod",
            [In("CRMID:1", "a") with { Identities = merged }, In("CRMID:1", "b") with { Identities = merged }, Out("CRMID:2", "a") with { Identities = merged }],
            later, cancellationToken));
        Assert.Equal(["a CRMID:1 existing Phone:+15550001,CRMID:1,Email:1@x.com", "b CRMID:1 existing Phone:+15550001,CRMID:1,Email:1@x.com"],
            Describe(store.Read("prod", 4, 10)));
        Assert.Equal(0, await store.ApplyAsync("prod",
            [In("CRMID:1", "a") with { Identities = [.. merged.Reverse()] }, In("CRMID:1", "b") with { Identities = merged }], later.AddMinutes(1), cancellationToken));
        Assert.Equal(merged, store.Get("prod", "b", "CRMID:1")!.Identities);

        // A full run's existing member that stays in writes nothing, unless its identities changed (a split).
        var run = store.BeginFullRun("prod", ["a", "b"], later.AddHours(1));
        Assert.Equal(1, await store.ApplyAsync("prod", [In("CRMID:1", "a") with { Identities = ["CRMID:1"] }], later.AddHours(1), cancellationToken, run: run));
        await store.CompleteFullRunAsync(run, cancellationToken);
        Assert.Equal(["a CRMID:1 existing CRMID:1"], Describe(store.Read("prod", 6, 10)));
        Assert.Equal(new MembershipCounts(0, 1, 1), store.Counts("prod", "a"));

        static List<string> Describe(IEnumerable<MembershipChange> changes) =>
            [.. changes.Select(c => $"{c.AudienceId} {c.ProfileId} {c.Status.ToString().ToLowerInvariant()} {string.Join(",", c.Identities)}")];
    }

    [Fact]
    public async Task Removing_a_profile_exits_its_memberships_and_deletes_them()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;
        await store.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:1", "b"), In("CRMID:1", "c"), In("CRMID:2", "a")], Start, cancellationToken);
        await store.ApplyAsync("prod", [Out("CRMID:1", "c")], Start.AddMinutes(1), cancellationToken);

        var exits = await store.RemoveProfileAsync("prod", "CRMID:1", Start.AddMinutes(2), cancellationToken);

        Assert.Equal(2, exits);
        var removal = Feed(store, "prod", 5);
        Assert.Equal(["a exited", "b exited"], removal.Select(c => $"{c.AudienceId} {c.Status.ToString().ToLowerInvariant()}"));
        Assert.All(removal, c => Assert.Equal(["CRMID:1", "Email:1@x.com"], c.Identities));
        Assert.All(removal, c => Assert.Equal(Start.AddMinutes(2), c.At));
        Assert.Empty(store.Of("prod", "CRMID:1"));
        Assert.Null(store.Get("prod", "c", "CRMID:1"));
        Assert.Equal(new MembershipCounts(1, 0, 0), store.Counts("prod", "a"));
        Assert.Equal(default, store.Counts("prod", "c"));
        Assert.Equal(0, await store.RemoveProfileAsync("prod", "CRMID:1", Start.AddMinutes(3), cancellationToken));
        Assert.Equal(7, store.LastSequence("prod"));

        // Back later (a split can give the id back): a fresh entry.
        Assert.Equal(1, await store.ApplyAsync("prod", [In("CRMID:1", "a")], Start.AddMinutes(4), cancellationToken));
        Assert.Equal(MembershipStatus.Realized, store.Get("prod", "a", "CRMID:1")!.Status);
    }

    [Fact]
    public async Task The_purge_deletes_exits_older_than_the_retention_and_feed_changes_every_consumer_has_read()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture(new SegmentationSettings { ExitRetentionDays = 30 });
        var store = fixture.Memberships;
        await store.ApplyAsync("prod", [In("CRMID:1", "a"), In("CRMID:2", "a"), In("CRMID:3", "a")], Start, cancellationToken); // 1..3
        await store.ApplyAsync("prod", [Out("CRMID:1", "a")], Start.AddDays(1), cancellationToken); // 4
        await store.ApplyAsync("prod", [Out("CRMID:2", "a")], Start.AddDays(10), cancellationToken); // 5
        await store.SaveCursorAsync("prod", "webhook", 4, cancellationToken);
        await store.SaveCursorAsync("prod", "files", 5, cancellationToken);

        // 30 days after the first exit, to the tick: the exit (and change 4) are not older than the
        // retention yet; the entries (changes 1..3) are.
        Assert.Equal(new PurgeResult(0, 3), await store.PurgeAsync("prod", Start.AddDays(31), cancellationToken));
        var result = await store.PurgeAsync("prod", Start.AddDays(31).AddTicks(1), cancellationToken);

        // Change 4 is now older than 30 days and read by both consumers; 5 is not older yet.
        Assert.Equal(new PurgeResult(1, 1), result);
        Assert.Null(store.Get("prod", "a", "CRMID:1"));
        Assert.Equal(MembershipStatus.Exited, store.Get("prod", "a", "CRMID:2")!.Status);
        Assert.Equal(new MembershipCounts(1, 0, 1), store.Counts("prod", "a"));
        Assert.Equal([5L], Feed(store, "prod").Select(c => c.Sequence));
        Assert.Empty(store.Of("prod", "CRMID:1"));

        // Much later, a consumer that has not read change 5 holds it back; once deleted, it no longer does.
        await store.SaveCursorAsync("prod", "webhook", 4, cancellationToken);
        Assert.Equal(new PurgeResult(1, 0), await store.PurgeAsync("prod", Start.AddDays(100), cancellationToken));
        await store.DeleteCursorAsync("prod", "webhook", cancellationToken);
        Assert.Null(store.Cursor("prod", "webhook"));
        Assert.Equal(new PurgeResult(0, 1), await store.PurgeAsync("prod", Start.AddDays(100), cancellationToken));
        Assert.Empty(Feed(store, "prod"));

        // The sequence survives a purge of the whole feed.
        Assert.Equal(5, fixture.Reopen().LastSequence("prod"));
        Assert.Equal(1, await fixture.Memberships.ApplyAsync("prod", [Out("CRMID:3", "a")], Start.AddDays(100), cancellationToken));
        Assert.Equal(6, Assert.Single(Feed(fixture.Memberships, "prod")).Sequence);
    }

    [Fact]
    public async Task A_re_entry_before_the_purge_keeps_the_membership()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;
        await store.ApplyAsync("prod", [In("CRMID:1", "a")], Start, cancellationToken);
        await store.ApplyAsync("prod", [Out("CRMID:1", "a")], Start.AddDays(1), cancellationToken);
        await store.ApplyAsync("prod", [In("CRMID:1", "a")], Start.AddDays(2), cancellationToken);

        Assert.Equal(0, (await store.PurgeAsync("prod", Start.AddDays(60), cancellationToken)).Memberships);
        Assert.Equal(MembershipStatus.Realized, store.Get("prod", "a", "CRMID:1")!.Status);
        Assert.Equal(new MembershipCounts(1, 0, 0), store.Counts("prod", "a"));
    }

    [Fact]
    public async Task A_cursor_cannot_point_past_the_feed()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        await fixture.Memberships.ApplyAsync("prod", [In("CRMID:1", "a")], Start, cancellationToken);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Memberships.SaveCursorAsync("prod", "webhook", 2, cancellationToken));
        await fixture.Memberships.SaveCursorAsync("prod", "webhook", 0, cancellationToken);
        Assert.Equal([("webhook", 0L)], fixture.Memberships.Cursors("prod"));
    }

    [Fact]
    public async Task Concurrent_writers_of_one_sandbox_get_one_gapless_sequence()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture();
        var store = fixture.Memberships;
        const int Writers = 8;
        const int BatchesPerWriter = 25;
        await Parallel.ForAsync(0, Writers, cancellationToken, async (writer, token) =>
        {
            for (var batch = 0; batch < BatchesPerWriter; batch++)
            {
                // Each writer owns its profiles: enter two audiences, then leave one.
                var profile = $"CRMID:{writer}-{batch}";
                await store.ApplyAsync("prod", [In(profile, "a"), In(profile, "b")], Start, token);
                await store.ApplyAsync("prod", [Out(profile, "b")], Start.AddMinutes(1), token);
            }
        });

        var feed = Feed(store, "prod");
        Assert.Equal(Writers * BatchesPerWriter * 3, feed.Count);
        Assert.Equal(Enumerable.Range(1, feed.Count).Select(i => (long)i), feed.Select(c => c.Sequence));
        Assert.Equal(new MembershipCounts(Writers * BatchesPerWriter, 0, 0), store.Counts("prod", "a"));
        Assert.Equal(new MembershipCounts(0, 0, Writers * BatchesPerWriter), store.Counts("prod", "b"));
    }
}

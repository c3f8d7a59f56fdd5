using System.Buffers.Binary;
using System.Text;
using Tessera.Abstractions;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;
using static Tessera.Segmentation.Tests.Memberships.MembershipFixture;

namespace Tessera.Segmentation.Tests.Memberships;

/// <summary>The feed stored as pages of consecutive changes (a key per page, under its last sequence), and as earlier builds wrote it.</summary>
public sealed class FeedPageTests
{
    private static readonly byte[] ProdFeed = "f\0prod\0"u8.ToArray();

    [Fact]
    public async Task A_commit_of_many_changes_is_written_as_pages_and_read_purged_and_scrubbed_change_by_change()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture(new SegmentationSettings { ExitRetentionDays = 30 });
        var store = fixture.Memberships;
        var entrants = Enumerable.Range(1, 600).Select(i => In($"CRMID:{i}", "a")).ToList();
        Assert.Equal(600, await store.ApplyAsync("prod", entrants, Start, cancellationToken));

        // Three pages: 256, 256 and 88 changes, keyed by their last sequences.
        Assert.Equal([256L, 512L, 600L], fixture.Store.Scan(StoreSpace.MembershipFeed, 0, ProdFeed)
            .Select(e => BinaryPrimitives.ReadInt64BigEndian(e.Key.AsSpan(ProdFeed.Length))));
        Assert.Equal(Enumerable.Range(1, 600).Select(i => ((long)i, $"CRMID:{i}")), store.Read("prod", 0, 1000).Select(c => (c.Sequence, c.ProfileId)));
        // From inside a page, across the next, and cut inside a page.
        Assert.Equal([255L, 256, 257, 258], store.Read("prod", 254, 4).Select(c => c.Sequence));
        Assert.Equal(Enumerable.Range(301, 250).Select(i => (long)i), store.Read("prod", 300, 250).Select(c => c.Sequence));
        Assert.Empty(store.Read("prod", 600, 10));
        var change = Assert.Single(store.Read("prod", 599, 1));
        Assert.Equal(("a", "CRMID:600", MembershipStatus.Realized, Start), (change.AudienceId, change.ProfileId, change.Status, change.At));
        Assert.Equal(["CRMID:600", "Email:600@x.com"], change.Identities);

        // A consumer at 300 holds back the page it is inside; the page before it goes whole.
        await store.SaveCursorAsync("prod", "webhook", 300, cancellationToken);
        Assert.Equal(new PurgeResult(0, 256), await store.PurgeAsync("prod", Start.AddDays(31), cancellationToken));
        Assert.Equal(257, store.Read("prod", 0, 1)[0].Sequence);

        // A scrub rewrites the picked changes of a page and keeps the rest of it as it was.
        Assert.Equal(2, await store.ScrubFeedAsync("prod", c => c.ProfileId is "CRMID:400" or "CRMID:599", cancellationToken));
        var after = store.Read("prod", 398, 3);
        Assert.Equal([(399L, "CRMID:399"), (400L, MembershipStore.ErasedProfile), (401L, "CRMID:401")], after.Select(c => (c.Sequence, c.ProfileId)));
        Assert.Empty(after[1].Identities);
        Assert.Equal(["CRMID:401", "Email:401@x.com"], after[2].Identities);
        Assert.Equal(MembershipStore.ErasedProfile, store.Read("prod", 598, 1)[0].ProfileId);
        Assert.Equal(0, await store.ScrubFeedAsync("prod", c => c.ProfileId is "CRMID:400", cancellationToken));
        Assert.Equal(344, Feed(store, "prod").Count);
        Assert.Equal([512L, 600L], fixture.Store.Scan(StoreSpace.MembershipFeed, 0, ProdFeed)
            .Select(e => BinaryPrimitives.ReadInt64BigEndian(e.Key.AsSpan(ProdFeed.Length))));
    }

    [Fact]
    public async Task A_feed_written_a_change_a_key_by_earlier_builds_reads_purges_and_scrubs_beside_pages()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var fixture = new MembershipFixture(new SegmentationSettings { ExitRetentionDays = 30 });
        using (var old = new WriteSet())
        {
            // Version 1: status, ticks, audience, profile, identities; a key per change.
            old.Put(StoreSpace.MembershipFeed, 0, ChangeKey(1), LegacyChange(MembershipStatus.Realized, Start, "a", "CRMID:1", ["CRMID:1"]));
            old.Put(StoreSpace.MembershipFeed, 0, ChangeKey(2), LegacyChange(MembershipStatus.Realized, Start, "a", "CRMID:2", ["CRMID:2", "Email:2@x.com"]));
            var last = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(last, 2);
            old.Put(StoreSpace.Memberships, 0, "s\0prod"u8, last);
            await fixture.Store.CommitAsync(old, cancellationToken);
        }
        var store = fixture.Reopen();
        Assert.Equal(2, store.LastSequence("prod"));
        Assert.Equal(2, await store.ApplyAsync("prod", [In("CRMID:3", "a"), In("CRMID:4", "a")], Start.AddDays(10), cancellationToken));

        Assert.Equal([(1L, "CRMID:1"), (2L, "CRMID:2"), (3L, "CRMID:3"), (4L, "CRMID:4")], store.Read("prod", 0, 10).Select(c => (c.Sequence, c.ProfileId)));
        Assert.Equal(["CRMID:2", "Email:2@x.com"], store.Read("prod", 1, 1)[0].Identities);
        Assert.Equal([3L], store.Read("prod", 2, 1).Select(c => c.Sequence));
        Assert.Equal(1, await store.ScrubFeedAsync("prod", c => c.ProfileId == "CRMID:2", cancellationToken));
        Assert.Equal(["CRMID:1", MembershipStore.ErasedProfile, "CRMID:3", "CRMID:4"], Feed(store, "prod").Select(c => c.ProfileId));
        Assert.Equal(new PurgeResult(0, 2), await store.PurgeAsync("prod", Start.AddDays(31), cancellationToken));
        Assert.Equal([3L, 4L], Feed(store, "prod").Select(c => c.Sequence));
    }

    private static byte[] ChangeKey(long sequence)
    {
        var key = new byte[ProdFeed.Length + 8];
        ProdFeed.CopyTo(key, 0);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(ProdFeed.Length), sequence);
        return key;
    }

    private static byte[] LegacyChange(MembershipStatus status, DateTimeOffset at, string audience, string profile, string[] identities)
    {
        var bytes = new List<byte> { 1, (byte)status };
        bytes.AddRange(BitConverter.GetBytes(at.UtcTicks));
        foreach (var text in new[] { audience, profile })
        {
            Text(text);
        }
        bytes.AddRange(BitConverter.GetBytes(identities.Length));
        foreach (var identity in identities)
        {
            Text(identity);
        }
        return [.. bytes];

        void Text(string text)
        {
            bytes.AddRange(BitConverter.GetBytes(Encoding.UTF8.GetByteCount(text)));
            bytes.AddRange(Encoding.UTF8.GetBytes(text));
        }
    }
}

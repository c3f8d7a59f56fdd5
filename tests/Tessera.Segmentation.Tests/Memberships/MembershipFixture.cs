using Tessera.Abstractions;
using Tessera.Segmentation.Memberships;
using Tessera.Storage.RocksDb;

namespace Tessera.Segmentation.Tests.Memberships;

/// <summary>A membership store over a real RocksDB store in a fresh temporary folder, deleted on dispose.</summary>
public sealed class MembershipFixture : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly SegmentationSettings _settings;

    public MembershipFixture(SegmentationSettings? settings = null)
    {
        _settings = settings ?? new SegmentationSettings();
        Directory = Path.Combine(Path.GetTempPath(), "tessera-memberships-test-" + Guid.NewGuid().ToString("N"));
        Store = RocksDbStore.Open(Directory, 2);
        Memberships = new MembershipStore(Store, _settings);
    }

    public string Directory { get; }

    public RocksDbStore Store { get; private set; }

    public MembershipStore Memberships { get; private set; }

    /// <summary>Closes the store and opens it again with a new membership store, as a restart would.</summary>
    public MembershipStore Reopen()
    {
        Store.Dispose();
        Store = RocksDbStore.Open(Directory);
        Memberships = new MembershipStore(Store, _settings);
        return Memberships;
    }

    /// <summary>Every change of the sandbox's feed, read in small pages.</summary>
    public static List<MembershipChange> Feed(MembershipStore memberships, string sandbox, long after = 0)
    {
        var all = new List<MembershipChange>();
        while (memberships.Read(sandbox, after, 3) is { Count: > 0 } page)
        {
            all.AddRange(page);
            after = page[^1].Sequence;
        }
        return all;
    }

    public static Evaluation In(string profile, string audience) => new(profile, [profile, "Email:" + profile[(profile.IndexOf(':') + 1)..] + "@x.com"], audience, true);

    public static Evaluation Out(string profile, string audience) => In(profile, audience) with { Qualifies = false };

    public void Dispose()
    {
        Store.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Tessera.Abstractions;
using Tessera.Segmentation.Memberships;
using Tessera.Storage.RocksDb;

namespace Tessera.Segmentation.Tests.Memberships;

/// <summary>
/// Nothing acknowledged is lost, and a change never exists without its rows: a child process
/// (tests/Tessera.Segmentation.CrashHost) applies verdict batches from four writers and is killed
/// with SIGKILL at random points, then restarted. Each restart must reach at least the last
/// acknowledged sequence; at the end the feed runs 1…last with no gap, and replaying it gives exactly
/// the stored members, whose counts agree.
/// </summary>
[Trait("Category", "Crash")]
public sealed class MembershipCrashTests
{
    private const int Rounds = 8;
    private static readonly string[] Audiences = ["a0", "a1", "a2", "a3", "a4"];

    [Fact]
    public async Task Acknowledged_changes_survive_sigkill_with_their_memberships()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var directory = Path.Combine(Path.GetTempPath(), "tessera-membership-crash-" + Guid.NewGuid().ToString("N"));
        var random = new Random(20261129);
        long acked = 0;
        try
        {
            for (var round = 0; round < Rounds; round++)
            {
                using var process = Start(directory, round);
                _ = process.StandardError.ReadToEndAsync(cancellationToken);
                var ready = await process.StandardOutput.ReadLineAsync(cancellationToken);
                Assert.NotNull(ready);
                Assert.StartsWith("ready ", ready, StringComparison.Ordinal);
                Assert.True(long.Parse(ready[6..], CultureInfo.InvariantCulture) >= acked, $"round {round}: restarted at {ready}, {acked} was acknowledged");
                var killAfter = random.Next(1, 120);
                for (var acks = 0; acks < killAfter && await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line;)
                {
                    if (line.StartsWith("acked ", StringComparison.Ordinal))
                    {
                        acked = Math.Max(acked, long.Parse(line[6..], CultureInfo.InvariantCulture));
                        acks++;
                    }
                }
                if (process.HasExited)
                {
                    Assert.Fail($"the driver stopped by itself ({process.ExitCode})");
                }
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(cancellationToken);
            }

            using var store = RocksDbStore.Open(directory);
            var memberships = new MembershipStore(store, new SegmentationSettings());
            var last = memberships.LastSequence("prod");
            Assert.True(last >= acked, $"the feed is at {last}, {acked} was acknowledged");
            TestContext.Current.TestOutputHelper?.WriteLine($"{acked} changes acknowledged, {last} in the feed");
            Assert.True(acked > Rounds * 10, $"only {acked} changes were acknowledged: the driver did little");
            var feed = MembershipFixture.Feed(memberships, "prod");
            Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), feed.Select(c => c.Sequence));
            var replayed = new HashSet<(string, string)>();
            foreach (var change in feed)
            {
                var flipped = change.Status == MembershipStatus.Realized
                    ? replayed.Add((change.AudienceId, change.ProfileId))
                    : replayed.Remove((change.AudienceId, change.ProfileId));
                Assert.True(flipped, $"change {change.Sequence} does not change membership");
            }
            var members = Audiences.SelectMany(a => memberships.Members("prod", a).Select(m => (a, m.ProfileId))).ToHashSet();
            Assert.True(replayed.SetEquals(members), "the replayed feed and the stored members differ");
            foreach (var audience in Audiences)
            {
                var byStatus = Enumerable.Range(0, 200)
                    .Select(p => memberships.Get("prod", audience, $"CRMID:{p}")?.Status)
                    .Where(s => s is not null)
                    .ToLookup(s => s!.Value);
                Assert.Equal(new MembershipCounts(byStatus[MembershipStatus.Realized].Count(), byStatus[MembershipStatus.Existing].Count(), byStatus[MembershipStatus.Exited].Count()),
                    memberships.Counts("prod", audience));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Process Start(string directory, int seed)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Tessera.Segmentation.CrashHost.dll"));
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(seed.ToString(CultureInfo.InvariantCulture));
        start.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the crash driver");
    }
}

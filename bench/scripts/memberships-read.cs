#:project ../../src/Tessera.Segmentation/Tessera.Segmentation.csproj
#:project ../../src/Tessera.Storage.RocksDb/Tessera.Storage.RocksDb.csproj
#:property PublishAot=false

// A workspace's memberships read back, alone in its process: the upgrade of an earlier layout when there is one
// (UpgradeAsync), every audience's members (Members), and the memberships of every tenth profile (Of). Compare
// builds by running it from a worktree of each commit on its own copy of one kept workspace (an upgrade rewrites it):
// BENCHMARKS.md, "One key per profile".
//   dotnet run -c Release --project src/Tessera.Cli -- bench --only batch --keep --data /tmp/bwsfull
//   cp -r /tmp/bwsfull /tmp/copy && dotnet run -c Release bench/scripts/memberships-read.cs -- /tmp/copy/bench-batch/workspace
using System.Diagnostics;
using System.Text;
using Tessera.Abstractions;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;
using Tessera.Storage.RocksDb;

const string Sandbox = "prod";
using var store = RocksDbStore.Open(Path.Combine(args[0], "store"));
var memberships = new MembershipStore(store, new SegmentationSettings());

var clock = Stopwatch.StartNew();
var upgraded = await memberships.UpgradeAsync();
Console.WriteLine($"upgrade: {upgraded:N0} keys of an earlier layout rewritten in {clock.Elapsed.TotalSeconds:F2} s");

// The audiences with memberships: their counts keys, 'n' 0 sandbox 0 audience.
var countsPrefix = Encoding.UTF8.GetBytes($"n\0{Sandbox}\0");
var audiences = new List<string>();
store.Scan(StoreSpace.Memberships, 0, countsPrefix, (key, _) =>
{
    audiences.Add(Encoding.UTF8.GetString(key[countsPrefix.Length..]));
    return true;
});

for (var round = 0; round < 2; round++)
{
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    clock.Restart();
    var members = 0L;
    var identities = 0L;
    foreach (var audience in audiences)
    {
        foreach (var member in memberships.Members(Sandbox, audience))
        {
            members++;
            identities += member.Identities.Count;
        }
    }
    Console.WriteLine($"round {round}: Members of {audiences.Count} audiences: {members:N0} members ({identities:N0} identities) in {clock.Elapsed.TotalSeconds:F2} s, "
        + $"CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s");

    cpu = Process.GetCurrentProcess().TotalProcessorTime;
    clock.Restart();
    var profiles = memberships.ProfilesWithRows(Sandbox);
    var read = 0L;
    for (var i = 0; i < profiles.Count; i += 10)
    {
        read += memberships.Of(Sandbox, profiles[i]).Count;
    }
    Console.WriteLine($"round {round}: Of every tenth of {profiles.Count:N0} profiles: {read:N0} memberships in {clock.Elapsed.TotalSeconds:F2} s, "
        + $"CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s");
}

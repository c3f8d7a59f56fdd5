#:project ../../src/Tessera.Server/Tessera.Server.csproj
#:property PublishAot=false

// What a batch run's range read asks the identity graph of each identity (does its graph hold another identity?),
// asked both ways, alternating in one process: a snapshot per identity (GraphOf) against one call per range of 256
// (InLargerGraphs). BENCHMARKS.md, "A range's events from their bodies alone".
//   dotnet run -c Release --project src/Tessera.Cli -- bench --only batch --quick --keep --data /tmp/bws
//   dotnet run -c Release bench/scripts/graph-checks.cs -- /tmp/bws/bench-batch/workspace
using System.Diagnostics;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Server;
using Tessera.Storage;

using var workspace = await Workspace.OpenAsync(args[0], TimeProvider.System);
var identities = new HashSet<IdentityKey>();
for (var shard = 0; shard < workspace.Store.ShardCount; shard++)
{
    workspace.Store.Scan(StoreSpace.Facts, shard, FactKeys.SandboxPrefix(FactKeys.TimelineTag, "prod"), (key, _) =>
    {
        if (FactKeys.TryParse(key, out var parsed))
        {
            identities.Add(new IdentityKey(parsed.Identity.Namespace, parsed.Identity.Value));
        }
        return true;
    });
}
var all = identities.ToList();
Console.WriteLine($"{all.Count:N0} identities");
for (var round = 0; round < 6; round++)
{
    var watch = Stopwatch.StartNew();
    var larger = 0;
    foreach (var identity in all)
    {
        larger += workspace.Identity.GraphOf("prod", identity) is { Identities.Count: > 1 } ? 1 : 0;
    }
    var each = watch.Elapsed.TotalNanoseconds / all.Count;
    watch.Restart();
    var largerToo = 0;
    foreach (var chunk in all.Chunk(256))
    {
        largerToo += workspace.Identity.InLargerGraphs("prod", chunk).Count(b => b);
    }
    Console.WriteLine($"round {round}: GraphOf {each:F0} ns an identity, InLargerGraphs {watch.Elapsed.TotalNanoseconds / all.Count:F0} ns ({larger} / {largerToo} in larger graphs)");
}

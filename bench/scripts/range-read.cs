#:project ../../src/Tessera.Server/Tessera.Server.csproj
#:property PublishAot=false

// The batch engine's range read alone, both ways, on one thread, alternating in one process: every identity of a
// workspace in ranges of 256 per shard, read with ReadRangeForEvaluation and its events' records visited, once
// through the timeline keys then the event bodies (withEventRecords: false, then ReadEventRecords), once from the
// event bodies alone (withEventRecords: true). BENCHMARKS.md, "A range's events from their bodies alone".
//   dotnet run -c Release --project src/Tessera.Cli -- bench --only batch --keep --data /tmp/bwsfull
//   dotnet run -c Release bench/scripts/range-read.cs -- /tmp/bwsfull/bench-batch/workspace [rounds]
using System.Diagnostics;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles;
using Tessera.Server;
using Tessera.Storage;

using var workspace = await Workspace.OpenAsync(args[0], TimeProvider.System);
var rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2;
var store = workspace.Store;
// Each shard's identities in key order (namespace 0 value sorts as the ordinal order of the joined string here: ASCII ids).
var shards = new List<List<IdentityKey>>();
for (var shard = 0; shard < store.ShardCount; shard++)
{
    var found = new SortedDictionary<string, IdentityKey>(StringComparer.Ordinal);
    foreach (var tag in new[] { FactKeys.RecordTag, FactKeys.TimelineTag })
    {
        store.Scan(StoreSpace.Facts, shard, FactKeys.SandboxPrefix(tag, "prod"), (key, _) =>
        {
            if (FactKeys.TryParse(key, out var parsed))
            {
                found.TryAdd(parsed.Identity.Namespace + "\0" + parsed.Identity.Value, new IdentityKey(parsed.Identity.Namespace, parsed.Identity.Value));
            }
            return true;
        });
    }
    shards.Add([.. found.Values]);
}
Console.WriteLine($"{shards.Sum(s => s.Count):N0} identities");

long Pass(bool withEventRecords)
{
    long bytes = 0;
    RangeEventRecordVisitor visit = (_, _, record) => bytes += record.Length;
    for (var shard = 0; shard < shards.Count; shard++)
    {
        foreach (var chunk in shards[shard].Chunk(256))
        {
            var range = workspace.Profiles.ReadRangeForEvaluation("prod", shard, chunk, withEventRecords: withEventRecords);
            if (range.HasEventRecords)
            {
                range.VisitEventRecords(visit);
                range.ReleaseEventRecords();
            }
            else
            {
                workspace.Profiles.ReadEventRecords(range, visit);
            }
        }
    }
    return bytes;
}

for (var round = 0; round < rounds; round++)
{
    foreach (var withEventRecords in new[] { false, true })
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(true);
        var watch = Stopwatch.StartNew();
        var bytes = Pass(withEventRecords);
        Console.WriteLine($"round {round}, {(withEventRecords ? "event bodies alone      " : "timeline, then bodies")}: {watch.Elapsed.TotalSeconds:F2} s " +
            $"(process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s), {bytes:N0} bytes of records, {(GC.GetTotalAllocatedBytes(true) - allocated) / 1e6:N0} MB allocated");
    }
}

#:project ../../src/Tessera.Server/Tessera.Server.csproj
#:property PublishAot=false
#:property ServerGarbageCollector=true

// What a batch run allocates, by type: the runtime's allocation ticks (one about every 100 KB allocated, with the type of
// the object that crossed it) counted over one pass, after a first pass that warms everything up. Either the range read
// alone (every identity's range read for evaluation with its events' records, as bench/scripts/range-read.cs reads it),
// or a whole batch run of the workspace's published audiences (which writes memberships: give it a copy of a workspace).
// BENCHMARKS.md, "A range read that allocates a quarter less".
//   dotnet run -c Release --project src/Tessera.Cli -- bench --only batch --quick --keep --data /tmp/bwsk
//   dotnet run -c Release bench/scripts/batch-allocations.cs -- /tmp/bwsk/bench-batch/workspace range
//   cp -r /tmp/bwsk/bench-batch/workspace /tmp/bwsk-copy && dotnet run -c Release bench/scripts/batch-allocations.cs -- /tmp/bwsk-copy run
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using Tessera.Profiles;
using Tessera.Server;

using var ticks = new AllocationTicks();
using var workspace = await Workspace.OpenAsync(args[0], TimeProvider.System);
var wholeRun = args.Length > 1 && args[1] == "run";
var shards = workspace.Profiles.IdentitiesByShard("prod");
Console.WriteLine($"{shards.Sum(s => s.Count):N0} identities; {(wholeRun ? "a whole batch run" : "the range read alone")}");

async Task PassAsync()
{
    if (wholeRun)
    {
        await workspace.Batch.RunAsync("prod");
        return;
    }
    RangeEventRecordVisitor visit = (_, _, _) => { };
    for (var shard = 0; shard < shards.Length; shard++)
    {
        foreach (var chunk in shards[shard].Chunk(256))
        {
            var range = workspace.Profiles.ReadRangeForEvaluation("prod", shard, chunk, withEventRecords: true);
            if (range.HasEventRecords)
            {
                range.VisitEventRecords(visit);
                range.ReleaseEventRecords();
            }
        }
    }
}

await PassAsync();
ticks.Counting = true;
var allocated = GC.GetTotalAllocatedBytes(precise: true);
var watch = Stopwatch.StartNew();
await PassAsync();
ticks.Counting = false;
Console.WriteLine($"{watch.Elapsed.TotalSeconds:F2} s, {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1e6:N0} MB allocated; by type (sampled):");
foreach (var (type, bytes) in ticks.ByType.OrderByDescending(t => t.Value).Take(30))
{
    Console.WriteLine($"{bytes / 1e6,9:N1} MB  {type}");
}

/// <summary>Counts the runtime's allocation ticks (GC keyword, verbose) by type while <see cref="Counting"/>.</summary>
internal sealed class AllocationTicks : EventListener
{
    public volatile bool Counting;

    public ConcurrentDictionary<string, long> ByType { get; } = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!Counting || e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.PayloadNames is not { } names)
        {
            return;
        }
        var type = e.Payload![names.IndexOf("TypeName")] as string ?? "?";
        var at = names.IndexOf("AllocationAmount64");
        var bytes = at >= 0 ? Convert.ToInt64(e.Payload[at], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        ByType.AddOrUpdate(type, bytes, (_, sum) => sum + bytes);
    }
}

namespace Tessera.Bench;

/// <summary>The garbage collector's counts at one moment, to say what a measured step cost in collections and pauses.</summary>
internal readonly record struct GcMark(int Gen0, int Gen1, int Gen2, TimeSpan Paused, long Allocated, long Contentions)
{
    public static GcMark Now() =>
        new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(),
            Monitor.LockContentionCount);

    /// <summary>
    /// The collections, pause time and allocation since this mark, and what the last collection promoted (a pause is
    /// mostly the survivors it copies): <c>GC 3/1/0 (gen0/1/2), paused 0.42 s, allocated 812 MiB; last: gen0, promoted 41 MiB, paused 180 ms</c>;
    /// then how often a thread found a lock held (<c>lock contentions 1,234</c>: threads waiting on each other, not working).
    /// </summary>
    public string Since()
    {
        var text = $"GC {GC.CollectionCount(0) - Gen0}/{GC.CollectionCount(1) - Gen1}/{GC.CollectionCount(2) - Gen2} (gen0/1/2), "
            + $"paused {(GC.GetTotalPauseDuration() - Paused).TotalSeconds:0.00} s, allocated {(GC.GetTotalAllocatedBytes() - Allocated) / (1 << 20):N0} MiB";
        if (GC.CollectionCount(0) > Gen0 && GC.GetGCMemoryInfo(GCKind.Any) is { Index: > 0 } last)
        {
            text += $"; last: gen{last.Generation}, promoted {last.PromotedBytes / (1 << 20):N0} MiB, paused {last.PauseDurations[0].TotalMilliseconds:0} ms";
        }
        return text + $"; lock contentions {Monitor.LockContentionCount - Contentions:N0}";
    }
}

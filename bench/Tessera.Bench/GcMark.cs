namespace Tessera.Bench;

/// <summary>The garbage collector's counts at one moment, to say what a measured step cost in collections and pauses.</summary>
internal readonly record struct GcMark(int Gen0, int Gen1, int Gen2, TimeSpan Paused)
{
    public static GcMark Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    /// <summary>The collections and pause time since this mark: <c>GC 3/1/0 (gen0/1/2), paused 0.42 s</c>.</summary>
    public string Since() =>
        $"GC {GC.CollectionCount(0) - Gen0}/{GC.CollectionCount(1) - Gen1}/{GC.CollectionCount(2) - Gen2} (gen0/1/2), "
        + $"paused {(GC.GetTotalPauseDuration() - Paused).TotalSeconds:0.00} s";
}

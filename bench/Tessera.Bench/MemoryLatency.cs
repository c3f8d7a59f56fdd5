using System.Diagnostics;

namespace Tessera.Bench;

/// <summary>
/// What a dependent random read costs right now: a walk of one cycle through 256 MiB, each read's address the value
/// of the one before. The identity graph's link, rebuild and lookup figures are bound by exactly this, and on this
/// virtual machine it moves by twice and more within an hour (BENCHMARKS.md, "Identity graph"), so the figures
/// carry it in their notes: two runs compare through it, not through their seconds.
/// </summary>
internal sealed class MemoryLatency
{
    private const int Slots = 64 << 20; // 256 MiB of int
    private const int Reads = 2_000_000;
    private readonly int[] _next = GC.AllocateUninitializedArray<int>(Slots);

    public MemoryLatency()
    {
        // A full-period linear congruential step modulo 2^26 (c odd, a ≡ 1 mod 4): one cycle through every slot, with
        // strides no prefetcher follows; cheap to build where a shuffled cycle costs a random write per slot.
        const ulong a = 6364136223846793005, c = 1442695040888963407;
        for (var i = 0; i < Slots; i++)
        {
            _next[i] = (int)((a * (ulong)i + c) & (Slots - 1));
        }
    }

    /// <summary>Nanoseconds a dependent read takes, over <see cref="Reads"/> reads.</summary>
    public double Measure()
    {
        var at = 0;
        for (var i = 0; i < 100_000; i++)
        {
            at = _next[at];
        }
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Reads; i++)
        {
            at = _next[at];
        }
        var elapsed = watch.Elapsed;
        GC.KeepAlive(at);
        return elapsed.TotalNanoseconds / Reads;
    }
}

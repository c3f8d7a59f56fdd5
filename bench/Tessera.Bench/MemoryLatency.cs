using System.Diagnostics;
using System.Runtime.InteropServices;

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

    /// <summary>
    /// Microseconds to first touch a 4 KiB page of memory new to the process (a byte written in each page of 256 MiB
    /// taken from the system and given back): what a rebuild pays for every page of the tables it fills, which on the
    /// benchmarks' virtual machine has moved between about 2 and 20 µs (BENCHMARKS.md, "A page first touched").
    /// </summary>
    public static double FirstTouchMicroseconds()
    {
        const int bytes = 256 << 20, page = 4096;
        var block = Marshal.AllocHGlobal(bytes); // malloc, which maps a block this large afresh and unmaps it when freed
        try
        {
            var watch = Stopwatch.StartNew();
            for (var at = 0; at < bytes; at += page)
            {
                Marshal.WriteByte(block, at, 1);
            }
            return watch.Elapsed.TotalMicroseconds / (bytes / page);
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }
}

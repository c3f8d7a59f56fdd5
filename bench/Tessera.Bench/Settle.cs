using System.Diagnostics;
using System.Runtime;

namespace Tessera.Bench;

/// <summary>Puts the process in a clean state before a measurement, so that one step's leftovers are not the next step's cost.</summary>
internal static class Settle
{
    /// <summary>
    /// A full, compacting collection: the garbage of earlier steps, and inputs generated just before the
    /// measurement, would otherwise be collected or promoted during it (a pause of hundreds of milliseconds
    /// on a slow machine, which lands in a latency tail).
    /// </summary>
    public static void Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    /// <summary>As <see cref="Heap"/>, and (Linux) the dirty pages of earlier steps written out, so that their write-back does not slow this step's fsyncs.</summary>
    public static void HeapAndDisk()
    {
        Heap();
        if (OperatingSystem.IsLinux())
        {
            try
            {
                using var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false });
                sync?.WaitForExit();
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // No sync command: measure as is.
            }
        }
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>, 5 s by default) until the JIT has compiled nothing for 300 ms. The runtime
    /// compiles a method optimized on a background thread once it has been called 30 times, after a quiet period:
    /// a workspace's setup just before a measure (schemas, a hundred audiences parsed and published, a load)
    /// queued such compilations, and they ran during the measure on one of the two cores (a profile of the
    /// quick streaming measures found the JIT thread in a fifth of their samples, after the warm-up had settled
    /// the measured code). Code first reached during the measure is still compiled during it.
    /// </summary>
    public static async Task JitAsync(TimeSpan? limit = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((limit ?? TimeSpan.FromSeconds(5)).TotalSeconds * Stopwatch.Frequency);
        var quietSince = Stopwatch.GetTimestamp();
        var compiled = JitInfo.GetCompiledMethodCount();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50).ConfigureAwait(false);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                (compiled, quietSince) = (now, Stopwatch.GetTimestamp());
            }
            else if (Stopwatch.GetElapsedTime(quietSince) >= TimeSpan.FromMilliseconds(300))
            {
                return;
            }
        }
    }
}

using System.Diagnostics;

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
}

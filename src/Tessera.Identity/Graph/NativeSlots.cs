using System.Runtime.InteropServices;

namespace Tessera.Identity.Graph;

/// <summary>
/// Zeroed native memory for a hash table's slots, cache-line aligned; when large, aligned to 2 MiB
/// with a hint to the kernel (Linux) to back it with transparent huge pages, so that random probes
/// into hundreds of megabytes miss the TLB less. Freed by <see cref="Dispose"/> when a table outgrows
/// it, or by the finalizer with the table: an owner that reads through <see cref="Span"/> keeps itself
/// alive to the end of the read (<see cref="GC.KeepAlive"/>).
/// </summary>
internal sealed unsafe class NativeSlots<T> : IDisposable
    where T : unmanaged
{
    private const nuint HugePage = 2 << 20;

    private T* _slots;
    private readonly long _bytes;

    public NativeSlots(int length)
    {
        Length = length;
        _bytes = (long)length * sizeof(T);
        var large = (nuint)_bytes >= HugePage;
        _slots = (T*)NativeMemory.AlignedAlloc((nuint)_bytes, large ? HugePage : 64);
        if (large && OperatingSystem.IsLinux())
        {
            HugePages.Advise((nint)_slots, (nuint)_bytes);
        }
        NativeMemory.Clear(_slots, (nuint)_bytes);
        GC.AddMemoryPressure(_bytes);
    }

    ~NativeSlots() => Free();

    public int Length { get; }

    public Span<T> Span => new(_slots, Length);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_slots != null)
        {
            NativeMemory.AlignedFree(_slots);
            _slots = null;
            GC.RemoveMemoryPressure(_bytes);
        }
    }
}

internal static partial class HugePages
{
    private const int MadviseHugePage = 14; // MADV_HUGEPAGE

    /// <summary>Asks Linux to back the range with transparent huge pages; a hint: without it everything works the same.</summary>
    public static void Advise(nint address, nuint length) => _ = Madvise(address, length, MadviseHugePage);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}

using System.Runtime.CompilerServices;
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
    private T* _slots;

    public NativeSlots(int length)
    {
        Length = length;
        var bytes = (nuint)length * (nuint)sizeof(T);
        var large = bytes >= HugePages.PageBytes;
        _slots = (T*)NativeMemory.AlignedAlloc(bytes, large ? HugePages.PageBytes : (nuint)64);
        if (large && OperatingSystem.IsLinux())
        {
            HugePages.Advise((nint)_slots, bytes);
        }
        // No GC.AddMemoryPressure: it exists to hurry the collection of small objects holding big
        // native buffers, and here it only set off full collections of a large heap as a table grew.
        HugePages.Clear(_slots, bytes);
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
        }
    }
}

internal static partial class HugePages
{
    public const int PageBytes = 2 << 20;
    private const int MadviseHugePage = 14; // MADV_HUGEPAGE

    /// <summary>
    /// A zeroed array on the pinned heap; when it spans whole 2 MiB pages, Linux is asked to back
    /// those with huge pages before they are first touched (a hint: memory the GC reuses may already
    /// be in small pages, which only costs the TLB misses the hint would have saved).
    /// </summary>
    public static unsafe T[] AllocateArray<T>(int length)
        where T : unmanaged
    {
        var array = GC.AllocateUninitializedArray<T>(length, pinned: true);
        var bytes = (long)length * sizeof(T);
        if (bytes >= 2L * PageBytes && OperatingSystem.IsLinux())
        {
            var start = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            var first = (start + PageBytes - 1) & ~(PageBytes - 1L);
            var end = (start + bytes) & ~(PageBytes - 1L);
            if (end > first)
            {
                Advise((nint)first, (nuint)(end - first));
            }
        }
        Clear(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)), (nuint)bytes);
        return array;
    }

    /// <summary>
    /// Zeroes memory, a large block on every core: clearing memory the process never had is mostly the kernel first
    /// touching its pages, a second or more per GiB on some machines (BENCHMARKS.md, "A page first touched"), and a
    /// graph sized for a file batch's millions of identities did it all on the thread that then adds the links.
    /// </summary>
    public static unsafe void Clear(void* start, nuint bytes)
    {
        const int Chunk = 4 << 20;
        if (bytes < 16 * (nuint)Chunk || Environment.ProcessorCount == 1)
        {
            NativeMemory.Clear(start, bytes);
            return;
        }
        var address = (nint)start;
        var chunks = (long)((bytes + Chunk - 1) / Chunk);
        Parallel.For(0L, chunks, chunk =>
        {
            var from = (nuint)(chunk * Chunk);
            NativeMemory.Clear((void*)(address + (nint)from), Math.Min(Chunk, bytes - from));
        });
    }

    /// <summary>Asks Linux to back the range with transparent huge pages; a hint: without it everything works the same.</summary>
    public static void Advise(nint address, nuint length) => _ = Madvise(address, length, MadviseHugePage);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}

/// <summary>The load both hash tables keep under: at most 70 % of their slots used.</summary>
internal static class TableLoad
{
    /// <summary>Whether <paramref name="used"/> of <paramref name="slots"/> slots is past that load (a table grows then).</summary>
    public static bool Full(int used, int slots) => used * 10L > slots * 7L;

    /// <summary>The power of two of slots, at least 16, that holds <paramref name="count"/> within that load.</summary>
    public static int SlotsFor(int count)
    {
        var slots = 16;
        while (Full(count, slots))
        {
            slots *= 2;
        }
        return slots;
    }

    /// <summary>The least number of slots, at least 16, that holds <paramref name="count"/> within that load.</summary>
    public static int SlotsForExactly(int count) => (int)Math.Max(16, ((count * 10L) + 6) / 7);
}

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Identity.Graph;

/// <summary>
/// An array that grows without moving what it holds once large: slots live in chunks of 65,536, and growing adds a
/// chunk instead of copying every slot into an array twice the size. A graph of millions of links that doubled one
/// array copied hundreds of megabytes at each step and stalled its writer meanwhile (a sixth of the ten-million-identity
/// link benchmark's time). Only the first chunk grows by doubling, up to its full size, so a small graph stays small;
/// a table sized up front gets at most one chunk more than it asked for.
/// </summary>
internal sealed class GrowingSlots<T>
    where T : unmanaged
{
    private const int ChunkBits = 16;
    private const int ChunkLength = 1 << ChunkBits;
    private const int ChunkMask = ChunkLength - 1;

    private T[][] _chunks = [];

    /// <summary>Slots usable now (every index below it is zero or was written).</summary>
    public int Capacity { get; private set; }

    /// <summary>The slot at <paramref name="index"/>, which must be below <see cref="Capacity"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">At or past <see cref="Capacity"/>.</exception>
    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            // Checked against the capacity (a field at hand), not the chunk's length: that is on the chunk's first page,
            // so every random read of a slot would touch a second page (and a second TLB entry); measured at full size,
            // that made a link half again as dear as in one array. Below the capacity, the offset is within its chunk.
            if ((uint)index >= (uint)Capacity)
            {
                ThrowOutOfRange(index);
            }
            return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_chunks[index >> ChunkBits]), index & ChunkMask);
        }
    }

    [DoesNotReturn]
    private static void ThrowOutOfRange(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, "past the slots made");

    /// <summary>Makes at least <paramref name="count"/> slots usable.</summary>
    public void EnsureCapacity(int count)
    {
        if (count <= Capacity)
        {
            return;
        }
        if (Capacity < ChunkLength)
        {
            // The first chunk doubles (or jumps to what is asked) until it is full size.
            var first = new T[Math.Min(ChunkLength, Math.Max(count, Math.Max(16, Capacity * 2)))];
            if (_chunks.Length == 0)
            {
                _chunks = [first];
            }
            else
            {
                _chunks[0].CopyTo(first, 0);
                _chunks[0] = first;
            }
            Capacity = first.Length;
        }
        while (Capacity < count)
        {
            // Plain arrays, without the huge-page hint the hash tables get: with it, the calls that change nothing
            // measured slower in every full-size run (817-1,292 ns against 647-940), for a reason not found.
            Array.Resize(ref _chunks, _chunks.Length + 1);
            _chunks[^1] = new T[ChunkLength];
            Capacity += ChunkLength;
        }
    }

    /// <summary>The first <paramref name="count"/> slots, chunk by chunk, in order.</summary>
    public IEnumerable<Memory<T>> Chunks(int count)
    {
        for (var k = 0; k < _chunks.Length && count > 0; k++)
        {
            var length = Math.Min(count, _chunks[k].Length);
            yield return _chunks[k].AsMemory(0, length);
            count -= length;
        }
    }
}

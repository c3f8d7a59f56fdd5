using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Identity.Graph;

/// <summary>
/// The link between two identities, by their node ids. Open addressing over 16-byte slots (four to a
/// cache line) that hold the pair and its link, so finding a pair costs one miss where a
/// <c>Dictionary</c> reads a bucket and then an entry. Pairs are spread by Fibonacci hashing: ids seen
/// together are close in number, and a plain mix of the two would pile them into a few places.
/// Pairs are only added (a graph that loses links is built again). Not thread-safe.
/// </summary>
internal sealed class PairTable
{
    private NativeSlots<Slot> _slots;
    private int _shift;
    private int _used;

    /// <param name="capacity">Pairs to make room for up front, so that the table need not grow to hold them.</param>
    public PairTable(int capacity = 0)
    {
        _slots = new NativeSlots<Slot>(TableLoad.SlotsFor(capacity));
        _shift = 64 - BitOperations.Log2((uint)_slots.Length);
    }

    /// <summary>The link of the pair (<paramref name="a"/>, <paramref name="b"/>) in either order; when there is none, <paramref name="link"/> becomes it.</summary>
    public int GetOrAdd(int a, int b, int link, out bool exists)
    {
        var key = Key(a, b);
        var slots = _slots.Span;
        var mask = slots.Length - 1;
        var i = Index(key, _shift);
        for (; slots[i].Key != 0; i = (i + 1) & mask)
        {
            if (slots[i].Key == key)
            {
                exists = true;
                var found = slots[i].Link;
                GC.KeepAlive(this);
                return found;
            }
        }
        slots[i] = new Slot { Key = key, Link = link };
        exists = false;
        if (TableLoad.Full(++_used, slots.Length))
        {
            Resize(slots.Length * 2);
        }
        GC.KeepAlive(this);
        return link;
    }

    /// <summary>Whether the pair (<paramref name="a"/>, <paramref name="b"/>) has a link, in either order.</summary>
    public bool Contains(int a, int b)
    {
        var key = Key(a, b);
        var slots = _slots.Span;
        var mask = slots.Length - 1;
        var found = false;
        for (var i = Index(key, _shift); slots[i].Key != 0 && !found; i = (i + 1) & mask)
        {
            found = slots[i].Key == key;
        }
        GC.KeepAlive(this);
        return found;
    }

    /// <summary>Makes room for <paramref name="more"/> pairs beyond those held, in one step rather than doubling as they come.</summary>
    public void Reserve(int more)
    {
        var slots = TableLoad.SlotsFor(_used + more);
        if (slots > _slots.Length)
        {
            Resize(slots);
        }
    }

    /// <summary>Starts loading the cache line where the pair's slot is probed first (x86; elsewhere nothing).</summary>
    public unsafe void Prefetch(int a, int b)
    {
        if (Sse.IsSupported)
        {
            fixed (Slot* slot = &_slots.Span[Index(Key(a, b), _shift)])
            {
                Sse.Prefetch0(slot);
            }
        }
        GC.KeepAlive(this);
    }

    private void Resize(int length)
    {
        var old = _slots;
        var bigger = new NativeSlots<Slot>(length);
        var shift = 64 - BitOperations.Log2((uint)length);
        var to = bigger.Span;
        var mask = to.Length - 1;
        foreach (ref readonly var slot in old.Span)
        {
            if (slot.Key != 0)
            {
                var i = Index(slot.Key, shift);
                while (to[i].Key != 0)
                {
                    i = (i + 1) & mask;
                }
                to[i] = slot;
            }
        }
        _slots = bigger;
        _shift = shift;
        old.Dispose();
    }

    /// <summary>Lower id in the high half. Never 0: the two ids differ, so the higher one is at least 1.</summary>
    private static long Key(int a, int b) => a < b ? ((long)a << 32) | (uint)b : ((long)b << 32) | (uint)a;

    private static int Index(long key, int shift) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> shift);

    /// <summary>16 bytes, so a slot never straddles a cache line.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    private struct Slot
    {
        public long Key;
        public int Link;
    }
}

using System.Buffers;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Tessera.Identity.Graph;

/// <summary>
/// Interned identities: (namespace index, value) to node id.
/// </summary>
/// <remarks>
/// <para>
/// A lookup in a graph of millions of identities is bound by cache misses, not instructions: a
/// <c>Dictionary&lt;string,int&gt;</c> reads a bucket, then an entry, then the key string, each
/// likely a miss. Here the key lives in the slot: a slot is one 64-byte cache line holding the
/// hash, the node, the namespace and the value's bytes (ASCII up to 52 characters, or a lowercase
/// 64-digit hex digest packed into 32 bytes: hashed emails and phones), so a lookup costs one miss
/// per slot it reads: 1.7 on average over a restart's workload. Open addressing with linear probing,
/// at most 70 % full. The few values a slot cannot hold (longer, or not ASCII) live in an ordinary
/// dictionary beside it.
/// </para>
/// <para>
/// The slots are native memory (<see cref="NativeSlots{T}"/>: cache-line aligned, huge pages where
/// the kernel gives them). The hash is seeded per table
/// (identity values come from the outside; a fixed hash would let a sender collide them on purpose).
/// Not thread-safe, as the graph that owns it.
/// </para>
/// </remarks>
internal sealed unsafe class IdentityTable
{
    private const int InlineBytes = 52;
    private const byte AsciiKind = 1;
    private const byte HexKind = 2;
    private const int HexLength = 64;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");
    private static readonly SearchValues<byte> LowerHexUtf8 = SearchValues.Create("0123456789abcdef"u8);

    private readonly long _seed = Random.Shared.NextInt64();
    private readonly Dictionary<(int Namespace, string Value), int> _other = [];
    private NativeSlots<Slot> _buffer;
    private int _length;
    private int _used;

    /// <param name="capacity">Identities to make room for up front, so that the table need not grow to hold them.</param>
    public IdentityTable(int capacity = 0)
    {
        _length = TableLoad.SlotsForExactly(capacity);
        _buffer = new NativeSlots<Slot>(_length);
    }

    public int Count => _used + _other.Count;

    /// <summary>The node of (<paramref name="ns"/>, <paramref name="value"/>), or -1.</summary>
    public int Find(int ns, string value)
    {
        Span<byte> key = stackalloc byte[InlineBytes];
        var kind = Encode(value, key, out var length);
        return kind == 0 ? (_other.TryGetValue((ns, value), out var other) ? other : -1) : FindSlot(ns, kind, key[..length], Hash(ns, kind, key[..length]));
    }

    /// <summary>The node of a prepared value that <see cref="Probe.Fits"/> a slot, or -1.</summary>
    public int Find(ref Probe probe) => FindSlot(probe.Namespace, probe.Kind, ((ReadOnlySpan<byte>)probe.Key)[..probe.Length], probe.Hash);

    /// <summary>Makes room for <paramref name="more"/> identities beyond those held, in one step rather than doubling as they come.</summary>
    public void Reserve(int more)
    {
        var slots = TableLoad.SlotsForExactly(Count + more);
        if (slots > _length)
        {
            Resize(slots);
        }
    }

    private int FindSlot(int ns, byte kind, ReadOnlySpan<byte> key, uint hash)
    {
        var slots = _buffer.Span;
        for (var i = Index(hash, _length); ; i = Next(i, _length))
        {
            ref var slot = ref slots[i];
            if (slot.NodePlusOne == 0)
            {
                GC.KeepAlive(this);
                return -1;
            }
            if (slot.Hash == hash && slot.Matches(ns, kind, key))
            {
                var node = slot.NodePlusOne - 1;
                GC.KeepAlive(this);
                return node;
            }
        }
    }

    /// <summary>The node of (<paramref name="ns"/>, <paramref name="value"/>); when there is none, <paramref name="node"/> becomes it.</summary>
    public int GetOrAdd(int ns, string value, int node, out bool exists)
    {
        Span<byte> key = stackalloc byte[InlineBytes];
        var kind = Encode(value, key, out var length);
        return kind == 0 ? GetOrAddOther(ns, value, node, out exists) : GetOrAddSlot(ns, kind, key[..length], Hash(ns, kind, key[..length]), node, out exists);
    }

    /// <summary>As <see cref="GetOrAdd(int, string, int, out bool)"/>, the value given as UTF-8.</summary>
    public int GetOrAdd(int ns, ReadOnlySpan<byte> utf8, int node, out bool exists)
    {
        Span<byte> key = stackalloc byte[InlineBytes];
        var kind = Encode(utf8, key, out var length);
        return kind == 0 ? GetOrAddOther(ns, Encoding.UTF8.GetString(utf8), node, out exists)
            : GetOrAddSlot(ns, kind, key[..length], Hash(ns, kind, key[..length]), node, out exists);
    }

    /// <summary>
    /// Works out the slot key and hash of a UTF-8 value ahead of <see cref="GetOrAdd(ref Probe, int, out bool)"/>,
    /// so that a caller interning several values can <see cref="Prefetch"/> all their slots first and
    /// have the misses overlap instead of paying them one after the other.
    /// </summary>
    public void Prepare(int ns, ReadOnlySpan<byte> utf8, out Probe probe)
    {
        probe = default;
        probe.Kind = Encode(utf8, probe.Key, out var length);
        probe.Length = (byte)length;
        probe.Namespace = ns;
        probe.Hash = probe.Kind == 0 ? 0 : Hash(ns, probe.Kind, ((ReadOnlySpan<byte>)probe.Key)[..length]);
    }

    /// <summary>
    /// Starts loading the cache lines a prepared value probes first (x86; elsewhere nothing): its first slot and the
    /// next. A slot is a whole line, and linear probing up to 70 % full reads 1.7 slots an occurrence over a restart's
    /// workload (bench/scripts/identity-table-probe.cs), so the second line is needed about as often as not.
    /// </summary>
    public unsafe void Prefetch(ref Probe probe)
    {
        if (Sse.IsSupported && probe.Kind != 0)
        {
            var first = Index(probe.Hash, _length);
            var slots = _buffer.Span;
            fixed (Slot* slot = &slots[first])
            {
                Sse.Prefetch0(slot);
            }
            fixed (Slot* slot = &slots[Next(first, _length)])
            {
                Sse.Prefetch0(slot);
            }
        }
        GC.KeepAlive(this);
    }

    /// <summary>As <see cref="GetOrAdd(int, ReadOnlySpan{byte}, int, out bool)"/> for a prepared value that <see cref="Probe.Fits"/> a slot.</summary>
    public int GetOrAdd(ref Probe probe, int node, out bool exists) =>
        GetOrAddSlot(probe.Namespace, probe.Kind, ((ReadOnlySpan<byte>)probe.Key)[..probe.Length], probe.Hash, node, out exists);

    /// <summary>A value prepared for probing: its slot key, kind and hash.</summary>
    public struct Probe
    {
        internal uint Hash;
        internal int Namespace;
        internal byte Kind;
        internal byte Length;
        internal KeyBytes Key;

        /// <summary>Whether a slot holds this value (otherwise intern it with the value itself).</summary>
        public readonly bool Fits => Kind != 0;

        public readonly int NamespaceIndex => Namespace;

        /// <summary>The value's hash in its table (0 when it does not fit a slot).</summary>
        public readonly uint HashCode => Hash;
    }

    private int GetOrAddOther(int ns, string value, int node, out bool exists)
    {
        ref var other = ref CollectionsMarshal.GetValueRefOrAddDefault(_other, (ns, value), out exists);
        if (!exists)
        {
            other = node;
        }
        return other;
    }

    private int GetOrAddSlot(int ns, byte kind, ReadOnlySpan<byte> key, uint hash, int node, out bool exists)
    {
        var slots = _buffer.Span;
        var i = Index(hash, _length);
        for (; slots[i].NodePlusOne != 0; i = Next(i, _length))
        {
            if (slots[i].Hash == hash && slots[i].Matches(ns, kind, key))
            {
                exists = true;
                var found = slots[i].NodePlusOne - 1;
                GC.KeepAlive(this);
                return found;
            }
        }
        slots[i].Fill(hash, node, ns, kind, key);
        exists = false;
        if (TableLoad.Full(++_used, _length))
        {
            Resize(_length * 2);
        }
        GC.KeepAlive(this);
        return node;
    }

    private void Resize(int slots)
    {
        var old = _buffer;
        var bigger = new NativeSlots<Slot>(slots);
        var from = old.Span;
        var to = bigger.Span;
        foreach (ref readonly var slot in from)
        {
            if (slot.NodePlusOne != 0)
            {
                var i = Index(slot.Hash, slots);
                while (to[i].NodePlusOne != 0)
                {
                    i = Next(i, slots);
                }
                to[i] = slot;
            }
        }
        _buffer = bigger;
        _length = slots;
        old.Dispose();
    }

    /// <summary>
    /// A hash's first slot in a table of <paramref name="length"/> slots, any length (the high bits of hash × length):
    /// a table sized for exactly the identities it will hold, not the next power of two, which can be almost twice that.
    /// </summary>
    private static int Index(uint hash, int length) => (int)(((ulong)hash * (uint)length) >> 32);

    private static int Next(int i, int length) => i + 1 == length ? 0 : i + 1;

    /// <summary>The value's bytes as a slot holds them, and their kind; 0 when a slot cannot hold it.</summary>
    private static byte Encode(string value, Span<byte> key, out int length)
    {
        if (value.Length == HexLength && !value.AsSpan().ContainsAnyExcept(LowerHex))
        {
            Convert.FromHexString(value, key, out _, out length);
            return HexKind;
        }
        if (value.Length <= InlineBytes && Ascii.FromUtf16(value, key, out length) == OperationStatus.Done)
        {
            return AsciiKind;
        }
        length = 0;
        return 0;
    }

    /// <summary>As <see cref="Encode(string, Span{byte}, out int)"/> from UTF-8: ASCII is the same bytes either way, so both find one slot.</summary>
    private static byte Encode(ReadOnlySpan<byte> utf8, Span<byte> key, out int length)
    {
        if (utf8.Length == HexLength && !utf8.ContainsAnyExcept(LowerHexUtf8))
        {
            Convert.FromHexString(utf8, key, out _, out length);
            return HexKind;
        }
        if (utf8.Length <= InlineBytes && Ascii.IsValid(utf8))
        {
            utf8.CopyTo(key);
            length = utf8.Length;
            return AsciiKind;
        }
        length = 0;
        return 0;
    }

    private uint Hash(int ns, byte kind, ReadOnlySpan<byte> key) =>
        (uint)XxHash3.HashToUInt64(key, _seed ^ (((long)ns << 8) | kind) * unchecked((long)0x9E3779B97F4A7C15UL));

    /// <summary>One cache line: hash, node + 1 (0 marks an empty slot), namespace, and the key's bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    private struct Slot
    {
        public uint Hash;
        public int NodePlusOne;
        public ushort Namespace;
        public byte Kind;
        public byte Length;
        public KeyBytes Key;

        public readonly bool Matches(int ns, byte kind, ReadOnlySpan<byte> key) =>
            Namespace == ns && Kind == kind && Length == key.Length && ((ReadOnlySpan<byte>)Key)[..key.Length].SequenceEqual(key);

        public void Fill(uint hash, int node, int ns, byte kind, ReadOnlySpan<byte> key)
        {
            Hash = hash;
            NodePlusOne = node + 1;
            Namespace = checked((ushort)ns);
            Kind = kind;
            Length = (byte)key.Length;
            key.CopyTo(Key);
        }
    }

    [InlineArray(InlineBytes)]
    internal struct KeyBytes
    {
        private byte _first;
    }

}

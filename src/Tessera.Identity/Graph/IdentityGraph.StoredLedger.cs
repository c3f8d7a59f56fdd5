using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Tessera.Identity.Graph;

public sealed partial class IdentityGraph
{
    /// <summary>
    /// Starts recording stored ledger entries (<see cref="LedgerCodec"/>) in a row without deriving, read
    /// in place (an identity already interned costs no string): what a rebuild does; see <see cref="StoredLedgerLoad"/>.
    /// </summary>
    public StoredLedgerLoad LoadStored() => new(this, incremental: false);

    /// <summary>
    /// Starts adding stored ledger entries incrementally, in order (a commit's entries once durable):
    /// the same graph as <see cref="Add(LedgerEntry)"/> of each decoded entry, read in place and with
    /// the memory of the entries ahead prefetched, as <see cref="LoadStored"/> does.
    /// </summary>
    public StoredLedgerLoad AddStored() => new(this, incremental: true);

    /// <summary>
    /// Records (or, made by <see cref="AddStored"/>, adds) stored ledger entries as <see cref="Record(LedgerEntry)"/>
    /// (or <see cref="Add(LedgerEntry)"/>) does their decoded entries, several at a time: a rebuild is bound by cache misses (an identity's slot, then its node and the
    /// pair's slot, each at random in hundreds of MiB), and one entry has too few to keep the memory busy.
    /// </summary>
    /// <remarks>
    /// Each entry passes three steps, <see cref="Depth"/> entries apart: it is read, its identities'
    /// slots found and prefetched; then its identities are interned (slots now in cache) and its nodes
    /// and pair slots prefetched; then its links are recorded. Entries go through each step in the
    /// order given, so identities are numbered and links recorded (or added) exactly as one by one. The entries
    /// in flight are copies, so the caller's buffers may change after each call. Nothing is recorded
    /// for certain until <see cref="Complete"/>.
    /// </remarks>
    public sealed class StoredLedgerLoad
    {
        /// <summary>Entries between two steps: enough misses in flight for the memory, few enough to stay in cache.</summary>
        private const int Depth = 8;

        /// <summary>Identities of an entry prepared in step one (an entry rarely has more; the rest are interned in step two).</summary>
        internal const int Prepared = 8;

        private readonly IdentityGraph _graph;
        private readonly bool _incremental;
        private readonly Entry?[] _ring = new Entry?[2 * Depth];
        private long _read;
        private long _interned;
        private long _recorded;

        internal StoredLedgerLoad(IdentityGraph graph, bool incremental)
        {
            _graph = graph;
            _incremental = incremental;
        }

        /// <summary>Takes one stored entry (copied: the buffers may change after the call); returns its sequence.</summary>
        public long Take(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (_read - _recorded == _ring.Length)
            {
                RecordOldest();
            }
            var entry = _ring[_read % _ring.Length] ??= new Entry();
            var sequence = entry.Read(_graph, key, value);
            _read++;
            if (_read - _interned > Depth)
            {
                InternNext();
            }
            return sequence;
        }

        /// <summary>Records (or adds) every entry taken so far.</summary>
        public void Complete()
        {
            while (_interned < _read)
            {
                InternNext();
            }
            while (_recorded < _read)
            {
                RecordOldest();
            }
        }

        private void InternNext() => _ring[_interned++ % _ring.Length]!.Intern(_graph);

        private void RecordOldest()
        {
            var entry = _ring[_recorded++ % _ring.Length]!;
            if (_incremental)
            {
                _graph.Add(entry.Nodes, entry.Source, entry.RecordId, entry.Ticks, entry.Sequence);
            }
            else
            {
                _graph.Record(entry.Nodes, entry.Source, entry.RecordId, entry.Ticks, entry.Sequence);
            }
        }

        private sealed class Entry
        {
            private byte[] _value = new byte[256];
            private int[] _nodes = new int[16];
            private ProbeBuffer _probes;
            private PositionBuffer _at;
            private int _count;
            private int _rest;

            public long Sequence { get; private set; }

            public long Ticks { get; private set; }

            public int Source { get; private set; }

            public string? RecordId { get; private set; }

            public ReadOnlySpan<int> Nodes => _nodes.AsSpan(0, _count);

            /// <summary>Step one: a copy of the entry, its identities' slots prepared and prefetched.</summary>
            public long Read(IdentityGraph graph, ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored)
            {
                if (_value.Length < stored.Length)
                {
                    _value = new byte[Math.Max(stored.Length, _value.Length * 2)];
                }
                stored.CopyTo(_value);
                ReadOnlySpan<byte> value = _value.AsSpan(0, stored.Length);
                var entry = LedgerCodec.Read(key, value);
                Sequence = entry.Sequence;
                Ticks = entry.Ticks;
                Source = graph.Source(entry.Dataset, entry.Batch);
                RecordId = entry.Record.IsEmpty ? null : Encoding.UTF8.GetString(entry.Record);
                _count = entry.Count;
                if (_nodes.Length < _count)
                {
                    _nodes = new int[Math.Max(_count, _nodes.Length * 2)];
                }
                var position = entry.IdentitiesAt;
                for (var i = 0; i < Math.Min(_count, Prepared); i++)
                {
                    _at[i] = position;
                    LedgerCodec.ReadIdentity(value, ref position, out var ns, out var identity);
                    graph._identities.Prepare(graph.NamespaceIndex(ns), identity, out _probes[i]);
                    graph._identities.Prefetch(ref _probes[i]);
                }
                _rest = position;
                return Sequence;
            }

            /// <summary>
            /// Step two: the identities interned, new ones numbered in the entry's order (as
            /// <see cref="IdentityGraph.Record(LedgerEntry)"/> numbers them); then the nodes and pairs that step three
            /// writes are prefetched.
            /// </summary>
            public void Intern(IdentityGraph graph)
            {
                ReadOnlySpan<byte> value = _value;
                var prepared = Math.Min(_count, Prepared);
                for (var i = 0; i < prepared; i++)
                {
                    if (_probes[i].Fits)
                    {
                        var node = graph._identities.GetOrAdd(ref _probes[i], graph._nodeCount, out var exists);
                        _nodes[i] = exists ? node : graph.NewNode(_probes[i].NamespaceIndex, IdentityTable.ValueOf(ref _probes[i]));
                    }
                    else
                    {
                        var at = _at[i];
                        LedgerCodec.ReadIdentity(value, ref at, out _, out var identity);
                        _nodes[i] = graph.Intern(_probes[i].NamespaceIndex, identity);
                    }
                }
                var position = _rest;
                for (var i = prepared; i < _count; i++)
                {
                    LedgerCodec.ReadIdentity(value, ref position, out var ns, out var identity);
                    _nodes[i] = graph.Intern(graph.NamespaceIndex(ns), identity);
                }
                graph.Prefetch(Nodes);
            }
        }

        [InlineArray(Prepared)]
        private struct PositionBuffer
        {
            private int _first;
        }
    }

    [InlineArray(StoredLedgerLoad.Prepared)]
    private struct ProbeBuffer
    {
        private IdentityTable.Probe _first;
    }

    private unsafe void PrefetchNode(int node)
    {
        fixed (NodeSlot* slot = &_nodes[node])
        {
            Sse.Prefetch0(slot);
        }
    }
}

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
    /// (or <see cref="Add(LedgerEntry)"/>) does their decoded entries, a block at a time: a rebuild is bound by
    /// cache misses (an identity's slot, then its node and the pair's slot, each at random in hundreds of MiB).
    /// </summary>
    /// <remarks>
    /// A block of entries is read and their identities' slots worked out; then every slot of the block
    /// is prefetched in one tight loop, the identities interned, every node and pair slot the links
    /// will touch prefetched in another tight loop, and the links recorded (or added). The misses
    /// must be issued close together to overlap: here (a virtual machine, where a random access also
    /// misses the TLB) a prefetch issued between an entry's other work overlapped with little else and
    /// cost about as much as the miss itself. Entries go through each step in the order given, so
    /// identities are numbered and links recorded (or added) exactly as one by one. The entries held
    /// are copies, so the caller's buffers may change after each call. Nothing is recorded for certain
    /// until <see cref="Complete"/>.
    /// </remarks>
    public sealed class StoredLedgerLoad
    {
        /// <summary>Entries per block: enough misses to keep the memory busy, few enough that their lines stay in cache.</summary>
        private const int Block = 64;

        /// <summary>Identities of an entry prepared ahead (an entry rarely has more; the rest are interned as they come).</summary>
        internal const int Prepared = 8;

        private readonly IdentityGraph _graph;
        private readonly bool _incremental;
        private readonly Entry[] _block = new Entry[Block];
        private int _held;

        internal StoredLedgerLoad(IdentityGraph graph, bool incremental)
        {
            _graph = graph;
            _incremental = incremental;
        }

        /// <summary>Takes one stored entry (copied: the buffers may change after the call); returns its sequence.</summary>
        public long Take(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var entry = _block[_held] ??= new Entry();
            var sequence = entry.Read(_graph, key, value);
            if (++_held == Block)
            {
                Flush();
            }
            return sequence;
        }

        /// <summary>Records (or adds) every entry taken so far.</summary>
        public void Complete() => Flush();

        private void Flush()
        {
            var block = _block.AsSpan(0, _held);
            foreach (var entry in block)
            {
                entry.PrefetchSlots(_graph);
            }
            foreach (var entry in block)
            {
                entry.Intern(_graph);
            }
            foreach (var entry in block)
            {
                _graph.Prefetch(entry.Nodes);
            }
            foreach (var entry in block)
            {
                if (_incremental)
                {
                    _graph.Add(entry.Nodes, entry.Source, entry.RecordId, entry.Ticks, entry.Sequence);
                }
                else
                {
                    _graph.Record(entry.Nodes, entry.Source, entry.RecordId, entry.Ticks, entry.Sequence);
                }
            }
            _held = 0;
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

            /// <summary>A copy of the entry, its identities' slots worked out.</summary>
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
                }
                _rest = position;
                return Sequence;
            }

            public void PrefetchSlots(IdentityGraph graph)
            {
                for (var i = 0; i < Math.Min(_count, Prepared); i++)
                {
                    graph._identities.Prefetch(ref _probes[i]);
                }
            }

            /// <summary>
            /// The identities interned, new ones numbered in the entry's order (as
            /// <see cref="IdentityGraph.Record(LedgerEntry)"/> numbers them).
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

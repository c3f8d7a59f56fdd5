using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Tessera.Identity.Graph;

public sealed partial class IdentityGraph
{
    /// <summary>
    /// Starts recording stored ledger entries (<see cref="LedgerCodec"/>) in a row without deriving, read
    /// in place (an identity already interned costs no string): what a rebuild does; see <see cref="StoredLedgerLoad"/>.
    /// The links are recorded on a second thread while the caller reads and interns the entries after them.
    /// </summary>
    public StoredLedgerLoad LoadStored() => new(this, incremental: false, StoredLedgerLoad.Block, StoredLedgerLoad.BlocksPerHandOff);

    /// <summary>As <see cref="LoadStored()"/> with smaller blocks, so that tests reach the hand-offs between threads with a few entries.</summary>
    internal StoredLedgerLoad LoadStored(int entriesPerBlock, int blocksPerHandOff) => new(this, incremental: false, entriesPerBlock, blocksPerHandOff);

    /// <summary>
    /// Starts adding stored ledger entries incrementally, in order (a commit's entries once durable):
    /// the same graph as <see cref="Add(LedgerEntry)"/> of each decoded entry, read in place and with
    /// the memory of the entries ahead prefetched, as <see cref="LoadStored()"/> does. All on the caller's thread.
    /// </summary>
    public StoredLedgerLoad AddStored() => new(this, incremental: true, StoredLedgerLoad.Block, 1);

    /// <summary>
    /// Records (or, made by <see cref="AddStored"/>, adds) stored ledger entries as <see cref="Record(LedgerEntry)"/>
    /// (or <see cref="Add(LedgerEntry)"/>) does their decoded entries, a block at a time: a rebuild is bound by
    /// cache misses (an identity's slot, then its node and the pair's slot, each at random in hundreds of MiB).
    /// </summary>
    /// <remarks>
    /// <para>
    /// A block of entries is read and their identities' slots worked out; then every slot of the block
    /// is prefetched in one tight loop and the identities interned (numbered). Then, in the record step,
    /// the new identities get their nodes, every node and pair slot the links will touch is prefetched in
    /// another tight loop, and the links are recorded (or added). The misses must be issued close
    /// together to overlap: here (a virtual machine, where a random access also misses the TLB) a
    /// prefetch issued between an entry's other work overlapped with little else and cost about as much
    /// as the miss itself. Entries go through each step in the order given, so identities are numbered
    /// and links recorded (or added) exactly as one by one.
    /// </para>
    /// <para>
    /// A rebuild (<see cref="LoadStored()"/>) runs the record step on a thread of its own, a few blocks
    /// behind: the identity table (read step) and the nodes and links (record step) are separate memory,
    /// and each thread waits on its own misses. Only the recorder touches nodes and links and only the
    /// caller the identity table, so neither locks; blocks change hands through two semaphores.
    /// </para>
    /// <para>
    /// The entries held are copies, so the caller's buffers may change after each call. Nothing is
    /// recorded for certain until <see cref="Complete"/>; a load abandoned before it must be disposed.
    /// </para>
    /// </remarks>
    public sealed class StoredLedgerLoad : IDisposable
    {
        /// <summary>Entries per block: enough misses to keep the memory busy, few enough that their lines stay in cache.</summary>
        internal const int Block = 64;

        /// <summary>Blocks handed to the recorder at a time: a hand-off costs microseconds, so it is done per 256 entries.</summary>
        internal const int BlocksPerHandOff = 4;

        /// <summary>Identities of an entry prepared ahead (an entry rarely has more; the rest are interned as they come).</summary>
        internal const int Prepared = 8;

        /// <summary>Hand-offs in flight: the caller fills one while the recorder works through the others.</summary>
        private const int Units = 3;

        private const int EndOfLoad = -1;

        private readonly IdentityGraph _graph;
        private readonly RecentSources _sources = new();
        private readonly bool _incremental;
        private readonly int _block;
        private readonly Entry[][] _units;
        private readonly int[] _lengths = new int[Units];
        private int _unit;
        private int _held;
        private Thread? _recorder;
        private SemaphoreSlim? _handed;
        private SemaphoreSlim? _free;
        private volatile Exception? _failure;

        internal StoredLedgerLoad(IdentityGraph graph, bool incremental, int entriesPerBlock, int blocksPerHandOff)
        {
            _graph = graph;
            _incremental = incremental;
            _block = entriesPerBlock;
            _units = new Entry[incremental ? 1 : Units][];
            for (var i = 0; i < _units.Length; i++)
            {
                _units[i] = new Entry[entriesPerBlock * blocksPerHandOff];
            }
        }

        /// <summary>Takes one stored entry (copied: the buffers may change after the call); returns its sequence.</summary>
        public long Take(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var unit = _units[_unit];
            var entry = unit[_held] ??= new Entry();
            var sequence = entry.Read(_graph, _sources, key, value);
            if (++_held % _block == 0)
            {
                Intern(unit.AsSpan(_held - _block, _block));
                if (_held == unit.Length)
                {
                    HandOff();
                }
            }
            return sequence;
        }

        /// <summary>Records (or adds) every entry taken so far.</summary>
        public void Complete()
        {
            var partial = _held % _block;
            if (partial != 0)
            {
                Intern(_units[_unit].AsSpan(_held - partial, partial));
            }
            if (_held != 0)
            {
                HandOff();
            }
            StopRecorder();
            ThrowIfFailed();
        }

        /// <summary>Stops the recorder of a load abandoned before <see cref="Complete"/> (what it had taken may be half recorded).</summary>
        public void Dispose() => StopRecorder();

        /// <summary>The read step's second half, on the caller's thread: prefetch the slots of a block, then intern its identities.</summary>
        private void Intern(ReadOnlySpan<Entry> block)
        {
            foreach (var entry in block)
            {
                entry.PrefetchSlots(_graph);
            }
            foreach (var entry in block)
            {
                entry.Intern(_graph);
            }
        }

        private void HandOff()
        {
            if (_units.Length == 1 || (_recorder is null && _held < _units[_unit].Length))
            {
                // Incremental, or a load so small it fits in one hand-off: recorded here.
                RecordUnit(_units[_unit].AsSpan(0, _held));
                _held = 0;
                return;
            }
            if (_recorder is null)
            {
                _handed = new SemaphoreSlim(0);
                _free = new SemaphoreSlim(Units - 1);
                _recorder = new Thread(RecordHandedUnits) { IsBackground = true, Name = "identity ledger recorder" };
                _recorder.Start();
            }
            _lengths[_unit] = _held;
            _handed!.Release();
            _unit = (_unit + 1) % Units;
            _held = 0;
            _free!.Wait();
            ThrowIfFailed();
        }

        private void StopRecorder()
        {
            if (_recorder is null)
            {
                return;
            }
            _lengths[_unit] = EndOfLoad;
            _handed!.Release();
            _recorder.Join();
            _recorder = null;
            _handed.Dispose();
            _free!.Dispose();
        }

        private void ThrowIfFailed()
        {
            if (_failure is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }

        /// <summary>The recorder thread: each handed unit in turn until the end; after a failure, units are only passed back.</summary>
        private void RecordHandedUnits()
        {
            for (var unit = 0; ; unit = (unit + 1) % Units)
            {
                _handed!.Wait();
                var length = _lengths[unit];
                if (length == EndOfLoad)
                {
                    return;
                }
                if (_failure is null)
                {
                    try
                    {
                        RecordUnit(_units[unit].AsSpan(0, length));
                    }
                    catch (Exception e)
                    {
                        _failure = e;
                    }
                }
                _free!.Release();
            }
        }

        /// <summary>The record step, a block at a time: nodes for new identities, then prefetch nodes and pair slots, then record (or add).</summary>
        private void RecordUnit(ReadOnlySpan<Entry> entries)
        {
            for (var start = 0; start < entries.Length; start += _block)
            {
                var block = entries.Slice(start, Math.Min(_block, entries.Length - start));
                foreach (var entry in block)
                {
                    entry.CreateNodes(_graph);
                }
                foreach (var entry in block)
                {
                    _graph.Prefetch(entry.Nodes, roots: _incremental);
                }
                foreach (var entry in block)
                {
                    if (_incremental)
                    {
                        _graph.Add(entry.Nodes, entry.Source, entry.Record, entry.Ticks, entry.Sequence, entry.FirstHolds);
                    }
                    else
                    {
                        _graph.Record(entry.Nodes, entry.Source, entry.Record, entry.Ticks, entry.Sequence, entry.FirstHolds);
                    }
                }
            }
        }

        private sealed class Entry
        {
            private byte[] _value = new byte[256];
            private int _length;
            private int[] _nodes = new int[16];
            private int[] _namespaces = new int[16];
            private bool[] _new = new bool[16];
            private ProbeBuffer _probes;
            private PositionBuffer _at;
            private int _count;
            private int _identitiesAt;
            private int _rest;
            private int _recordAt;
            private int _recordLength;

            public long Sequence { get; private set; }

            public long Ticks { get; private set; }

            public int Source { get; private set; }

            public bool FirstHolds { get; private set; }

            /// <summary>The record id as UTF-8 (empty: none), in the entry's copy.</summary>
            public ReadOnlySpan<byte> Record => _value.AsSpan(_recordAt, _recordLength);

            public ReadOnlySpan<int> Nodes => _nodes.AsSpan(0, _count);

            /// <summary>A copy of the entry, its identities' slots worked out.</summary>
            public long Read(IdentityGraph graph, RecentSources sources, ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored)
            {
                if (_value.Length < stored.Length)
                {
                    _value = new byte[Math.Max(stored.Length, _value.Length * 2)];
                }
                stored.CopyTo(_value);
                _length = stored.Length;
                ReadOnlySpan<byte> value = _value.AsSpan(0, _length);
                var entry = LedgerCodec.Read(key, value);
                Sequence = entry.Sequence;
                Ticks = entry.Ticks;
                FirstHolds = entry.FirstHolds;
                Source = sources.Find(graph, entry.Dataset, entry.Batch);
                _recordLength = entry.Record.Length;
                _recordAt = _recordLength == 0 ? 0 : (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(value), ref MemoryMarshal.GetReference(entry.Record));
                _count = entry.Count;
                if (_nodes.Length < _count)
                {
                    var room = Math.Max(_count, _nodes.Length * 2);
                    _nodes = new int[room];
                    _namespaces = new int[room];
                    _new = new bool[room];
                }
                _identitiesAt = entry.IdentitiesAt;
                var position = _identitiesAt;
                for (var i = 0; i < Math.Min(_count, Prepared); i++)
                {
                    _at[i] = position;
                    LedgerCodec.ReadIdentity(value, ref position, out var ns, out var identity);
                    _namespaces[i] = graph.NamespaceIndex(ns);
                    graph._identities.Prepare(_namespaces[i], identity, out _probes[i]);
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
            /// The identities interned: new ones numbered in the entry's order (as <see cref="IdentityGraph.Record(LedgerEntry)"/>
            /// numbers them) and marked, their nodes made by <see cref="CreateNodes"/> in the record step.
            /// </summary>
            public void Intern(IdentityGraph graph)
            {
                ReadOnlySpan<byte> value = _value.AsSpan(0, _length);
                var table = graph._identities;
                var prepared = Math.Min(_count, Prepared);
                for (var i = 0; i < prepared; i++)
                {
                    if (_probes[i].Fits)
                    {
                        _nodes[i] = table.GetOrAdd(ref _probes[i], table.Count, out var exists);
                        _new[i] = !exists;
                    }
                    else
                    {
                        var at = _at[i];
                        LedgerCodec.ReadIdentity(value, ref at, out _, out var identity);
                        _nodes[i] = table.GetOrAdd(_namespaces[i], identity, table.Count, out var exists);
                        _new[i] = !exists;
                    }
                }
                var position = _rest;
                for (var i = prepared; i < _count; i++)
                {
                    LedgerCodec.ReadIdentity(value, ref position, out var ns, out var identity);
                    _namespaces[i] = graph.NamespaceIndex(ns);
                    _nodes[i] = table.GetOrAdd(_namespaces[i], identity, table.Count, out var exists);
                    _new[i] = !exists;
                }
            }

            /// <summary>Nodes for the identities <see cref="Intern"/> numbered, in the same order, so each gets the number it was given.</summary>
            public void CreateNodes(IdentityGraph graph)
            {
                ReadOnlySpan<byte> value = _value.AsSpan(0, _length);
                var position = _identitiesAt;
                for (var i = 0; i < _count; i++)
                {
                    LedgerCodec.ReadIdentity(value, ref position, out _, out var identity);
                    if (_new[i])
                    {
                        var node = graph.NewNode(_namespaces[i], identity);
                        Debug.Assert(node == _nodes[i], "nodes are made in the order their identities were numbered");
                    }
                }
            }
        }

        /// <summary>
        /// The last few sources the reader met, by their UTF-8 bytes, so that they cost no string: a ledger read in order
        /// interleaves a few batches at a time (a day's CRM file and its web events). The reader's own, not the graph's, so that
        /// in a rebuild the reading thread writes nothing in the graph, whose counts the recording thread writes: when a field
        /// added to the graph put the two threads' writes on one cache line, the quick benchmark's stored rebuild took 1.5-2.2 s
        /// instead of 1.3-1.6 s.
        /// </summary>
        private sealed class RecentSources
        {
            private readonly (byte[] Utf8, int Id)[] _recent = [.. Enumerable.Repeat((Array.Empty<byte>(), None), 8)];
            private int _next;
            private int _last;

            public int Find(IdentityGraph graph, ReadOnlySpan<byte> dataset, ReadOnlySpan<byte> batch)
            {
                // The last one found first: entries in a row mostly share their source.
                for (int i = 0, at = _last; i < _recent.Length; i++, at = (at + 1) % _recent.Length)
                {
                    var (utf8, id) = _recent[at];
                    if (utf8.Length == dataset.Length + 1 + batch.Length && utf8.AsSpan(0, dataset.Length).SequenceEqual(dataset)
                        && utf8.AsSpan(dataset.Length + 1).SequenceEqual(batch))
                    {
                        _last = at;
                        return id;
                    }
                }
                var source = graph.Source(Encoding.UTF8.GetString(dataset), Encoding.UTF8.GetString(batch));
                _recent[_next] = ([.. dataset, 0, .. batch], source);
                _next = (_next + 1) % _recent.Length;
                return source;
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

    private unsafe void PrefetchParent(int node)
    {
        fixed (int* parent = &_parent[node])
        {
            Sse.Prefetch0(parent);
        }
    }
}

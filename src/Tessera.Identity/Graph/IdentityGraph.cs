using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Tessera.Identity.Graph;

/// <summary>
/// The identity graph of one sandbox, derived from its links under a set of rules.
/// </summary>
/// <remarks>
/// <para>
/// The derivation (docs/identity.md) is a function of the links and the rules alone: links are
/// taken newest first (by the time of their newest occurrence, then by ledger sequence) and each
/// joins its two graphs unless the joined graph would hold two identities of a unique namespace or
/// exceed the size cap, in which case it is cut. So the most recent link wins a conflict, replay in
/// any order gives the same graphs, and deleting links and deriving again is the same as never
/// having had them.
/// </para>
/// <para>
/// Adding a link is incremental. If the two graphs it joins may be joined under the rules, joining
/// them is exactly what a full derivation would do (every intermediate graph stays inside the joined
/// one, so no other decision changes), and that costs one union. Only a conflict makes the graph
/// decide links again, and only the links whose decision the new one can change (see <see cref="RederiveFrom"/>).
/// </para>
/// <para>
/// Identities are interned to integers; links between the same two identities are one link that
/// remembers its newest occurrence and how many it has had. Not thread-safe: one writer, and
/// readers only while no write is running.
/// </para>
/// </remarks>
public sealed partial class IdentityGraph
{
    private const int None = -1;

    private readonly CompiledGraphRules _rules;
    private readonly List<NamespaceSlot> _namespaces = [];
    private readonly IdentityTable _identities;
    private readonly PairTable _pairIndex;
    private readonly Dictionary<(string Dataset, string Batch), int> _sourceIndex = new();
    private readonly List<(string Dataset, string Batch)> _sources = [];

    // Nodes: each node's root over kept links (kept current by Union), each root's unique-namespace mask and size, a
    // circular list of members per graph, and each node's list of links (see NodeSlot); values apart.
    private int _nodeCount;
    private NodeSlot[] _nodes = new NodeSlot[16];
    // Each node's root, apart from its slot: a lookup reads only this (4 bytes a node, so ten million fit in
    // 40 MiB, much of which stays in cache) where a 40-byte slot each would spread the same reads over 400 MiB.
    private int[] _parent = new int[16];
    // Values and record ids as UTF-8 in arenas, not as millions of strings (see TextArena): a node's value
    // handle, and each link's record handle (TextArena.None when its occurrence names no record).
    private long[] _nodeValue = new long[16];
    private readonly TextArena _values = new();
    private TextArena _records = new();
    // Record texts no link refers to any more (an estimate: links of one occurrence share one text).
    private long _recordGarbage;
    private int _visitEpoch;
    // The incremental derivation's working sets, reused: a junk value makes many derivations in a row.
    private readonly Dictionary<int, int> _dirtyIndex = [];
    private readonly List<DirtyNode> _dirty = [];
    private readonly HashSet<int> _queued = [];
    private readonly PriorityQueue<int, OrderKey> _queue = new();
    private readonly List<int> _pending = [];

    private int _linkCount;
    private readonly GrowingSlots<LinkSlot> _links = new();
    private int _graphCount;

    /// <param name="rules">The rules every derivation follows.</param>
    /// <param name="expectedIdentities">Identities to make room for up front (a rebuild that knows roughly how big the
    /// graph was): growing tables of millions by doubling copies them and first touches twice their memory.</param>
    /// <param name="expectedLinks">Distinct links to make room for up front, likewise.</param>
    public IdentityGraph(CompiledGraphRules rules, int expectedIdentities = 0, int expectedLinks = 0)
    {
        _rules = rules;
        // Past this (a damaged hint, or a graph too big to size blindly) the tables grow as they fill.
        expectedIdentities = Math.Clamp(expectedIdentities, 0, MaxSizedUpFront);
        expectedLinks = Math.Clamp(expectedLinks, 0, MaxSizedUpFront);
        _identities = new IdentityTable(expectedIdentities);
        _pairIndex = new PairTable(expectedLinks);
        if (expectedIdentities > _nodes.Length)
        {
            _nodes = HugePages.AllocateArray<NodeSlot>(expectedIdentities);
            _parent = HugePages.AllocateArray<int>(expectedIdentities);
            _nodeValue = new long[expectedIdentities];
        }
        _links.EnsureCapacity(expectedLinks);
    }

    /// <summary>
    /// The most identities (or links) a graph makes room for before it is given them: a quarter of the
    /// memory the process may use, at some 160 bytes an identity (slot, node, link); never more than 2^28.
    /// </summary>
    private static readonly int MaxSizedUpFront = (int)Math.Min(1 << 28, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4 / 160);

    public CompiledGraphRules Rules => _rules;

    public int IdentityCount => _nodeCount;

    public int LinkCount => _linkCount;

    public int GraphCount => _graphCount;

    public int CutLinkCount => CountCut();

    /// <summary>Registers where occurrences come from; the id is passed to <see cref="Add(ReadOnlySpan{int}, int, string?, long, long, bool)"/>.</summary>
    public int Source(string dataset, string batch)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_sourceIndex, (dataset, batch), out var exists);
        if (!exists)
        {
            slot = _sources.Count;
            _sources.Add((dataset, batch));
        }
        return slot;
    }

    /// <summary>The node of an identity, created (as a graph of one) if new.</summary>
    public int Intern(string ns, string value)
    {
        var nsIndex = NamespaceIndex(ns);
        var node = _identities.GetOrAdd(nsIndex, value, _nodeCount, out var exists);
        return exists ? node : NewNode(nsIndex, value);
    }

    /// <summary>As <see cref="Intern(string, string)"/> from UTF-8: a value already interned costs no string.</summary>
    private int Intern(int nsIndex, ReadOnlySpan<byte> value)
    {
        var node = _identities.GetOrAdd(nsIndex, value, _nodeCount, out var exists);
        return exists ? node : NewNode(nsIndex, value);
    }

    /// <summary>A node for an identity the table has just given the next id.</summary>
    private int NewNode(int nsIndex, string value) => NewNode(nsIndex, _values.Append(value));

    private int NewNode(int nsIndex, ReadOnlySpan<byte> utf8) => NewNode(nsIndex, _values.Append(utf8));

    private int NewNode(int nsIndex, long value)
    {
        var node = _nodeCount;
        if (node == _nodes.Length)
        {
            GrowNodes();
        }
        _nodeCount++;
        _nodes[node].Namespace = nsIndex;
        _nodeValue[node] = value;
        _nodes[node].LastSeen = long.MinValue;
        _parent[node] = node;
        _nodes[node].Size = 1;
        _nodes[node].Mask = _namespaces[nsIndex].UniqueBit;
        _nodes[node].NextMember = node;
        _nodes[node].FirstLink = None;
        _nodes[node].Degree = 0;
        _graphCount++;
        return node;
    }

    public bool TryGetNode(IdentityKey identity, out int node)
    {
        var ns = FindNamespace(identity.Namespace);
        node = ns == None ? None : _identities.Find(ns, identity.Value);
        return node != None;
    }

    public IdentityKey KeyOf(int node) => new(_namespaces[_nodes[node].Namespace].Code, _values.GetString(_nodeValue[node]));

    /// <summary>Adds one ledger entry incrementally.</summary>
    public GraphChange Add(LedgerEntry entry)
    {
        Span<int> nodes = entry.Identities.Count <= 64 ? stackalloc int[entry.Identities.Count] : new int[entry.Identities.Count];
        InternAll(entry, nodes);
        return Add(nodes, Source(entry.Dataset, entry.Batch), entry.Record, entry.Time.UtcTicks, entry.Sequence, entry.FirstHolds);
    }

    /// <summary>
    /// Adds ledger entries incrementally, in order: the same graph as adding them one by one, but their
    /// identities are interned first, so that each add can prefetch the memory of the ones a few places
    /// ahead (<see cref="Prefetch(ReadOnlySpan{int})"/>).
    /// </summary>
    public void Add(IReadOnlyList<LedgerEntry> entries)
    {
        var nodes = new int[entries.Count][];
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = new int[entries[i].Identities.Count];
            InternAll(entries[i], nodes[i]);
        }
        for (var i = 0; i < nodes.Length; i++)
        {
            if (i + PrefetchDistance < nodes.Length)
            {
                Prefetch(nodes[i + PrefetchDistance]);
            }
            var entry = entries[i];
            Add(nodes[i], Source(entry.Dataset, entry.Batch), entry.Record, entry.Time.UtcTicks, entry.Sequence, entry.FirstHolds);
        }
    }

    /// <summary>How many occurrences ahead a caller adding many should <see cref="Prefetch(ReadOnlySpan{int})"/>: enough to hide a miss, few enough to stay in cache.</summary>
    public const int PrefetchDistance = 8;

    /// <summary>
    /// Starts loading what adding this occurrence will read (its identities' nodes, the slots of its
    /// pairs), so that a caller adding many in a row overlaps their cache misses instead of paying them
    /// one after the other: call it <see cref="PrefetchDistance"/> occurrences ahead. Only a hint (x86; elsewhere nothing).
    /// </summary>
    public void Prefetch(ReadOnlySpan<int> nodes) => Prefetch(nodes, roots: true);

    /// <summary>As <see cref="Prefetch(ReadOnlySpan{int})"/>; <paramref name="roots"/> false for recording without deriving, which reads no root.</summary>
    internal void Prefetch(ReadOnlySpan<int> nodes, bool roots)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        for (var i = 0; i < nodes.Length; i++)
        {
            PrefetchNode(nodes[i]);
            if (roots)
            {
                PrefetchParent(nodes[i]);
            }
            if (i > 0 && nodes[i] != nodes[0])
            {
                _pairIndex.Prefetch(nodes[0], nodes[i]);
            }
        }
    }

    /// <summary>Builds a graph from a whole ledger: links first, then one derivation (faster than adding one by one).</summary>
    public static IdentityGraph Build(CompiledGraphRules rules, IEnumerable<LedgerEntry> ledger)
    {
        var graph = new IdentityGraph(rules);
        foreach (var entry in ledger)
        {
            graph.Record(entry);
        }
        graph.RederiveAll();
        return graph;
    }

    /// <summary>Records a ledger entry's links without deriving: call <see cref="RederiveAll"/> after the last.</summary>
    public void Record(LedgerEntry entry)
    {
        Span<int> nodes = entry.Identities.Count <= 64 ? stackalloc int[entry.Identities.Count] : new int[entry.Identities.Count];
        InternAll(entry, nodes);
        Record(nodes, Source(entry.Dataset, entry.Batch), entry.Record, entry.Time.UtcTicks, entry.Sequence, entry.FirstHolds);
    }

    private void InternAll(LedgerEntry entry, Span<int> nodes)
    {
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = Intern(entry.Identities[i].Namespace, entry.Identities[i].Value);
        }
    }

    /// <summary>Each node's last-seen time decides between identities of one namespace for primary.</summary>
    private void MarkSeen(ReadOnlySpan<int> nodes, long time)
    {
        foreach (var node in nodes)
        {
            if (time > _nodes[node].LastSeen)
            {
                _nodes[node].LastSeen = time;
            }
        }
    }

    /// <summary>Records an occurrence's links without deriving: call <see cref="RederiveAll"/> after the last.</summary>
    /// <param name="firstHolds">See <see cref="LedgerEntry.FirstHolds"/>.</param>
    public void Record(ReadOnlySpan<int> nodes, int source, string? record, long time, long sequence, bool firstHolds = true) =>
        Record(nodes, source, RecordUtf8(record, stackalloc byte[RecordOnStack]), time, sequence, firstHolds);

    /// <summary>As <see cref="Record(ReadOnlySpan{int}, int, string?, long, long, bool)"/>, the record id as UTF-8 (empty: none).</summary>
    private void Record(ReadOnlySpan<int> nodes, int source, ReadOnlySpan<byte> record, long time, long sequence, bool firstHolds)
    {
        if (nodes.IsEmpty)
        {
            return;
        }
        MarkSeen(nodes, time);
        if (firstHolds)
        {
            MarkHolder(nodes[0]);
        }
        var recordText = Unwritten;
        for (var i = 1; i < nodes.Length; i++)
        {
            if (nodes[0] != nodes[i])
            {
                UpsertLink(nodes[0], nodes[i], source, record, ref recordText, time, sequence, i, out _);
            }
        }
        CollectRecordsIfWasteful();
    }

    /// <summary>
    /// Adds one occurrence: identities seen together in a record or event, the first being its
    /// primary. Each other identity is linked to the first (a star: the record joins them all).
    /// </summary>
    /// <param name="time">UTC ticks of the occurrence (the event's time, or when a record was ingested).</param>
    /// <param name="sequence">The occurrence's place in the ledger; breaks ties between equal times.</param>
    /// <param name="firstHolds">See <see cref="LedgerEntry.FirstHolds"/>.</param>
    public GraphChange Add(ReadOnlySpan<int> nodes, int source, string? record, long time, long sequence, bool firstHolds = true) =>
        Add(nodes, source, RecordUtf8(record, stackalloc byte[RecordOnStack]), time, sequence, firstHolds);

    /// <summary>As <see cref="Add(ReadOnlySpan{int}, int, string?, long, long, bool)"/>, the record id as UTF-8 (empty: none).</summary>
    private GraphChange Add(ReadOnlySpan<int> nodes, int source, ReadOnlySpan<byte> record, long time, long sequence, bool firstHolds)
    {
        var change = GraphChange.None;
        if (nodes.IsEmpty)
        {
            return change;
        }
        var center = nodes[0];
        MarkSeen(nodes, time);
        if (firstHolds)
        {
            MarkHolder(center);
        }
        var recordText = Unwritten;
        for (var i = 1; i < nodes.Length; i++)
        {
            var result = AddLink(center, nodes[i], source, record, ref recordText, time, sequence, i);
            if (result > change)
            {
                change = result;
            }
        }
        CollectRecordsIfWasteful();
        return change;
    }

    private const int RecordOnStack = 256;

    /// <summary>A record handle not yet written: an occurrence writes its record id once, when the first of its links takes it.</summary>
    private const long Unwritten = -2;

    private static ReadOnlySpan<byte> RecordUtf8(string? record, Span<byte> buffer)
    {
        if (string.IsNullOrEmpty(record))
        {
            return default;
        }
        var length = Encoding.UTF8.GetByteCount(record);
        var bytes = length <= buffer.Length ? buffer[..length] : new byte[length];
        Encoding.UTF8.GetBytes(record, bytes);
        return bytes;
    }

    /// <summary>Finds or creates the link between two identities and records an occurrence on it.</summary>
    /// <param name="recordText">The occurrence's record handle once written (shared by its links), or <see cref="Unwritten"/>.</param>
    private UpsertResult UpsertLink(int a, int b, int source, ReadOnlySpan<byte> record, ref long recordText, long time, long sequence, int position,
        out int index)
    {
        index = _pairIndex.GetOrAdd(a, b, _linkCount, out var exists);
        if (exists)
        {
            ref var link = ref _links[index];
            link.Occurrences++;
            if (new OrderKey(time, sequence, position, index).CompareTo(new OrderKey(link.Time, link.Sequence, link.Position, index)) >= 0)
            {
                return UpsertResult.Unmoved;
            }
            link.Time = time;
            link.Sequence = sequence;
            link.Position = position;
            link.Source = source;
            if (link.Record != TextArena.None)
            {
                _recordGarbage += record.Length + 1; // the old text's length is not read: that would be one more miss
            }
            link.Record = RecordText(record, ref recordText);
            return UpsertResult.MovedEarlier;
        }
        if (index == _links.Capacity)
        {
            _links.EnsureCapacity(index + 1);
        }
        _linkCount++;
        _links[index] = new LinkSlot
        {
            A = a,
            B = b,
            NextOfA = _nodes[a].FirstLink,
            NextOfB = _nodes[b].FirstLink,
            Time = time,
            Sequence = sequence,
            Position = position,
            Source = source,
            Record = RecordText(record, ref recordText),
            Occurrences = 1,
        };
        _nodes[a].FirstLink = index;
        _nodes[b].FirstLink = index;
        NoteNewLink(a, b, index);
        return UpsertResult.Created;
    }

    private long RecordText(ReadOnlySpan<byte> record, ref long recordText)
    {
        if (recordText == Unwritten)
        {
            recordText = record.IsEmpty ? TextArena.None : _records.Append(record);
        }
        return recordText;
    }

    /// <summary>
    /// Once two thirds of the record arena are texts no link refers to (links move to newer occurrences),
    /// the ones still referred to are written into a new arena: memory stays within about three times what
    /// is used. (A rebuild in time order leaves about as much garbage as it keeps, and should not stop to
    /// rewrite millions of record ids for it.)
    /// </summary>
    private void CollectRecordsIfWasteful()
    {
        if (_recordGarbage < MinRecordGarbage || _recordGarbage < 2 * (_records.Bytes - _recordGarbage))
        {
            return;
        }
        _records = RecordsRewritten(_links, _linkCount, _records);
        _recordGarbage = 0;
        RecordArenaRewrites++;
    }

    /// <summary>The record ids of <paramref name="links"/> (handles into <paramref name="from"/>) written into a new arena, the handles changed to match.</summary>
    private static TextArena RecordsRewritten(GrowingSlots<LinkSlot> links, int count, TextArena from)
    {
        var to = new TextArena();
        foreach (var chunk in links.Chunks(count))
        {
            foreach (ref var link in chunk.Span)
            {
                if (link.Record != TextArena.None)
                {
                    link.Record = to.Append(from.Get(link.Record));
                }
            }
        }
        return to;
    }

    /// <summary>Below this much garbage the record arena is never rewritten (tests lower it).</summary>
    internal long MinRecordGarbage { get; init; } = 16 << 20;

    /// <summary>Times the record arena was rewritten (for tests).</summary>
    internal int RecordArenaRewrites { get; private set; }

    private GraphChange AddLink(int a, int b, int source, ReadOnlySpan<byte> record, ref long recordText, long time, long sequence, int position)
    {
        if (a == b)
        {
            return GraphChange.None;
        }
        var upsert = UpsertLink(a, b, source, record, ref recordText, time, sequence, position, out var index);
        if (upsert == UpsertResult.Unmoved)
        {
            return GraphChange.None; // Its place in the order is unchanged, so nothing is.
        }
        if (upsert == UpsertResult.MovedEarlier)
        {
            // A kept link moving earlier only joins earlier what is joined anyway; a link between two
            // identities of one unique namespace is cut wherever it stands. Anything else may now win.
            if (_links[index].State == LinkState.Kept || (OwnBit(a) & OwnBit(b)) != 0)
            {
                return GraphChange.None;
            }
            RederiveFrom(index);
            return GraphChange.Rederived;
        }
        var rootA = GraphOf(a);
        var rootB = GraphOf(b);
        if (rootA == rootB)
        {
            return GraphChange.None;
        }
        if ((OwnBit(a) & OwnBit(b)) != 0)
        {
            _links[index].State = LinkState.CutUniqueNamespace;
            return GraphChange.None;
        }
        if ((_nodes[rootA].Mask & _nodes[rootB].Mask) == 0 && _nodes[rootA].Size + _nodes[rootB].Size <= _rules.MaxIdentities)
        {
            Union(rootA, rootB);
            return GraphChange.Merged;
        }
        RederiveFrom(index);
        return GraphChange.Rederived;
    }

    /// <summary>The graph an identity belongs to: valid until the next write.</summary>
    public int GraphOf(int node) => _parent[node]; // One read: every node points at its root (see Union).

    public int SizeOf(int graph) => _nodes[GraphOf(graph)].Size;

    /// <summary>The nodes of a graph, in no particular order.</summary>
    public MemberEnumerator Members(int graph) => new(_nodes, GraphOf(graph));

    /// <summary>The primary identity: best-ranked namespace, then the most recently seen, then the lowest value.</summary>
    public int PrimaryOf(int graph)
    {
        var best = None;
        foreach (var node in Members(graph))
        {
            if (best == None || ComparePrimary(node, best) < 0)
            {
                best = node;
            }
        }
        return best;
    }

    private int ComparePrimary(int x, int y)
    {
        var byRank = _namespaces[_nodes[x].Namespace].Rank.CompareTo(_namespaces[_nodes[y].Namespace].Rank);
        if (byRank != 0)
        {
            return byRank;
        }
        var byNamespace = string.CompareOrdinal(_namespaces[_nodes[x].Namespace].Code, _namespaces[_nodes[y].Namespace].Code);
        if (byNamespace != 0)
        {
            return byNamespace;
        }
        var byRecency = _nodes[y].LastSeen.CompareTo(_nodes[x].LastSeen);
        // UTF-8 bytes compare in code point order.
        return byRecency != 0 ? byRecency : _values.Get(_nodeValue[x]).SequenceCompareTo(_values.Get(_nodeValue[y]));
    }

    /// <summary>A graph as identities, primary first and the rest in the primary order.</summary>
    public GraphSnapshot Snapshot(int graph)
    {
        if (SizeOf(graph) == 1)
        {
            // Most graphs are one device: nothing to sort (the profile store and engines ask on every event).
            var only = KeyOf(GraphOf(graph));
            return new GraphSnapshot(only, [only]);
        }
        var nodes = new List<int>();
        foreach (var node in Members(graph))
        {
            nodes.Add(node);
        }
        nodes.Sort(ComparePrimary);
        return new GraphSnapshot(KeyOf(nodes[0]), nodes.ConvertAll(KeyOf));
    }

    /// <summary>How many graphs satisfy <paramref name="predicate"/>, each seen as its snapshot.</summary>
    public int CountGraphs(Func<GraphSnapshot, bool> predicate)
    {
        var count = 0;
        for (var node = 0; node < _nodeCount; node++)
        {
            if (_parent[node] == node && predicate(Snapshot(node)))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Every graph, ordered by primary identity (namespace, then value) so output is stable.</summary>
    public List<GraphSnapshot> Snapshots()
    {
        var result = new List<GraphSnapshot>(_graphCount);
        for (var node = 0; node < _nodeCount; node++)
        {
            if (_parent[node] == node)
            {
                result.Add(Snapshot(node));
            }
        }
        result.Sort(static (x, y) =>
        {
            var byNamespace = string.CompareOrdinal(x.Primary.Namespace, y.Primary.Namespace);
            return byNamespace != 0 ? byNamespace : string.CompareOrdinal(x.Primary.Value, y.Primary.Value);
        });
        return result;
    }

    /// <summary>Every link the rules cut, with the rule and the identities that clashed, newest first.</summary>
    public List<CutLink> CutLinks()
    {
        var regions = new HashSet<int>();
        var result = new List<CutLink>();
        for (var i = 0; i < _linkCount; i++)
        {
            if (_links[i].State != LinkState.Kept && regions.Add(_links[i].A))
            {
                // Trace the region once; mark its other nodes so they are not traced again.
                var traced = TraceRegion(_links[i].A);
                foreach (var (link, cut) in traced)
                {
                    result.Add(cut);
                    regions.Add(_links[link].A);
                    regions.Add(_links[link].B);
                }
            }
        }
        result.Sort(static (x, y) => y.Link.Origin.Time.CompareTo(x.Link.Origin.Time));
        return result;
    }

    /// <summary>Every link, kept or cut (with the rule that cuts it now), each as first recorded (the primary identity of its occurrence first).</summary>
    public IEnumerable<LinkInfo> AllLinks()
    {
        for (var link = 0; link < _linkCount; link++)
        {
            yield return Current(link, _links[link].A);
        }
    }

    /// <summary>Every link touching the graph of <paramref name="node"/>: the kept ones that hold it and the cut ones.</summary>
    public List<LinkInfo> LinksOf(int node)
    {
        var result = new List<LinkInfo>();
        var root = GraphOf(node);
        foreach (var member in Members(root))
        {
            foreach (var link in WalkLinks(member))
            {
                var other = _links[link].A == member ? _links[link].B : _links[link].A;
                // Inside the graph each link is met from both ends: take it from its lower node.
                if (GraphOf(other) != root || other > member)
                {
                    result.Add(Current(link, _links[link].A));
                }
            }
        }
        result.Sort(static (x, y) => y.Origin.Time.CompareTo(x.Origin.Time));
        return result;
    }

    private LinkInfo Info(int link) => Info(link, _links[link].A);

    /// <summary>As <see cref="Info(int, int)"/>, a cut link with the rule that cuts it now (<see cref="CutStateNow"/>).</summary>
    private LinkInfo Current(int link, int from)
    {
        var info = Info(link, from);
        return info.State == LinkState.Kept ? info : info with { State = CutStateNow(link) };
    }

    /// <summary>The link as seen from <paramref name="from"/>, one of its two identities.</summary>
    private LinkInfo Info(int link, int from)
    {
        ref readonly var slot = ref _links[link];
        var (dataset, batch) = _sources[slot.Source];
        var to = slot.A == from ? slot.B : slot.A;
        return new LinkInfo(KeyOf(from), KeyOf(to), slot.State,
            new LinkOrigin(dataset, batch, slot.Record == TextArena.None ? null : _records.GetString(slot.Record),
                new DateTimeOffset(slot.Time, TimeSpan.Zero)), slot.Occurrences);
    }

    /// <summary>The same identities and links derived under other rules: for a dry run or to switch.</summary>
    public IdentityGraph WithRules(CompiledGraphRules rules)
    {
        var copy = new IdentityGraph(rules) { BusyDegree = BusyDegree };
        foreach (var (dataset, batch) in _sources)
        {
            copy.Source(dataset, batch);
        }
        for (var node = 0; node < _nodeCount; node++)
        {
            var key = KeyOf(node);
            copy.Intern(key.Namespace, key.Value);
            copy._nodes[node].LastSeen = _nodes[node].LastSeen;
        }
        copy._holders = (ulong[])_holders.Clone();
        copy._holderCount = _holderCount;
        copy._links.EnsureCapacity(_linkCount);
        for (var link = 0; link < _linkCount; link++)
        {
            copy._links[link] = _links[link];
        }
        copy._linkCount = _linkCount;
        copy._records = RecordsRewritten(copy._links, _linkCount, _records);
        for (var node = 0; node < _nodeCount; node++)
        {
            copy._nodes[node].FirstLink = _nodes[node].FirstLink;
            copy._nodes[node].Degree = _nodes[node].Degree;
        }
        foreach (var (node, links) in _busyLinks)
        {
            copy._busyLinks.Add(node, [.. links]);
        }
        for (var link = 0; link < _linkCount; link++)
        {
            copy._pairIndex.GetOrAdd(_links[link].A, _links[link].B, link, out _);
        }
        copy.RederiveAll();
        return copy;
    }

    /// <summary>How the graphs of <paramref name="after"/> differ from this one's (same identities, e.g. <see cref="WithRules"/>).</summary>
    public GraphDiff Compare(IdentityGraph after)
    {
        var splitFrom = new Dictionary<int, int>();   // before graph -> first after graph seen
        var mergedInto = new Dictionary<int, int>();  // after graph -> first before graph seen
        var split = new HashSet<int>();
        var merged = new HashSet<int>();
        var primaryChanged = 0;
        for (var node = 0; node < _nodeCount; node++)
        {
            var before = GraphOf(node);
            var now = after.GraphOf(node);
            if (splitFrom.TryGetValue(before, out var seenAfter))
            {
                if (seenAfter != now)
                {
                    split.Add(before);
                }
            }
            else
            {
                splitFrom[before] = now;
                var primary = PrimaryOf(before);
                if (after.PrimaryOf(after.GraphOf(primary)) != primary)
                {
                    primaryChanged++;
                }
            }
            if (mergedInto.TryGetValue(now, out var seenBefore))
            {
                if (seenBefore != before)
                {
                    merged.Add(now);
                }
            }
            else
            {
                mergedInto[now] = before;
            }
        }
        return new GraphDiff(_graphCount, after._graphCount, merged.Count, split.Count, primaryChanged, CountCut(), after.CountCut());
    }

    private int CountCut()
    {
        var cut = 0;
        for (var i = 0; i < _linkCount; i++)
        {
            if (_links[i].State != LinkState.Kept)
            {
                cut++;
            }
        }
        return cut;
    }

    private int NamespaceIndex(string ns)
    {
        var index = FindNamespace(ns);
        if (index == None)
        {
            index = _namespaces.Count;
            _namespaces.Add(new NamespaceSlot(ns, _rules.UniqueBit(ns), _rules.Rank(ns)));
        }
        return index;
    }

    private int NamespaceIndex(ReadOnlySpan<byte> utf8)
    {
        var namespaces = CollectionsMarshal.AsSpan(_namespaces);
        for (var i = 0; i < namespaces.Length; i++)
        {
            if (utf8.SequenceEqual(namespaces[i].Utf8))
            {
                return i;
            }
        }
        return NamespaceIndex(Encoding.UTF8.GetString(utf8));
    }

    /// <summary>A sandbox has a few namespaces: a scan (usually the same string instance) beats hashing the code.</summary>
    private int FindNamespace(string ns)
    {
        var namespaces = CollectionsMarshal.AsSpan(_namespaces);
        for (var i = 0; i < namespaces.Length; i++)
        {
            if (ReferenceEquals(namespaces[i].Code, ns) || string.Equals(namespaces[i].Code, ns, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return None;
    }

    /// <summary>
    /// Joins two graphs: the smaller one's members are pointed at the larger one's root, so every node
    /// always points at its root and a lookup reads one node, not a path (a lookup's misses are most of
    /// its cost). A node moves to a graph at least twice its graph's size, so it is relabelled at most
    /// log₂(size cap) times: six at the default cap of 50.
    /// </summary>
    private void Union(int rootA, int rootB)
    {
        if (_nodes[rootA].Size < _nodes[rootB].Size)
        {
            (rootA, rootB) = (rootB, rootA);
        }
        var member = rootB;
        do
        {
            _parent[member] = rootA;
            member = _nodes[member].NextMember;
        }
        while (member != rootB);
        _nodes[rootA].Size += _nodes[rootB].Size;
        _nodes[rootA].Mask |= _nodes[rootB].Mask;
        // Splice the two circular member lists into one.
        (_nodes[rootA].NextMember, _nodes[rootB].NextMember) = (_nodes[rootB].NextMember, _nodes[rootA].NextMember);
        _graphCount--;
    }

    private ulong OwnBit(int node) => _namespaces[_nodes[node].Namespace].UniqueBit;

    private int NextLink(int link, int node) => _links[link].A == node ? _links[link].NextOfA : _links[link].NextOfB;

    private void GrowNodes() => GrowNodes(_nodes.Length * 2);

    private void GrowNodes(int size)
    {
        // Nodes are read at random by every link and lookup: large arrays get the huge-page hint.
        var nodes = HugePages.AllocateArray<NodeSlot>(size);
        _nodes.AsSpan().CopyTo(nodes);
        _nodes = nodes;
        var parent = HugePages.AllocateArray<int>(size);
        _parent.AsSpan().CopyTo(parent);
        _parent = parent;
        Array.Resize(ref _nodeValue, size);
    }

    private enum UpsertResult : byte
    {
        Unmoved,
        MovedEarlier,
        Created,
    }

    /// <summary>A namespace of the graph: its code, its unique-namespace bit (0 if not unique) and its priority rank.</summary>
    private sealed record NamespaceSlot(string Code, ulong UniqueBit, int Rank)
    {
        public byte[] Utf8 { get; } = Encoding.UTF8.GetBytes(Code);
    }

    /// <summary>
    /// Everything the hot paths touch about an identity but its root (<c>_parent</c>), in one place: linking an
    /// identity reads and writes one slot instead of one per array.
    /// </summary>
    internal struct NodeSlot
    {
        /// <summary>At a root: identities in the graph.</summary>
        public int Size;
        /// <summary>Links made to this identity (in what would be padding before <see cref="Mask"/>: the slot stays 40 bytes).</summary>
        public int Degree;
        /// <summary>At a root: the unique namespaces present in the graph.</summary>
        public ulong Mask;
        public long LastSeen;
        public int FirstLink;
        public int Namespace;
        /// <summary>Next member in the graph's circular member list.</summary>
        public int NextMember;
        /// <summary>Breadth-first search marker (the epoch of the last visit).</summary>
        public int Visit;
    }

    private struct LinkSlot
    {
        public int A;
        public int B;
        public int NextOfA;
        public int NextOfB;
        public long Time;
        public long Sequence;
        /// <summary>Which identity of its occurrence the link leads to: orders the links of one occurrence.</summary>
        public int Position;
        public int Source;
        public int Occurrences;
        /// <summary>The record id of the newest occurrence, in the graph's record arena (<see cref="TextArena.None"/>: none).</summary>
        public long Record;
        public LinkState State;
    }

    /// <summary>Walks a graph's circular member list without allocating.</summary>
    public struct MemberEnumerator
    {
        private readonly NodeSlot[] _slots;
        private readonly int _root;
        private int _current = None;

        internal MemberEnumerator(NodeSlot[] slots, int root)
        {
            _slots = slots;
            _root = root;
        }

        public readonly int Current => _current;

        public readonly MemberEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_current == None)
            {
                _current = _root;
                return true;
            }
            _current = _slots[_current].NextMember;
            return _current != _root;
        }
    }
}

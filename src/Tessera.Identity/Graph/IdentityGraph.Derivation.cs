using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Identity.Graph;

public sealed partial class IdentityGraph
{
    public const string UniqueNamespaceRule = "unique-namespace";
    public const string SizeCapRule = "size-cap";

    /// <summary>
    /// Derives again after <paramref name="inserted"/> took its place in the order (a new link, or a cut
    /// one whose newest occurrence moved it earlier), touching only what the change can reach.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Compare the derivation before (D) and after (D′) the insertion, step by step in the order. Before
    /// the inserted link's step the two are the same. Call an identity <em>dirty</em> at a step when its
    /// graph in D′ differs from its graph in D at that step; the graphs of clean identities are the same in
    /// both, so a link between two clean identities gets the same decision in both and changes nothing.
    /// Only links with a dirty end need deciding again, in order. Identities are marked dirty a whole
    /// graph at a time (every member of a graph that differs differs), and a graph in D at a step is
    /// found from the links D kept that come before the step (at most the size cap of identities).
    /// </para>
    /// <para>
    /// A link that both derivations cut changes no graph, so its clean end stays clean; any other
    /// decided link marks both ends' graphs dirty. A dirty identity's graph in D′ is kept in a small
    /// union-find; its later links are queued, except those that are cut for a unique namespace in D and
    /// must be in D′ too (the other end's own namespace is already in the dirty graph, held by another
    /// identity, and graphs only grow). A junk value's thousands of cut links are skipped that way, so
    /// the work is the graphs that really change, not the region the value holds together.
    /// </para>
    /// </remarks>
    private void RederiveFrom(int inserted)
    {
        _dirtyIndex.Clear();
        _dirty.Clear();
        _queued.Clear();
        _queue.Clear();
        try
        {
            ref readonly var first = ref _links[inserted];
            var at = OrderOf(inserted);
            _queued.Add(inserted);
            // The inserted link's ends are clean at its step: their graphs then are D's.
            var sizeA = GraphAt(first.A, at, _pending, out var maskA);
            var nodesA = _pending.Count;
            if (_nodes[first.B].Visit == _visitEpoch)
            {
                _links[inserted].State = LinkState.Kept; // Already joined at its step: no graph changes.
                return;
            }
            var sizeB = GraphAt(first.B, at, _pending, out var maskB, append: true);
            var state = Decide(sizeA, maskA, sizeB, maskB);
            _links[inserted].State = state;
            if (state != LinkState.Kept)
            {
                return; // Cut where it stands: no graph changes.
            }
            var ends = CollectionsMarshal.AsSpan(_pending);
            UnionDirty(MarkDirty(ends[..nodesA]), MarkDirty(ends[nodesA..]));
            QueueLaterLinks(0, at);

            while (_queue.TryDequeue(out var link, out var step))
            {
                DecideAgain(link, step);
            }
            ApplyDirty();
        }
        finally
        {
            _pending.Clear();
        }
    }

    /// <summary>One queued link decided in D′; the ends it changes become dirty.</summary>
    private void DecideAgain(int link, OrderKey step)
    {
        ref var slot = ref _links[link];
        var wasKept = slot.State == LinkState.Kept;
        var (dirtyEnd, otherEnd) = _dirtyIndex.ContainsKey(slot.A) ? (slot.A, slot.B) : (slot.B, slot.A);
        var root = FindDirty(_dirtyIndex[dirtyEnd]);
        LinkState state;
        if (_dirtyIndex.TryGetValue(otherEnd, out var otherLocal))
        {
            var otherRoot = FindDirty(otherLocal);
            if (root == otherRoot)
            {
                slot.State = LinkState.Kept;
                return;
            }
            state = Decide(_dirty[root].Size, _dirty[root].Mask, _dirty[otherRoot].Size, _dirty[otherRoot].Mask);
            slot.State = state;
            if (state == LinkState.Kept)
            {
                UnionDirty(root, otherRoot);
            }
            return;
        }
        _pending.Clear();
        // A link D cut stays cut in D′ once the clean end's graph shows a unique namespace the dirty graph holds
        // (the rule checked first): its walk stops there. A junk value's thousands of links to other people's
        // devices each end at that person's id, without walking the rest of the person's graph.
        var size = GraphAt(otherEnd, step, _pending, out var mask, stopAtAnyOf: wasKept ? 0 : _dirty[root].Mask);
        state = Decide(_dirty[root].Size, _dirty[root].Mask, size, mask);
        slot.State = state;
        if (state != LinkState.Kept && !wasKept)
        {
            return; // Cut in both: the clean end's graph is the same in both.
        }
        var first = _dirty.Count;
        var other = MarkDirty(CollectionsMarshal.AsSpan(_pending));
        if (state == LinkState.Kept)
        {
            UnionDirty(root, other);
        }
        QueueLaterLinks(first, step);
    }

    private LinkState Decide(int sizeA, ulong maskA, int sizeB, ulong maskB) =>
        (maskA & maskB) != 0 ? LinkState.CutUniqueNamespace
        : sizeA + sizeB > _rules.MaxIdentities ? LinkState.CutSizeCap
        : LinkState.Kept;

    /// <summary>
    /// The rule that cuts a cut link, decided again from the graphs its two ends have just before its
    /// step (over the links kept earlier in the order). Which links are kept is always exact, but the
    /// stored rule is the one of the derivation that last decided the link: a later link that changes
    /// no decision (a plain merge, or a conflict that leaves this link cut) can change which rule a
    /// whole derivation names, since a unique namespace is checked before the size cap. Reads only
    /// (lookups hold a read lock), so it walks with a set of its own rather than the visit marks.
    /// </summary>
    private LinkState CutStateNow(int link)
    {
        ref readonly var slot = ref _links[link];
        var step = OrderOf(link);
        var (sizeA, maskA) = GraphBefore(slot.A, step);
        var (sizeB, maskB) = GraphBefore(slot.B, step);
        var state = Decide(sizeA, maskA, sizeB, maskB);
        return state == LinkState.Kept ? slot.State : state;
    }

    /// <summary>The size and unique-namespace mask of <paramref name="start"/>'s graph just before <paramref name="step"/>.</summary>
    private (int Size, ulong Mask) GraphBefore(int start, OrderKey step)
    {
        var members = new List<int> { start };
        var seen = new HashSet<int> { start };
        ulong mask = 0;
        for (var next = 0; next < members.Count; next++)
        {
            var node = members[next];
            mask |= OwnBit(node);
            foreach (var link in WalkLinks(node))
            {
                ref readonly var slot = ref _links[link];
                var other = slot.A == node ? slot.B : slot.A;
                if (KeptBefore(link, step) && seen.Add(other))
                {
                    members.Add(other);
                }
            }
        }
        return (members.Count, mask);
    }

    /// <summary>Whether <paramref name="link"/> is kept and comes before <paramref name="step"/> in the order: a link that makes the graphs at that step.</summary>
    private bool KeptBefore(int link, OrderKey step) => _links[link].State == LinkState.Kept && OrderOf(link).CompareTo(step) < 0;

    /// <summary>
    /// The graph of a clean identity in D just before <paramref name="step"/>: everything reachable over
    /// links D kept that come earlier in the order. Its nodes go to <paramref name="into"/>. With
    /// <paramref name="stopAtAnyOf"/>, the walk stops (the graph only partly collected) at the first identity
    /// whose own unique namespace is one of those bits.
    /// </summary>
    private int GraphAt(int start, OrderKey step, List<int> into, out ulong mask, bool append = false, ulong stopAtAnyOf = 0)
    {
        if (!append)
        {
            _visitEpoch++;
        }
        var epoch = _visitEpoch;
        var from = into.Count;
        _nodes[start].Visit = epoch;
        into.Add(start);
        mask = 0;
        for (var next = from; next < into.Count; next++)
        {
            var node = into[next];
            mask |= OwnBit(node);
            if ((mask & stopAtAnyOf) != 0)
            {
                break;
            }
            foreach (var link in WalkLinks(node))
            {
                // The link's own fields first: most links of a busy identity are cut or later, and the other end's node is another miss.
                if (!KeptBefore(link, step))
                {
                    continue;
                }
                ref readonly var slot = ref _links[link];
                var other = slot.A == node ? slot.B : slot.A;
                if (_nodes[other].Visit != epoch)
                {
                    _nodes[other].Visit = epoch;
                    into.Add(other);
                }
            }
        }
        return into.Count - from;
    }

    /// <summary>Makes a clean graph dirty as one component of the union-find; returns its local index.</summary>
    private int MarkDirty(ReadOnlySpan<int> nodes)
    {
        var root = _dirty.Count;
        var mask = 0UL;
        foreach (var node in nodes)
        {
            mask |= OwnBit(node);
        }
        foreach (var node in nodes)
        {
            _dirtyIndex.Add(node, _dirty.Count);
            _dirty.Add(new DirtyNode(node, root, nodes.Length, mask));
        }
        return root;
    }

    private int FindDirty(int local)
    {
        var dirty = CollectionsMarshal.AsSpan(_dirty);
        var root = local;
        while (dirty[root].Parent != root)
        {
            root = dirty[root].Parent;
        }
        while (dirty[local].Parent != root)
        {
            (dirty[local].Parent, local) = (root, dirty[local].Parent);
        }
        return root;
    }

    private void UnionDirty(int rootA, int rootB)
    {
        var dirty = CollectionsMarshal.AsSpan(_dirty);
        if (dirty[rootA].Size < dirty[rootB].Size)
        {
            (rootA, rootB) = (rootB, rootA);
        }
        dirty[rootB].Parent = rootA;
        dirty[rootA].Size += dirty[rootB].Size;
        dirty[rootA].Mask |= dirty[rootB].Mask;
    }

    /// <summary>Queues the links after <paramref name="step"/> of the dirty nodes from <paramref name="first"/> on, but those D′ must cut as D did.</summary>
    private void QueueLaterLinks(int first, OrderKey step)
    {
        for (var i = first; i < _dirty.Count; i++)
        {
            var node = _dirty[i].Node;
            var root = FindDirty(i);
            foreach (var link in WalkLinks(node))
            {
                ref readonly var slot = ref _links[link];
                var key = OrderOf(link);
                if (key.CompareTo(step) <= 0 || _queued.Contains(link))
                {
                    continue; // Decided before this step (as in D, or already again), or queued.
                }
                var other = slot.A == node ? slot.B : slot.A;
                if (slot.State == LinkState.CutUniqueNamespace && (_dirty[root].Mask & OwnBit(other)) != 0
                    && !(_dirtyIndex.TryGetValue(other, out var otherLocal) && FindDirty(otherLocal) == root))
                {
                    // Another identity of the other end's unique namespace holds this graph already, and
                    // graphs only grow: D′ cuts it too, for the same rule.
                    continue;
                }
                _queued.Add(link);
                _queue.Enqueue(link, key);
            }
        }
    }

    /// <summary>
    /// Writes the dirty graphs back. Every graph D ended with that holds a dirty identity is all dirty
    /// (its members were reached through links D kept, each decided again), so the old graphs are replaced whole.
    /// </summary>
    private void ApplyDirty()
    {
        var dirty = CollectionsMarshal.AsSpan(_dirty);
        foreach (ref readonly var entry in dirty)
        {
            if (_parent[entry.Node] == entry.Node)
            {
                _graphCount--;
            }
        }
        for (var i = 0; i < dirty.Length; i++)
        {
            if (FindDirty(i) == i)
            {
                ref var node = ref _nodes[dirty[i].Node];
                _parent[dirty[i].Node] = dirty[i].Node;
                node.Size = dirty[i].Size;
                node.Mask = dirty[i].Mask;
                node.NextMember = dirty[i].Node;
                _graphCount++;
            }
        }
        for (var i = 0; i < dirty.Length; i++)
        {
            var root = FindDirty(i);
            if (root != i)
            {
                var rootNode = dirty[root].Node;
                ref var node = ref _nodes[dirty[i].Node];
                _parent[dirty[i].Node] = rootNode;
                node.NextMember = _nodes[rootNode].NextMember;
                _nodes[rootNode].NextMember = dirty[i].Node;
            }
        }
    }

    private OrderKey OrderOf(int link)
    {
        ref readonly var slot = ref _links[link];
        return new OrderKey(slot.Time, slot.Sequence, slot.Position, link);
    }

    /// <summary>A dirty identity in the incremental derivation's union-find (<see cref="RederiveFrom"/>).</summary>
    private record struct DirtyNode(int Node, int Parent, int Size, ulong Mask);

    private void CollectRegion(int start, List<int> nodes, List<int> links)
    {
        var epoch = ++_visitEpoch;
        _nodes[start].Visit = epoch;
        nodes.Add(start);
        for (var next = 0; next < nodes.Count; next++)
        {
            var node = nodes[next];
            foreach (var link in WalkLinks(node))
            {
                var other = _links[link].A == node ? _links[link].B : _links[link].A;
                if (_nodes[other].Visit != epoch)
                {
                    _nodes[other].Visit = epoch;
                    nodes.Add(other);
                }
                if (other > node)
                {
                    links.Add(link); // each link once: from its lower node
                }
            }
        }
    }

    /// <summary>
    /// The derivation over a closed region: links newest first, each joining its two graphs unless
    /// the rules forbid it. <paramref name="trace"/>, when given, receives every cut with its reason.
    /// </summary>
    private void Derive(ReadOnlySpan<int> nodes, ReadOnlySpan<int> links, List<(int Link, CutLink Cut)>? trace)
    {
        foreach (var node in nodes)
        {
            if (_parent[node] == node)
            {
                _graphCount--;
            }
        }
        foreach (var node in nodes)
        {
            ResetNode(node);
        }
        _graphCount += nodes.Length;

        var order = ArrayPool<OrderKey>.Shared.Rent(links.Length);
        try
        {
            for (var i = 0; i < links.Length; i++)
            {
                order[i] = OrderOf(links[i]);
            }
            DecideInOrder(order.AsSpan(0, links.Length), trace);
        }
        finally
        {
            ArrayPool<OrderKey>.Shared.Return(order);
        }
    }

    /// <summary>
    /// Derives every graph again from the links under the rules (a full rebuild): <see cref="Derive"/> over the whole graph,
    /// without lists of all its nodes and links.
    /// </summary>
    public void RederiveAll()
    {
        for (var node = 0; node < _nodeCount; node++)
        {
            ResetNode(node);
        }
        _graphCount = _nodeCount;
        // The order of ten million links is a few hundred megabytes taken fresh for one derivation; in huge pages, as a
        // page first touched can cost more than the derivation's work on it where memory is slow to fault in (a virtual
        // machine: up to 15-20 µs a 4 KiB page on the benchmarks' machine; BENCHMARKS.md, "A page first touched").
        // Fewer links are ordered in a pooled array, as an incremental derivation's are: a later derivation reuses its pages.
        var large = _linkCount >= SortInHalvesFrom;
        var order = large ? HugePages.AllocateArray<OrderKey>(_linkCount) : ArrayPool<OrderKey>.Shared.Rent(_linkCount);
        try
        {
            for (var link = 0; link < _linkCount; link++)
            {
                order[link] = OrderOf(link);
            }
            DecideInOrder(order.AsSpan(0, _linkCount), trace: null);
        }
        finally
        {
            if (!large)
            {
                ArrayPool<OrderKey>.Shared.Return(order);
            }
        }
    }

    /// <summary>The node alone in its own graph, as before any link.</summary>
    private void ResetNode(int node)
    {
        _parent[node] = node;
        _nodes[node].Size = 1;
        _nodes[node].Mask = OwnBit(node);
        _nodes[node].NextMember = node;
    }

    /// <summary>Sorts the links newest first and decides each in that order.</summary>
    private void DecideInOrder(Span<OrderKey> order, List<(int Link, CutLink Cut)>? trace)
    {
        // Many links are sorted in two halves, one per thread, and merged as they are decided.
        var count = order.Length;
        var half = count < SortInHalvesFrom ? count : count / 2;
        if (half == count)
        {
            order.Sort();
        }
        else
        {
            SortHalves(order, half);
        }
        Span<OrderKey> block = stackalloc OrderKey[DeriveBlock];
        for (int left = 0, right = half; left < half || right < count;)
        {
            var length = 0;
            for (; length < DeriveBlock && (left < half || right < count); length++)
            {
                block[length] = right == count || (left < half && order[left].CompareTo(order[right]) <= 0) ? order[left++] : order[right++];
            }
            PrefetchBlock(block[..length]);
            DecideBlock(block[..length], trace);
        }
    }

    private static unsafe void SortHalves(Span<OrderKey> order, int half)
    {
        // A span cannot be captured by the two sorts' delegates; the memory is pinned for them instead.
        fixed (OrderKey* start = order)
        {
            var first = start;
            var second = start + half;
            var secondLength = order.Length - half;
            Parallel.Invoke(() => new Span<OrderKey>(first, half).Sort(), () => new Span<OrderKey>(second, secondLength).Sort());
        }
    }

    /// <summary>From this many links a derivation sorts them on two threads (a rebuild: millions, where the sort is a third of its time; tests lower it).</summary>
    internal int SortInHalvesFrom { get; init; } = 1 << 20;

    /// <summary>Links decided together: their misses are issued in tight loops first, so that they overlap (see <see cref="StoredLedgerLoad"/>).</summary>
    private const int DeriveBlock = 64;

    /// <summary>Starts loading the links of a block, then their identities' nodes, then those nodes' roots (only hints: a union may change a root).</summary>
    private unsafe void PrefetchBlock(ReadOnlySpan<OrderKey> block)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        foreach (var key in block)
        {
            // Only a hint: the address is stale if the array moves.
            Sse.Prefetch0(Unsafe.AsPointer(ref _links[key.Link]));
        }
        foreach (var key in block)
        {
            PrefetchNode(_links[key.Link].A);
            PrefetchNode(_links[key.Link].B);
            PrefetchParent(_links[key.Link].A);
            PrefetchParent(_links[key.Link].B);
        }
        foreach (var key in block)
        {
            PrefetchNode(_parent[_links[key.Link].A]);
            PrefetchNode(_parent[_links[key.Link].B]);
        }
    }

    private void DecideBlock(ReadOnlySpan<OrderKey> block, List<(int Link, CutLink Cut)>? trace)
    {
        foreach (var key in block)
        {
            ref var link = ref _links[key.Link];
            var rootA = GraphOf(link.A);
            var rootB = GraphOf(link.B);
            if (rootA == rootB)
            {
                link.State = LinkState.Kept;
            }
            else if ((_nodes[rootA].Mask & _nodes[rootB].Mask) != 0)
            {
                link.State = LinkState.CutUniqueNamespace;
                trace?.Add((key.Link, new CutLink(Info(key.Link), UniqueNamespaceRule, DescribeUniqueClash(rootA, rootB))));
            }
            else if (_nodes[rootA].Size + _nodes[rootB].Size > _rules.MaxIdentities)
            {
                link.State = LinkState.CutSizeCap;
                trace?.Add((key.Link, new CutLink(Info(key.Link), SizeCapRule,
                    $"the graphs on either side hold {_nodes[rootA].Size} and {_nodes[rootB].Size} identities; together more than the cap of {_rules.MaxIdentities}")));
            }
            else
            {
                link.State = LinkState.Kept;
                Union(rootA, rootB);
            }
        }
    }

    private string DescribeUniqueClash(int rootA, int rootB)
    {
        var clash = _nodes[rootA].Mask & _nodes[rootB].Mask;
        var parts = new List<string>();
        foreach (var a in Members(rootA))
        {
            if ((_namespaces[_nodes[a].Namespace].UniqueBit & clash) == 0)
            {
                continue;
            }
            foreach (var b in Members(rootB))
            {
                if (_nodes[b].Namespace == _nodes[a].Namespace)
                {
                    parts.Add($"{KeyOf(a)} and {KeyOf(b)}");
                }
            }
        }
        return $"unique namespace: it would put {string.Join(", ", parts)} in one graph, and newer links already hold them";
    }

    /// <summary>Derives a region again, recording each cut and why (the graph ends up as it was).</summary>
    private List<(int Link, CutLink Cut)> TraceRegion(int start)
    {
        var nodes = new List<int>();
        var links = new List<int>();
        CollectRegion(start, nodes, links);
        var trace = new List<(int, CutLink)>();
        Derive(CollectionsMarshal.AsSpan(nodes), CollectionsMarshal.AsSpan(links), trace);
        return trace;
    }

    /// <summary>The links that join two identities, or why they are not joined.</summary>
    public Explanation Explain(IdentityKey a, IdentityKey b)
    {
        if (!TryGetNode(a, out var nodeA) || !TryGetNode(b, out var nodeB))
        {
            var unknown = TryGetNode(a, out _) ? b : a;
            return new Explanation(a, b, false, [], [], $"not joined: {unknown} is not in any graph");
        }
        if (nodeA == nodeB)
        {
            return new Explanation(a, b, true, [], [], "the same identity");
        }
        if (GraphOf(nodeA) == GraphOf(nodeB))
        {
            var path = ShortestPath(nodeA, nodeB, keptOnly: true)!;
            return new Explanation(a, b, true, Along(path, nodeA), [],
                $"joined by {path.Count} link{(path.Count == 1 ? "" : "s")}");
        }
        var closest = ShortestPath(nodeA, nodeB, keptOnly: false);
        if (closest is null)
        {
            return new Explanation(a, b, false, [], [],
                "not joined: no record or event links them, directly or through other identities");
        }
        var cutsByLink = new Dictionary<int, CutLink>();
        foreach (var (link, cut) in TraceRegion(nodeA))
        {
            cutsByLink[link] = cut;
        }
        var cuts = new List<CutLink>();
        foreach (var link in closest)
        {
            if (cutsByLink.TryGetValue(link, out var cut))
            {
                cuts.Add(cut);
            }
        }
        return new Explanation(a, b, false, Along(closest, nodeA), cuts,
            $"not joined: {cuts.Count} link{(cuts.Count == 1 ? "" : "s")} on the closest path {(cuts.Count == 1 ? "was" : "were")} cut ({string.Join("; ", cuts.Select(c => $"{c.Link.From}–{c.Link.To} by rule {c.Rule}"))})");
    }

    /// <summary>A path's links, each seen from the end nearer <paramref name="from"/>.</summary>
    private List<LinkInfo> Along(List<int> path, int from)
    {
        var result = new List<LinkInfo>(path.Count);
        foreach (var link in path)
        {
            result.Add(Info(link, from));
            from = _links[link].A == from ? _links[link].B : _links[link].A;
        }
        return result;
    }

    /// <summary>
    /// The path from <paramref name="from"/> to <paramref name="to"/> with the fewest cut links, then
    /// the fewest links (a 0-1 breadth-first search); kept links only when <paramref name="keptOnly"/>.
    /// </summary>
    private List<int>? ShortestPath(int from, int to, bool keptOnly)
    {
        var cost = new Dictionary<int, (int Cuts, int Hops, int Via)>();
        var queue = new PriorityQueue<int, (int Cuts, int Hops)>();
        cost[from] = (0, 0, None);
        queue.Enqueue(from, (0, 0));
        while (queue.TryDequeue(out var node, out var priority))
        {
            if (node == to)
            {
                break;
            }
            if (cost[node].Cuts != priority.Cuts || cost[node].Hops != priority.Hops)
            {
                continue;
            }
            foreach (var link in WalkLinks(node))
            {
                var kept = _links[link].State == LinkState.Kept;
                if (keptOnly && !kept)
                {
                    continue;
                }
                var other = _links[link].A == node ? _links[link].B : _links[link].A;
                var next = (Cuts: priority.Cuts + (kept ? 0 : 1), Hops: priority.Hops + 1);
                if (!cost.TryGetValue(other, out var known) || (next.Cuts, next.Hops).CompareTo((known.Cuts, known.Hops)) < 0)
                {
                    cost[other] = (next.Cuts, next.Hops, link);
                    queue.Enqueue(other, next);
                }
            }
        }
        if (!cost.ContainsKey(to))
        {
            return null;
        }
        var path = new List<int>();
        for (var node = to; node != from;)
        {
            var link = cost[node].Via;
            path.Add(link);
            node = _links[link].A == node ? _links[link].B : _links[link].A;
        }
        path.Reverse();
        return path;
    }

    /// <summary>
    /// Newest first: later time, then later ledger sequence, then (links of one occurrence) the
    /// identity nearer the front. A total order over links, whatever order they were added in.
    /// </summary>
    private readonly record struct OrderKey(long Time, long Sequence, int Position, int Link) : IComparable<OrderKey>
    {
        public int CompareTo(OrderKey other)
        {
            var byTime = other.Time.CompareTo(Time);
            if (byTime != 0)
            {
                return byTime;
            }
            var bySequence = other.Sequence.CompareTo(Sequence);
            return bySequence != 0 ? bySequence : Position.CompareTo(other.Position);
        }
    }
}

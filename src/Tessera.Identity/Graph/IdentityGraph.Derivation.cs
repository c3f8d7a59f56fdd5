using System.Buffers;
using System.Runtime.InteropServices;

namespace Tessera.Identity.Graph;

public sealed partial class IdentityGraph
{
    public const string UniqueNamespaceRule = "unique-namespace";
    public const string SizeCapRule = "size-cap";

    /// <summary>Derives again the region of every identity reachable from <paramref name="start"/> over any link.</summary>
    private void Rederive(int start)
    {
        // Reused between calls: a shared junk value makes many large re-derivations in a row.
        _regionNodes.Clear();
        _regionLinks.Clear();
        CollectRegion(start, _regionNodes, _regionLinks);
        Derive(CollectionsMarshal.AsSpan(_regionNodes), CollectionsMarshal.AsSpan(_regionLinks), trace: null);
    }

    private void CollectRegion(int start, List<int> nodes, List<int> links)
    {
        var epoch = ++_visitEpoch;
        _nodes[start].Visit = epoch;
        nodes.Add(start);
        for (var next = 0; next < nodes.Count; next++)
        {
            var node = nodes[next];
            for (var link = _nodes[node].FirstLink; link != None; link = NextLink(link, node))
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
            if (_nodes[node].Parent == node)
            {
                _graphCount--;
            }
        }
        foreach (var node in nodes)
        {
            _nodes[node].Parent = node;
            _nodes[node].Size = 1;
            _nodes[node].Mask = OwnBit(node);
            _nodes[node].NextMember = node;
        }
        _graphCount += nodes.Length;

        var order = ArrayPool<OrderKey>.Shared.Rent(links.Length);
        try
        {
            for (var i = 0; i < links.Length; i++)
            {
                order[i] = new OrderKey(_links[links[i]].Time, _links[links[i]].Sequence, _links[links[i]].Position, links[i]);
            }
            var sorted = order.AsSpan(0, links.Length);
            sorted.Sort();
            foreach (var key in sorted)
            {
                ref var link = ref _links[key.Link];
                var rootA = Find(link.A);
                var rootB = Find(link.B);
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
        finally
        {
            ArrayPool<OrderKey>.Shared.Return(order);
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
            for (var link = _nodes[node].FirstLink; link != None; link = NextLink(link, node))
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

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Identity.Graph;

public sealed partial class IdentityGraph
{
    /// <summary>
    /// From this many links an identity's links are also kept in an array (<see cref="_busyLinks"/>). A junk value
    /// typed by thousands of people has thousands of links, and every derivation that reaches it walks them all:
    /// along the list threaded through the link slots each step is a miss that waits for the one before; along an
    /// array the slots ahead are prefetched, so the misses overlap. People's own identities have a handful of links. (Tests lower it.)
    /// </summary>
    internal int BusyDegree { get; init; } = 32;

    /// <summary>The links of each identity that has <see cref="BusyDegree"/> or more, in the order they were made (links are never removed from a graph).</summary>
    private readonly Dictionary<int, List<int>> _busyLinks = [];

    /// <summary>Links prefetched ahead of the one walked along a busy identity's array.</summary>
    private const int WalkAhead = 8;

    /// <summary>Counts a new link at both ends (its slot is written and is each end's first link).</summary>
    private void NoteNewLink(int a, int b, int link)
    {
        NoteNewLink(a, link);
        NoteNewLink(b, link);
    }

    private void NoteNewLink(int node, int link)
    {
        var degree = ++_nodes[node].Degree;
        if (degree < BusyDegree)
        {
            return;
        }
        if (degree > BusyDegree)
        {
            _busyLinks[node].Add(link);
            return;
        }
        // Just became busy: its list, oldest first, as the array keeps it.
        var links = new List<int>(2 * BusyDegree);
        for (var at = _nodes[node].FirstLink; at != None; at = NextLink(at, node))
        {
            links.Add(at);
        }
        links.Reverse();
        _busyLinks.Add(node, links);
    }

    /// <summary>
    /// The links of <paramref name="node"/>, the last made first (the order of its list): along the list, or for a
    /// busy identity along its array with the slots ahead prefetched.
    /// </summary>
    private LinkWalk WalkLinks(int node) =>
        new(this, node, _nodes[node].Degree >= BusyDegree ? CollectionsMarshal.AsSpan(_busyLinks[node]) : default);

    private unsafe void PrefetchLink(int link)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref _links[link])); // Only a hint: the address is stale if the array moves.
        }
    }

    /// <summary>Enumerates a node's links (<see cref="WalkLinks"/>); the graph must not change during the walk.</summary>
    private ref struct LinkWalk
    {
        private readonly IdentityGraph _graph;
        private readonly int _node;
        private readonly ReadOnlySpan<int> _busy;
        private int _at;
        private int _current;
        private bool _started;

        public LinkWalk(IdentityGraph graph, int node, ReadOnlySpan<int> busy)
        {
            _graph = graph;
            _node = node;
            _busy = busy;
            _at = busy.Length;
            _current = None;
            if (!busy.IsEmpty)
            {
                for (var i = Math.Max(0, busy.Length - WalkAhead); i < busy.Length; i++)
                {
                    graph.PrefetchLink(busy[i]);
                }
            }
        }

        public readonly int Current => _current;

        public readonly LinkWalk GetEnumerator() => this;

        public bool MoveNext()
        {
            if (!_busy.IsEmpty)
            {
                if (_at == 0)
                {
                    return false;
                }
                _at--;
                if (_at >= WalkAhead)
                {
                    _graph.PrefetchLink(_busy[_at - WalkAhead]);
                }
                _current = _busy[_at];
                return true;
            }
            _current = _started ? _graph.NextLink(_current, _node) : _graph._nodes[_node].FirstLink;
            _started = true;
            return _current != None;
        }
    }
}

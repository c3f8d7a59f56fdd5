namespace Tessera.Bench;

/// <summary>
/// The floor the identity graph is compared with: a plain union-find over int arrays, union by size
/// and path halving, no rules, no link records, no member lists.
/// </summary>
internal sealed class UnionFind
{
    private readonly int[] _parent;
    private readonly int[] _size;

    public UnionFind(int count)
    {
        _parent = new int[count];
        _size = new int[count];
        Reset();
    }

    public int Sets { get; private set; }

    public void Reset()
    {
        for (var i = 0; i < _parent.Length; i++)
        {
            _parent[i] = i;
        }
        Array.Fill(_size, 1);
        Sets = _parent.Length;
    }

    public int Find(int node)
    {
        while (_parent[node] != node)
        {
            var grandparent = _parent[_parent[node]];
            _parent[node] = grandparent;
            node = grandparent;
        }
        return node;
    }

    /// <summary>The root without shortening the path: what a reader may do while no write runs.</summary>
    public int FindReadOnly(int node)
    {
        while (_parent[node] != node)
        {
            node = _parent[node];
        }
        return node;
    }

    public bool Union(int a, int b)
    {
        a = Find(a);
        b = Find(b);
        if (a == b)
        {
            return false;
        }
        if (_size[a] < _size[b])
        {
            (a, b) = (b, a);
        }
        _parent[b] = a;
        _size[a] += _size[b];
        Sets--;
        return true;
    }
}

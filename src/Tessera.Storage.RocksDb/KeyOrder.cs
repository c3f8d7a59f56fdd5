using System.Buffers;
using System.Buffers.Binary;

namespace Tessera.Storage.RocksDb;

/// <summary>
/// Sorts keys in RocksDB's order (bytewise) within groups (column families), equal keys by their
/// position. The keys of one kind share long starts (tag, sandbox, namespace, a common id prefix), so
/// comparing whole keys mostly walks equal bytes behind two pointers into memory spread over the whole
/// batch. Instead each key is put in a class (its group and first byte), each class's common start is
/// found, and each key gets the eight bytes after it as a number: the sort compares (class, number)
/// pairs held in the sorted array itself, and only runs of equal pairs look at the keys.
/// </summary>
internal static class KeyOrder
{
    /// <summary>
    /// The positions of <paramref name="keys"/> sorted by (group, key, position): positions ascending
    /// (<paramref name="laterFirst"/> false) or descending (true) among equal keys. Without
    /// <paramref name="groups"/> every key is in one group.
    /// </summary>
    public static int[] Sort(int[]? groups, ReadOnlyMemory<byte>[] keys, bool laterFirst)
    {
        var count = keys.Length;
        var items = ArrayPool<Item>.Shared.Rent(Math.Max(count, 1));
        try
        {
            var starts = Classify(groups, keys, items);
            var sorted = items.AsSpan(0, count);
            // Numbers compare inline (Item is its own comparer); a run of equal numbers is then put in key order.
            sorted.Sort();
            for (var first = 0; first < count;)
            {
                var end = first + 1;
                while (end < count && sorted[end].Class == sorted[first].Class && sorted[end].Head == sorted[first].Head)
                {
                    end++;
                }
                if (end - first > 1)
                {
                    SortTies(sorted[first..end], new TieComparer(keys, starts[sorted[first].Class], laterFirst));
                }
                first = end;
            }
            var order = new int[count];
            for (var i = 0; i < count; i++)
            {
                order[i] = sorted[i].Position;
            }
            return order;
        }
        finally
        {
            ArrayPool<Item>.Shared.Return(items);
        }
    }

    /// <summary>
    /// Fills <paramref name="items"/> with each key's class rank and head, reading each key once (a key's bytes are
    /// usually a cache miss: keys lie spread over a batch's buffers). A class's common start can only shrink as its keys
    /// come in, so a head taken at a start that later shrank is taken again; keys after a class's last shrink keep theirs.
    /// Returns each ranked class's common start.
    /// </summary>
    private static int[] Classify(int[]? groups, ReadOnlyMemory<byte>[] keys, Item[] items)
    {
        var classOf = new Dictionary<long, int>();
        var names = new List<long>();
        var common = new List<int>();
        var firsts = new List<int>();
        var lastShrink = new List<int>();
        for (var i = 0; i < keys.Length; i++)
        {
            var key = keys[i].Span;
            var name = ((long)(groups?[i] ?? 0) << 9) | (key.IsEmpty ? 0 : key[0] + 1L);
            if (!classOf.TryGetValue(name, out var id))
            {
                id = names.Count;
                classOf.Add(name, id);
                names.Add(name);
                common.Add(key.Length);
                firsts.Add(i);
                lastShrink.Add(i);
            }
            else
            {
                var shared = key.CommonPrefixLength(keys[firsts[id]].Span);
                if (shared < common[id])
                {
                    common[id] = shared;
                    lastShrink[id] = i;
                }
            }
            items[i] = new Item(Head(key, common[id]), id, i);
        }
        // Classes ranked in (group, first byte) order, so comparing ranks compares those first.
        var rank = new int[names.Count];
        var starts = new int[names.Count];
        var byName = Enumerable.Range(0, names.Count).OrderBy(id => names[id]).ToArray();
        for (var r = 0; r < byName.Length; r++)
        {
            rank[byName[r]] = r;
            starts[r] = common[byName[r]];
        }
        for (var i = 0; i < keys.Length; i++)
        {
            var id = items[i].Class;
            var head = i < lastShrink[id] ? Head(keys[i].Span, common[id]) : items[i].Head;
            items[i] = new Item(head, rank[id], items[i].Position);
        }
        return starts;
    }

    /// <summary>Runs of ties are mostly a few keys (one identity's facts): sorted in place without boxing the comparer.</summary>
    private static void SortTies(Span<Item> run, TieComparer comparer)
    {
        if (run.Length > 16)
        {
            run.Sort(comparer);
            return;
        }
        for (var i = 1; i < run.Length; i++)
        {
            var item = run[i];
            var j = i - 1;
            while (j >= 0 && comparer.Compare(run[j], item) > 0)
            {
                run[j + 1] = run[j];
                j--;
            }
            run[j + 1] = item;
        }
    }

    /// <summary>The eight bytes of <paramref name="key"/> from <paramref name="start"/>, big-endian, zeros past its end.</summary>
    /// <remarks>
    /// A smaller number means a smaller key: at the first byte where two numbers differ either both keys
    /// have that byte, or the shorter key is a prefix of the other up to there (and sorts first). Equal
    /// numbers say nothing (a key that ends may tie with one that goes on with zeros).
    /// </remarks>
    private static ulong Head(ReadOnlySpan<byte> key, int start)
    {
        var rest = key[Math.Min(start, key.Length)..];
        if (rest.Length >= 8)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(rest);
        }
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        rest.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    /// <summary>A key's place in the sort: ordered by class rank, then head (equal pairs are ordered afterwards, by <see cref="TieComparer"/>).</summary>
    private readonly record struct Item(ulong Head, int Class, int Position) : IComparable<Item>
    {
        public int CompareTo(Item other) =>
            Class != other.Class ? (Class < other.Class ? -1 : 1)
            : Head != other.Head ? (Head < other.Head ? -1 : 1)
            : 0;
    }

    /// <summary>Orders keys of one class with equal heads: by the rest of the key, then by position.</summary>
    private readonly struct TieComparer(ReadOnlyMemory<byte>[] keys, int start, bool laterFirst) : IComparer<Item>
    {
        public int Compare(Item a, Item b)
        {
            var x = keys[a.Position].Span;
            var y = keys[b.Position].Span;
            var byKey = x[Math.Min(start, x.Length)..].SequenceCompareTo(y[Math.Min(start, y.Length)..]);
            if (byKey != 0)
            {
                return byKey;
            }
            return laterFirst ? b.Position.CompareTo(a.Position) : a.Position.CompareTo(b.Position);
        }
    }
}

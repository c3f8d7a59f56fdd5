using System.Buffers.Binary;

namespace Tessera.Storage.RocksDb;

/// <summary>
/// Sorts keys in RocksDB's order (bytewise) within groups (column families), equal keys by their
/// position. The keys of one kind share long starts (tag, sandbox, namespace, a common id prefix), so
/// comparing whole keys mostly walks equal bytes behind two pointers into memory spread over the whole
/// batch. Instead each key is put in a class (its group and first byte), each class's common start is
/// found in one pass, and each key gets the eight bytes after it as a number: most comparisons are
/// then of two numbers in the sorted array itself, and only equal numbers look at the keys.
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
        // A class per (group, first byte): its common start, found against its first key.
        var classOf = new Dictionary<long, int>();
        var names = new List<long>();
        var common = new List<int>();
        var firsts = new List<int>();
        var classes = new int[keys.Length];
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
            }
            else
            {
                common[id] = Math.Min(common[id], key.CommonPrefixLength(keys[firsts[id]].Span));
            }
            classes[i] = id;
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
        var items = new Item[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            items[i] = new Item(Head(keys[i].Span, common[classes[i]]), rank[classes[i]], i);
        }
        Array.Sort(items, new ItemComparer(keys, starts, laterFirst));
        var order = new int[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            order[i] = items[i].Position;
        }
        return order;
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

    private readonly record struct Item(ulong Head, int Class, int Position);

    private sealed class ItemComparer(ReadOnlyMemory<byte>[] keys, int[] starts, bool laterFirst) : IComparer<Item>
    {
        public int Compare(Item a, Item b)
        {
            if (a.Class != b.Class)
            {
                return a.Class < b.Class ? -1 : 1;
            }
            if (a.Head != b.Head)
            {
                return a.Head < b.Head ? -1 : 1;
            }
            // Equal up to the head's end (or one is a prefix of the other): the rest of the keys decide.
            var from = starts[a.Class];
            var x = keys[a.Position].Span;
            var y = keys[b.Position].Span;
            var byKey = x[Math.Min(from, x.Length)..].SequenceCompareTo(y[Math.Min(from, y.Length)..]);
            if (byKey != 0)
            {
                return byKey;
            }
            return laterFirst ? b.Position.CompareTo(a.Position) : a.Position.CompareTo(b.Position);
        }
    }
}

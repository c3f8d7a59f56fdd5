using FsCheck.Xunit;
using Tessera.Storage.RocksDb;

namespace Tessera.Storage.Tests;

/// <summary><see cref="KeyOrder"/> must give the order of a plain sort by (group, bytewise key, position).</summary>
public sealed class KeyOrderTests
{
    /// <summary>
    /// Keys built to stress the numbers it compares: long shared starts, keys that are prefixes of others,
    /// trailing zero bytes (which tie with a shorter key's padding), repeats, empty keys, several groups, and
    /// keys equal for many bytes past their class's common start (long runs of equal numbers).
    /// </summary>
    [Property(Replay = "(20261130,3)", MaxTest = 300, EndSize = 100_000_000)]
    public bool Gives_the_order_of_a_sort_by_group_key_and_position(int seed, bool laterFirst)
    {
        var random = new Random(seed);
        var count = random.Next(0, 400);
        var groups = new int[count];
        var keys = new ReadOnlyMemory<byte>[count];
        byte[][] starts = [[], [(byte)'r', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [(byte)'l', 0, (byte)'p', 0], [0, 0, 0],
            [(byte)'r', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]];
        for (var i = 0; i < count; i++)
        {
            groups[i] = random.Next(3) * 65_536;
            if (i > 0 && random.Next(6) == 0)
            {
                keys[i] = keys[random.Next(i)]; // a repeat
                continue;
            }
            var start = starts[random.Next(starts.Length)];
            var tail = new byte[random.Next(0, 12)];
            for (var b = 0; b < tail.Length; b++)
            {
                tail[b] = random.Next(3) == 0 ? (byte)0 : (byte)random.Next(0, 4);
            }
            keys[i] = (byte[])[.. start, .. tail];
        }
        var expected = Enumerable.Range(0, count).ToArray();
        Array.Sort(expected, (a, b) =>
        {
            var byGroup = groups[a].CompareTo(groups[b]);
            if (byGroup != 0)
            {
                return byGroup;
            }
            var byKey = keys[a].Span.SequenceCompareTo(keys[b].Span);
            return byKey != 0 ? byKey : laterFirst ? b.CompareTo(a) : a.CompareTo(b);
        });
        return KeyOrder.Sort(groups, keys, laterFirst).SequenceEqual(expected)
            && KeyOrder.Sort(groups: null, keys, laterFirst).SequenceEqual(Enumerable.Range(0, count).Order(Comparer<int>.Create((a, b) =>
            {
                var byKey = keys[a].Span.SequenceCompareTo(keys[b].Span);
                return byKey != 0 ? byKey : laterFirst ? b.CompareTo(a) : a.CompareTo(b);
            })));
    }
}

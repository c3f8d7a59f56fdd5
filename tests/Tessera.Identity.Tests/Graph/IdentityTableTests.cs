using FsCheck.Xunit;
using Tessera.Identity.Graph;

namespace Tessera.Identity.Tests.Graph;

/// <summary>The interning table against a plain dictionary, over every way it stores a value.</summary>
public sealed class IdentityTableTests
{
    private static readonly string Digest = new string('a', 32) + "0123456789abcdef0123456789abcdef";

    /// <summary>One of each storage: inline ASCII (short, at the 52-byte edge, one past it), packed and unpacked digests, non-ASCII.</summary>
    public static readonly TheoryData<string> Values = new(
        "",
        "tom@example.com",
        new string('x', 52),
        new string('x', 53),
        Digest,
        Digest.ToUpperInvariant(),
        Digest[..63] + "g",
        "zoë@example.com",
        "\ud83d\ude00 emoji");

    [Theory]
    [MemberData(nameof(Values))]
    public void Each_storage_finds_what_it_added_and_nothing_else(string value)
    {
        var table = new IdentityTable();
        Assert.Equal(-1, table.Find(0, value));
        Assert.Equal(7, table.GetOrAdd(0, value, 7, out var existed));
        Assert.False(existed);
        Assert.Equal(7, table.GetOrAdd(0, value, 8, out existed));
        Assert.True(existed);
        Assert.Equal(7, table.Find(0, value));
        Assert.Equal(-1, table.Find(1, value)); // Same value, other namespace.
        Assert.Equal(-1, table.Find(0, value + "1"));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void A_lowercase_digest_and_its_uppercase_spelling_are_two_values()
    {
        var table = new IdentityTable();
        table.GetOrAdd(0, Digest, 0, out _);
        table.GetOrAdd(0, Digest.ToUpperInvariant(), 1, out var existed);
        Assert.False(existed);
        Assert.Equal(0, table.Find(0, Digest));
        Assert.Equal(1, table.Find(0, Digest.ToUpperInvariant()));
    }

    [Fact]
    public void Growing_keeps_every_value()
    {
        var table = new IdentityTable();
        const int Count = 200_000;
        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(i, table.GetOrAdd(i % 3, Value(i), i, out var existed));
            Assert.False(existed);
        }
        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(i, table.Find(i % 3, Value(i)));
            Assert.Equal(-1, table.Find((i + 1) % 3, Value(i)));
        }
        Assert.Equal(Count, table.Count);

        static string Value(int i) => (i % 4) switch
        {
            0 => $"user{i}@example.com",
            1 => Convert.ToHexStringLower(BitConverter.GetBytes((long)i)).PadLeft(64, '0'),
            2 => $"{i}-{new string('x', 60)}",
            _ => $"é{i}",
        };
    }

    [Property(MaxTest = 300)]
    public bool Agrees_with_a_dictionary((byte Namespace, string? Value)[] operations)
    {
        var table = new IdentityTable();
        var reference = new Dictionary<(int, string), int>();
        foreach (var (ns, raw) in operations)
        {
            var value = raw ?? "";
            var expected = reference.TryGetValue((ns % 4, value), out var known) ? known : -1;
            if (table.Find(ns % 4, value) != expected)
            {
                return false;
            }
            var node = table.GetOrAdd(ns % 4, value, reference.Count, out var existed);
            if (existed != expected >= 0 || node != (existed ? expected : reference.Count))
            {
                return false;
            }
            reference.TryAdd((ns % 4, value), node);
        }
        return table.Count == reference.Count;
    }
}

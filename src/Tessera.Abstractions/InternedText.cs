using System.Collections.Concurrent;
using System.Text;

namespace Tessera.Abstractions;

/// <summary>
/// One string per distinct text, for names that come back in every key or value read (sandboxes, namespaces, datasets,
/// audience ids): decoding them anew made a string per read, and the streaming engine reads several keys per event
/// (BENCHMARKS.md, "Fewer allocations in the streaming engine"). Bounded: past <paramref name="capacity"/> texts, a new
/// one is decoded at each read. Not for values of high cardinality (identity values, event ids): they would fill it.
/// </summary>
public sealed class InternedText(int capacity)
{
    /// <summary>Longer texts are decoded at each read (their chars are decoded on the stack to look them up).</summary>
    private const int MostBytes = 256;

    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);
    private int _count; // The dictionary's own count takes every lock it has.

    /// <summary>The text of <paramref name="utf8"/>, the same string each time once it is known.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MostBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }
        Span<char> chars = stackalloc char[utf8.Length]; // UTF-8 never takes fewer bytes than UTF-16 takes chars.
        chars = chars[..Encoding.UTF8.GetChars(utf8, chars)];
        if (_texts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var known))
        {
            return known;
        }
        var text = new string(chars);
        if (Volatile.Read(ref _count) < capacity && _texts.TryAdd(text, text))
        {
            Interlocked.Increment(ref _count);
        }
        return text;
    }
}

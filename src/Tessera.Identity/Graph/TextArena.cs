using System.Text;

namespace Tessera.Identity.Graph;

/// <summary>
/// UTF-8 texts laid end to end in large chunks, each found by a handle (a <see cref="long"/>).
/// </summary>
/// <remarks>
/// A graph of ten million identities held as ten million strings (and as many record ids) keeps the
/// garbage collector busy promoting objects that all live as long as the graph, and an array of slots
/// that refer to strings is scanned at every collection. Here texts are bytes in a few hundred arrays
/// of 4 MiB, and what refers to them holds a number. A text is written once and never changed; one
/// that is no longer wanted stays until its owner rewrites the texts it still uses into a new arena.
/// </remarks>
internal sealed class TextArena
{
    public const long None = -1;

    private const int ChunkBytes = 4 << 20;

    private readonly List<byte[]> _chunks = [];
    private int _used = ChunkBytes; // full: the first text starts a chunk

    /// <summary>Bytes written so far, lengths included.</summary>
    public long Bytes { get; private set; }

    public long Append(ReadOnlySpan<byte> utf8)
    {
        var destination = Reserve(utf8.Length, out var handle);
        utf8.CopyTo(destination);
        return handle;
    }

    public long Append(string text)
    {
        var destination = Reserve(Encoding.UTF8.GetByteCount(text), out var handle);
        Encoding.UTF8.GetBytes(text, destination);
        return handle;
    }

    /// <summary>The text of a handle <see cref="Append(ReadOnlySpan{byte})"/> gave; valid as long as the arena.</summary>
    public ReadOnlySpan<byte> Get(long handle)
    {
        var chunk = _chunks[(int)(handle >> 32)];
        var at = (int)handle;
        var length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = chunk[at++];
            length |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                break;
            }
        }
        return chunk.AsSpan(at, length);
    }

    public string GetString(long handle) => Encoding.UTF8.GetString(Get(handle));

    /// <summary>Room for <paramref name="length"/> bytes after their length, in one chunk (a text longer than a chunk gets its own).</summary>
    private Span<byte> Reserve(int length, out long handle)
    {
        var needed = length + 5;
        if (_used + needed > ChunkBytes)
        {
            _chunks.Add(new byte[Math.Max(ChunkBytes, needed)]);
            _used = 0;
        }
        var chunk = _chunks[^1];
        handle = ((long)(_chunks.Count - 1) << 32) | (uint)_used;
        var at = _used;
        var remaining = (uint)length;
        while (remaining >= 0x80)
        {
            chunk[at++] = (byte)(remaining | 0x80);
            remaining >>= 7;
        }
        chunk[at++] = (byte)remaining;
        Bytes += at - _used + length;
        _used = at + length;
        return chunk.AsSpan(at, length);
    }
}

using System.Text;

namespace Tessera.Identity.Graph;

/// <summary>
/// The record ids links name (the record of each link's newest occurrence), as UTF-8 laid end to end
/// in large chunks. A string per link would put millions of references in the link array, which every
/// young-generation collection then scans as links change; here a link holds a number. An
/// occurrence's id is added once and shared by its links. Replaced ids stay behind as garbage until
/// the chunks hold twice what they held after the last compaction, when the owner copies the ids its
/// links still name into fresh chunks (<see cref="Compacted"/>). Not thread-safe.
/// </summary>
internal sealed class RecordIds
{
    public const long None = -1;
    private const int ChunkBytes = 4 << 20;

    private readonly List<byte[]> _chunks = [];
    private int _used;
    private long _bytes;
    private long _compactAt = 2L * ChunkBytes;

    /// <summary>Whether the garbage is worth a <see cref="Compacted"/> copy now.</summary>
    public bool ShouldCompact => _bytes > _compactAt;

    public long Add(string? record)
    {
        if (record is null)
        {
            return None;
        }
        var length = Encoding.UTF8.GetByteCount(record);
        var handle = Reserve(length, out var destination);
        Encoding.UTF8.GetBytes(record, destination);
        return handle;
    }

    /// <summary>Adds an id given as UTF-8; empty means none (the ledger writes a missing record as empty).</summary>
    public long Add(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return None;
        }
        var handle = Reserve(utf8.Length, out var destination);
        utf8.CopyTo(destination);
        return handle;
    }

    public string? Get(long handle) => handle == None ? null : Encoding.UTF8.GetString(Bytes(handle));

    private ReadOnlySpan<byte> Bytes(long handle)
    {
        var chunk = _chunks[(int)(handle >> 32)];
        var offset = (int)handle;
        var length = BitConverter.ToInt32(chunk, offset);
        return chunk.AsSpan(offset + sizeof(int), length);
    }

    private long Reserve(int length, out Span<byte> destination)
    {
        var needed = sizeof(int) + length;
        if (_chunks.Count == 0 || _used + needed > _chunks[^1].Length)
        {
            _chunks.Add(new byte[Math.Max(ChunkBytes, needed)]);
            _used = 0;
        }
        var chunk = _chunks[^1];
        BitConverter.TryWriteBytes(chunk.AsSpan(_used), length);
        destination = chunk.AsSpan(_used + sizeof(int), length);
        var handle = ((long)(_chunks.Count - 1) << 32) | (uint)_used;
        _used += needed;
        _bytes += needed;
        return handle;
    }

    /// <summary>
    /// Fresh chunks holding only the ids still named: <paramref name="handleOf"/> gives the handle of
    /// each of <paramref name="count"/> holders and <paramref name="moveTo"/> takes its new one (a
    /// handle met twice is copied once).
    /// </summary>
    public RecordIds Compacted(int count, Func<int, long> handleOf, Action<int, long> moveTo)
    {
        var copy = new RecordIds();
        var moved = new Dictionary<long, long>();
        for (var i = 0; i < count; i++)
        {
            var handle = handleOf(i);
            if (handle == None)
            {
                continue;
            }
            if (!moved.TryGetValue(handle, out var to))
            {
                to = copy.Add(Bytes(handle));
                moved.Add(handle, to);
            }
            moveTo(i, to);
        }
        copy._compactAt = Math.Max(2L * ChunkBytes, 2 * copy._bytes);
        return copy;
    }

    /// <summary>An independent copy (a graph derived under other rules keeps its own).</summary>
    public RecordIds Clone()
    {
        var copy = new RecordIds { _used = _used, _bytes = _bytes, _compactAt = _compactAt };
        copy._chunks.AddRange(_chunks.Select(c => (byte[])c.Clone()));
        return copy;
    }
}

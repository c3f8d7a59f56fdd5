using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Tessera.Identity.Graph;

/// <summary>
/// The stored form of the link ledger. An entry's key is <c>l\0{sandbox}\0{sequence, 8 bytes big-endian}</c>
/// on the shard of its primary identity, so it is written in the same commit (or bulk load) as the
/// fact that carried it; its value is compact binary: version, time, dataset, batch, record, identities. Version 2 is
/// version 1's layout for an entry whose first identity holds nothing (<see cref="LedgerEntry.FirstHolds"/> false).
/// </summary>
public static class LedgerCodec
{
    public const byte Tag = (byte)'l';
    private const byte Version = 1;
    private const byte FirstHoldsNothing = 2;

    public static byte[] SandboxPrefix(string sandbox) => [Tag, 0, .. Encoding.UTF8.GetBytes(sandbox), 0];

    /// <summary>Writes the key into <paramref name="output"/> without allocating; returns its length.</summary>
    public static int WriteKey(ArrayBufferWriter<byte> output, string sandbox, long sequence)
    {
        var length = 2 + Encoding.UTF8.GetByteCount(sandbox) + 1 + 8;
        var span = output.GetSpan(length);
        span[0] = Tag;
        span[1] = 0;
        var written = 2 + Encoding.UTF8.GetBytes(sandbox, span[2..]);
        span[written++] = 0;
        BinaryPrimitives.WriteInt64BigEndian(span[written..], sequence);
        output.Advance(length);
        return length;
    }

    public static long SequenceOf(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadInt64BigEndian(key[^8..]);

    public static void Encode(LedgerEntry entry, ArrayBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = entry.FirstHolds ? Version : FirstHoldsNothing;
        output.Advance(1);
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), entry.Time.UtcTicks);
        output.Advance(8);
        WriteString(output, entry.Dataset);
        WriteString(output, entry.Batch);
        WriteString(output, entry.Record ?? "");
        WriteCount(output, entry.Identities.Count);
        foreach (var identity in entry.Identities)
        {
            WriteString(output, identity.Namespace);
            WriteString(output, identity.Value);
        }
    }

    public static LedgerEntry Decode(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var entry = Read(key, value);
        var identities = new IdentityKey[entry.Count];
        var position = entry.IdentitiesAt;
        for (var i = 0; i < identities.Length; i++)
        {
            var ns = Encoding.UTF8.GetString(ReadBytes(value, ref position));
            identities[i] = new IdentityKey(ns, Encoding.UTF8.GetString(ReadBytes(value, ref position)));
        }
        var record = entry.Record.IsEmpty ? null : Encoding.UTF8.GetString(entry.Record);
        return new LedgerEntry(entry.Sequence, new DateTimeOffset(entry.Ticks, TimeSpan.Zero), Encoding.UTF8.GetString(entry.Dataset),
            Encoding.UTF8.GetString(entry.Batch), record, identities, entry.FirstHolds);
    }

    /// <summary>An entry read in place, its strings as UTF-8: a rebuild interns what it already knows without a string per identity.</summary>
    public static EncodedLedgerEntry Read(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value[0] is not (Version or FirstHoldsNothing))
        {
            throw new InvalidDataException($"identity ledger entry {SequenceOf(key)}: unknown format version {(value.IsEmpty ? -1 : value[0])}");
        }
        var position = 1;
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(value[position..]);
        position += 8;
        var dataset = ReadBytes(value, ref position);
        var batch = ReadBytes(value, ref position);
        var record = ReadBytes(value, ref position);
        var count = ReadCount(value, ref position);
        return new EncodedLedgerEntry(SequenceOf(key), ticks, dataset, batch, record, count, position, value[0] == Version);
    }

    /// <summary>The next (namespace, value) of an entry's identities, as UTF-8, from <paramref name="position"/> (start at <see cref="EncodedLedgerEntry.IdentitiesAt"/>).</summary>
    public static void ReadIdentity(ReadOnlySpan<byte> value, scoped ref int position, out ReadOnlySpan<byte> ns, out ReadOnlySpan<byte> identity)
    {
        ns = ReadBytes(value, ref position);
        identity = ReadBytes(value, ref position);
    }

    private static void WriteString(ArrayBufferWriter<byte> output, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteCount(output, length);
        Encoding.UTF8.GetBytes(text, output.GetSpan(length));
        output.Advance(length);
    }

    private static void WriteCount(ArrayBufferWriter<byte> output, int count)
    {
        var span = output.GetSpan(5);
        var written = 0;
        var remaining = (uint)count;
        while (remaining >= 0x80)
        {
            span[written++] = (byte)(remaining | 0x80);
            remaining >>= 7;
        }
        span[written++] = (byte)remaining;
        output.Advance(written);
    }

    private static int ReadCount(ReadOnlySpan<byte> value, scoped ref int position)
    {
        var result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = value[position++];
            result |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
        throw new InvalidDataException("identity ledger entry: malformed length");
    }

    private static ReadOnlySpan<byte> ReadBytes(ReadOnlySpan<byte> value, scoped ref int position)
    {
        var length = ReadCount(value, ref position);
        var bytes = value.Slice(position, length);
        position += length;
        return bytes;
    }
}

/// <summary>A ledger entry as stored (<see cref="LedgerCodec.Read"/>); its identities follow at <see cref="IdentitiesAt"/> in the stored value.</summary>
public readonly ref struct EncodedLedgerEntry(long sequence, long ticks, ReadOnlySpan<byte> dataset, ReadOnlySpan<byte> batch,
    ReadOnlySpan<byte> record, int count, int identitiesAt, bool firstHolds)
{
    public long Sequence { get; } = sequence;
    public long Ticks { get; } = ticks;
    public ReadOnlySpan<byte> Dataset { get; } = dataset;
    public ReadOnlySpan<byte> Batch { get; } = batch;
    /// <summary>Empty when the entry names no record.</summary>
    public ReadOnlySpan<byte> Record { get; } = record;
    public int Count { get; } = count;
    public int IdentitiesAt { get; } = identitiesAt;
    /// <summary>See <see cref="LedgerEntry.FirstHolds"/>.</summary>
    public bool FirstHolds { get; } = firstHolds;
}

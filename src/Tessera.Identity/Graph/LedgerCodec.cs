using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Tessera.Identity.Graph;

/// <summary>
/// The stored form of the link ledger. An entry's key is <c>l\0{sandbox}\0{sequence, 8 bytes big-endian}</c>
/// on the shard of its primary identity, so it is written in the same commit (or bulk load) as the
/// fact that carried it; its value is compact binary: version, time, dataset, batch, record, identities.
/// </summary>
public static class LedgerCodec
{
    public const byte Tag = (byte)'l';
    private const byte Version = 1;

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
        output.GetSpan(1)[0] = Version;
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
        if (value.IsEmpty || value[0] != Version)
        {
            throw new InvalidDataException($"identity ledger entry {SequenceOf(key)}: unknown format version {(value.IsEmpty ? -1 : value[0])}");
        }
        var position = 1;
        var time = new DateTimeOffset(BinaryPrimitives.ReadInt64LittleEndian(value[position..]), TimeSpan.Zero);
        position += 8;
        var dataset = ReadString(value, ref position);
        var batch = ReadString(value, ref position);
        var record = ReadString(value, ref position);
        var count = ReadCount(value, ref position);
        var identities = new IdentityKey[count];
        for (var i = 0; i < count; i++)
        {
            var ns = ReadString(value, ref position);
            identities[i] = new IdentityKey(ns, ReadString(value, ref position));
        }
        return new LedgerEntry(SequenceOf(key), time, dataset, batch, record.Length == 0 ? null : record, identities);
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

    private static int ReadCount(ReadOnlySpan<byte> value, ref int position)
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

    private static string ReadString(ReadOnlySpan<byte> value, ref int position)
    {
        var length = ReadCount(value, ref position);
        var text = Encoding.UTF8.GetString(value.Slice(position, length));
        position += length;
        return text;
    }
}

using System.Buffers.Binary;
using System.Text;
using Tessera.Abstractions;

namespace Tessera.Ingestion;

/// <summary>
/// Keys of stored facts. Strings are UTF-8 and never contain the separator byte 0; numbers are
/// 8-byte big-endian (so they sort as numbers):
/// <code>
/// record version   'r' 0 sandbox 0 namespace 0 value 0 dataset 0 batchId 0 row
/// event            'e' 0 sandbox 0 namespace 0 value 0 dataset 0 _id
/// timeline index   't' 0 sandbox 0 namespace 0 value 0 ticks dataset 0 _id     (empty value)
/// </code>
/// (namespace, value) is the fact's primary identity, and every key of one identity lives on that
/// identity's shard (<see cref="PartitionKey"/>), so a person's facts are prefix scans on one shard.
/// A profile record is stored as a new version per (batch, row): the profile view folds the versions
/// of a fragment (identity, dataset) newest last by (time, order, row) from the value. Re-running a
/// batch rewrites the same keys, and an event's key is its dedupe key (idempotent by construction).
/// The timeline index lists an identity's events by event time (UTC ticks) across datasets.
/// The link ledger ('l', Tessera.Identity) shares the fact shards.
/// </summary>
public static class FactKeys
{
    public const byte RecordTag = (byte)'r';
    public const byte EventTag = (byte)'e';
    public const byte TimelineTag = (byte)'t';
    private const byte Separator = 0;
    private const int NumberBytes = 8;

    /// <summary>The bytes the shard is chosen by: sandbox, namespace and value of the primary identity.</summary>
    public static int PartitionKey(Span<byte> destination, string sandbox, IdentityValue identity)
    {
        var length = Encoding.UTF8.GetBytes(sandbox, destination);
        destination[length++] = Separator;
        length += Encoding.UTF8.GetBytes(identity.Namespace, destination[length..]);
        destination[length++] = Separator;
        length += Encoding.UTF8.GetBytes(identity.Value, destination[length..]);
        return length;
    }

    /// <summary>Writes a record version's key; returns its length, and where the partition key is in it.</summary>
    public static int RecordKey(Span<byte> destination, string sandbox, IdentityValue identity, string dataset, string batchId, long row,
        out int partitionOffset, out int partitionLength)
    {
        var length = Head(destination, RecordTag, sandbox, identity, out partitionOffset, out partitionLength);
        length += Encoding.UTF8.GetBytes(dataset, destination[length..]);
        destination[length++] = Separator;
        length += Encoding.UTF8.GetBytes(batchId, destination[length..]);
        destination[length++] = Separator;
        BinaryPrimitives.WriteInt64BigEndian(destination[length..], row);
        return length + NumberBytes;
    }

    /// <summary>Writes an event's key; returns its length, and where the partition key is in it.</summary>
    public static int EventKey(Span<byte> destination, string sandbox, IdentityValue identity, string dataset, string eventId,
        out int partitionOffset, out int partitionLength)
    {
        var length = Head(destination, EventTag, sandbox, identity, out partitionOffset, out partitionLength);
        length += Encoding.UTF8.GetBytes(dataset, destination[length..]);
        destination[length++] = Separator;
        return length + Encoding.UTF8.GetBytes(eventId, destination[length..]);
    }

    /// <summary>Writes an event's timeline index key (<paramref name="ticks"/>: the event's timestamp, UTC ticks); returns its length.</summary>
    public static int TimelineKey(Span<byte> destination, string sandbox, IdentityValue identity, long ticks, string dataset, string eventId)
    {
        var length = Head(destination, TimelineTag, sandbox, identity, out _, out _);
        BinaryPrimitives.WriteInt64BigEndian(destination[length..], ticks);
        length += NumberBytes;
        length += Encoding.UTF8.GetBytes(dataset, destination[length..]);
        destination[length++] = Separator;
        return length + Encoding.UTF8.GetBytes(eventId, destination[length..]);
    }

    public static byte[] RecordKey(string sandbox, IdentityValue identity, string dataset, string batchId, long row)
    {
        var buffer = new byte[MaxKeyBytes(sandbox, identity, dataset, batchId)];
        return buffer[..RecordKey(buffer, sandbox, identity, dataset, batchId, row, out _, out _)];
    }

    public static byte[] EventKey(string sandbox, IdentityValue identity, string dataset, string eventId)
    {
        var buffer = new byte[MaxKeyBytes(sandbox, identity, dataset, eventId)];
        return buffer[..EventKey(buffer, sandbox, identity, dataset, eventId, out _, out _)];
    }

    public static byte[] TimelineKey(string sandbox, IdentityValue identity, long ticks, string dataset, string eventId)
    {
        var buffer = new byte[MaxKeyBytes(sandbox, identity, dataset, eventId)];
        return buffer[..TimelineKey(buffer, sandbox, identity, ticks, dataset, eventId)];
    }

    /// <summary>Upper bound of the size in bytes of any fact key with these strings (<paramref name="id"/>: the event id or the batch id).</summary>
    public static int MaxKeyBytes(string sandbox, IdentityValue identity, string dataset, string? id) =>
        8 + NumberBytes + Encoding.UTF8.GetMaxByteCount(sandbox.Length + identity.Namespace.Length + identity.Value.Length + dataset.Length + (id?.Length ?? 0));

    /// <summary>Prefix of every fact of one kind (<see cref="RecordTag"/>, <see cref="EventTag"/>, <see cref="TimelineTag"/>) in a sandbox, on any shard.</summary>
    public static byte[] SandboxPrefix(byte tag, string sandbox) => [tag, Separator, .. Encoding.UTF8.GetBytes(sandbox), Separator];

    /// <summary>Prefix of every fact of one kind of one identity in a sandbox (all datasets; for <see cref="TimelineTag"/>, in time order).</summary>
    public static byte[] IdentityPrefix(byte tag, string sandbox, IdentityValue identity)
    {
        var buffer = new byte[MaxKeyBytes(sandbox, identity, "", null)];
        return buffer[..Head(buffer, tag, sandbox, identity, out _, out _)];
    }

    /// <summary>
    /// Prefix of the record versions (<see cref="RecordTag"/>) or events (<see cref="EventTag"/>) of one
    /// identity in one dataset. (Timeline keys put the time before the dataset: they have no such prefix.)
    /// </summary>
    public static byte[] IdentityDatasetPrefix(byte tag, string sandbox, IdentityValue identity, string dataset)
    {
        if (tag is not (RecordTag or EventTag))
        {
            throw new ArgumentException($"only record and event keys have a dataset prefix, not '{(char)tag}'", nameof(tag));
        }
        var buffer = new byte[MaxKeyBytes(sandbox, identity, dataset, null)];
        var length = Head(buffer, tag, sandbox, identity, out _, out _);
        length += Encoding.UTF8.GetBytes(dataset, buffer.AsSpan(length));
        buffer[length++] = Separator;
        return buffer[..length];
    }

    /// <summary>
    /// The timeline position of <paramref name="ticks"/> for one identity: every timeline key of an
    /// event at or after that time sorts at or after it (a bound for <c>IStore.ScanReverse</c>'s <c>before</c>).
    /// </summary>
    public static byte[] TimelineAt(string sandbox, IdentityValue identity, long ticks)
    {
        var buffer = new byte[MaxKeyBytes(sandbox, identity, "", null)];
        var length = Head(buffer, TimelineTag, sandbox, identity, out _, out _);
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(length), ticks);
        return buffer[..(length + NumberBytes)];
    }

    /// <summary>
    /// The length of a record version key's fragment part: everything up to and including the
    /// separator after the dataset, shared by every version of the fragment (0 when it is no record key).
    /// </summary>
    public static int FragmentPrefixLength(ReadOnlySpan<byte> recordKey)
    {
        if (recordKey.Length < NumberBytes + 3 || recordKey[0] != RecordTag || recordKey[^(NumberBytes + 1)] != Separator)
        {
            return 0;
        }
        var batchStart = recordKey[..^(NumberBytes + 1)].LastIndexOf(Separator) + 1;
        return batchStart;
    }

    /// <summary>
    /// Decodes a fact key (record version, event or timeline index). Returns false for any other key
    /// (the link ledger's, a catalog key) or a malformed one.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> key, out ParsedFactKey parsed)
    {
        parsed = default;
        if (key.Length < 2 || key[0] is not (RecordTag or EventTag or TimelineTag) || key[1] != Separator)
        {
            return false;
        }
        var tag = key[0];
        var rest = key[2..];
        if (!TryParseIdentity(ref rest, out var sandbox, out var identity))
        {
            return false;
        }
        switch (tag)
        {
            case RecordTag:
                // The batch id is the part between the last two separators before the row.
                if (!Next(ref rest, Names, out var dataset) || rest.Length < NumberBytes + 2 || rest[^(NumberBytes + 1)] != Separator)
                {
                    return false;
                }
                var batch = rest[..^(NumberBytes + 1)];
                if (batch.Length == 0 || batch.IndexOf(Separator) >= 0)
                {
                    return false;
                }
                parsed = new ParsedFactKey(tag, sandbox, identity, dataset, EventId: null, Encoding.UTF8.GetString(batch),
                    BinaryPrimitives.ReadInt64BigEndian(rest[^NumberBytes..]), Ticks: 0);
                return true;
            case EventTag:
                if (!Next(ref rest, Names, out var eventDataset))
                {
                    return false;
                }
                parsed = new ParsedFactKey(tag, sandbox, identity, eventDataset, Encoding.UTF8.GetString(rest), BatchId: null, Row: 0, Ticks: 0);
                return true;
            default:
                if (rest.Length < NumberBytes)
                {
                    return false;
                }
                var ticks = BinaryPrimitives.ReadInt64BigEndian(rest);
                rest = rest[NumberBytes..];
                if (!Next(ref rest, Names, out var timelineDataset))
                {
                    return false;
                }
                parsed = new ParsedFactKey(tag, sandbox, identity, timelineDataset, Encoding.UTF8.GetString(rest), BatchId: null, Row: 0, ticks);
                return true;
        }
    }

    /// <summary>
    /// The sandbox and primary identity of a fact key (record version, event or timeline index), without decoding the
    /// rest; false for any other key or a malformed one.
    /// </summary>
    public static bool TryParseIdentity(ReadOnlySpan<byte> key, out string sandbox, out IdentityValue identity)
    {
        if (key.Length < 2 || key[0] is not (RecordTag or EventTag or TimelineTag) || key[1] != Separator)
        {
            (sandbox, identity) = ("", default);
            return false;
        }
        var rest = key[2..];
        return TryParseIdentity(ref rest, out sandbox, out identity);
    }

    private static bool TryParseIdentity(ref ReadOnlySpan<byte> rest, out string sandbox, out IdentityValue identity)
    {
        identity = default;
        if (!Next(ref rest, Names, out sandbox) || !Next(ref rest, Names, out var ns) || !Next(ref rest, null, out var value))
        {
            return false;
        }
        identity = new IdentityValue(ns, value, Primary: true);
        return true;
    }

    /// <summary>
    /// Sandboxes, namespaces and datasets as decoded from keys: a few names, in every key (identity values and event ids are
    /// decoded each time).
    /// </summary>
    private static readonly InternedText Names = new(4096);

    public static int ShardOf(string sandbox, IdentityValue identity, int shardCount)
    {
        Span<byte> buffer = stackalloc byte[MaxKeyBytes(sandbox, identity, "", null)];
        var length = PartitionKey(buffer, sandbox, identity);
        return Storage.Sharding.ShardOf(buffer[..length], shardCount);
    }

    /// <summary>tag 0 sandbox 0 namespace 0 value 0: the part every key of one identity and kind starts with.</summary>
    private static int Head(Span<byte> destination, byte tag, string sandbox, IdentityValue identity, out int partitionOffset, out int partitionLength)
    {
        destination[0] = tag;
        destination[1] = Separator;
        partitionOffset = 2;
        partitionLength = PartitionKey(destination[2..], sandbox, identity);
        var length = 2 + partitionLength;
        destination[length++] = Separator;
        return length;
    }

    /// <summary>Reads a string up to the next separator (from <paramref name="interned"/> when given) and moves past it.</summary>
    private static bool Next(ref ReadOnlySpan<byte> rest, InternedText? interned, out string text)
    {
        var end = rest.IndexOf(Separator);
        if (end < 0)
        {
            text = "";
            return false;
        }
        text = interned is null ? Encoding.UTF8.GetString(rest[..end]) : interned.Get(rest[..end]);
        rest = rest[(end + 1)..];
        return true;
    }
}

/// <summary>
/// A decoded fact key (<see cref="FactKeys.TryParse"/>). <see cref="Identity"/> is the fact's primary
/// identity. Per <see cref="Tag"/>: record versions have <see cref="BatchId"/> and <see cref="Row"/>;
/// events have <see cref="EventId"/>; timeline index keys have <see cref="Ticks"/> (the event's
/// timestamp, UTC) and <see cref="EventId"/>. The fields a kind does not have are null or 0.
/// </summary>
public readonly record struct ParsedFactKey(byte Tag, string Sandbox, IdentityValue Identity, string Dataset, string? EventId, string? BatchId, long Row, long Ticks)
{
    /// <summary>A timeline key's event time.</summary>
    public DateTimeOffset Timestamp => new(Ticks, TimeSpan.Zero);
}

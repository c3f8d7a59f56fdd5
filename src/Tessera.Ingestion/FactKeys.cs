using System.Text;
using Tessera.Abstractions;

namespace Tessera.Ingestion;

/// <summary>
/// Keys of stored facts. A record fragment is keyed by (sandbox, primary identity, dataset); an
/// event by (sandbox, primary identity, dataset, _id). Both live on the shard of their primary
/// identity, so a person's facts are one prefix scan on one shard and re-ingesting the same
/// record or event overwrites the same key (idempotent by construction).
/// </summary>
public static class FactKeys
{
    public const byte RecordTag = (byte)'r';
    public const byte EventTag = (byte)'e';
    private const byte Separator = 0;

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

    /// <summary>Writes the fact key into <paramref name="destination"/>; returns its length and the partition key's.</summary>
    public static int FactKey(Span<byte> destination, byte tag, string sandbox, IdentityValue identity, string dataset, string? eventId, out int partitionOffset, out int partitionLength)
    {
        destination[0] = tag;
        destination[1] = Separator;
        partitionOffset = 2;
        partitionLength = PartitionKey(destination[2..], sandbox, identity);
        var length = 2 + partitionLength;
        destination[length++] = Separator;
        length += Encoding.UTF8.GetBytes(dataset, destination[length..]);
        if (eventId is not null)
        {
            destination[length++] = Separator;
            length += Encoding.UTF8.GetBytes(eventId, destination[length..]);
        }
        return length;
    }

    /// <summary>Upper bound of a fact key's size in bytes.</summary>
    public static int MaxKeyBytes(string sandbox, IdentityValue identity, string dataset, string? eventId) =>
        8 + Encoding.UTF8.GetMaxByteCount(sandbox.Length + identity.Namespace.Length + identity.Value.Length + dataset.Length + (eventId?.Length ?? 0));

    /// <summary>Prefix of every fact of one kind (<see cref="RecordTag"/> or <see cref="EventTag"/>) in a sandbox, on any shard.</summary>
    public static byte[] SandboxPrefix(byte tag, string sandbox) => [tag, Separator, .. Encoding.UTF8.GetBytes(sandbox), Separator];

    /// <summary>Prefix of every fact of one identity in a sandbox (records and events of all datasets).</summary>
    public static byte[] IdentityPrefix(byte tag, string sandbox, IdentityValue identity)
    {
        var buffer = new byte[MaxKeyBytes(sandbox, identity, "", null)];
        buffer[0] = tag;
        buffer[1] = Separator;
        var length = 2 + PartitionKey(buffer.AsSpan(2), sandbox, identity);
        buffer[length++] = Separator;
        return buffer[..length];
    }

    public static int ShardOf(string sandbox, IdentityValue identity, int shardCount)
    {
        Span<byte> buffer = stackalloc byte[MaxKeyBytes(sandbox, identity, "", null)];
        var length = PartitionKey(buffer, sandbox, identity);
        return Storage.Sharding.ShardOf(buffer[..length], shardCount);
    }
}

using System.Buffers.Binary;
using System.Text;
using Tessera.Storage;

namespace Tessera.Segmentation.Estimates;

/// <summary>An audience's size at one instant: its members when a batch run finished.</summary>
public sealed record AudienceSize(DateTimeOffset At, long Members);

/// <summary>
/// Per-audience size history: one entry per batch run, kept in the catalog space (shard 0) under
/// <c>segsize\0{sandbox}\0{audience}\0{ticks, big-endian}</c>, so that a prefix scan reads an
/// audience's history oldest first. Nothing prunes it yet: a run a day is a few KB a year.
/// </summary>
public sealed class AudienceSizeHistory(IStore store)
{
    private static readonly byte[] Prefix = "segsize\0"u8.ToArray();

    /// <summary>Records the sizes of a batch run's audiences at <paramref name="at"/>, in one commit.</summary>
    public async Task RecordAsync(string sandbox, DateTimeOffset at, IReadOnlyDictionary<string, int> members, CancellationToken cancellationToken = default)
    {
        if (members.Count == 0)
        {
            return;
        }
        using var writes = new WriteSet(256 * members.Count);
        foreach (var (audience, count) in members)
        {
            var key = AudiencePrefix(sandbox, audience);
            var full = new byte[key.Length + 8];
            key.CopyTo(full, 0);
            BinaryPrimitives.WriteInt64BigEndian(full.AsSpan(key.Length), at.UtcTicks);
            var value = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(value, count);
            writes.Put(StoreSpace.Catalog, 0, full, value);
        }
        await store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The audience's recorded sizes, oldest first.</summary>
    public List<AudienceSize> History(string sandbox, string audienceId)
    {
        var prefix = AudiencePrefix(sandbox, audienceId);
        var result = new List<AudienceSize>();
        foreach (var (key, value) in store.Scan(StoreSpace.Catalog, 0, prefix))
        {
            var ticks = BinaryPrimitives.ReadInt64BigEndian(key.AsSpan(prefix.Length));
            result.Add(new AudienceSize(new DateTimeOffset(ticks, TimeSpan.Zero), BinaryPrimitives.ReadInt64BigEndian(value)));
        }
        return result;
    }

    private static byte[] AudiencePrefix(string sandbox, string audienceId) =>
        [.. Prefix, .. Encoding.UTF8.GetBytes(sandbox), 0, .. Encoding.UTF8.GetBytes(audienceId), 0];
}

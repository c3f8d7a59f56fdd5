namespace Tessera.Storage;

/// <summary>
/// Where a key lives. Facts (records and events) are partitioned into shards by a stable hash of
/// their partition key; catalog and quarantine are small and unsharded. Memberships (audience
/// memberships and, in a space of its own, their change feed, Tessera.Segmentation) are unsharded: each sandbox's feed is
/// one ordered sequence written by one writer.
/// </summary>
public enum StoreSpace : byte
{
    Catalog = 0,
    Quarantine = 1,
    Facts = 2,
    Memberships = 3,
    /// <summary>Destination state, delivery runs, the audit log and dead letters (activation).</summary>
    Activation = 4,
    /// <summary>
    /// The membership change feed, apart from the memberships it describes: it is only appended to and cut
    /// from its start, so its files never overlap and are never rewritten by compaction.
    /// </summary>
    MembershipFeed = 5,
}

/// <summary>
/// The narrow storage contract every backend implements. Reads are point gets and ordered prefix
/// scans; writes go through <see cref="CommitAsync"/>, which completes only once the whole set is
/// durable (atomic within one backend instance).
/// </summary>
public interface IStore : IDisposable
{
    int ShardCount { get; }

    /// <summary>
    /// Durably and atomically applies <paramref name="writes"/>. The set must not be changed or
    /// disposed until the returned task completes. <paramref name="cancellationToken"/> can only
    /// stop a commit before it is queued; a queued commit always runs to its real outcome. Sets
    /// that write a key in common apply in the order of their calls; sets with no key in common
    /// may become visible (and durable) in either order until both tasks complete.
    /// </summary>
    Task CommitAsync(WriteSet writes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Durably applies many sets at once, for a file batch that has passed validation. Not atomic:
    /// fact puts may land shard by shard; every other operation (catalog, quarantine, deletes) is
    /// applied after them in one atomic commit, so a status written there turns true only once the
    /// facts are durable. A later operation on the same key wins over an earlier one. A caller
    /// interrupted by a crash must be able to run it again (idempotent keys).
    /// </summary>
    Task BulkLoadAsync(IReadOnlyList<WriteSet> sets, CancellationToken cancellationToken = default);

    byte[]? Get(StoreSpace space, int shard, ReadOnlySpan<byte> key);

    bool Exists(StoreSpace space, int shard, ReadOnlySpan<byte> key);

    /// <summary>All entries whose key starts with <paramref name="prefix"/>, in key order.</summary>
    IEnumerable<KeyValuePair<byte[], byte[]>> Scan(StoreSpace space, int shard, byte[] prefix);

    /// <summary>
    /// Visits the entries whose key starts with <paramref name="prefix"/>, in key order, without
    /// copying them: the spans are valid only during the call. <paramref name="visit"/> returns false to stop.
    /// For reads of many small entries (a profile's timeline), where a copy per key would dominate.
    /// </summary>
    void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, EntryVisitor visit);

    /// <summary>
    /// As <see cref="Scan(StoreSpace, int, ReadOnlySpan{byte}, EntryVisitor)"/>, starting at the first key at or
    /// above <paramref name="from"/> (a cursor into a long ordered range, such as a change feed).
    /// The default skips the keys below <paramref name="from"/>; a backend with seekable iterators seeks.
    /// </summary>
    void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> from, EntryVisitor visit)
    {
        var start = from.ToArray();
        Scan(space, shard, prefix, (key, value) => key.SequenceCompareTo(start) < 0 || visit(key, value));
    }

    /// <summary>
    /// As <see cref="Scan(StoreSpace, int, ReadOnlySpan{byte}, ReadOnlySpan{byte}, EntryVisitor)"/>, for a pass over much of
    /// the store that reads each entry once (a batch run's ranges, the identity ledger at start, expiry): the backend
    /// need not keep what it reads for later reads. RocksDB leaves the blocks out of its block cache, so such a pass
    /// neither evicts the blocks live reads use nor grows the cache block by block (a quick batch run spent a fifth of its
    /// CPU doing so, a full-size one a twelfth: BENCHMARKS.md, "A batch run's blocks kept out of the cache").
    /// </summary>
    void ScanOnce(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> from, EntryVisitor visit) =>
        Scan(space, shard, prefix, from, visit);

    /// <summary>As <see cref="ScanOnce(StoreSpace, int, ReadOnlySpan{byte}, ReadOnlySpan{byte}, EntryVisitor)"/> from the prefix's first key.</summary>
    void ScanOnce(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, EntryVisitor visit) => ScanOnce(space, shard, prefix, prefix, visit);

    /// <summary>
    /// Asks the backend to reclaim the space of deleted keys that start with <paramref name="prefix"/> now, after a
    /// rewrite deleted most of them at once: until then a scan that starts among them steps over each deleted key (a
    /// backend without such markers does nothing). Returns when done.
    /// </summary>
    void CompactPrefix(StoreSpace space, int shard, ReadOnlySpan<byte> prefix)
    {
    }

    /// <summary>
    /// Entries whose key starts with <paramref name="prefix"/>, in descending key order, starting
    /// below <paramref name="before"/> when given (a cursor: the last key of the previous page).
    /// </summary>
    IEnumerable<KeyValuePair<byte[], byte[]>> ScanReverse(StoreSpace space, int shard, byte[] prefix, byte[]? before = null);
}

/// <summary>Sees one entry of a scan; the spans are valid only during the call. Returns false to stop the scan.</summary>
public delegate bool EntryVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

/// <summary>Stable shard assignment shared by every backend (FNV-1a 64 over the partition key).</summary>
public static class Sharding
{
    public static int ShardOf(ReadOnlySpan<byte> partitionKey, int shardCount)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offset;
        foreach (var b in partitionKey)
        {
            hash ^= b;
            hash *= prime;
        }
        return (int)(hash % (ulong)shardCount);
    }
}

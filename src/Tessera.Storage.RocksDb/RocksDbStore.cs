using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using RocksDbSharp;

namespace Tessera.Storage.RocksDb;

/// <summary>
/// The embedded backend: one RocksDB database with a column family per space and per fact shard.
/// A store created before a space existed gains its column family, empty, when next opened.
/// Commits from every caller are grouped into synced writes (group commit), so many small
/// acknowledged writes share one fsync. Several committer threads write at once: RocksDB joins
/// their writes into one log write and sync, inserts them into the memtables in parallel, and
/// (pipelined writes) writes the next group's log while the previous group is still being
/// inserted. One thread did all of that in turn: the store alone commits up to 50 % more events a
/// second with four (BENCHMARKS.md, "Four committers"). Sets that share a key are applied in the
/// order they were committed: a group waits for every earlier group in flight that writes one of
/// its keys. Sets with no key in common may become visible in either order.
/// </summary>
public sealed class RocksDbStore : IStore
{
    private const string LayoutFile = "layout.json";
    private const string BulkDirectory = "bulk";
    private const ulong WriteBufferBytes = 16UL * 1024 * 1024;
    private const ulong MembershipWriteBufferBytes = 64UL * 1024 * 1024;
    private readonly RocksDbSharp.RocksDb _db;
    private readonly string _path;
    private readonly ColumnFamilyHandle _catalog;
    private readonly ColumnFamilyHandle _quarantine;
    private readonly ColumnFamilyHandle _memberships;
    private readonly ColumnFamilyHandle _membershipFeed;
    private readonly ColumnFamilyHandle _activation;
    private readonly ColumnFamilyHandle[] _facts;
    private readonly ColumnFamilyOptions _factFileOptions;
    private readonly WriteOptions _syncWrite = new WriteOptions().SetSync(true);
    private readonly ReadOptions _read = new();
    private readonly ConcurrentQueue<ScanOptions> _scanOptions = new();
    private readonly ConcurrentQueue<ScanOptions> _scanOnceOptions = new();

    // RocksDbSharp frees an options object's native half in its finalizer, and an object built inline
    // for one call is unreachable while that call still runs: a bulk load under GC pressure failed with
    // RocksDB reading freed options ("`move_files` and `link_files` can not both be true"). Fields keep
    // them alive as long as the store.
    private readonly EnvOptions _envOptions = new();
    private readonly IngestExternalFileOptions _moveOnIngest = new IngestExternalFileOptions().SetMoveFiles(true);
    private readonly Channel<PendingCommit> _pending = Channel.CreateUnbounded<PendingCommit>(
        new UnboundedChannelOptions { SingleReader = false });
    private readonly Thread[] _committers;
    private readonly int _maxGroupBytes;

    // Held by the committer forming the next group until that group may be written: groups are formed, and
    // their turns decided, in commit order.
    private readonly Lock _forming = new();

    // The keys of the groups being written (hashed with their space and shard; a collision only makes a group
    // wait), each with the number of in-flight writes of it. Guarded by itself; pulsed when a group is done.
    private readonly Dictionary<ulong, int> _keysInFlight = [];
    private int _disposed;
    private long _syncedWrites;

    private RocksDbStore(string path, int shardCount, int maxGroupBytes, long maxWalBytes, int committers)
    {
        _path = path;
        ShardCount = shardCount;
        _maxGroupBytes = maxGroupBytes;
        // A write-ahead log file is kept until every column family's data in it is flushed. The catalog's and the
        // quarantine's memtables rarely fill, so by default (four times all memtables: 1.7 GB here) a log written
        // once at a batch's start kept every later log alive, and the next open replayed them all: 2.4 GB, 5 s of a
        // 24 s restart after one large file batch (BENCHMARKS.md, "A real restart"). Past this size RocksDB
        // flushes the families that hold the oldest log instead.
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .SetMaxTotalWalSize((ulong)maxWalBytes)
            .IncreaseParallelism(Environment.ProcessorCount);
        Native.Instance.rocksdb_options_set_enable_pipelined_write(options.Handle, 1);
        var families = new ColumnFamilies();
        var tableOptions = new BlockBasedTableOptions()
            .SetFilterPolicy(BloomFilterPolicy.Create(10, false))
            .SetWholeKeyFiltering(true);
        // 16 MB memtables: inserting into a skip list costs cache misses that grow with its size, and
        // ingestion is bound by those inserts; with 16 MB instead of 64 MB the store commits about
        // 1.5x more facts per second (BENCHMARKS.md, "store commits only"), for more, smaller flushes.
        ColumnFamilyOptions FamilyOptions() => new ColumnFamilyOptions()
            .SetBlockBasedTableFactory(tableOptions)
            .SetCompression(Compression.Lz4)
            .SetWriteBufferSize(WriteBufferBytes);
        // Every streamed event asks whether its key is already stored, and almost never is: a bloom filter
        // over the memtable's whole keys answers such a miss without walking the skip list (streaming
        // ingestion 5-10 % faster, BENCHMARKS.md).
        ColumnFamilyOptions FactFamilyOptions()
        {
            var options = FamilyOptions().SetMemtablePrefixBloomSizeRatio(0.05);
            Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(options.Handle, 1);
            return options;
        }
        // A bulk load writes its files with the facts' own table options: with the default ones they had
        // no bloom filter, and every dedupe lookup of a later batch read and decompressed a block of each.
        _factFileOptions = FamilyOptions();
        families.Add("catalog", FamilyOptions());
        families.Add("quarantine", FamilyOptions());
        // A batch run writes millions of memberships spread over the whole key range, so every flushed file
        // overlaps all the compacted data and each compaction rewrites it all. Waiting for 16 files instead of
        // 4 (with one key per profile instead of per membership) took the compactions of a 1,000,000-profile
        // first run from 160 s of CPU to 63 s (BENCHMARKS.md). Point reads go through each file's bloom filter,
        // so the extra files cost them little. For the same reason its memtables are four times the others': a
        // quarter as many such files per run, each compaction merging more of the run's writes at once (a second
        // full run over 1,000,000 profiles: 11-13 % less CPU, 5-8 % less time; up to 96 MB more memory).
        families.Add("memberships", FamilyOptions().SetWriteBufferSize(MembershipWriteBufferBytes)
            .SetLevel0FileNumCompactionTrigger(16).SetLevel0SlowdownWritesTrigger(48).SetLevel0StopWritesTrigger(64));
        families.Add("membership-feed", FamilyOptions());
        families.Add("activation", FamilyOptions());
        for (var i = 0; i < shardCount; i++)
        {
            families.Add(FactFamily(i), FactFamilyOptions());
        }
        _db = RocksDbSharp.RocksDb.Open(options, path, families);
        // Files of a bulk load that a crash interrupted before RocksDB took them in: their batch is
        // re-run at recovery, so they are of no use.
        if (Directory.Exists(Path.Combine(path, BulkDirectory)))
        {
            foreach (var leftover in Directory.GetFiles(Path.Combine(path, BulkDirectory), "*.sst"))
            {
                File.Delete(leftover);
            }
        }
        _catalog = _db.GetColumnFamily("catalog");
        _quarantine = _db.GetColumnFamily("quarantine");
        _memberships = _db.GetColumnFamily("memberships");
        _membershipFeed = _db.GetColumnFamily("membership-feed");
        _activation = _db.GetColumnFamily("activation");
        _facts = new ColumnFamilyHandle[shardCount];
        for (var i = 0; i < shardCount; i++)
        {
            _facts[i] = _db.GetColumnFamily(FactFamily(i));
        }
        _committers = new Thread[committers];
        for (var i = 0; i < committers; i++)
        {
            _committers[i] = new Thread(CommitLoop) { IsBackground = true, Name = $"tessera-group-commit-{i}" };
            _committers[i].Start();
        }
    }

    public int ShardCount { get; }

    /// <summary>Below this many fact puts, <see cref="BulkLoadAsync"/> commits through the WAL as usual.</summary>
    public int BulkLoadThreshold { get; set; } = 50_000;

    /// <summary>
    /// Large loads bypass the WAL and the memtables, which are what a put costs here: each shard's
    /// puts are sorted, written to an SST file and handed to RocksDB (IngestExternalFile syncs the
    /// file and the manifest before it returns). Shards are built in parallel. The remaining
    /// operations (catalog, quarantine, deletes) then commit through the group commit, after the facts.
    /// </summary>
    public async Task BulkLoadAsync(IReadOnlyList<WriteSet> sets, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // Counted first so that each shard's puts go into arrays of their exact size: lists doubling as they fill
        // copied and first touched about twice the memory (a file batch of millions of rows).
        var perShardCount = new int[ShardCount];
        var factPuts = 0L;
        foreach (var set in sets)
        {
            for (var i = 0; i < set.Count; i++)
            {
                var op = set[i];
                if (op.Space == StoreSpace.Facts && !op.IsDelete)
                {
                    perShardCount[op.Shard]++;
                    factPuts++;
                }
            }
        }
        if (factPuts < BulkLoadThreshold)
        {
            foreach (var set in sets)
            {
                await CommitAsync(set, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        var keys = new ReadOnlyMemory<byte>[ShardCount][];
        var values = new ReadOnlyMemory<byte>[ShardCount][];
        for (var shard = 0; shard < ShardCount; shard++)
        {
            keys[shard] = new ReadOnlyMemory<byte>[perShardCount[shard]];
            values[shard] = new ReadOnlyMemory<byte>[perShardCount[shard]];
            perShardCount[shard] = 0;
        }
        using var rest = new WriteSet(64 * 1024);
        foreach (var set in sets)
        {
            for (var i = 0; i < set.Count; i++)
            {
                var op = set[i];
                if (op.Space == StoreSpace.Facts && !op.IsDelete)
                {
                    var at = perShardCount[op.Shard]++;
                    keys[op.Shard][at] = op.Key;
                    values[op.Shard][at] = op.Value;
                }
                else if (op.IsDelete)
                {
                    rest.Delete(op.Space, op.Shard, op.Key.Span);
                }
                else
                {
                    rest.Put(op.Space, op.Shard, op.Key.Span, op.Value.Span);
                }
            }
        }
        var directory = Path.Combine(_path, BulkDirectory);
        Directory.CreateDirectory(directory);
        await Parallel.ForAsync(0, ShardCount, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            (shard, _) =>
            {
                LoadShard(shard, keys[shard], values[shard], Path.Combine(directory, $"{Guid.NewGuid():N}.sst"));
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        await CommitAsync(rest, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="keys">The shard's fact keys in commit order, <paramref name="values"/> beside them.</param>
    private unsafe void LoadShard(int shard, ReadOnlyMemory<byte>[] keys, ReadOnlyMemory<byte>[] values, string file)
    {
        if (keys.Length == 0)
        {
            return;
        }
        // Sorted by key, the later of two equal keys first, so that writing the first of each run keeps the latest.
        var sorted = KeyOrder.Sort(groups: null, keys, laterFirst: true);
        using (var writer = new SstFileWriter(_envOptions, _factFileOptions))
        {
            writer.Open(file);
            ReadOnlySpan<byte> previous = default;
            var first = true;
            foreach (var position in sorted)
            {
                var key = keys[position].Span;
                if (!first && key.SequenceEqual(previous))
                {
                    continue;
                }
                first = false;
                previous = key;
                var value = values[position].Span;
                fixed (byte* k = key)
                fixed (byte* v = value)
                {
                    Native.Instance.rocksdb_sstfilewriter_put(writer.Handle, k, (UIntPtr)key.Length, v, (UIntPtr)value.Length);
                }
            }
            writer.Finish();
        }
        _db.IngestExternalFiles([file], _moveOnIngest, _facts[shard]);
    }

    /// <summary>
    /// Opens (or creates) the store in <paramref name="path"/>. The shard count is fixed when the
    /// store is created and recorded beside it; later opens use the recorded count.
    /// </summary>
    /// <param name="maxWalBytes">The write-ahead log's size past which the oldest log's column families are flushed: about what an open replays at most.</param>
    /// <param name="committers">Threads writing groups of commits at once (see the type's remarks).</param>
    public static RocksDbStore Open(string path, int shardCountIfNew = 8, int maxGroupBytes = 32 * 1024 * 1024, long maxWalBytes = DefaultMaxWalBytes,
        int committers = DefaultCommitters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWalBytes, 1L << 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(committers, 1);
        Directory.CreateDirectory(path);
        var layoutPath = Path.Combine(path, LayoutFile);
        int shards;
        if (File.Exists(layoutPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(layoutPath));
            shards = doc.RootElement.GetProperty("shards").GetInt32();
        }
        else
        {
            if (shardCountIfNew is < 1 or > 1024)
            {
                throw new ArgumentOutOfRangeException(nameof(shardCountIfNew), "shard count must be 1..1024");
            }
            shards = shardCountIfNew;
            var temp = layoutPath + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes($"{{\"shards\":{shards}}}\n"));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, layoutPath, overwrite: true);
        }
        return new RocksDbStore(path, shards, maxGroupBytes, maxWalBytes, committers);
    }

    /// <summary>The default of <c>Open</c>'s <c>committers</c>: 4 (on 2 cores, 4 and 8 measured alike).</summary>
    public const int DefaultCommitters = 4;

    /// <summary>The default of <c>Open</c>'s <c>maxWalBytes</c>: 256 MiB.</summary>
    public const long DefaultMaxWalBytes = 256L << 20;

    /// <summary>Number of synced writes made so far; each covers one or more grouped commits.</summary>
    public long SyncedWrites => Interlocked.Read(ref _syncedWrites);

    /// <remarks>
    /// The cancellation token is honoured only before the set is queued: once queued, the set is
    /// written (the caller must not touch it until the task completes), so the task then reports
    /// the real outcome rather than an early cancellation that would hide a durable write.
    /// </remarks>
    public Task CommitAsync(WriteSet writes, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (writes.MaxFactShard >= ShardCount)
        {
            // Refused here, not in the committer, so that one bad set cannot fail the group it would share.
            throw new ArgumentOutOfRangeException(nameof(writes), $"fact shard {writes.MaxFactShard} does not exist (the store has {ShardCount} shards)");
        }
        if (writes.Count == 0)
        {
            return Task.CompletedTask;
        }
        var pending = new PendingCommit(writes);
        if (!_pending.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(RocksDbStore));
        }
        return pending.Completion.Task;
    }

    public byte[]? Get(StoreSpace space, int shard, ReadOnlySpan<byte> key) => _db.Get(key, Family(space, shard), _read);

    public bool Exists(StoreSpace space, int shard, ReadOnlySpan<byte> key) => _db.HasKey(key, Family(space, shard), _read);

    /// <summary>The bytes of blocks the space's (shard's) block cache holds (a diagnostic).</summary>
    public long BlockCacheBytes(StoreSpace space, int shard) =>
        long.Parse(_db.GetProperty("rocksdb.block-cache-usage", Family(space, shard)), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>RocksDB's table properties summed over a space's files on one shard (diagnostics: entries, blocks, filter sizes).</summary>
    public string? TableProperties(StoreSpace space, int shard) => _db.GetProperty("rocksdb.aggregated-table-properties", Family(space, shard));

    /// <summary>
    /// Whether a memtable waits to be flushed or a flush is running (tests: a write-ahead log file is deleted once every
    /// family with data in it is flushed, in the background).
    /// </summary>
    internal bool FlushesPending()
    {
        if (_db.GetProperty("rocksdb.num-running-flushes") != "0")
        {
            return true;
        }
        ColumnFamilyHandle[] families = [_catalog, _quarantine, _memberships, _membershipFeed, _activation, .. _facts];
        return families.Any(family => _db.GetProperty("rocksdb.mem-table-flush-pending", family) != "0");
    }

    public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(StoreSpace space, int shard, byte[] prefix)
    {
        var scan = RentScan(prefix, once: false);
        try
        {
            using var iterator = _db.NewIterator(Family(space, shard), scan.Read);
            for (iterator.Seek(prefix); iterator.Valid(); iterator.Next())
            {
                var key = iterator.Key();
                if (!key.AsSpan().StartsWith(prefix))
                {
                    yield break;
                }
                yield return new KeyValuePair<byte[], byte[]>(key, iterator.Value());
            }
        }
        finally
        {
            ReturnScan(scan);
        }
    }

    public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, EntryVisitor visit) =>
        Scan(once: false, space, shard, prefix, prefix, visit);

    public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> from, EntryVisitor visit) =>
        Scan(once: false, space, shard, prefix, from, visit);

    public void ScanOnce(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> from, EntryVisitor visit) =>
        Scan(once: true, space, shard, prefix, from, visit);

    private void Scan(bool once, StoreSpace space, int shard, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> from, EntryVisitor visit)
    {
        var scan = RentScan(prefix, once);
        try
        {
            using var iterator = _db.NewIterator(Family(space, shard), scan.Read);
            // Seeking below the prefix would only walk keys the prefix check then stops at.
            iterator.Seek(from.SequenceCompareTo(prefix) > 0 ? from : prefix);
            for (; iterator.Valid(); iterator.Next())
            {
                var key = iterator.GetKeySpan();
                if (!key.StartsWith(prefix) || !visit(key, iterator.GetValueSpan()))
                {
                    return;
                }
            }
        }
        finally
        {
            ReturnScan(scan);
        }
    }

    public void CompactPrefix(StoreSpace space, int shard, ReadOnlySpan<byte> prefix)
    {
        var start = prefix.ToArray();
        _db.CompactRange(start, Successor(start), Family(space, shard));
    }

    public IEnumerable<KeyValuePair<byte[], byte[]>> ScanReverse(StoreSpace space, int shard, byte[] prefix, byte[]? before = null)
    {
        using var iterator = _db.NewIterator(Family(space, shard), _read);
        if (before is not null)
        {
            iterator.SeekForPrev(before);
            if (iterator.Valid() && iterator.Key().AsSpan().SequenceEqual(before))
            {
                iterator.Prev();
            }
        }
        else
        {
            iterator.SeekForPrev(Successor(prefix));
        }
        for (; iterator.Valid(); iterator.Prev())
        {
            var key = iterator.Key();
            if (!key.AsSpan().StartsWith(prefix))
            {
                if (key.AsSpan().SequenceCompareTo(prefix) < 0)
                {
                    yield break;
                }
                continue; // the successor itself, or a key above the prefix range
            }
            yield return new KeyValuePair<byte[], byte[]>(key, iterator.Value());
        }
    }

    /// <summary>
    /// Options for a scan of <paramref name="prefix"/>, bounded above by the prefix's successor: its iterator stops where the
    /// prefix ends instead of stepping over the deleted keys after it to the next live one (after an upgrade deleted ten
    /// million memberships, 100,000 reads of a profile's memberships, which scan the 50 keys before them, had not finished in
    /// two minutes, and took 4.5 s bounded: BENCHMARKS.md, "One key per
    /// profile"). Taken from a pool and given back with <see cref="ReturnScan"/> once the iterator is disposed.
    /// </summary>
    private ScanOptions RentScan(ReadOnlySpan<byte> prefix, bool once)
    {
        var pool = once ? _scanOnceOptions : _scanOptions;
        if (!pool.TryDequeue(out var scan))
        {
            scan = new ScanOptions(once);
        }
        scan.Bound(prefix);
        return scan;
    }

    private void ReturnScan(ScanOptions scan) => (scan.Once ? _scanOnceOptions : _scanOptions).Enqueue(scan);

    /// <summary>The smallest key greater than every key that starts with <paramref name="prefix"/> (prefix of all 0xFF has none: then the prefix padded).</summary>
    private static byte[] Successor(byte[] prefix)
    {
        var length = SuccessorLength(prefix);
        if (length == 0)
        {
            return [.. prefix, .. Enumerable.Repeat((byte)0xFF, 64)];
        }
        var successor = prefix[..length];
        successor[^1]++;
        return successor;
    }

    /// <summary>
    /// The length of <paramref name="prefix"/>'s successor: the prefix without its trailing 0xFF bytes, whose last byte
    /// is then incremented (0: a prefix of 0xFF bytes alone has no successor).
    /// </summary>
    private static int SuccessorLength(ReadOnlySpan<byte> prefix)
    {
        var length = prefix.Length;
        while (length > 0 && prefix[length - 1] == 0xFF)
        {
            length--;
        }
        return length;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _pending.Writer.TryComplete();
        foreach (var committer in _committers)
        {
            committer.Join();
        }
        _db.Dispose();
    }

    private static string FactFamily(int shard) => $"facts-{shard:D3}";

    private ColumnFamilyHandle Family(StoreSpace space, int shard) => space switch
    {
        StoreSpace.Catalog => _catalog,
        StoreSpace.Quarantine => _quarantine,
        StoreSpace.Memberships => _memberships,
        StoreSpace.MembershipFeed => _membershipFeed,
        StoreSpace.Activation => _activation,
        StoreSpace.Facts => _facts[shard],
        _ => throw new ArgumentOutOfRangeException(nameof(space)),
    };

    private void CommitLoop()
    {
        var reader = _pending.Reader;
        var group = new List<PendingCommit>();
        var keys = new List<ulong>();
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            group.Clear();
            keys.Clear();
            lock (_forming)
            {
                long bytes = 0;
                while (bytes < _maxGroupBytes && reader.TryRead(out var next))
                {
                    group.Add(next);
                    bytes += next.Writes.Bytes;
                }
                if (group.Count == 0)
                {
                    continue; // another committer took what woke this one
                }
                HashKeys(group, keys);
                WaitForTurn(keys);
            }
            try
            {
                using var batch = new WriteBatch();
                Fill(batch, group);
                _db.Write(batch, _syncWrite);
                Interlocked.Increment(ref _syncedWrites);
                foreach (var pending in group)
                {
                    pending.Completion.TrySetResult();
                }
            }
            catch (Exception error)
            {
                foreach (var pending in group)
                {
                    pending.Completion.TrySetException(error);
                }
            }
            finally
            {
                Done(keys);
            }
        }
    }

    private static void HashKeys(List<PendingCommit> group, List<ulong> keys)
    {
        foreach (var pending in group)
        {
            var writes = pending.Writes;
            for (var i = 0; i < writes.Count; i++)
            {
                var op = writes[i];
                keys.Add(XxHash3.HashToUInt64(op.Key.Span, ((long)op.Space << 32) | (uint)op.Shard));
            }
        }
    }

    /// <summary>Waits until no group in flight writes any of <paramref name="keys"/>, then marks them in flight.</summary>
    private void WaitForTurn(List<ulong> keys)
    {
        lock (_keysInFlight)
        {
            while (AnyInFlight(keys))
            {
                Monitor.Wait(_keysInFlight);
            }
            foreach (var key in keys)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_keysInFlight, key, out _)++;
            }
        }
    }

    private bool AnyInFlight(List<ulong> keys)
    {
        if (_keysInFlight.Count == 0)
        {
            return false;
        }
        foreach (var key in keys)
        {
            if (_keysInFlight.ContainsKey(key))
            {
                return true;
            }
        }
        return false;
    }

    private void Done(List<ulong> keys)
    {
        lock (_keysInFlight)
        {
            foreach (var key in keys)
            {
                ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_keysInFlight, key);
                if (--count == 0)
                {
                    _keysInFlight.Remove(key);
                }
            }
            Monitor.PulseAll(_keysInFlight);
        }
    }

    /// <summary>
    /// Puts a group's operations into <paramref name="batch"/> in key order within each column family (equal keys
    /// in commit order, so the later still wins). RocksDB inserts a batch into the memtable's skip list one key
    /// after the other, starting each search from where the previous one ended: keys in order share most of
    /// their path, where keys in arrival order (spread over the whole key range) each walk it from the top.
    /// </summary>
    private void Fill(WriteBatch batch, List<PendingCommit> group)
    {
        var count = 0;
        foreach (var pending in group)
        {
            count += pending.Writes.Count;
        }
        var families = new int[count];
        var keys = new ReadOnlyMemory<byte>[count];
        var origins = new (int Set, int Index)[count];
        var at = 0;
        for (var set = 0; set < group.Count; set++)
        {
            var writes = group[set].Writes;
            for (var i = 0; i < writes.Count; i++, at++)
            {
                var op = writes[i];
                families[at] = ((int)op.Space * 65_536) + op.Shard;
                keys[at] = op.Key;
                origins[at] = (set, i);
            }
        }
        foreach (var position in KeyOrder.Sort(families, keys, laterFirst: false))
        {
            var (set, index) = origins[position];
            var op = group[set].Writes[index];
            if (op.IsDelete)
            {
                batch.Delete(op.Key.Span, Family(op.Space, op.Shard));
            }
            else
            {
                batch.Put(op.Key.Span, op.Value.Span, Family(op.Space, op.Shard));
            }
        }
    }

    private sealed class PendingCommit(WriteSet writes)
    {
        public WriteSet Writes { get; } = writes;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// The read options of one scan at a time, reused: RocksDbSharp frees options only in a finalizer, and copies a bound set
    /// from an array into fresh native memory. The bound lives in an array pinned for the options' life, written in place.
    /// </summary>
    private sealed unsafe class ScanOptions
    {
        private byte[] _bound = GC.AllocateArray<byte>(64, pinned: true);

        public ScanOptions(bool once)
        {
            Once = once;
            Read = new ReadOptions();
            if (once)
            {
                // A one-pass scan keeps its blocks out of the block cache and reads each file ahead 128 KB at a time: with
                // no cache to land in, each 4 KB block was a pread of its own, a third of the iteration's CPU in a batch run
                // (BENCHMARKS.md, "A one-pass scan reads ahead"). No size tried (32 KB to 2 MB) did better; a larger buffer
                // is more memory to fault in for each scan, and a range reads a few hundred keys.
                Read.SetFillCache(false).SetReadaheadSize(128 * 1024);
            }
        }

        public bool Once { get; }

        public ReadOptions Read { get; }

        /// <summary>Bounds the scan by the smallest key above every key that starts with <paramref name="prefix"/> (none when there is no such key).</summary>
        public void Bound(ReadOnlySpan<byte> prefix)
        {
            var length = SuccessorLength(prefix);
            if (length == 0)
            {
                Read.SetIterateUpperBound((byte*)null, 0);
                return;
            }
            if (_bound.Length < length)
            {
                _bound = GC.AllocateArray<byte>(Math.Max(length, _bound.Length * 2), pinned: true);
            }
            prefix[..length].CopyTo(_bound);
            _bound[length - 1]++;
            Read.SetIterateUpperBound((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bound)), (ulong)length);
        }
    }
}

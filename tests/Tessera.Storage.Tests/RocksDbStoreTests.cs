using Tessera.Storage.RocksDb;
using static Tessera.Storage.Tests.Bytes;

namespace Tessera.Storage.Tests;

public sealed class RocksDbStoreTests : IDisposable
{
    private readonly TempStore _temp = new(shards: 4);

    private RocksDbStore Store => _temp.Store;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task The_write_ahead_log_stays_near_its_limit_while_a_quiet_family_holds_its_oldest_file()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("tessera-wal-").FullName;
        try
        {
            using (var store = RocksDbStore.Open(directory, shardCountIfNew: 1, maxWalBytes: 4 << 20))
            {
                using (var first = new WriteSet())
                {
                    first.Put(StoreSpace.Catalog, 0, Of("quiet"), Of("written once"));
                    await store.CommitAsync(first);
                }
                // 64 MiB of facts, four memtables' worth; the catalog's memtable never fills.
                var value = new byte[1000];
                for (var set = 0; set < 64; set++)
                {
                    using var writes = new WriteSet(1 << 21);
                    for (var i = 0; i < 1000; i++)
                    {
                        writes.Put(StoreSpace.Facts, 0, Of($"f{set:D3}-{i:D4}"), value);
                    }
                    await store.CommitAsync(writes);
                }
                // Without the limit the catalog's one write kept every log alive, and an open would replay all 64 MiB.
                // A log goes once the flushes the limit started are done, in the background: measured after them.
                Assert.True(SpinWait.SpinUntil(() => !store.FlushesPending(), TimeSpan.FromMinutes(1)), "flushes still pending after a minute");
                var logs = System.IO.Directory.GetFiles(directory, "*.log").Sum(file => new FileInfo(file).Length);
                Assert.True(logs < 32L << 20, $"{logs:N0} bytes of write-ahead log");
            }
            using var reopened = RocksDbStore.Open(directory);
            Assert.Equal("written once", Text(reopened.Get(StoreSpace.Catalog, 0, Of("quiet"))));
            Assert.Equal(1000, reopened.Get(StoreSpace.Facts, 0, Of("f063-0999"))!.Length);
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Put_then_get_exists_and_delete_in_every_space()
    {
        using (var writes = new WriteSet())
        {
            writes.Put(StoreSpace.Catalog, 0, Of("c1"), Of("catalog value"));
            writes.Put(StoreSpace.Quarantine, 0, Of("q1"), Of("quarantine value"));
            writes.Put(StoreSpace.Facts, 3, Of("f1"), Of("fact value"));
            await Store.CommitAsync(writes);
        }

        Assert.Equal("catalog value", Text(Store.Get(StoreSpace.Catalog, 0, Of("c1"))));
        Assert.Equal("quarantine value", Text(Store.Get(StoreSpace.Quarantine, 0, Of("q1"))));
        Assert.Equal("fact value", Text(Store.Get(StoreSpace.Facts, 3, Of("f1"))));
        Assert.True(Store.Exists(StoreSpace.Facts, 3, Of("f1")));
        // Spaces and shards are separate key spaces.
        Assert.Null(Store.Get(StoreSpace.Catalog, 0, Of("f1")));
        Assert.False(Store.Exists(StoreSpace.Facts, 2, Of("f1")));

        using (var writes = new WriteSet())
        {
            writes.Delete(StoreSpace.Facts, 3, Of("f1"));
            writes.Put(StoreSpace.Catalog, 0, Of("c1"), Of("overwritten"));
            await Store.CommitAsync(writes);
        }

        Assert.Null(Store.Get(StoreSpace.Facts, 3, Of("f1")));
        Assert.False(Store.Exists(StoreSpace.Facts, 3, Of("f1")));
        Assert.Equal("overwritten", Text(Store.Get(StoreSpace.Catalog, 0, Of("c1"))));
    }

    [Fact]
    public async Task Scan_returns_exactly_the_prefix_in_key_order()
    {
        using (var writes = new WriteSet())
        {
            foreach (var key in new[] { "user\0b", "user\0a", "use", "user\0c", "userx", "v" })
            {
                writes.Put(StoreSpace.Facts, 1, Of(key), Of("value of " + key));
            }
            writes.Put(StoreSpace.Facts, 2, Of("user\0z"), Of("other shard"));
            await Store.CommitAsync(writes);
        }

        var found = Store.Scan(StoreSpace.Facts, 1, Of("user\0")).Select(e => Text(e.Key)).ToList();

        Assert.Equal(["user\0a", "user\0b", "user\0c"], found);
        Assert.Equal("value of user\0a", Text(Store.Scan(StoreSpace.Facts, 1, Of("user\0a")).Single().Value));
        Assert.Empty(Store.Scan(StoreSpace.Facts, 0, Of("user")));
        Assert.Equal(6, Store.Scan(StoreSpace.Facts, 1, []).Count());

        // The visiting scan sees the same entries in place, and stops when told to.
        var visited = new List<string>();
        Store.Scan(StoreSpace.Facts, 1, Of("user\0"), (key, value) =>
        {
            visited.Add($"{Text(key.ToArray())}={Text(value.ToArray())}");
            return true;
        });
        Assert.Equal(["user\0a=value of user\0a", "user\0b=value of user\0b", "user\0c=value of user\0c"], visited);
        var first = new List<string>();
        Store.Scan(StoreSpace.Facts, 1, Of("user\0"), (key, _) =>
        {
            first.Add(Text(key.ToArray()));
            return false;
        });
        Assert.Equal(["user\0a"], first);
    }

    [Fact]
    public async Task A_scan_that_reads_once_sees_what_a_scan_sees_and_leaves_the_block_cache_as_it_was()
    {
        // In files, not the memtable, so that the scans read blocks: 2,000 entries of 100 bytes, about fifty blocks.
        Store.BulkLoadThreshold = 1;
        using (var writes = new WriteSet())
        {
            for (var i = 0; i < 2_000; i++)
            {
                writes.Put(StoreSpace.Facts, 3, Of($"e\0{i:D5}"), Of($"{i:D5}".PadRight(100, '.')));
            }
            writes.Put(StoreSpace.Facts, 3, Of("f\0after"), Of("not in the prefix"));
            await Store.BulkLoadAsync([writes]);
        }
        List<string> Read(Action<ReadOnlySpan<byte>, ReadOnlySpan<byte>, EntryVisitor> scan, string from)
        {
            var seen = new List<string>();
            scan(Of("e\0"), Of(from), (key, value) =>
            {
                seen.Add($"{Text(key.ToArray())}={Text(value.ToArray())[..5]}");
                return true;
            });
            return seen;
        }
        var cached = Store.BlockCacheBytes(StoreSpace.Facts, 3);

        var once = Read((prefix, from, visit) => Store.ScanOnce(StoreSpace.Facts, 3, prefix, from, visit), "e\0" + "00500");

        Assert.Equal(1_500, once.Count);
        Assert.Equal("e\0" + "00500=00500", once[0]);
        Assert.Equal(cached, Store.BlockCacheBytes(StoreSpace.Facts, 3));
        Assert.Equal(Read((prefix, from, visit) => Store.Scan(StoreSpace.Facts, 3, prefix, from, visit), "e\0" + "00500"), once);
        Assert.True(Store.BlockCacheBytes(StoreSpace.Facts, 3) > cached + 100_000, "a scan that may read again keeps its blocks");
    }

    [Fact]
    public async Task Operations_of_one_set_apply_in_order()
    {
        using var writes = new WriteSet();
        writes.Put(StoreSpace.Catalog, 0, Of("a"), Of("1"));
        writes.Delete(StoreSpace.Catalog, 0, Of("a"));
        writes.Delete(StoreSpace.Catalog, 0, Of("b"));
        writes.Put(StoreSpace.Catalog, 0, Of("b"), Of("2"));
        writes.Put(StoreSpace.Catalog, 0, Of("c"), Of("3"));
        writes.Put(StoreSpace.Catalog, 0, Of("c"), Of("4"));
        await Store.CommitAsync(writes);

        Assert.Null(Store.Get(StoreSpace.Catalog, 0, Of("a")));
        Assert.Equal("2", Text(Store.Get(StoreSpace.Catalog, 0, Of("b"))));
        Assert.Equal("4", Text(Store.Get(StoreSpace.Catalog, 0, Of("c"))));
    }

    [Fact]
    public async Task A_set_larger_than_its_initial_buffer_is_written_whole()
    {
        using var writes = new WriteSet(initialBytes: 16);
        var value = new byte[10_000];
        for (var i = 0; i < value.Length; i++)
        {
            value[i] = (byte)(i * 31);
        }
        for (var i = 0; i < 200; i++)
        {
            writes.Put(StoreSpace.Facts, i % Store.ShardCount, Of($"k{i:D4}"), value);
        }
        await Store.CommitAsync(writes);

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(value, Store.Get(StoreSpace.Facts, i % Store.ShardCount, Of($"k{i:D4}")));
        }
    }

    [Fact]
    public async Task A_set_naming_a_shard_the_store_does_not_have_is_refused_whole_and_harms_no_other_commit()
    {
        using var bad = new WriteSet();
        bad.Put(StoreSpace.Catalog, 0, Of("from-bad-set"), Of("x"));
        bad.Put(StoreSpace.Facts, 1, Of("from-bad-set"), Of("x"));
        bad.Put(StoreSpace.Facts, Store.ShardCount, Of("from-bad-set"), Of("x"));
        using var good = new WriteSet();
        good.Put(StoreSpace.Facts, 0, Of("from-good-set"), Of("y"));

        var goodCommit = Store.CommitAsync(good);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = Store.CommitAsync(bad); });
        await goodCommit;

        Assert.Equal("y", Text(Store.Get(StoreSpace.Facts, 0, Of("from-good-set"))));
        Assert.Null(Store.Get(StoreSpace.Catalog, 0, Of("from-bad-set")));
        Assert.Null(Store.Get(StoreSpace.Facts, 1, Of("from-bad-set")));
    }

    [Fact]
    public void A_negative_shard_is_refused_when_the_set_is_built()
    {
        using var writes = new WriteSet();
        Assert.Throws<ArgumentOutOfRangeException>(() => writes.Put(StoreSpace.Facts, -1, Of("k"), Of("v")));
        Assert.Equal(0, writes.Count);
    }

    [Fact]
    public async Task Nothing_of_a_set_is_visible_before_it_is_committed_and_all_of_it_after()
    {
        using var writes = new WriteSet();
        for (var shard = 0; shard < Store.ShardCount; shard++)
        {
            writes.Put(StoreSpace.Facts, shard, Of("atomic"), Of($"shard {shard}"));
        }
        writes.Put(StoreSpace.Catalog, 0, Of("atomic"), Of("catalog"));
        writes.Put(StoreSpace.Quarantine, 0, Of("atomic"), Of("quarantine"));

        Assert.Null(Store.Get(StoreSpace.Catalog, 0, Of("atomic")));
        await Store.CommitAsync(writes);

        for (var shard = 0; shard < Store.ShardCount; shard++)
        {
            Assert.Equal($"shard {shard}", Text(Store.Get(StoreSpace.Facts, shard, Of("atomic"))));
        }
        Assert.Equal("catalog", Text(Store.Get(StoreSpace.Catalog, 0, Of("atomic"))));
        Assert.Equal("quarantine", Text(Store.Get(StoreSpace.Quarantine, 0, Of("atomic"))));
    }

    [Fact]
    public async Task Many_concurrent_commits_are_grouped_into_fewer_synced_writes()
    {
        const int commits = 2_000;
        var before = Store.SyncedWrites;
        var sets = new WriteSet[commits];
        var tasks = new Task[commits];
        for (var i = 0; i < commits; i++)
        {
            sets[i] = new WriteSet(256);
            sets[i].Put(StoreSpace.Facts, i % Store.ShardCount, Of($"c{i:D5}"), Of($"v{i}"));
            sets[i].Put(StoreSpace.Catalog, 0, Of($"c{i:D5}"), Of($"v{i}"));
        }
        // Queued from many threads at once, as concurrent HTTP requests would.
        Parallel.For(0, commits, i => tasks[i] = Store.CommitAsync(sets[i]));
        await Task.WhenAll(tasks);
        foreach (var set in sets)
        {
            set.Dispose();
        }

        var synced = Store.SyncedWrites - before;
        Assert.InRange(synced, 1, commits - 1);
        for (var i = 0; i < commits; i++)
        {
            Assert.Equal($"v{i}", Text(Store.Get(StoreSpace.Facts, i % Store.ShardCount, Of($"c{i:D5}"))));
            Assert.Equal($"v{i}", Text(Store.Get(StoreSpace.Catalog, 0, Of($"c{i:D5}"))));
        }
    }

    [Fact]
    public async Task Sets_sharing_a_key_are_applied_in_the_order_they_were_committed_though_committers_write_at_once()
    {
        // One set a group (maxGroupBytes 1), so that consecutive sets are written by different committer threads at once;
        // a large set takes longer to prepare than the small one after it, which would overtake it without the ordering.
        var directory = System.IO.Directory.CreateTempSubdirectory("tessera-order-").FullName;
        try
        {
            using var store = RocksDbStore.Open(directory, shardCountIfNew: 2, maxGroupBytes: 1, committers: 4);
            const int commits = 400;
            var sets = new WriteSet[commits];
            var tasks = new Task[commits];
            for (var i = 0; i < commits; i++)
            {
                sets[i] = new WriteSet(256);
                for (var own = 0; i % 2 == 0 && own < 5_000; own++)
                {
                    sets[i].Put(StoreSpace.Facts, own % 2, Of($"own{i:D3}-{own:D4}"), new byte[40]);
                }
                sets[i].Put(StoreSpace.Facts, 1, Of("shared"), Of($"v{i}"));
                sets[i].Put(StoreSpace.Facts, 0, Of($"shared by ten {i / 10}"), Of($"v{i}"));
                if (i % 3 == 0)
                {
                    sets[i].Put(StoreSpace.Catalog, 0, Of("flip"), Of($"v{i}"));
                }
                else if (i % 3 == 1)
                {
                    sets[i].Delete(StoreSpace.Catalog, 0, Of("flip"));
                }
            }
            for (var i = 0; i < commits; i++)
            {
                tasks[i] = store.CommitAsync(sets[i]);
            }
            await Task.WhenAll(tasks);
            foreach (var set in sets)
            {
                set.Dispose();
            }

            Assert.Equal($"v{commits - 1}", Text(store.Get(StoreSpace.Facts, 1, Of("shared"))));
            for (var ten = 0; ten < commits / 10; ten++)
            {
                Assert.Equal($"v{(ten * 10) + 9}", Text(store.Get(StoreSpace.Facts, 0, Of($"shared by ten {ten}"))));
            }
            Assert.Equal("v399", Text(store.Get(StoreSpace.Catalog, 0, Of("flip")))); // the last put after the last delete (397)
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_empty_set_completes_at_once()
    {
        using var writes = new WriteSet();
        var before = Store.SyncedWrites;
        await Store.CommitAsync(writes);
        Assert.Equal(before, Store.SyncedWrites);
    }

    [Fact]
    public async Task A_commit_cancelled_before_it_is_queued_writes_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        using var writes = new WriteSet();
        writes.Put(StoreSpace.Catalog, 0, Of("cancelled"), Of("x"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.CommitAsync(writes, cancelled.Token));

        // Commits are applied in order: once a later one is durable, the cancelled one would be too.
        using var later = new WriteSet();
        later.Put(StoreSpace.Catalog, 0, Of("later"), Of("y"));
        await Store.CommitAsync(later);
        Assert.Null(Store.Get(StoreSpace.Catalog, 0, Of("cancelled")));
    }

    [Fact]
    public async Task A_queued_commit_reports_its_real_outcome_even_if_cancelled_afterwards()
    {
        using var cancellation = new CancellationTokenSource();
        using var writes = new WriteSet();
        writes.Put(StoreSpace.Catalog, 0, Of("queued"), Of("x"));

        var commit = Store.CommitAsync(writes, cancellation.Token);
        await cancellation.CancelAsync();
        await commit; // the caller may only reuse the set once this completes: it must not throw early

        Assert.Equal("x", Text(Store.Get(StoreSpace.Catalog, 0, Of("queued"))));
    }

    [Fact]
    public async Task Reopening_keeps_committed_data()
    {
        using (var writes = new WriteSet())
        {
            writes.Put(StoreSpace.Facts, 2, Of("durable"), Of("fact"));
            writes.Put(StoreSpace.Catalog, 0, Of("durable"), Of("catalog"));
            await Store.CommitAsync(writes);
        }

        var reopened = _temp.Reopen();

        Assert.Equal("fact", Text(reopened.Get(StoreSpace.Facts, 2, Of("durable"))));
        Assert.Equal("catalog", Text(reopened.Get(StoreSpace.Catalog, 0, Of("durable"))));
    }

    [Fact]
    public async Task Commits_still_queued_at_dispose_are_written_before_it_returns()
    {
        var tasks = new List<Task>();
        var sets = new List<WriteSet>();
        for (var i = 0; i < 100; i++)
        {
            var set = new WriteSet(256);
            set.Put(StoreSpace.Catalog, 0, Of($"late{i:D3}"), Of("v"));
            sets.Add(set);
            tasks.Add(Store.CommitAsync(set));
        }

        var reopened = _temp.Reopen();
        await Task.WhenAll(tasks);
        sets.ForEach(s => s.Dispose());

        Assert.Equal(100, reopened.Scan(StoreSpace.Catalog, 0, Of("late")).Count());
    }

    [Fact]
    public void A_commit_after_dispose_is_refused()
    {
        Store.Dispose();
        using var writes = new WriteSet();
        writes.Put(StoreSpace.Catalog, 0, Of("k"), Of("v"));
        Assert.Throws<ObjectDisposedException>(() => { _ = Store.CommitAsync(writes); });
    }

    [Fact]
    public async Task The_shard_count_is_fixed_when_the_store_is_created()
    {
        using (var writes = new WriteSet())
        {
            writes.Put(StoreSpace.Facts, 3, Of("k"), Of("on shard 3"));
            await Store.CommitAsync(writes);
        }

        var reopened = _temp.Reopen(shardCountIfNew: 16);

        Assert.Equal(4, reopened.ShardCount);
        Assert.Equal("on shard 3", Text(reopened.Get(StoreSpace.Facts, 3, Of("k"))));
        var layout = await File.ReadAllTextAsync(Path.Combine(_temp.Directory, "layout.json"));
        Assert.Contains("\"shards\":4", layout.Replace(" ", ""), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void A_new_store_needs_a_sensible_shard_count(int shards)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-store-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => RocksDbStore.Open(directory, shards));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

using Tessera.Storage.RocksDb;

namespace Tessera.Storage.Tests;

public sealed class MembershipSpaceTests
{
    [Fact]
    public async Task A_scan_from_a_key_starts_there_and_stays_in_the_prefix()
    {
        using var temp = new TempStore();
        using var set = new WriteSet();
        foreach (var key in new[] { "a\01", "f\01", "f\02", "f\03", "f\04", "g\01" })
        {
            set.Put(StoreSpace.Memberships, 0, Bytes.Of(key), Bytes.Of(key));
        }
        await temp.Store.CommitAsync(set);

        List<string> ScanFrom(IStore store, string from)
        {
            var keys = new List<string>();
            store.Scan(StoreSpace.Memberships, 0, Bytes.Of("f\0"), Bytes.Of(from), (key, _) =>
            {
                keys.Add(System.Text.Encoding.UTF8.GetString(key));
                return true;
            });
            return keys;
        }

        Assert.Equal(["f\03", "f\04"], ScanFrom(temp.Store, "f\03"));
        Assert.Equal(["f\01", "f\02", "f\03", "f\04"], ScanFrom(temp.Store, "a"));
        Assert.Empty(ScanFrom(temp.Store, "f\05"));
        // The interface's default (skip below the start) agrees with the seeking backend.
        Assert.Equal(["f\03", "f\04"], ScanFrom(new DefaultScanOnly(temp.Store), "f\03"));
    }

    [Fact]
    public async Task A_store_created_before_the_membership_space_opens_with_its_data_and_gains_the_space()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-store-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            // The layout of a store written by a build without the membership space.
            await File.WriteAllTextAsync(Path.Combine(directory, "layout.json"), "{\"shards\":2}\n", TestContext.Current.CancellationToken);
            var families = new RocksDbSharp.ColumnFamilies();
            foreach (var name in new[] { "catalog", "quarantine", "facts-000", "facts-001" })
            {
                families.Add(name, new RocksDbSharp.ColumnFamilyOptions());
            }
            var options = new RocksDbSharp.DbOptions().SetCreateIfMissing(true).SetCreateMissingColumnFamilies(true);
            using (var old = RocksDbSharp.RocksDb.Open(options, directory, families))
            {
                old.Put(Bytes.Of("kept"), Bytes.Of("yes"), old.GetColumnFamily("catalog"));
            }

            using var store = RocksDbStore.Open(directory);
            Assert.Equal("yes", Bytes.Text(store.Get(StoreSpace.Catalog, 0, Bytes.Of("kept"))));
            using var set = new WriteSet();
            set.Put(StoreSpace.Memberships, 0, Bytes.Of("m"), Bytes.Of("1"));
            await store.CommitAsync(set, TestContext.Current.CancellationToken);
            Assert.Equal("1", Bytes.Text(store.Get(StoreSpace.Memberships, 0, Bytes.Of("m"))));
            Assert.Null(store.Get(StoreSpace.Catalog, 0, Bytes.Of("m")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Forwards everything but the seeking scan, so the interface's default runs.</summary>
    private sealed class DefaultScanOnly(RocksDbStore inner) : IStore
    {
        public int ShardCount => inner.ShardCount;

        public Task CommitAsync(WriteSet writes, CancellationToken cancellationToken = default) => inner.CommitAsync(writes, cancellationToken);

        public Task BulkLoadAsync(IReadOnlyList<WriteSet> sets, CancellationToken cancellationToken = default) => inner.BulkLoadAsync(sets, cancellationToken);

        public byte[]? Get(StoreSpace space, int shard, ReadOnlySpan<byte> key) => inner.Get(space, shard, key);

        public bool Exists(StoreSpace space, int shard, ReadOnlySpan<byte> key) => inner.Exists(space, shard, key);

        public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(StoreSpace space, int shard, byte[] prefix) => inner.Scan(space, shard, prefix);

        public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, EntryVisitor visit) => inner.Scan(space, shard, prefix, visit);

        public IEnumerable<KeyValuePair<byte[], byte[]>> ScanReverse(StoreSpace space, int shard, byte[] prefix, byte[]? before = null) =>
            inner.ScanReverse(space, shard, prefix, before);

        public void Dispose()
        {
        }
    }
}

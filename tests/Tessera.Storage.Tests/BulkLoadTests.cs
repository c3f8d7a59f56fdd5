using FsCheck.Xunit;
using Tessera.Storage.RocksDb;

namespace Tessera.Storage.Tests;

public sealed class BulkLoadTests
{
    [Theory]
    [InlineData(1)] // through sorted files handed to RocksDB
    [InlineData(1_000_000)] // below the threshold: through the WAL
    public async Task A_bulk_load_stores_every_fact_the_latest_write_wins_and_the_rest_lands_after(int threshold)
    {
        using var temp = new TempStore(shards: 4);
        temp.Store.BulkLoadThreshold = threshold;
        var sets = new List<WriteSet>();
        for (var s = 0; s < 3; s++)
        {
            var set = new WriteSet();
            for (var i = 0; i < 500; i++)
            {
                // Keys repeat across sets: the later set's value must win, as it would through the WAL.
                set.Put(StoreSpace.Facts, i % 4, Bytes.Of($"k{i:D4}"), Bytes.Of($"v{i}-set{s}"));
            }
            sets.Add(set);
        }
        sets[^1].Put(StoreSpace.Catalog, 0, Bytes.Of("status"), Bytes.Of("success"));
        sets[^1].Delete(StoreSpace.Facts, 1, Bytes.Of("k0001"));

        await temp.Store.BulkLoadAsync(sets);
        foreach (var set in sets)
        {
            set.Dispose();
        }

        var store = temp.Reopen();
        Assert.Equal("success", Bytes.Text(store.Get(StoreSpace.Catalog, 0, Bytes.Of("status"))));
        Assert.Null(store.Get(StoreSpace.Facts, 1, Bytes.Of("k0001")));
        for (var i = 0; i < 500; i++)
        {
            if (i != 1)
            {
                Assert.Equal($"v{i}-set2", Bytes.Text(store.Get(StoreSpace.Facts, i % 4, Bytes.Of($"k{i:D4}"))));
            }
        }
        Assert.Equal(125, store.Scan(StoreSpace.Facts, 0, Bytes.Of("k")).Count());
    }

    [Fact]
    public async Task Bulk_loaded_files_carry_the_bloom_filter_that_lookups_of_absent_keys_rely_on()
    {
        // A file batch looks every new event up before storing it: without a filter in the loaded
        // files, each absent key costs a block read and decompression in each of them.
        using var temp = new TempStore(shards: 1);
        temp.Store.BulkLoadThreshold = 1;
        var set = new WriteSet();
        for (var i = 0; i < 2_000; i++)
        {
            set.Put(StoreSpace.Facts, 0, Bytes.Of($"event{i:D6}"), Bytes.Of($"body{i}"));
        }
        await temp.Store.BulkLoadAsync([set]);
        set.Dispose();

        var properties = temp.Store.TableProperties(StoreSpace.Facts, 0);
        Assert.NotNull(properties);
        Assert.Contains("# entries=2000", properties);
        var filterSize = System.Text.RegularExpressions.Regex.Match(properties, @"filter block size=(\d+)");
        Assert.True(filterSize.Success && long.Parse(filterSize.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, properties);
        Assert.False(temp.Store.Exists(StoreSpace.Facts, 0, Bytes.Of("event999999")));
        Assert.True(temp.Store.Exists(StoreSpace.Facts, 0, Bytes.Of("event000042")));
    }
    /// <summary>
    /// Keys that share long starts, are prefixes of each other, hold zero bytes or repeat: the sorted files give
    /// the same entries, in the same order, with the same winners, as commits through the WAL.
    /// </summary>
    [Property(Replay = "(20261130,13)", MaxTest = 40)]
    public async Task<bool> Bulk_loaded_keys_read_back_as_committed_keys_do(byte[][]? tails, byte shared)
    {
        var prefix = new byte[shared % 24];
        Array.Fill(prefix, (byte)'p');
        var keys = (tails ?? []).Select(tail => (byte[])[.. prefix, .. tail.Take(12).Select(b => (byte)(b % 4))]).Where(key => key.Length > 0).ToList();
        if (keys.Count == 0)
        {
            return true;
        }
        using var bulk = new TempStore(shards: 1);
        using var wal = new TempStore(shards: 1);
        bulk.Store.BulkLoadThreshold = 1;
        using var set = new WriteSet();
        for (var i = 0; i < keys.Count; i++)
        {
            set.Put(StoreSpace.Facts, 0, keys[i], Bytes.Of($"v{i}"));
        }
        await bulk.Store.BulkLoadAsync([set]);
        await wal.Store.CommitAsync(set);
        static string Dump(RocksDbStore store) =>
            string.Join(";", store.Scan(StoreSpace.Facts, 0, []).Select(pair => $"{Convert.ToHexString(pair.Key)}={Bytes.Text(pair.Value)}"));
        return Dump(bulk.Store) == Dump(wal.Store);
    }
}

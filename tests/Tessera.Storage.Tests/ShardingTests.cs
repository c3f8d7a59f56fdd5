using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Tessera.Storage.Tests;

public sealed class ShardingTests
{
    /// <summary>
    /// The shard of a key is part of the on-disk format: these values are FNV-1a 64 of the key
    /// modulo the shard count, computed independently. If this test fails, stored facts would be
    /// looked for on the wrong shard.
    /// </summary>
    [Theory]
    [InlineData("", 8, 5)]
    [InlineData("a", 8, 4)]
    [InlineData("abc", 8, 3)]
    [InlineData("", 1024, 805)]
    [InlineData("a", 1024, 140)]
    [InlineData("abc", 1024, 843)]
    [InlineData("prod\0CRMID\000001", 8, 2)]
    [InlineData("prod\0CRMID\000001", 1024, 274)]
    public void ShardOf_is_FNV1a_64_modulo_the_shard_count(string key, int shards, int expected) =>
        Assert.Equal(expected, Sharding.ShardOf(System.Text.Encoding.UTF8.GetBytes(key), shards));

    [Property(Replay = "(20261101,1234567)", MaxTest = 500)]
    public bool ShardOf_is_in_range_and_deterministic(byte[] key, PositiveInt shards)
    {
        var count = Math.Min(shards.Get, 1024);
        var shard = Sharding.ShardOf(key, count);
        return shard >= 0 && shard < count && shard == Sharding.ShardOf((byte[])key.Clone(), count);
    }

    [Fact]
    public void ShardOf_spreads_keys_over_every_shard()
    {
        var counts = new int[8];
        for (var i = 0; i < 8_000; i++)
        {
            counts[Sharding.ShardOf(System.Text.Encoding.UTF8.GetBytes($"prod\0CRMID\0{i:D5}"), 8)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void A_single_shard_store_puts_everything_on_shard_zero() =>
        Prop.ForAll<byte[]>(key => Sharding.ShardOf(key, 1) == 0).QuickCheckThrowOnFailure();
}

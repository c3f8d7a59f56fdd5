namespace Tessera.Storage.Tests;

public sealed class WriteSetTests
{
    /// <summary>Operations past the pooled array's first size (64) and past the buffer's, in order, with their bytes.</summary>
    [Fact]
    public void Many_operations_read_back_in_order_and_after_a_clear_the_set_is_reused()
    {
        using var writes = new WriteSet(16);
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 5_000; i++)
            {
                var key = System.Text.Encoding.UTF8.GetBytes($"k{round}-{i}");
                if (i % 3 == 0)
                {
                    writes.Delete(StoreSpace.Facts, i % 4, key);
                }
                else
                {
                    writes.Put(StoreSpace.Catalog, 0, key, System.Text.Encoding.UTF8.GetBytes($"v{i}"));
                }
            }
            Assert.Equal(5_000, writes.Count);
            Assert.Equal(3, writes.MaxFactShard);
            for (var i = 0; i < 5_000; i++)
            {
                var operation = writes[i];
                Assert.Equal($"k{round}-{i}", System.Text.Encoding.UTF8.GetString(operation.Key.Span));
                Assert.Equal(i % 3 == 0, operation.IsDelete);
                Assert.Equal(i % 3 == 0 ? "" : $"v{i}", System.Text.Encoding.UTF8.GetString(operation.Value.Span));
                Assert.Equal(i % 3 == 0 ? i % 4 : 0, operation.Shard);
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => writes[5_000]);
            writes.Clear();
            Assert.Equal(0, writes.Count);
            Assert.Throws<ArgumentOutOfRangeException>(() => writes[0]);
        }
    }

    [Fact]
    public void A_set_written_after_it_was_disposed_still_holds_what_it_is_given()
    {
        var writes = new WriteSet(16);
        writes.Put(StoreSpace.Catalog, 0, "a"u8, "1"u8);
        writes.Dispose();
        writes.Clear();
        writes.Put(StoreSpace.Catalog, 0, "b"u8, "2"u8);
        Assert.Equal(1, writes.Count);
        Assert.Equal("b", System.Text.Encoding.UTF8.GetString(writes[0].Key.Span));
        Assert.Equal("2", System.Text.Encoding.UTF8.GetString(writes[0].Value.Span));
    }
}

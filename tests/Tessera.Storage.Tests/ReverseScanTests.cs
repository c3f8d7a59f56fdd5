namespace Tessera.Storage.Tests;

public sealed class ReverseScanTests
{
    [Fact]
    public async Task A_reverse_scan_returns_the_prefix_newest_first_and_pages_with_a_cursor()
    {
        using var temp = new TempStore();
        using var set = new WriteSet();
        foreach (var key in new[] { "a\0x", "b\0", "b\01", "b\02", "b\03", "b\u00ff", "c\0" })
        {
            set.Put(StoreSpace.Catalog, 0, Bytes.Of(key), Bytes.Of(key));
        }
        await temp.Store.CommitAsync(set);

        var all = temp.Store.ScanReverse(StoreSpace.Catalog, 0, Bytes.Of("b\0")).Select(p => Bytes.Text(p.Key)).ToList();
        Assert.Equal(["b\03", "b\02", "b\01", "b\0"], all);
        var page = temp.Store.ScanReverse(StoreSpace.Catalog, 0, Bytes.Of("b\0"), before: Bytes.Of("b\02")).Select(p => Bytes.Text(p.Key)).ToList();
        Assert.Equal(["b\01", "b\0"], page);
        Assert.Empty(temp.Store.ScanReverse(StoreSpace.Catalog, 0, Bytes.Of("d")));
    }
}

using Tessera.Storage.RocksDb;

namespace Tessera.Storage.Tests;

/// <summary>A RocksDB store in a fresh temporary folder, deleted on dispose.</summary>
public sealed class TempStore : IDisposable
{
    public TempStore(int shards = 4)
    {
        Directory = Path.Combine(Path.GetTempPath(), "tessera-store-test-" + Guid.NewGuid().ToString("N"));
        Store = RocksDbStore.Open(Directory, shards);
    }

    public string Directory { get; }

    public RocksDbStore Store { get; private set; }

    /// <summary>Closes and opens the store again, as a restart would.</summary>
    public RocksDbStore Reopen(int shardCountIfNew = 4)
    {
        Store.Dispose();
        Store = RocksDbStore.Open(Directory, shardCountIfNew);
        return Store;
    }

    public void Dispose()
    {
        Store.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

internal static class Bytes
{
    public static byte[] Of(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    public static string Text(byte[]? bytes) => bytes is null ? "<null>" : System.Text.Encoding.UTF8.GetString(bytes);
}

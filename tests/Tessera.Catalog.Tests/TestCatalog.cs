using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Storage.RocksDb;

namespace Tessera.Catalog.Tests;

/// <summary>A catalog over a RocksDB store in a fresh temporary folder, with a fake clock.</summary>
public sealed class TestCatalog : IAsyncDisposable
{
    private TestCatalog(string directory, RocksDbStore store, FakeTimeProvider time, TesseraCatalog catalog)
    {
        Directory = directory;
        Store = store;
        Time = time;
        Catalog = catalog;
    }

    public string Directory { get; }

    public RocksDbStore Store { get; private set; }

    public FakeTimeProvider Time { get; }

    public TesseraCatalog Catalog { get; private set; }

    public static async Task<TestCatalog> CreateAsync(params string[] sandboxes)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-catalog-test-" + Guid.NewGuid().ToString("N"));
        var store = RocksDbStore.Open(directory, 4);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        var catalog = new TesseraCatalog(store, time);
        await catalog.EnsureSandboxAsync(TesseraCatalog.DefaultSandbox);
        foreach (var sandbox in sandboxes)
        {
            await catalog.EnsureSandboxAsync(sandbox);
        }
        return new TestCatalog(directory, store, time, catalog);
    }

    /// <summary>Closes the store and opens it again, as a restart would.</summary>
    public void Reopen()
    {
        Store.Dispose();
        Store = RocksDbStore.Open(Directory, 4);
        Catalog = new TesseraCatalog(Store, Time);
    }

    /// <summary>Reads a schema as <c>tessera schema register</c> does.</summary>
    public static SchemaDocument Schema(string json) =>
        SchemaCompiler.Parse(System.Text.Encoding.UTF8.GetBytes(json)) ?? throw new InvalidOperationException("null schema");

    public Task<SchemaDocument> RegisterAsync(string json, string sandbox = TesseraCatalog.DefaultSandbox) =>
        Catalog.RegisterSchemaAsync(sandbox, Schema(json));

    public ValueTask DisposeAsync()
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
        return ValueTask.CompletedTask;
    }
}

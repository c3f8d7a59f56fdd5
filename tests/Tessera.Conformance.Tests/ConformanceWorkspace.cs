using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion;
using Tessera.Server;
using Tessera.Storage;

namespace Tessera.Conformance.Tests;

/// <summary>A workspace in a fresh temporary folder with a fake clock; deleted on dispose.</summary>
public sealed class ConformanceWorkspace : IAsyncDisposable
{
    private ConformanceWorkspace(string directory, Workspace workspace)
    {
        Directory = directory;
        Workspace = workspace;
    }

    public string Directory { get; }

    public Workspace Workspace { get; }

    public TesseraCatalog Catalog => Workspace.Catalog;

    public IngestionService Ingestion => Workspace.Ingestion;

    public static async Task<ConformanceWorkspace> CreateAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-conformance-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        return new ConformanceWorkspace(directory, await Workspace.OpenAsync(directory, time));
    }

    public async Task DefineAsync(string schemaJson, bool profileEnabled = true)
    {
        var schema = await Catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize(schemaJson, CatalogJson.Default.SchemaDocument)!);
        await Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = schema.Name, Schema = schema.Name, ProfileEnabled = profileEnabled });
    }

    public Task CreateNamespaceAsync(string code, IdentityType type) =>
        Catalog.CreateNamespaceAsync("prod", new IdentityNamespace { Code = code, Name = code, Type = type });

    public List<QuarantineEntry> Quarantine(string batchId) => [.. Ingestion.Quarantine("prod", batchId)];

    /// <summary>Decoded facts of every shard: (key parts, value).</summary>
    public IEnumerable<(string[] Key, JsonElement Value)> Facts()
    {
        var store = Workspace.Store;
        for (var shard = 0; shard < store.ShardCount; shard++)
        {
            foreach (var (key, value) in store.Scan(StoreSpace.Facts, shard, []))
            {
                if (key[0] is Identity.Graph.LedgerCodec.Tag or FactKeys.TimelineTag)
                {
                    continue; // the link ledger shares the shards; timeline keys only index the events
                }
                using var document = JsonDocument.Parse(value);
                yield return (Encoding.UTF8.GetString(key).Split('\0'), document.RootElement.Clone());
            }
        }
    }

    /// <summary>The facts of one identity: one prefix scan on its shard, as later stages read them.</summary>
    public List<JsonElement> FactsOf(byte tag, string ns, string value)
    {
        var identity = new IdentityValue(ns, value, true);
        var shard = FactKeys.ShardOf("prod", identity, Workspace.Store.ShardCount);
        return [.. Workspace.Store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(tag, "prod", identity)).Select(e =>
        {
            using var document = JsonDocument.Parse(e.Value);
            return document.RootElement.Clone();
        })];
    }

    public static string Describe(IEnumerable<QuarantineEntry> entries) =>
        string.Join("\n", entries.Take(10).Select(e => $"row {e.Row}: " + string.Join("; ", e.Errors.Select(x => $"{x.Path} {x.Code} {x.Message}"))));

    public ValueTask DisposeAsync()
    {
        Workspace.Dispose();
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

using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Server;
using Tessera.Storage;

namespace Tessera.Ingestion.Tests;

/// <summary>A workspace in a fresh temporary folder with a fake clock; deleted on dispose.</summary>
public sealed class TestWorkspace : IAsyncDisposable
{
    private TestWorkspace(string directory, FakeTimeProvider time, Workspace workspace)
    {
        Directory = directory;
        Time = time;
        Workspace = workspace;
    }

    public string Directory { get; }

    public FakeTimeProvider Time { get; }

    public Workspace Workspace { get; private set; }

    public TesseraCatalog Catalog => Workspace.Catalog;

    public IngestionService Ingestion => Workspace.Ingestion;

    public static async Task<TestWorkspace> CreateAsync(string? config = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (config is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), config);
        }
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        return new TestWorkspace(directory, time, await Workspace.OpenAsync(directory, time));
    }

    /// <summary>Closes and reopens the store, as a restart would.</summary>
    public async Task ReopenAsync()
    {
        Workspace.Dispose();
        Workspace = await Workspace.OpenAsync(Directory, Time);
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    public string WriteGzipFile(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(content));
        return path;
    }

    /// <summary>Registers a schema (JSON document) in <paramref name="sandbox"/> and a dataset of the same name bound to it.</summary>
    public async Task<SchemaDocument> DefineAsync(string schemaJson, string? dataset = null, string sandbox = "prod")
    {
        await Catalog.EnsureSandboxAsync(sandbox);
        var schema = await Catalog.RegisterSchemaAsync(sandbox, Parse(schemaJson));
        await Catalog.CreateDatasetAsync(sandbox, new DatasetDefinition { Name = dataset ?? schema.Name, Schema = schema.Name });
        return schema;
    }

    public static SchemaDocument Parse(string schemaJson) =>
        JsonSerializer.Deserialize(schemaJson, CatalogJson.Default.SchemaDocument) ?? throw new InvalidOperationException("null schema");

    public Task<BatchInfo> IngestAsync(string dataset, string path, Mapping.MappingSpec? mapping = null, string sandbox = "prod") =>
        Ingestion.IngestFileAsync(sandbox, dataset, path, mapping);

    public Task<StreamResult> StreamAsync(string dataset, string jsonArray, string sandbox = "prod")
    {
        using var document = JsonDocument.Parse(jsonArray);
        var records = document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        return Ingestion.IngestRecordsAsync(sandbox, dataset, records, "test");
    }

    public List<QuarantineEntry> Quarantine(string batchId, string sandbox = "prod") => [.. Ingestion.Quarantine(sandbox, batchId)];

    /// <summary>Every stored fact of the workspace (all shards), decoded from its key and value.</summary>
    public List<StoredFact> Facts()
    {
        var facts = new List<StoredFact>();
        var store = Workspace.Store;
        for (var shard = 0; shard < store.ShardCount; shard++)
        {
            foreach (var (key, value) in store.Scan(StoreSpace.Facts, shard, []))
            {
                // The link ledger shares the shards; timeline keys index the events (no value of their own).
                if (key[0] is not (Identity.Graph.LedgerCodec.Tag or FactKeys.TimelineTag))
                {
                    facts.Add(StoredFact.Decode(shard, key, value));
                }
            }
        }
        return facts;
    }

    /// <summary>
    /// The newest version of every record fragment (identity, dataset) by (time, order, row), and
    /// every event: what a profile sees when no merge of fields is involved.
    /// </summary>
    public List<StoredFact> NewestFacts() =>
        [.. Facts().GroupBy(f => (f.Tag, f.Sandbox, f.Namespace, f.Identity, f.Dataset, f.EventId)).Select(g => g.MaxBy(f => f.Tag == 'r' ? f.Rank : default)!)];

    public List<StoredFact> Facts(string sandbox, string dataset) => [.. Facts().Where(f => f.Sandbox == sandbox && f.Dataset == dataset)];

    /// <summary>The facts of one identity, read the way later stages will: one prefix scan on the identity's shard.</summary>
    public List<StoredFact> FactsOf(byte tag, string sandbox, string ns, string value)
    {
        var identity = new IdentityValue(ns, value, true);
        var shard = FactKeys.ShardOf(sandbox, identity, Workspace.Store.ShardCount);
        return [.. Workspace.Store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(tag, sandbox, identity))
            .Select(e => StoredFact.Decode(shard, e.Key, e.Value))];
    }

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

/// <summary>
/// A stored fact: its key parts (tag, sandbox, primary identity, dataset; an event's id; a record
/// version's batch and row) and its JSON value.
/// </summary>
public sealed record StoredFact(int Shard, char Tag, string Sandbox, string Namespace, string Identity, string Dataset, string? EventId, JsonElement Value)
{
    public byte[] Key { get; init; } = [];

    public string? KeyBatch { get; init; }

    public long KeyRow { get; init; }

    /// <summary>A record version's rank: the newest version of a fragment has the greatest (time, order, row).</summary>
    public (DateTimeOffset Time, long Order, long Row) Rank =>
        (Value.GetProperty("time").GetDateTimeOffset(), Value.GetProperty("order").GetInt64(), Value.GetProperty("row").GetInt64());

    public JsonElement Record => Value.GetProperty("record");

    public string Batch => Value.GetProperty("batch").GetString()!;

    public List<(string Namespace, string Id, bool Primary)> Identities => [.. Value.GetProperty("identities").EnumerateArray().Select(i =>
        (i.GetProperty("namespace").GetString()!, i.GetProperty("id").GetString()!, i.TryGetProperty("primary", out var p) && p.GetBoolean()))];

    public string? Text(string dottedPath)
    {
        var element = Record;
        foreach (var part in dottedPath.Split('.'))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element))
            {
                return null;
            }
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText();
    }

    public static StoredFact Decode(int shard, byte[] key, byte[] value)
    {
        if (!FactKeys.TryParse(key, out var parsed) || parsed.Tag == FactKeys.TimelineTag)
        {
            throw new InvalidOperationException($"not a record or event key: {Convert.ToHexString(key)}");
        }
        using var document = JsonDocument.Parse(value);
        return new StoredFact(shard, (char)parsed.Tag, parsed.Sandbox, parsed.Identity.Namespace, parsed.Identity.Value, parsed.Dataset, parsed.EventId,
            document.RootElement.Clone())
        { Key = key, KeyBatch = parsed.BatchId, KeyRow = parsed.Row };
    }
}

using System.Text.Json;
using nietras.SeparatedValues;
using Tessera.Bench;
using Tessera.Catalog;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Benchmarks.Micro;

/// <summary>Schemas and one record of each kind, from the end-to-end runner's generator.</summary>
internal static class Fixtures
{
    private static readonly HashSet<string> Namespaces = [.. StandardNamespaces.All.Select(n => n.Code)];

    public static bool NamespaceExists(string code) => Namespaces.Contains(code);

    /// <summary>The standard namespaces with their normalizers, as a batch of a new sandbox sees them.</summary>
    public static NamespaceResolver Resolver { get; } = new(StandardNamespaces.All);

    public static CompiledSchema Compile(string json) =>
        SchemaCompiler.Compile(JsonSerializer.Deserialize(json, CatalogJson.Default.SchemaDocument)! with { Version = 1 }, NamespaceExists);

    public static CompiledSchema Crm { get; } = Compile(DataGen.CrmSchemaJson);

    public static CompiledSchema Web { get; } = Compile(DataGen.WebSchemaJson);

    /// <summary>The first generated CRM row, as the CSV reader hands it over (one string per cell).</summary>
    public static (string[] Columns, object?[] Values) CrmRow()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tessera-micro-{Environment.ProcessId}.csv");
        try
        {
            DataGen.WriteCrmCsv(path, 1, seed: 42);
            using var reader = Sep.Reader().FromFile(path);
            var columns = reader.Header.ColNames.ToArray();
            foreach (var row in reader)
            {
                var values = new object?[row.ColCount];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = row[i].ToString();
                }
                return (columns, values);
            }
            throw new InvalidOperationException("no row generated");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>One generated web event (about 700 bytes).</summary>
    public static JsonElement WebEvent()
    {
        var body = DataGen.WebEventBatches(1, 1, seed: 1234, out _)[0];
        using var document = JsonDocument.Parse(body);
        return document.RootElement[0].Clone();
    }
}

/// <summary>A store that has nothing and accepts everything, for measuring the work before a commit.</summary>
internal sealed class NullStore : IStore
{
    public int ShardCount => 8;

    public Task CommitAsync(WriteSet writes, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task BulkLoadAsync(IReadOnlyList<WriteSet> sets, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public byte[]? Get(StoreSpace space, int shard, ReadOnlySpan<byte> key) => null;

    public bool Exists(StoreSpace space, int shard, ReadOnlySpan<byte> key) => false;

    public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(StoreSpace space, int shard, byte[] prefix) => [];

    public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, EntryVisitor visit)
    {
    }

    public IEnumerable<KeyValuePair<byte[], byte[]>> ScanReverse(StoreSpace space, int shard, byte[] prefix, byte[]? before = null) => [];

    public void Dispose()
    {
    }
}

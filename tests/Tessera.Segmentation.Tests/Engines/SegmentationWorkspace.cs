using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Server;

namespace Tessera.Segmentation.Tests.Engines;

/// <summary>A real workspace on disk with a CRM profile dataset and a web event dataset, on a fake clock.</summary>
public sealed class SegmentationWorkspace : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);

    private const string Crm = """
        {"name": "crm", "class": "profile", "fields": {
          "crmId": {"type": "string", "required": true, "identity": {"namespace": "CRMID", "primary": true}},
          "tier": {"type": "string"}, "points": {"type": "long"}, "country": {"type": "string"}}}
        """;

    private const string Web = """
        {"name": "web", "class": "event", "fields": {
          "ecid": {"type": "string", "identity": {"namespace": "ECID", "primary": true}},
          "crmId": {"type": "string", "identity": {"namespace": "CRMID"}},
          "page": {"type": "string"}, "price": {"type": "double"}}}
        """;

    private SegmentationWorkspace(string directory, FakeTimeProvider time, Workspace workspace)
    {
        Directory = directory;
        Time = time;
        Workspace = workspace;
    }

    public string Directory { get; }

    public FakeTimeProvider Time { get; }

    public Workspace Workspace { get; }

    /// <param name="config">The workspace's <c>tessera.json</c>, if not the defaults.</param>
    public static async Task<SegmentationWorkspace> CreateAsync(string? config = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-segmentation-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (config is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), config);
        }
        var time = new FakeTimeProvider(Start);
        var workspace = await Workspace.OpenAsync(directory, time);
        foreach (var schema in new[] { Crm, Web })
        {
            await workspace.Catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize(schema, CatalogJson.Default.SchemaDocument)!);
        }
        await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web" });
        return new SegmentationWorkspace(directory, time, workspace);
    }

    /// <summary>Ingests records (a JSON array) into a dataset as one streaming request; every record must be accepted.</summary>
    public async Task StreamAsync(string dataset, string jsonArray)
    {
        using var document = JsonDocument.Parse(jsonArray);
        var records = document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        var result = await Workspace.Ingestion.IngestRecordsAsync("prod", dataset, records, "test");
        Assert.True(records.Count == result.Batch.Counts.Accepted, string.Join("; ", result.Records.SelectMany(r => r.Errors ?? []).Select(e => e.ToString())));
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

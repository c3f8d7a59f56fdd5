using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Catalog;

namespace Tessera.Ingestion.Tests;

public sealed class ConcurrentStreamingTests
{
    [Fact]
    public async Task The_same_events_sent_concurrently_are_stored_and_counted_once()
    {
        await using var test = await TestWorkspace.CreateAsync();
        var catalog = test.Workspace.Catalog;
        await catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize(Schemas.Web, CatalogJson.Default.SchemaDocument)!);
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web" });
        var body = "[" + string.Join(',', Enumerable.Range(0, 200).Select(i =>
            $$"""{"_id":"e{{i}}","timestamp":"2026-11-01T10:00:00Z","ecid":"d{{i % 17}}"}""")) + "]";
        using var document = JsonDocument.Parse(body);
        var records = document.RootElement.EnumerateArray().ToList();

        // Eight senders race with the same 200 events (a retry storm).
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => test.Workspace.Ingestion.IngestRecordsAsync("prod", "web", records, "test"))));

        Assert.Equal(200, results.Sum(r => r.Batch.Counts.Accepted - r.Batch.Counts.Duplicates));
        Assert.Equal(7 * 200, results.Sum(r => r.Batch.Counts.Duplicates));
        Assert.All(results.SelectMany(r => r.Records), outcome => Assert.NotEqual(RecordOutcome.Rejected, outcome.Status));
    }
}

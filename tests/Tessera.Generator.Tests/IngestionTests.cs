using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion.Mapping;
using Tessera.Server;

namespace Tessera.Generator.Tests;

/// <summary>
/// The generated files and events go into a real workspace, and Tessera stores and quarantines
/// exactly what the manifest says was planted.
/// </summary>
public sealed class IngestionTests
{
    private const string Sandbox = "prod";
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static async Task<Workspace> OpenAsync(string directory, GeneratedData data, string output)
    {
        // A day after the data was generated: nothing is in the future, the 90-day TTL keeps every event.
        var workspace = await Workspace.OpenAsync(directory, new FakeTimeProvider(Now.AddDays(1)));
        await workspace.Catalog.EnsureSandboxAsync(Sandbox);
        foreach (var schema in data.Schemas)
        {
            var document = JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(output, schema.Path)), CatalogJson.Default.SchemaDocument)!;
            await workspace.Catalog.RegisterSchemaAsync(Sandbox, document);
        }
        foreach (var dataset in data.Datasets)
        {
            await workspace.Catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition
            {
                Name = dataset.Name,
                Schema = dataset.Schema,
                EventTtl = dataset.EventTtlDays is { } days ? TimeSpan.FromDays(days) : null,
            });
        }
        return workspace;
    }

    [Fact]
    public async Task Every_file_ingests_with_exactly_the_planted_defects_quarantined()
    {
        using var output = new TempDirectory();
        using var store = new TempDirectory();
        var data = new RetailGenerator(new RetailOptions { Profiles = 2_000, Now = Now }).WriteOffline(output.Path);
        using var workspace = await OpenAsync(store.Path, data, output.Path);

        foreach (var file in data.Files)
        {
            var mapping = file.Mapping is { } m ? MappingSpec.Load(Path.Combine(output.Path, m)) : null;
            var batch = await workspace.Ingestion.IngestFileAsync(Sandbox, file.Dataset, Path.Combine(output.Path, file.Path), mapping);

            Assert.True(file.Failed > 0, file.Path);
            Assert.Equal(BatchStatus.Success, batch.Status);
            Assert.Equal(file.Format, batch.Format);
            Assert.Equal((file.Path, file.Rows, file.Accepted, file.Failed, file.Duplicates, file.IdentitiesDropped),
                (file.Path, batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed, batch.Counts.Duplicates, batch.Counts.IdentitiesDropped));
            var quarantined = workspace.Ingestion.Quarantine(Sandbox, batch.Id).ToList();
            Assert.All(quarantined, q => Assert.Single(q.Errors));
            Assert.Equal(Expected(file.Invalid), Actual(quarantined.Select(q => q.Errors[0].Code)));
        }
        Assert.Contains(data.File(RetailSchemas.CrmDataset).Defects, d => d.Kind.StartsWith("junk-email:", StringComparison.Ordinal));
        Assert.True(data.File(RetailSchemas.PosOrdersDataset).Duplicates > 0);
    }

    [Fact]
    public async Task Online_batches_store_every_valid_event_once_and_quarantine_the_invalid()
    {
        using var output = new TempDirectory();
        using var store = new TempDirectory();
        var generator = new RetailGenerator(new RetailOptions { Profiles = 2_000, Now = Now });
        var data = generator.WriteOffline(output.Path);
        using var workspace = await OpenAsync(store.Path, data, output.Path);

        long input = 0, accepted = 0, failed = 0, duplicates = 0, dropped = 0;
        var codes = new List<string>();
        foreach (var body in generator.OnlineEventBatches(250))
        {
            using var document = JsonDocument.Parse(body);
            var result = await workspace.Ingestion.IngestRecordsAsync(Sandbox, RetailSchemas.WebEventsDataset, [.. document.RootElement.EnumerateArray()], "test");
            var counts = result.Batch.Counts;
            (input, accepted, failed, duplicates, dropped) = (input + counts.Input, accepted + counts.Accepted, failed + counts.Failed,
                duplicates + counts.Duplicates, dropped + counts.IdentitiesDropped);
            codes.AddRange(workspace.Ingestion.Quarantine(Sandbox, result.Batch.Id).Select(q => q.Errors[0].Code));
        }

        var online = data.Online;
        Assert.Equal((online.Events, online.Accepted, online.Failed, online.Duplicates, online.IdentitiesDropped), (input, accepted, failed, duplicates, dropped));
        Assert.Equal(Expected(online.Invalid), Actual(codes));
        Assert.True(online.Duplicates > 0 && online.Failed > 0 && online.SharedDevices > 0);
    }

    [Fact]
    public async Task The_json_lines_copy_ingests_as_a_file_with_the_same_outcome()
    {
        using var output = new TempDirectory();
        using var store = new TempDirectory();
        var generator = new RetailGenerator(new RetailOptions { Profiles = 1_000, Now = Now });
        var data = generator.WriteAll(output.Path);
        using var workspace = await OpenAsync(store.Path, data, output.Path);

        var batch = await workspace.Ingestion.IngestFileAsync(Sandbox, data.Online.Dataset, Path.Combine(output.Path, data.Online.Path!), null);

        Assert.Equal((data.Online.Events, data.Online.Accepted, data.Online.Failed, data.Online.Duplicates),
            (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed, batch.Counts.Duplicates));
    }

    private static SortedDictionary<string, long> Expected(IEnumerable<InvalidCount> invalid) =>
        new(invalid.GroupBy(i => i.Code).ToDictionary(g => g.Key, g => g.Sum(i => i.Count)), StringComparer.Ordinal);

    private static SortedDictionary<string, long> Actual(IEnumerable<string> codes) =>
        new(codes.GroupBy(c => c).ToDictionary(g => g.Key, g => (long)g.Count()), StringComparer.Ordinal);
}

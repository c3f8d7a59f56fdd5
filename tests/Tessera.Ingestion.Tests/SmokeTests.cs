using System.Text.Json;
using Tessera.Abstractions;

namespace Tessera.Ingestion.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Csv_batch_is_validated_stored_and_quarantined()
    {
        await using var test = await TestWorkspace.CreateAsync();
        var catalog = test.Workspace.Catalog;
        await catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize("""
            {"name":"crm","class":"profile","fields":{
              "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
              "email":{"type":"string","identity":{"namespace":"Email"}},
              "age":{"type":"int","min":0,"max":150}}}
            """, Catalog.CatalogJson.Default.SchemaDocument)!);
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        var rows = string.Join('\n', ["crmId,email,age", .. Enumerable.Range(1, 40).Select(i => $"{i:D5},u{i}@x.com,{20 + i}"), "00041,bad@x.com,200"]);
        var batch = await test.Workspace.Ingestion.IngestFileAsync("prod", "crm", test.WriteFile("crm.csv", rows));
        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal(41, batch.Counts.Input);
        Assert.Equal(40, batch.Counts.Accepted);
        var entry = Assert.Single(test.Workspace.Ingestion.Quarantine("prod", batch.Id));
        Assert.Equal(ErrorCodes.AboveMaximum, entry.Errors[0].Code);
        Assert.Equal("age", entry.Errors[0].Path);
    }
}

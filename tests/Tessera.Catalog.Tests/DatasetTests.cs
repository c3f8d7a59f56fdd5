using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

public sealed class DatasetTests
{
    private const string Profile = """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}}}}""";
    private const string Event = """{"name":"web","class":"event","fields":{"ecid":{"type":"string","identity":{"namespace":"ECID","primary":true}}}}""";

    [Fact]
    public async Task A_dataset_is_bound_to_a_schema()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Profile);
        await test.RegisterAsync(Event);

        var crm = await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm-main", Schema = "crm" });
        var web = await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web", ProfileEnabled = false, EventTtl = TimeSpan.FromDays(30) });

        Assert.Equal(test.Time.GetUtcNow(), crm.CreatedAt);
        Assert.True(crm.ProfileEnabled);
        var read = test.Catalog.RequireDataset("prod", "web");
        Assert.Equal("web", read.Schema);
        Assert.False(read.ProfileEnabled);
        Assert.Equal(TimeSpan.FromDays(30), read.EventTtl);
        Assert.Equal(["crm-main", "web"], test.Catalog.ListDatasets("prod").Select(d => d.Name));
    }

    [Fact]
    public async Task Creating_a_dataset_again_is_idempotent_but_rebinding_it_is_refused()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Profile);
        await test.RegisterAsync(Event);
        var first = await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        test.Time.Advance(TimeSpan.FromHours(1));

        var again = await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        Assert.Equal(first.CreatedAt, again.CreatedAt);

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "web" }));
        Assert.Equal("DATASET_EXISTS", error.Code);
    }

    [Fact]
    public async Task A_dataset_needs_an_existing_schema_a_valid_name_and_an_event_schema_for_a_ttl()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Profile);

        Assert.Equal("SCHEMA_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() =>
            test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "x", Schema = "missing" }))).Code);
        Assert.Equal("NAME_INVALID", (await Assert.ThrowsAsync<CatalogException>(() =>
            test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "bad name", Schema = "crm" }))).Code);
        var ttl = await Assert.ThrowsAsync<CatalogException>(() =>
            test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm", EventTtl = TimeSpan.FromDays(1) }));
        Assert.Equal("DATASET_INVALID", ttl.Code);
        Assert.Equal("DATASET_NOT_FOUND", Assert.Throws<CatalogException>(() => test.Catalog.RequireDataset("prod", "nope")).Code);
        Assert.Empty(test.Catalog.ListDatasets("prod"));
    }

    [Theory]
    [InlineData("-1.00:00:00")]        // every event expired as it lands, and deleted by the expiry pass
    [InlineData("00:00:00")]
    [InlineData("10675199.00:00:00")]  // now minus it is before year 1: 'tessera profile expire' threw
    [InlineData("36500.00:00:01")]
    public async Task An_event_ttl_of_zero_or_less_or_beyond_a_century_is_refused(string ttl)
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Event);

        var error = await Assert.ThrowsAsync<CatalogException>(() =>
            test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web", EventTtl = TimeSpan.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture) }));

        Assert.Equal("DATASET_INVALID", error.Code);
        Assert.Contains("the event TTL must be more than zero and at most 36500 days", error.Message);
        Assert.Empty(test.Catalog.ListDatasets("prod"));
        await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web", EventTtl = TimeSpan.FromDays(36_500) });
    }

    [Fact]
    public async Task Batches_are_saved_listed_and_their_ids_sort_by_time()
    {
        await using var test = await TestCatalog.CreateAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(test.Catalog.NewBatchId());
            test.Time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Equal(5, ids.Distinct().Count());

        foreach (var id in ids.AsEnumerable().Reverse())
        {
            await test.Catalog.SaveBatchAsync(new BatchInfo { Id = id, Sandbox = "prod", Dataset = "d", Kind = BatchKind.File, Format = "csv", Status = BatchStatus.Loading });
        }
        await test.Catalog.SaveBatchAsync(test.Catalog.RequireBatch("prod", ids[0]) with { Status = BatchStatus.Success, Counts = new BatchCounts { Input = 3, Accepted = 3 } });

        Assert.Equal(ids, test.Catalog.ListBatches("prod").Select(b => b.Id));
        Assert.Equal(BatchStatus.Success, test.Catalog.GetBatch("prod", ids[0])!.Status);
        Assert.Equal(3, test.Catalog.GetBatch("prod", ids[0])!.Counts.Accepted);
        Assert.Equal("BATCH_NOT_FOUND", Assert.Throws<CatalogException>(() => test.Catalog.RequireBatch("prod", "b-missing")).Code);
    }
}

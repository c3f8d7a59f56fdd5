using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

public sealed class SandboxTests
{
    private const string Schema = """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}}}}""";

    [Fact]
    public async Task Sandboxes_are_created_once_and_listed()
    {
        await using var test = await TestCatalog.CreateAsync("dev");
        var created = test.Catalog.GetSandbox("dev")!.CreatedAt;
        test.Time.Advance(TimeSpan.FromDays(1));

        var again = await test.Catalog.EnsureSandboxAsync("dev");

        Assert.Equal(created, again.CreatedAt);
        Assert.Equal(["dev", "prod"], test.Catalog.ListSandboxes().Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.Equal("SANDBOX_NOT_FOUND", Assert.Throws<CatalogException>(() => test.Catalog.RequireSandbox("qa")).Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a\0b")]
    [InlineData("9lives")]
    public async Task A_sandbox_name_must_be_a_simple_name(string name)
    {
        await using var test = await TestCatalog.CreateAsync();
        Assert.Equal("NAME_INVALID", (await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.EnsureSandboxAsync(name))).Code);
    }

    [Fact]
    public async Task Objects_of_prod_are_invisible_in_dev()
    {
        await using var test = await TestCatalog.CreateAsync("dev");
        await test.RegisterAsync(Schema, "prod");
        await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        await test.Catalog.CreateNamespaceAsync("prod", new IdentityNamespace { Code = "Card", Name = "Card", Type = IdentityType.CrossDevice });
        await test.Catalog.SaveBatchAsync(new BatchInfo { Id = test.Catalog.NewBatchId(), Sandbox = "prod", Dataset = "crm", Kind = BatchKind.File, Format = "csv" });

        Assert.Null(test.Catalog.GetSchema("dev", "crm"));
        Assert.Empty(test.Catalog.ListSchemas("dev"));
        Assert.Empty(test.Catalog.SchemaVersions("dev", "crm"));
        Assert.Null(test.Catalog.GetDataset("dev", "crm"));
        Assert.Empty(test.Catalog.ListDatasets("dev"));
        Assert.Null(test.Catalog.GetNamespace("dev", "Card"));
        Assert.Empty(test.Catalog.ListBatches("dev"));
        Assert.Equal("SCHEMA_NOT_FOUND", Assert.Throws<CatalogException>(() => test.Catalog.Compiled("dev", "crm")).Code);
        // A dataset in dev cannot bind to prod's schema.
        Assert.Equal("SCHEMA_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() =>
            test.Catalog.CreateDatasetAsync("dev", new DatasetDefinition { Name = "crm", Schema = "crm" }))).Code);
    }

    [Fact]
    public async Task The_same_names_in_two_sandboxes_are_independent_objects()
    {
        await using var test = await TestCatalog.CreateAsync("dev");
        await test.RegisterAsync(Schema, "prod");
        await test.RegisterAsync(Schema.Replace("}}}}", "}},\"tier\":{\"type\":\"string\"}}}", StringComparison.Ordinal), "prod");
        // dev's crm starts at version 1 and may differ from prod's without being an evolution of it.
        var dev = await test.RegisterAsync(Schema.Replace("\"crmId\"", "\"customerId\"", StringComparison.Ordinal), "dev");

        Assert.Equal(1, dev.Version);
        Assert.Equal(2, test.Catalog.GetSchema("prod", "crm")!.Version);
        Assert.NotNull(test.Catalog.Compiled("dev", "crm").Resolve("customerId"));
        Assert.Null(test.Catalog.Compiled("prod", "crm").Resolve("customerId"));
    }

    [Fact]
    public async Task A_sandbox_whose_name_extends_another_sees_none_of_its_objects()
    {
        await using var test = await TestCatalog.CreateAsync("prod2", "pro");
        await test.RegisterAsync(Schema, "prod");
        await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });

        Assert.Empty(test.Catalog.ListSchemas("prod2"));
        Assert.Empty(test.Catalog.ListSchemas("pro"));
        Assert.Empty(test.Catalog.ListDatasets("prod2"));
        Assert.Empty(test.Catalog.ListDatasets("pro"));
        Assert.Single(test.Catalog.ListSchemas("prod"));
    }

    [Fact]
    public async Task Catalog_objects_survive_a_restart()
    {
        await using var test = await TestCatalog.CreateAsync("dev");
        await test.RegisterAsync(Schema, "dev");
        await test.Catalog.CreateDatasetAsync("dev", new DatasetDefinition { Name = "crm", Schema = "crm" });
        await test.Catalog.CreateNamespaceAsync("dev", new IdentityNamespace { Code = "Card", Name = "Card", Type = IdentityType.CrossDevice });

        test.Reopen();

        Assert.NotNull(test.Catalog.GetSandbox("dev"));
        Assert.NotNull(test.Catalog.GetSchema("dev", "crm"));
        Assert.NotNull(test.Catalog.GetDataset("dev", "crm"));
        Assert.NotNull(test.Catalog.GetNamespace("dev", "Card"));
    }
}

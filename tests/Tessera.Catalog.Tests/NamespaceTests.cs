using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

public sealed class NamespaceTests
{
    [Fact]
    public async Task Every_sandbox_starts_with_the_standard_namespaces()
    {
        await using var test = await TestCatalog.CreateAsync("dev");
        var expected = new Dictionary<string, IdentityType>
        {
            ["ECID"] = IdentityType.Cookie,
            ["Email"] = IdentityType.Email,
            ["Phone"] = IdentityType.Phone,
            ["Email_LC_SHA256"] = IdentityType.Email,
            ["Phone_SHA256"] = IdentityType.Phone,
            ["CRMID"] = IdentityType.CrossDevice,
            ["LoyaltyID"] = IdentityType.CrossDevice,
            ["IDFA"] = IdentityType.Device,
            ["GAID"] = IdentityType.Device,
        };

        foreach (var sandbox in new[] { "prod", "dev" })
        {
            var namespaces = test.Catalog.ListNamespaces(sandbox);
            Assert.Equal(expected.Count, namespaces.Count);
            foreach (var ns in namespaces)
            {
                Assert.Equal(expected[ns.Code], ns.Type);
                Assert.True(ns.Standard);
                Assert.False(string.IsNullOrWhiteSpace(ns.Name));
            }
        }
    }

    [Fact]
    public async Task A_custom_namespace_is_created_in_its_sandbox_only()
    {
        await using var test = await TestCatalog.CreateAsync("dev");

        var created = await test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "StoreCard", Name = "Store card", Type = IdentityType.CrossDevice, Standard = true });

        Assert.False(created.Standard); // only the built-in set is standard
        Assert.Equal(IdentityType.CrossDevice, test.Catalog.GetNamespace("prod", "StoreCard")!.Type);
        Assert.Null(test.Catalog.GetNamespace("dev", "StoreCard"));
        Assert.Equal(10, test.Catalog.ListNamespaces("prod").Count);
        Assert.Equal(9, test.Catalog.ListNamespaces("dev").Count);
    }

    [Fact]
    public async Task Creating_an_existing_namespace_with_the_same_type_is_a_no_op_and_with_another_type_is_refused()
    {
        await using var test = await TestCatalog.CreateAsync();
        var ns = new IdentityNamespace { Code = "StoreCard", Name = "Store card", Type = IdentityType.CrossDevice };
        await test.Catalog.CreateNamespaceAsync("prod", ns);

        var again = await test.Catalog.CreateNamespaceAsync("prod", ns with { Name = "Renamed" });
        Assert.Equal("Store card", again.Name);

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod", ns with { Type = IdentityType.Cookie }));
        Assert.Equal("NAMESPACE_EXISTS", error.Code);
        var standard = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "Email", Name = "Not an email", Type = IdentityType.Partner }));
        Assert.Equal("NAMESPACE_EXISTS", standard.Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1st")]
    [InlineData("has space")]
    [InlineData("a/b")]
    public async Task A_namespace_code_must_be_a_simple_name(string code)
    {
        await using var test = await TestCatalog.CreateAsync();
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = code, Name = "x", Type = IdentityType.Partner }));
        Assert.Equal("NAME_INVALID", error.Code);
    }

    [Fact]
    public async Task A_schema_can_use_a_custom_namespace_of_its_own_sandbox_only()
    {
        await using var test = await TestCatalog.CreateAsync("dev");
        await test.Catalog.CreateNamespaceAsync("prod", new IdentityNamespace { Code = "StoreCard", Name = "Store card", Type = IdentityType.CrossDevice });
        const string schema = """{"name":"cards","class":"profile","fields":{"card":{"type":"string","identity":{"namespace":"StoreCard","primary":true}}}}""";

        await test.RegisterAsync(schema, "prod");
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.RegisterAsync(schema, "dev"));

        Assert.Equal("SCHEMA_INVALID", error.Code);
        Assert.Contains("field 'card': identity namespace 'StoreCard' is not defined", error.Message, StringComparison.Ordinal);
    }
}

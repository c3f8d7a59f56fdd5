using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Storage;

namespace Tessera.Catalog.Tests;

/// <summary>A namespace's normalization settings: the standard ones, stored round trips, old stored forms, and the checks on create.</summary>
public sealed class NamespaceFormatTests
{
    [Fact]
    public async Task The_standard_namespaces_carry_their_formats()
    {
        await using var test = await TestCatalog.CreateAsync();

        var formats = test.Catalog.ListNamespaces("prod").ToDictionary(n => n.Code, n => n.EffectiveFormat);

        Assert.Equal(IdentityFormat.Email, formats["Email"]);
        Assert.Equal(IdentityFormat.Phone, formats["Phone"]);
        Assert.Equal(IdentityFormat.Sha256, formats["Email_LC_SHA256"]);
        Assert.Equal(IdentityFormat.Sha256, formats["Phone_SHA256"]);
        Assert.Equal(IdentityFormat.Uuid, formats["IDFA"]);
        Assert.Equal(IdentityFormat.Uuid, formats["GAID"]);
        Assert.Equal(IdentityFormat.Text, formats["ECID"]);
        Assert.Equal(IdentityFormat.Text, formats["CRMID"]);
        Assert.Equal(IdentityFormat.Text, formats["LoyaltyID"]);
    }

    [Theory]
    [InlineData(IdentityType.Email, IdentityFormat.Email)]
    [InlineData(IdentityType.Phone, IdentityFormat.Phone)]
    [InlineData(IdentityType.Cookie, IdentityFormat.Text)]
    [InlineData(IdentityType.Device, IdentityFormat.Text)]
    [InlineData(IdentityType.CrossDevice, IdentityFormat.Text)]
    [InlineData(IdentityType.Partner, IdentityFormat.Text)]
    [InlineData(IdentityType.NonPeople, IdentityFormat.Text)]
    public void Without_a_format_the_type_decides(IdentityType type, IdentityFormat expected) =>
        Assert.Equal(expected, new IdentityNamespace { Code = "X", Name = "X", Type = type }.EffectiveFormat);

    [Fact]
    public async Task Normalization_settings_survive_a_restart_and_are_written_in_json()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.Catalog.CreateNamespaceAsync("prod", new IdentityNamespace
        {
            Code = "UkPhone",
            Name = "UK phone",
            Type = IdentityType.Phone,
            Format = IdentityFormat.Phone,
            DefaultRegion = "gb",
            BlockedValues = [" 07700 900000 ", "07700 900000", ""],
            DefaultBlockedValues = false,
        });

        test.Reopen();
        var stored = test.Catalog.GetNamespace("prod", "UkPhone")!;

        Assert.Equal(IdentityFormat.Phone, stored.Format);
        Assert.Equal("GB", stored.DefaultRegion); // upper-cased
        Assert.Equal(["07700 900000"], stored.BlockedValues!); // trimmed, deduplicated, empty dropped
        Assert.False(stored.DefaultBlockedValues);
        var json = JsonSerializer.Serialize(stored, CatalogJson.Default.IdentityNamespace);
        Assert.Contains("\"format\":\"phone\"", json, StringComparison.Ordinal);
        Assert.Contains("\"defaultRegion\":\"GB\"", json, StringComparison.Ordinal);
        Assert.Contains("\"blockedValues\":[\"07700 900000\"]", json, StringComparison.Ordinal);
        Assert.Contains("\"defaultBlockedValues\":false", json, StringComparison.Ordinal);
        Assert.DoesNotContain("effectiveFormat", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Namespaces_stored_before_formats_existed_still_load()
    {
        await using var test = await TestCatalog.CreateAsync();
        // As an earlier version wrote them: no format, region or blocked values.
        await PutRawAsync(test, "IDFA", """{"code":"IDFA","name":"Apple IDFA","type":"device","standard":true,"numericId":20915}""");
        await PutRawAsync(test, "Email_LC_SHA256", """{"code":"Email_LC_SHA256","name":"Email (SHA-256)","type":"email","standard":true}""");
        await PutRawAsync(test, "Newsletter", """{"code":"Newsletter","name":"Newsletter address","type":"email"}""");

        var idfa = test.Catalog.GetNamespace("prod", "IDFA")!;
        var hashed = test.Catalog.ListNamespaces("prod").Single(n => n.Code == "Email_LC_SHA256");
        var custom = test.Catalog.GetNamespace("prod", "Newsletter")!;

        // A standard namespace takes the standard set's format, not its type's (a hash is no email address).
        Assert.Equal(IdentityFormat.Uuid, idfa.EffectiveFormat);
        Assert.Equal(IdentityFormat.Sha256, hashed.EffectiveFormat);
        Assert.Null(custom.Format);
        Assert.Equal(IdentityFormat.Email, custom.EffectiveFormat);
        Assert.Null(custom.BlockedValues);
        Assert.Null(custom.DefaultRegion);
    }

    [Theory]
    [InlineData(IdentityType.CrossDevice, null, "GB", "applies to the phone format only")]
    [InlineData(IdentityType.Phone, IdentityFormat.Sha256, "GB", "applies to the phone format only")]
    [InlineData(IdentityType.Phone, null, "XX", "not an ISO 3166 alpha-2 region")]
    [InlineData(IdentityType.Phone, null, "USA", "not an ISO 3166 alpha-2 region")]
    public async Task A_default_region_must_be_a_known_region_of_a_phone_namespace(IdentityType type, IdentityFormat? format, string region, string expected)
    {
        await using var test = await TestCatalog.CreateAsync();

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "P", Name = "P", Type = type, Format = format, DefaultRegion = region }));

        Assert.Equal("NAMESPACE_INVALID", error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Null(test.Catalog.GetNamespace("prod", "P"));
    }

    [Theory]
    [InlineData(-5)]
    [InlineData(0)]
    [InlineData(int.MinValue)]
    public async Task A_numeric_id_must_be_positive(int numericId)
    {
        await using var test = await TestCatalog.CreateAsync();

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "Store", Name = "Store", Type = IdentityType.CrossDevice, NumericId = numericId }));
        var valid = await test.Catalog.CreateNamespaceAsync("prod", new IdentityNamespace { Code = "Card", Name = "Card", Type = IdentityType.CrossDevice, NumericId = 1 });

        Assert.Equal("NAMESPACE_INVALID", error.Code);
        Assert.Equal($"namespace 'Store': numeric id {numericId} must be a positive integer, as Adobe's namespace ids are", error.Message);
        Assert.Null(test.Catalog.GetNamespace("prod", "Store"));
        Assert.Equal(1, valid.NumericId);
    }

    [Fact]
    public async Task Blocked_values_are_bounded()
    {
        await using var test = await TestCatalog.CreateAsync();

        var tooMany = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "A", Name = "A", Type = IdentityType.Partner, BlockedValues = [.. Enumerable.Range(0, 1001).Select(i => $"v{i}")] }));
        var tooLong = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "B", Name = "B", Type = IdentityType.Partner, BlockedValues = [new string('x', 257)] }));

        Assert.Equal(("NAMESPACE_INVALID", "NAMESPACE_INVALID"), (tooMany.Code, tooLong.Code));
    }

    [Fact]
    public async Task Creating_an_existing_namespace_with_other_normalization_settings_is_refused()
    {
        await using var test = await TestCatalog.CreateAsync();
        var ns = new IdentityNamespace { Code = "Member", Name = "Member", Type = IdentityType.CrossDevice, BlockedValues = ["guest"] };
        await test.Catalog.CreateNamespaceAsync("prod", ns);

        // Unset settings are not compared; the same ones (blocked values in any case or order) are a no-op.
        Assert.Equal(["guest"], (await test.Catalog.CreateNamespaceAsync("prod", ns with { BlockedValues = null })).BlockedValues!);
        await test.Catalog.CreateNamespaceAsync("prod", ns with { BlockedValues = ["GUEST"], Format = IdentityFormat.Text, DefaultBlockedValues = true });

        var format = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod", ns with { Format = IdentityFormat.Uuid }));
        var blocked = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod", ns with { BlockedValues = ["guest", "anonymous"] }));
        var defaults = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod", ns with { DefaultBlockedValues = false }));
        var standard = await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "IDFA", Name = "IDFA", Type = IdentityType.Device, Format = IdentityFormat.Text }));

        Assert.All(new[] { format, blocked, defaults, standard }, e => Assert.Equal("NAMESPACE_EXISTS", e.Code));
        Assert.Contains("format text, not uuid", format.Message, StringComparison.Ordinal);
        Assert.Contains("format uuid, not text", standard.Message, StringComparison.Ordinal);
    }

    private static async Task PutRawAsync(TestCatalog test, string code, string json)
    {
        using var writes = new WriteSet(1024);
        writes.Put(StoreSpace.Catalog, 0, CatalogStore.Key("ns", "prod", code), Encoding.UTF8.GetBytes(json));
        await test.Store.CommitAsync(writes);
    }
}

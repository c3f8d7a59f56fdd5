using System.Security.Cryptography;
using System.Text;
using Tessera.Abstractions;
using Tessera.Storage;

namespace Tessera.Catalog.Tests;

public sealed class ApiKeyTests
{
    [Fact]
    public async Task A_created_key_authenticates_with_its_sandbox_and_role()
    {
        await using var test = await TestCatalog.CreateAsync("dev");

        var (admin, adminSecret) = await test.Catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "ops");
        var (collect, collectSecret) = await test.Catalog.CreateApiKeyAsync("dev", ApiRole.Collect, "web page");

        Assert.StartsWith("tsk_admin_", adminSecret, StringComparison.Ordinal);
        Assert.StartsWith("tsk_collect_", collectSecret, StringComparison.Ordinal);
        var a = test.Catalog.Authenticate(adminSecret);
        var c = test.Catalog.Authenticate(collectSecret);
        Assert.NotNull(a);
        Assert.NotNull(c);
        Assert.Equal((admin.Id, "prod", ApiRole.Admin, "ops"), (a.Id, a.Sandbox, a.Role, a.Name));
        Assert.Equal((collect.Id, "dev", ApiRole.Collect), (c.Id, c.Sandbox, c.Role));
        Assert.Equal(test.Time.GetUtcNow(), a.CreatedAt);
        Assert.Equal(2, test.Catalog.ListApiKeys().Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("tsk_admin_k000000000000_0000")]
    [InlineData("not a key")]
    public async Task An_unknown_secret_does_not_authenticate(string secret)
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.Catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "ops");
        Assert.Null(test.Catalog.Authenticate(secret));
    }

    [Fact]
    public async Task A_secret_that_differs_in_one_character_does_not_authenticate()
    {
        await using var test = await TestCatalog.CreateAsync();
        var (_, secret) = await test.Catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "ops");
        var last = secret[^1] == '0' ? '1' : '0';
        Assert.Null(test.Catalog.Authenticate(secret[..^1] + last));
        Assert.Null(test.Catalog.Authenticate(secret.ToUpperInvariant()));
    }

    [Fact]
    public async Task A_revoked_key_no_longer_authenticates()
    {
        await using var test = await TestCatalog.CreateAsync();
        var (record, secret) = await test.Catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "ops");
        var (_, other) = await test.Catalog.CreateApiKeyAsync("prod", ApiRole.Collect, "site");
        test.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.NotNull(test.Catalog.Authenticate(secret)); // Remembered as live from here on...

        var revoked = await test.Catalog.RevokeApiKeyAsync(record.Id);

        Assert.Equal(test.Time.GetUtcNow(), revoked.RevokedAt);
        Assert.Null(test.Catalog.Authenticate(secret)); // ...until a revocation.
        Assert.NotNull(test.Catalog.Authenticate(other));
        var again = await test.Catalog.RevokeApiKeyAsync(record.Id);
        Assert.Equal(revoked.RevokedAt, again.RevokedAt);
        test.Reopen();
        Assert.Null(test.Catalog.Authenticate(secret));
        Assert.NotNull(test.Catalog.Authenticate(other));
    }

    [Fact]
    public async Task Revoking_an_unknown_key_or_creating_one_for_a_missing_sandbox_is_refused()
    {
        await using var test = await TestCatalog.CreateAsync();
        Assert.Equal("APIKEY_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.RevokeApiKeyAsync("k000"))).Code);
        Assert.Equal("SANDBOX_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => test.Catalog.CreateApiKeyAsync("nowhere", ApiRole.Admin, "x"))).Code);
    }

    [Fact]
    public async Task Only_the_hash_of_a_secret_is_stored()
    {
        await using var test = await TestCatalog.CreateAsync();
        var (record, secret) = await test.Catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "ops");

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), record.SecretSha256);
        var secretPart = secret[(secret.LastIndexOf('_') + 1)..];
        foreach (var (key, value) in test.Store.Scan(StoreSpace.Catalog, 0, []))
        {
            Assert.DoesNotContain(secretPart, Encoding.UTF8.GetString(key), StringComparison.Ordinal);
            Assert.DoesNotContain(secretPart, Encoding.UTF8.GetString(value), StringComparison.Ordinal);
        }
        Assert.All(test.Catalog.ListApiKeys(), k => Assert.Equal(64, k.SecretSha256.Length));
    }
}

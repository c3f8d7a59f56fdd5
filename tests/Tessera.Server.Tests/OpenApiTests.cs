using System.Net;

namespace Tessera.Server.Tests;

public sealed class OpenApiTests
{
    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_and_the_key_schemes()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using (var anonymous = await server.Client().GetAsync("/openapi/v1.json", ct))
        {
            await anonymous.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
        }
        using var response = await server.Client(server.Key.ProdCollect).GetAsync("/openapi/v1.json", ct);
        var document = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.StartsWith("3.", document.Str("openapi"), StringComparison.Ordinal);
        Assert.Equal("Tessera API", document.GetProperty("info").Str("title"));
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in new[]
        {
            "/health", "/collection/v1/datasets/{dataset}/events", "/collection/v1/datasets/{dataset}/records",
            "/batches/v1/datasets/{dataset}", "/batches/v1", "/batches/v1/{id}", "/batches/v1/{id}/quarantine", "/batches/v1/{id}/replay",
            "/catalog/v1/schemas", "/catalog/v1/schemas/{name}", "/catalog/v1/datasets", "/catalog/v1/namespaces", "/catalog/v1/segment",
            "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch",
            "/profile/v1/merge-policies", "/profile/v1/merge-policies/{name}", "/profile/v1/profile",
            "/privacy/v1/requests", "/privacy/v1/requests/{id}", "/privacy/v1/requests/{id}/export",
        })
        {
            Assert.Contains(path, paths);
        }
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").Str("scheme"));
        Assert.Equal("basic", schemes.GetProperty("basic").Str("scheme"));
        Assert.Equal("X-Api-Key", schemes.GetProperty("apiKey").Str("name"));
        Assert.Equal(0, document.GetProperty("paths").GetProperty("/health").GetProperty("get").GetProperty("security").GetArrayLength());
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("BatchInfo", out _));
        Assert.True(schemas.TryGetProperty("IngestResponse", out _));
        Assert.True(schemas.TryGetProperty("SchemaDocument", out _));
        Assert.True(schemas.TryGetProperty("MergePolicy", out _));
        Assert.True(schemas.TryGetProperty("PrivacyRequest", out _));
        Assert.True(schemas.TryGetProperty("PrivacyExport", out _));
    }
}

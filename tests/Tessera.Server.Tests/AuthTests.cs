using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tessera.Abstractions;

namespace Tessera.Server.Tests;

public sealed class AuthTests
{
    /// <summary>Every route the server maps, with its placeholders filled in.</summary>
    private static async Task<(ApiServer Server, List<(HttpMethod Method, string Path)> Routes)> StartWithRoutesAsync()
    {
        string? batchId = null;
        var server = await ApiServer.StartAsync(beforeStart: async workspace =>
        {
            using var document = System.Text.Json.JsonDocument.Parse("""[{"crmId":"c1","age":200}]""");
            var result = await workspace.Ingestion.IngestRecordsAsync("prod", "crm", [document.RootElement], "test");
            batchId = result.Batch.Id;
        });
        var routes = new List<(HttpMethod, string)>();
        foreach (var endpoint in server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var path = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            path = path.Replace("{dataset}", "crm", StringComparison.Ordinal)
                .Replace("{id}", batchId, StringComparison.Ordinal)
                .Replace("{name}", "web", StringComparison.Ordinal)
                .Replace("{code}", "ECID", StringComparison.Ordinal)
                .Replace("{audience}", "gold", StringComparison.Ordinal)
                .Replace("{other}", "gold", StringComparison.Ordinal)
                .Replace("{documentName}", "v1", StringComparison.Ordinal)
                .Replace("{name}", "hook", StringComparison.Ordinal)
                .Replace("{policy}", "no-export", StringComparison.Ordinal);
            Assert.DoesNotContain("{", path, StringComparison.Ordinal);
            foreach (var method in methods)
            {
                routes.Add((new HttpMethod(method), path));
            }
        }
        // The mapped routes are the documented ones (a new route must be added to these tests' thinking).
        Assert.Equal(84, routes.Count);
        return (server, routes);
    }

    private static bool IsCollection(string path) =>
        path.StartsWith("/collection/", StringComparison.Ordinal) || path.StartsWith("/v1/", StringComparison.Ordinal) || path.StartsWith("/openapi/", StringComparison.Ordinal)
        || path.StartsWith("/edge/", StringComparison.Ordinal);

    private static HttpRequestMessage Request(HttpMethod method, string path, Action<HttpRequestHeaders>? headers = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        headers?.Invoke(request.Headers);
        return request;
    }

    [Fact]
    public async Task Every_endpoint_refuses_a_missing_key()
    {
        var (server, routes) = await StartWithRoutesAsync();
        await using var _ = server;
        var client = server.Client();
        foreach (var (method, path) in routes.Where(r => r.Path != "/health"))
        {
            using var response = await client.SendAsync(Request(method, path), TestContext.Current.CancellationToken);
            var error = await response.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
            Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Every_endpoint_refuses_a_revoked_or_unknown_key()
    {
        var (server, routes) = await StartWithRoutesAsync();
        await using var _ = server;
        foreach (var key in new[] { server.Key.Revoked, "tsk_admin_k000000000000_0000", server.Key.ProdAdmin + "x" })
        {
            var client = server.Client(key);
            foreach (var (method, path) in routes.Where(r => r.Path != "/health"))
            {
                using var response = await client.SendAsync(Request(method, path), TestContext.Current.CancellationToken);
                await response.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_INVALID");
            }
        }
    }

    [Fact]
    public async Task Collect_key_is_refused_on_every_admin_endpoint_and_accepted_on_collection_endpoints()
    {
        var (server, routes) = await StartWithRoutesAsync();
        await using var _ = server;
        var client = server.Client(server.Key.ProdCollect);
        var admin = routes.Where(r => r.Path != "/health" && !IsCollection(r.Path)).ToList();
        Assert.NotEmpty(admin);
        foreach (var (method, path) in admin)
        {
            using var response = await client.SendAsync(Request(method, path), TestContext.Current.CancellationToken);
            var error = await response.ExpectErrorAsync(HttpStatusCode.Forbidden, "ROLE_FORBIDDEN");
            Assert.Contains("admin", error.Str("message"), StringComparison.Ordinal);
        }
        foreach (var (method, path) in routes.Where(r => IsCollection(r.Path)))
        {
            using var response = await client.SendAsync(Request(method, path), TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{method} {path}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Admin_key_passes_authentication_everywhere()
    {
        var (server, routes) = await StartWithRoutesAsync();
        await using var _ = server;
        var client = server.Client(server.Key.ProdAdmin);
        foreach (var (method, path) in routes)
        {
            using var response = await client.SendAsync(Request(method, path), TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.InternalServerError),
                $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        }
    }

    [Fact]
    public async Task Key_is_accepted_as_bearer_x_api_key_or_basic_user_name()
    {
        await using var server = await ApiServer.StartAsync();
        var plain = server.Client();
        var ct = TestContext.Current.CancellationToken;
        var basicUser = Convert.ToBase64String(Encoding.UTF8.GetBytes(server.Key.ProdAdmin + ":"));
        var basicPassword = Convert.ToBase64String(Encoding.UTF8.GetBytes(":" + server.Key.ProdAdmin));
        foreach (var set in new Action<HttpRequestHeaders>[]
        {
            h => h.Authorization = new AuthenticationHeaderValue("Bearer", server.Key.ProdAdmin),
            h => h.Add("X-Api-Key", server.Key.ProdAdmin),
            h => h.Authorization = new AuthenticationHeaderValue("Basic", basicUser),
            h => h.Authorization = new AuthenticationHeaderValue("Basic", basicPassword),
        })
        {
            using var response = await plain.SendAsync(Request(HttpMethod.Get, "/catalog/v1/datasets", set), ct);
            await response.ExpectAsync(HttpStatusCode.OK);
        }
        using (var revoked = await plain.SendAsync(Request(HttpMethod.Get, "/catalog/v1/datasets",
            h => h.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(server.Key.Revoked + ":")))), ct))
        {
            await revoked.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_INVALID");
        }
        using (var scheme = await plain.SendAsync(Request(HttpMethod.Get, "/catalog/v1/datasets",
            h => h.Authorization = new AuthenticationHeaderValue("Digest", "x")), ct))
        {
            await scheme.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_INVALID");
        }
        using (var garbage = await plain.SendAsync(Request(HttpMethod.Get, "/catalog/v1/datasets",
            h => h.Authorization = new AuthenticationHeaderValue("Basic", "***")), ct))
        {
            await garbage.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_INVALID");
        }
    }

    [Fact]
    public async Task A_key_revoked_while_the_server_runs_is_refused_at_once()
    {
        await using var server = await ApiServer.StartAsync();
        var (record, secret) = await server.Workspace.Catalog.CreateApiKeyAsync("prod", ApiRole.Collect, "short-lived");
        var client = server.Client(secret);
        var ct = TestContext.Current.CancellationToken;
        using (var before = await client.PostAsync("/collection/v1/datasets/web/events", Http.Json("""{"_id":"e1","timestamp":"2026-11-01T10:00:00Z","ecid":"d1"}"""), ct))
        {
            await before.ExpectAsync(HttpStatusCode.OK);
        }
        await server.Workspace.Catalog.RevokeApiKeyAsync(record.Id);
        using var after = await client.PostAsync("/collection/v1/datasets/web/events", Http.Json("""{"_id":"e2","timestamp":"2026-11-01T10:00:00Z","ecid":"d1"}"""), ct);
        await after.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_INVALID");
    }

    [Fact]
    public async Task Health_needs_no_key_and_unknown_routes_answer_json()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client();
        var ct = TestContext.Current.CancellationToken;
        using (var health = await client.GetAsync("/health", ct))
        {
            Assert.Equal("ok", (await health.ExpectAsync(HttpStatusCode.OK)).Str("status"));
        }
        using (var missing = await client.GetAsync("/nothing/here", ct))
        {
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }
        using var method = await server.Client(server.Key.ProdAdmin).GetAsync("/collection/v1/datasets/web/events", ct);
        await method.ExpectErrorAsync(HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED");
    }
}

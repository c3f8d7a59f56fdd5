using System.Net;
using System.Text;

namespace Tessera.Server.Tests;

public sealed class LimitTests
{
    private const string Config = """{"limits":{"maxRequestBodyBytes":2048}}""";

    private static string Events(int count) => "[" + string.Join(',', Enumerable.Range(0, count)
        .Select(i => $$"""{"_id":"e{{i}}","timestamp":"2026-11-01T10:00:00Z","ecid":"d1","page":"/some/page/{{i}}"}""")) + "]";

    [Fact]
    public async Task An_oversized_body_is_refused_with_413_naming_the_limit()
    {
        await using var server = await ApiServer.StartAsync(Config);
        var ct = TestContext.Current.CancellationToken;
        var body = Events(100);
        Assert.True(Encoding.UTF8.GetByteCount(body) > 2048);
        var requests = new (HttpClient Client, string Path, Func<HttpContent> Content)[]
        {
            (server.Client(server.Key.ProdCollect), "/collection/v1/datasets/web/events", () => Http.Json(body)),
            (server.BasicClient(server.Key.ProdCollect), "/v1/batch", () => Http.Json("{\"batch\":" + body + "}")),
            (server.Client(server.Key.ProdAdmin), "/batches/v1/datasets/web?format=json", () => Http.Json(body)),
            (server.Client(server.Key.ProdAdmin), "/catalog/v1/schemas", () => Http.Json(body)),
        };
        foreach (var (client, path, content) in requests)
        {
            // Declared length: refused before the body is read.
            using (var declared = await client.PostAsync(path, content(), ct))
            {
                var error = await declared.ExpectErrorAsync(HttpStatusCode.RequestEntityTooLarge, "REQUEST_TOO_LARGE");
                Assert.Contains("2048 bytes (limits.maxRequestBodyBytes)", error.Str("message"), StringComparison.Ordinal);
            }
            // Chunked: Kestrel stops reading at the limit.
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content() };
            request.Headers.TransferEncodingChunked = true;
            using var chunked = await client.SendAsync(request, ct);
            var chunkedError = await chunked.ExpectErrorAsync(HttpStatusCode.RequestEntityTooLarge, "REQUEST_TOO_LARGE");
            Assert.Contains("limits.maxRequestBodyBytes", chunkedError.Str("message"), StringComparison.Ordinal);
        }
        Assert.Equal(0, StoredFacts.Count(server.Workspace, "prod", "web"));

        using var small = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/web/events", Http.Json(Events(5)), ct);
        await small.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_gzipped_body_is_held_to_the_limit_once_decompressed()
    {
        await using var server = await ApiServer.StartAsync(Config);
        var json = Encoding.UTF8.GetBytes(Events(100));
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(json);
        }
        Assert.True(buffer.Length < 2048);
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/web/events", content, TestContext.Current.CancellationToken);
        await response.ExpectErrorAsync(HttpStatusCode.RequestEntityTooLarge, "REQUEST_TOO_LARGE");
    }

    [Fact]
    public async Task A_missing_key_is_reported_before_the_size()
    {
        await using var server = await ApiServer.StartAsync(Config);
        using var response = await server.Client().PostAsync("/collection/v1/datasets/web/events", Http.Json(Events(100)), TestContext.Current.CancellationToken);
        await response.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
    }
}

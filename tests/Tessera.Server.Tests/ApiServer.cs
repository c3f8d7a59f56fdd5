using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Server.Segment;

namespace Tessera.Server.Tests;

/// <summary>
/// The real server on 127.0.0.1 (a free port) over a workspace in a fresh temporary folder, with
/// a fake clock, the test schemas and datasets in sandboxes prod and dev, and one key of each kind.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<HttpClient> _clients = [];

    private ApiServer(string directory, FakeTimeProvider time, Workspace workspace, WebApplication app, Keys keys)
    {
        Directory = directory;
        Time = time;
        Workspace = workspace;
        App = app;
        Key = keys;
        BaseAddress = new Uri(app.Urls.Single());
    }

    public string Directory { get; }

    public FakeTimeProvider Time { get; }

    public Workspace Workspace { get; }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public Keys Key { get; }

    public sealed record Keys(string ProdAdmin, string ProdCollect, string DevAdmin, string DevCollect, string Revoked);

    /// <summary>
    /// Starts a server. <paramref name="config"/> is the workspace's tessera.json;
    /// <paramref name="beforeStart"/> runs on the opened workspace before the server starts;
    /// <paramref name="segment"/> false leaves the Segment schemas and datasets out.
    /// </summary>
    public static async Task<ApiServer> StartAsync(string? config = null, Func<Workspace, Task>? beforeStart = null, bool segment = true)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-server-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (config is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), config);
        }
        var time = new FakeTimeProvider(Start);
        var workspace = await Workspace.OpenAsync(directory, time);
        try
        {
            var keys = await SetUpAsync(workspace, segment);
            if (beforeStart is not null)
            {
                await beforeStart(workspace);
            }
            var app = TesseraServer.Build(workspace, ["http://127.0.0.1:0"], time,
                builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
            await app.StartAsync(TestContext.Current.CancellationToken);
            return new ApiServer(directory, time, workspace, app, keys);
        }
        catch
        {
            workspace.Dispose();
            throw;
        }
    }

    private static async Task<Keys> SetUpAsync(Workspace workspace, bool segment)
    {
        var catalog = workspace.Catalog;
        await catalog.EnsureSandboxAsync("dev");
        foreach (var sandbox in new[] { "prod", "dev" })
        {
            if (segment)
            {
                await SegmentSchemas.EnsureAsync(catalog, sandbox, workspace.SegmentBindingFor(sandbox));
            }
            await catalog.RegisterSchemaAsync(sandbox, Parse(TestSchemas.Web));
            await catalog.RegisterSchemaAsync(sandbox, Parse(TestSchemas.Crm));
        }
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web" });
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        // dev has its own, differently named datasets; it sees nothing of prod's.
        await catalog.CreateDatasetAsync("dev", new DatasetDefinition { Name = "web-dev", Schema = "web" });
        var (revoked, revokedSecret) = await catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "revoked");
        await catalog.RevokeApiKeyAsync(revoked.Id);
        return new Keys(
            (await catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "prod admin")).Secret,
            (await catalog.CreateApiKeyAsync("prod", ApiRole.Collect, "prod collect")).Secret,
            (await catalog.CreateApiKeyAsync("dev", ApiRole.Admin, "dev admin")).Secret,
            (await catalog.CreateApiKeyAsync("dev", ApiRole.Collect, "dev collect")).Secret,
            revokedSecret);
    }

    public static SchemaDocument Parse(string json) => JsonSerializer.Deserialize(json, CatalogJson.Default.SchemaDocument)!;

    /// <summary>A client that sends <paramref name="key"/> as a Bearer token (or no key when null).</summary>
    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        _clients.Add(client);
        return client;
    }

    /// <summary>A client that sends <paramref name="key"/> the way Segment's libraries do: HTTP Basic, key as user name, empty password.</summary>
    public HttpClient BasicClient(string key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":")));
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        Workspace.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

/// <summary>The schemas the tests ingest into.</summary>
public static class TestSchemas
{
    /// <summary>Web events: ECID is the primary identity; value must be 0..1000.</summary>
    public const string Web = """
        {"name":"web","class":"event","fields":{
          "ecid":{"type":"string","required":true,"identity":{"namespace":"ECID","primary":true}},
          "page":{"type":"string"},
          "value":{"type":"int","min":0,"max":1000}}}
        """;

    /// <summary>CRM records: CRM id is the primary identity; age must be 0..150.</summary>
    public const string Crm = """
        {"name":"crm","class":"profile","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "email":{"type":"string","identity":{"namespace":"Email"}},
          "age":{"type":"int","min":0,"max":150},
          "signup":{"type":"date"}}}
        """;
}

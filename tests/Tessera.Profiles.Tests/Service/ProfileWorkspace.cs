using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Server;
using Tessera.Storage;

namespace Tessera.Profiles.Tests.Service;

/// <summary>A workspace in a fresh temporary folder with a fake clock, with a CRM and a loyalty profile dataset and web/app event datasets.</summary>
public sealed class ProfileWorkspace : IAsyncDisposable
{
    public const string Crm = """
        {
          "name": "crm", "class": "profile",
          "fields": {
            "crmId": { "type": "string", "required": true, "identity": { "namespace": "CRMID", "primary": true } },
            "email": { "type": "string", "identity": { "namespace": "Email" } },
            "firstName": { "type": "string" },
            "tier": { "type": "string" },
            "address": { "type": "object", "fields": { "city": { "type": "string" }, "zip": { "type": "string" } } },
            "interests": { "type": "array", "items": { "type": "string" }, "merge": "union" },
            "updatedAt": { "type": "date-time", "lastUpdated": true }
          }
        }
        """;

    public const string Loyalty = """
        {
          "name": "loyalty", "class": "profile",
          "fields": {
            "crmId": { "type": "string", "required": true, "identity": { "namespace": "CRMID", "primary": true } },
            "tier": { "type": "string" },
            "firstName": { "type": "string" }
          }
        }
        """;

    public const string Web = """
        {
          "name": "web", "class": "event",
          "fields": {
            "ecid": { "type": "string", "identity": { "namespace": "ECID", "primary": true } },
            "crmId": { "type": "string", "identity": { "namespace": "CRMID" } },
            "page": { "type": "string" }
          }
        }
        """;

    private ProfileWorkspace(string directory, FakeTimeProvider time, Workspace workspace)
    {
        Directory = directory;
        Time = time;
        Workspace = workspace;
    }

    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    public string Directory { get; }

    public FakeTimeProvider Time { get; }

    public Workspace Workspace { get; private set; }

    public ProfileService Profiles => Workspace.Profiles;

    public static async Task<ProfileWorkspace> CreateAsync(string? config = null, TimeSpan? webTtl = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-profiles-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (config is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), config);
        }
        var time = new FakeTimeProvider(Start);
        var workspace = new ProfileWorkspace(directory, time, await Workspace.OpenAsync(directory, time));
        var catalog = workspace.Workspace.Catalog;
        foreach (var schema in new[] { Crm, Loyalty, Web })
        {
            var document = JsonSerializer.Deserialize(schema, CatalogJson.Default.SchemaDocument)!;
            await catalog.RegisterSchemaAsync("prod", document);
        }
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "loyalty", Schema = "loyalty" });
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web", EventTtl = webTtl });
        await catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "app", Schema = "web" });
        return workspace;
    }

    /// <summary>Ingests records (a JSON array) into a dataset as one streaming request; every record must be accepted.</summary>
    public async Task StreamAsync(string dataset, string jsonArray)
    {
        using var document = JsonDocument.Parse(jsonArray);
        var records = document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        var result = await Workspace.Ingestion.IngestRecordsAsync("prod", dataset, records, "test");
        Assert.Equal(records.Count, result.Batch.Counts.Accepted);
    }

    public ProfileReport? Lookup(string identity, string? policy = null, int events = 10, string? before = null) =>
        Profiles.Lookup("prod", IdentityKey.TryParse(identity, out var key) ? key : throw new ArgumentException(identity), policy, events, before);

    /// <summary>The events stored under one identity as dataset/_id, checked against the timeline index (each event has its key and only it).</summary>
    public List<string> StoredEvents(string identity)
    {
        IdentityKey.TryParse(identity, out var key);
        var value = new IdentityValue(key.Namespace, key.Value, true);
        var store = Workspace.Store;
        var shard = FactKeys.ShardOf("prod", value, store.ShardCount);
        var events = store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.EventTag, "prod", value))
            .Select(e => FactKeys.TryParse(e.Key, out var p) ? $"{p.Dataset}/{p.EventId}" : "?").Order(StringComparer.Ordinal).ToList();
        var timeline = store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.TimelineTag, "prod", value))
            .Select(e => FactKeys.TryParse(e.Key, out var p) ? $"{p.Dataset}/{p.EventId}" : "?").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(events, timeline);
        return events;
    }

    public static string Json(ProfileReport? report) => report is null ? "null" : JsonSerializer.Serialize(report, ProfileJson.Default.ProfileReport);

    /// <summary>Closes and reopens the workspace: every view is built again from the store.</summary>
    public async Task ReopenAsync()
    {
        Workspace.Dispose();
        Workspace = await Workspace.OpenAsync(Directory, Time);
    }

    public ValueTask DisposeAsync()
    {
        Workspace.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
        return ValueTask.CompletedTask;
    }
}

using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tessera.Catalog;
using Tessera.Segmentation.Audiences;
using Tessera.Server;

namespace Tessera.Segmentation.Tests.Audiences;

/// <summary>A workspace in a fresh temporary folder with a fake clock and a CRM profile schema and a web event schema in <c>prod</c>.</summary>
public sealed class AudienceWorkspace : IAsyncDisposable
{
    public const string Crm = """
        {
          "name": "crm", "class": "profile",
          "fields": {
            "crmId": { "type": "string", "required": true, "identity": { "namespace": "CRMID", "primary": true } },
            "tier": { "type": "string" },
            "age": { "type": "int" }
          }
        }
        """;

    public const string Web = """
        {
          "name": "web", "class": "event",
          "fields": {
            "ecid": { "type": "string", "identity": { "namespace": "ECID", "primary": true } },
            "eventType": { "type": "string" }
          }
        }
        """;

    /// <summary>Profile attributes only.</summary>
    public const string Edge = "tier = \"gold\"";

    /// <summary>One event within 24 hours (edge, but not profile-only).</summary>
    public const string EdgeEvent = "chain(xEvent, timestamp, [A: WHAT(eventType = \"view\") WHEN(today)])";

    /// <summary>A count of events within 24 hours.</summary>
    public const string Streaming = "xEvent[eventType = \"view\" and timestamp occurs today].count() >= 3";

    /// <summary>An event with no time window.</summary>
    public const string Batch = "chain(xEvent, timestamp, [A: WHAT(eventType = \"view\")])";

    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private AudienceWorkspace(string directory, FakeTimeProvider time, Workspace workspace)
    {
        Directory = directory;
        Time = time;
        Workspace = workspace;
    }

    public string Directory { get; }

    public FakeTimeProvider Time { get; }

    public Workspace Workspace { get; private set; }

    public AudienceCatalog Audiences => Workspace.Audiences;

    public static async Task<AudienceWorkspace> CreateAsync(string? config = null, bool schemas = true)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-audiences-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (config is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), config);
        }
        var time = new FakeTimeProvider(Start);
        var workspace = new AudienceWorkspace(directory, time, await Workspace.OpenAsync(directory, time));
        if (schemas)
        {
            foreach (var schema in new[] { Crm, Web })
            {
                await workspace.Workspace.Catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize(schema, CatalogJson.Default.SchemaDocument)!);
            }
        }
        return workspace;
    }

    /// <summary>Creates an audience with <paramref name="name"/> as its id too (so that tests can write <c>inSegment("name")</c>).</summary>
    public Task<Audience> CreateAsync(string name, string pql, bool publish = false) => CreateAsync(name, pql, publish, null);

    public async Task<Audience> CreateAsync(string name, string pql, bool publish, string? mergePolicy)
    {
        var audience = await Audiences.CreateAsync("prod", name, pql, mergePolicy: mergePolicy, id: name);
        return publish ? await Audiences.PublishAsync("prod", name) : audience;
    }

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
            // A leftover temporary folder is harmless.
        }
        return ValueTask.CompletedTask;
    }
}

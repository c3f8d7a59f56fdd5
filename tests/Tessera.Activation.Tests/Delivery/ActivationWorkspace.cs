using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Activation.Destinations;
using Tessera.Catalog;
using Tessera.Server;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>
/// A real workspace on disk on a fake clock, with a CRM dataset (CRM id, email, phone, tier, consent)
/// and an audience of gold-tier customers whose memberships the batch engine writes. Delivery waits
/// (retries, circuit breaks, the delivery loop's) run on the real clock with millisecond delays, unless a test
/// gives them a clock of its own.
/// </summary>
public sealed class ActivationWorkspace : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Where the local receivers that stand in for the platforms listen: destinations may call it only when allowed.</summary>
    public const string LocalNetwork = "127.0.0.0/8";

    private const string Crm = """
        {"name": "crm", "class": "profile", "fields": {
          "crmId": {"type": "string", "required": true, "identity": {"namespace": "CRMID", "primary": true}},
          "email": {"type": "string", "identity": {"namespace": "Email"}},
          "phone": {"type": "string", "identity": {"namespace": "Phone"}},
          "tier": {"type": "string"},
          "consent": {"type": "object", "fields": {"email": {"type": "bool"}, "adTargeting": {"type": "bool"}}}}}
        """;

    private ActivationWorkspace(string directory, FakeTimeProvider time, Workspace workspace, ActivationSettings settings, TimeProvider waits)
    {
        Directory = directory;
        Time = time;
        Workspace = workspace;
        Settings = settings;
        Activation = new ActivationService(workspace.Catalog, workspace.Identity, workspace.Audiences, workspace.Memberships, workspace.Profiles, settings, waits: waits);
        workspace.Ingestion.AddObserver(Activation);
    }

    public string Directory { get; }

    public FakeTimeProvider Time { get; }

    public Workspace Workspace { get; }

    public ActivationSettings Settings { get; }

    public ActivationService Activation { get; }

    public string GoldId { get; private set; } = "";

    /// <param name="waits">The clock delivery waits on (the real one when null).</param>
    public static async Task<ActivationWorkspace> CreateAsync(ActivationSettings? settings = null, TimeProvider? waits = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-activation-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var time = new FakeTimeProvider(Start);
        var workspace = await Workspace.OpenAsync(directory, time);
        await workspace.Catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize(Crm, CatalogJson.Default.SchemaDocument)!);
        await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        var fixture = new ActivationWorkspace(directory, time, workspace, settings ?? new ActivationSettings
        {
            RetryBaseDelayMilliseconds = 1,
            MaxAttempts = 4,
            CircuitBreakSeconds = 1,
            AttemptTimeoutSeconds = 5,
            AllowedPrivateNetworks = [LocalNetwork],
        }, waits ?? TimeProvider.System);
        var gold = await workspace.Audiences.CreateAsync("prod", "gold", "tier = \"gold\"");
        await workspace.Audiences.PublishAsync("prod", gold.Id);
        fixture.GoldId = gold.Id;
        return fixture;
    }

    /// <summary>Upserts customers c{i} with an email, a phone, a tier and (unless null) email and ad consent.</summary>
    public async Task CustomersAsync(IEnumerable<int> ids, Func<int, string> tier, Func<int, bool?>? consent = null, Func<int, string>? email = null)
    {
        var records = new List<JsonElement>();
        foreach (var i in ids)
        {
            var given = consent?.Invoke(i) ?? true;
            var consentJson = consent?.Invoke(i) is null && consent is not null ? "" : $", \"consent\": {{\"email\": {(given ? "true" : "false")}, \"adTargeting\": {(given ? "true" : "false")}}}";
            var json = string.Create(CultureInfo.InvariantCulture,
                $"{{\"crmId\": \"c{i}\", \"email\": \"{email?.Invoke(i) ?? $"user{i}@example.com"}\", \"phone\": \"+1650555{i % 10000:D4}\", \"tier\": \"{tier(i)}\"{consentJson}}}");
            records.Add(JsonDocument.Parse(json).RootElement.Clone());
        }
        var result = await Workspace.Ingestion.IngestRecordsAsync("prod", "crm", records, "test");
        Assert.Equal(records.Count, result.Batch.Counts.Accepted);
    }

    /// <summary>Runs the batch engine: memberships and their feed changes follow the data.</summary>
    public Task EvaluateAsync() => Workspace.Batch.RunAsync("prod", null);

    public Destination Webhook(Uri endpoint, string name = "hook", string? consent = "none", int maxRecords = 100) => new()
    {
        Name = name,
        Connector = "webhook",
        Settings = new(StringComparer.Ordinal) { ["endpoint"] = endpoint.ToString(), ["path"] = "/hooks/tessera", ["authHeader"] = "Authorization", ["authValue"] = "Bearer secret-token" },
        Audiences = [new ActivatedAudience { AudienceId = GoldId, ExternalId = "ext-gold" }],
        Identities = [new FieldMapping { Source = "Email", Target = "email", Hash = "sha256" }, new FieldMapping { Source = "CRMID", Target = "crmId" }],
        Attributes = [new FieldMapping { Source = "tier", Target = "tier" }],
        Consent = consent,
        Batching = new MicroBatchPolicy { MaxRecords = maxRecords, MaxAgeSeconds = 10 },
    };

    /// <summary>Every record a receiver accepted, in order: (record id, operation, profile).</summary>
    public static List<(string Id, string Operation, string Profile)> Records(IEnumerable<Tessera.Tests.Shared.ReceivedRequest> requests) =>
        [.. requests.SelectMany(r =>
        {
            using var document = JsonDocument.Parse(Encoding.UTF8.GetString(r.Body));
            return document.RootElement.GetProperty("records").EnumerateArray()
                .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("operation").GetString()!, e.GetProperty("profileId").GetString()!))
                .ToList();
        })];

    public async ValueTask DisposeAsync()
    {
        await Activation.DisposeAsync();
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

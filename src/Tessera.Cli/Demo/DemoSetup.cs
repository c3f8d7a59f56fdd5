using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Activation.Destinations;
using Tessera.Activation.Files;
using Tessera.Catalog;
using Tessera.Generator;
using Tessera.Segmentation;
using Tessera.Server;

namespace Tessera.Cli.Demo;

/// <summary>
/// What a data engineer would define for the generated retailer, and the demo's calls that show each
/// engine and destination. Every definition is reused when it exists, so the demo can run again on
/// the same workspace.
/// </summary>
internal sealed class DemoSetup(Workspace workspace, string sandbox, IAnsiConsole console)
{
    public const string MergePolicyName = "crm-first";

    /// <summary>The three audiences, one per engine, in the words of the issue that asked for them.</summary>
    public static readonly IReadOnlyList<(string Name, string Description, string Pql)> AudienceDefinitions =
    [
        ("gold-browsers", "Gold and platinum loyalty members who browsed the site or the app in the last 24 hours",
            """tier in ["gold", "platinum"] and xEvent[eventType in ["page.view", "product.view", "screen.view", "search"] and timestamp occurs <= 24 hours before now].count() >= 1"""),
        ("lapsed-store-vips", "High-value store buyers with no online visit in the last 30 days",
            """xEvent[channel = "store"].sum(total) >= 300 and xEvent[eventType = "page.view" and timestamp occurs <= 30 days before now].count() = 0"""),
        ("home-page-now", "Visitors on the home page in the last 30 minutes (answered on the page, for personalization)",
            """xEvent[eventType = "page.view" and page.name = "home" and timestamp occurs <= 30 minutes before now]"""),
    ];

    /// <summary>Schemas, datasets, identity rules and the merge policy.</summary>
    public async Task DefineAsync(string directory, GeneratedData data, CancellationToken cancellationToken)
    {
        var catalog = workspace.Catalog;
        await catalog.EnsureSandboxAsync(sandbox);
        foreach (var schema in data.Schemas)
        {
            var document = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(directory, schema.Path), cancellationToken), CatalogJson.Default.SchemaDocument)!;
            var stored = await catalog.RegisterSchemaAsync(sandbox, document);
            console.MarkupLine($"  schema [green]{Markup.Escape(stored.Name)}[/] v{stored.Version} ({stored.Class.ToString().ToLowerInvariant()})");
        }
        foreach (var dataset in data.Datasets)
        {
            await catalog.CreateDatasetAsync(sandbox, new DatasetDefinition { Name = dataset.Name, Schema = dataset.Schema, EventTtl = dataset.EventTtlDays is { } days ? TimeSpan.FromDays(days) : null });
        }
        console.MarkupLine($"  datasets {string.Join(", ", data.Datasets.Select(d => $"[green]{Markup.Escape(d.Name)}[/]"))}");

        // A CRM id and a loyalty id each name one person; person ids outrank devices for the primary identity.
        var rules = new IdentityGraphRules
        {
            UniqueNamespaces = [StandardNamespaces.CrmId, StandardNamespaces.LoyaltyId],
            Priority = [StandardNamespaces.CrmId, StandardNamespaces.LoyaltyId, StandardNamespaces.Email, StandardNamespaces.Phone, StandardNamespaces.Ecid],
            MaxIdentities = IdentityGraphRules.DefaultMaxIdentities,
        };
        await workspace.Identity.SetRulesAsync(sandbox, rules, dryRun: false, cancellationToken);
        console.MarkupLine($"  identity rules: unique {string.Join(", ", rules.UniqueNamespaces)}; priority {string.Join(" > ", rules.Priority)}; at most {rules.MaxIdentities} identities a graph");

        if (catalog.GetMergePolicy(sandbox, MergePolicyName) is null)
        {
            await catalog.CreateMergePolicyAsync(sandbox, new MergePolicy
            {
                Name = MergePolicyName,
                AttributeMerge = AttributeMerge.DatasetPrecedence,
                Datasets = [.. data.Datasets.Where(d => d.Class == "profile").Select(d => d.Name)],
                Stitching = IdentityStitching.Graph,
                Default = true,
            }, workspace.Config.Profiles.MaxMergePolicies);
        }
        console.MarkupLine($"  merge policy [green]{MergePolicyName}[/] (default): attributes by dataset precedence {Markup.Escape(string.Join(" > ", data.Datasets.Where(d => d.Class == "profile").Select(d => d.Name)))}, stitched by the identity graph");
    }

    /// <summary>Creates and publishes the audiences (the classifier picks each one's engine).</summary>
    public async Task<List<Audience>> AudiencesAsync(CancellationToken cancellationToken)
    {
        var audiences = new List<Audience>();
        foreach (var (name, description, pql) in AudienceDefinitions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var audience = workspace.Audiences.Get(sandbox, name) ?? await workspace.Audiences.CreateAsync(sandbox, name, pql, description);
            if (audience.State != AudienceState.Published)
            {
                audience = await workspace.Audiences.PublishAsync(sandbox, audience.Id);
            }
            audiences.Add(audience);
            console.MarkupLine($"  audience [green]{Markup.Escape(name)}[/] → [yellow]{audience.Mode}[/] ({Markup.Escape(audience.Reasons.FirstOrDefault() ?? "")})");
        }
        return audiences;
    }

    /// <summary>
    /// A hashed CSV file of the batch audience, a webhook for the streaming one, and Meta (hashed by
    /// its rules) for both; the HTTP ones point at the local receiver standing in for the platforms.
    /// </summary>
    public async Task DestinationsAsync(IReadOnlyList<Audience> audiences, Uri receiver, string exports, CancellationToken cancellationToken)
    {
        // The local receiver standing in for the platforms listens on 127.0.0.1, which destinations may call only inside
        // activation.allowedPrivateNetworks: the demo allows that one address for this run (tessera.json is left as it is).
        var local = $"{receiver.Host}/32";
        if (!workspace.Config.Activation.AllowedPrivateNetworks.Contains(local))
        {
            workspace.Config.Activation.AllowedPrivateNetworks.Add(local);
        }
        var streaming = audiences.Single(a => a.Name == "gold-browsers").Id;
        var batch = audiences.Single(a => a.Name == "lapsed-store-vips").Id;
        Destination[] destinations =
        [
            new()
            {
                Name = "crm-export",
                Connector = "file",
                Audiences = [new ActivatedAudience { AudienceId = batch }],
                Identities =
                [
                    new FieldMapping { Source = StandardNamespaces.CrmId, Target = "crm_id" },
                    new FieldMapping { Source = StandardNamespaces.LoyaltyId, Target = "loyalty_id" },
                    new FieldMapping { Source = StandardNamespaces.Email, Target = "email_sha256", Hash = "sha256" },
                ],
                Attributes = [new FieldMapping { Source = "firstName", Target = "first_name" }, new FieldMapping { Source = "tier", Target = "tier" }],
                // Nightly in production; the demo runs it once now, after the batch run (DeliverAsync).
                Schedule = new ExportSchedule { Frequency = "daily", At = "02:00", Mode = "full" },
                File = new FileExportSettings { Format = FileExportFormat.Csv, Folder = exports },
            },
            new()
            {
                Name = "marketing-webhook",
                Connector = "webhook",
                Settings = new(StringComparer.Ordinal) { ["endpoint"] = new Uri(receiver, "webhook/").ToString(), ["authHeader"] = "Authorization", ["authValue"] = "Bearer demo-webhook-secret" },
                Audiences = [new ActivatedAudience { AudienceId = streaming, ExternalId = "gold-browsers" }],
                Identities = [new FieldMapping { Source = StandardNamespaces.CrmId, Target = "crmId" }, new FieldMapping { Source = StandardNamespaces.Email, Target = "email" }],
                Attributes = [new FieldMapping { Source = "firstName", Target = "firstName" }, new FieldMapping { Source = "tier", Target = "tier" }],
                Consent = "email",
                Batching = new MicroBatchPolicy { MaxRecords = 500, MaxAgeSeconds = 1 },
            },
            new()
            {
                Name = "meta-ads",
                Connector = "meta",
                Settings = new(StringComparer.Ordinal) { ["endpoint"] = new Uri(receiver, "meta/").ToString(), ["authHeader"] = "Authorization", ["authValue"] = "Bearer demo-meta-token" },
                Audiences = [new ActivatedAudience { AudienceId = streaming, ExternalId = "23850000000001" }, new ActivatedAudience { AudienceId = batch, ExternalId = "23850000000002" }],
                Identities = [new FieldMapping { Source = StandardNamespaces.Email, Target = "EMAIL" }, new FieldMapping { Source = StandardNamespaces.Phone, Target = "PHONE" }],
                MarketingAction = "onsiteAdvertising",
            },
        ];
        foreach (var destination in destinations)
        {
            if (workspace.Activation.Destinations.Get(sandbox, destination.Name) is null)
            {
                await workspace.Activation.CreateAsync(sandbox, destination, cancellationToken);
            }
            console.MarkupLine($"  destination [green]{destination.Name}[/] ({destination.Connector}): {Markup.Escape(string.Join(", ", destination.Audiences.Select(a => audiences.Single(x => x.Id == a.AudienceId).Name)))}");
        }
    }

    /// <summary>
    /// Same-page personalization: a few stitched visitors land on the home page; the edge answers
    /// with their edge audiences and loyalty tier, and stores the page view.
    /// </summary>
    public async Task<List<EdgeAnswerSummary>> EdgeAsync(HttpClient http, string dataset, IEnumerable<string> devices, CancellationToken cancellationToken)
    {
        var answers = new List<EdgeAnswerSummary>();
        foreach (var device in devices)
        {
            var now = workspace.Catalog.Time.GetUtcNow();
            var request = new JsonObject
            {
                ["identity"] = $"{StandardNamespaces.Ecid}:{device}",
                ["dataset"] = dataset,
                ["events"] = new JsonArray(new JsonObject
                {
                    ["_id"] = $"edge-{device}-{now.ToUnixTimeMilliseconds()}",
                    ["timestamp"] = now.ToString("O", CultureInfo.InvariantCulture),
                    ["eventType"] = "page.view",
                    ["channel"] = "web",
                    ["page"] = new JsonObject { ["url"] = "https://shop.example.com/home", ["name"] = "home" },
                    ["identityMap"] = new JsonObject { [StandardNamespaces.Ecid] = new JsonArray(new JsonObject { ["id"] = device, ["primary"] = true }) },
                }),
                ["attributes"] = new JsonArray("firstName", "tier"),
            };
            var watch = Stopwatch.StartNew();
            using var response = await http.PostAsJsonAsync("/edge/v1/evaluate", request, cancellationToken);
            var elapsed = watch.Elapsed.TotalMilliseconds;
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
            if (!response.IsSuccessStatusCode)
            {
                throw new CatalogException("DEMO_FAILED", $"the edge refused a request: {(int)response.StatusCode} {answer.ToJsonString()}");
            }
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            Flatten(answer["attributes"], "", attributes);
            answers.Add(new EdgeAnswerSummary($"{StandardNamespaces.Ecid}:{device}", answer["profile"]?.GetValue<string>(),
                [.. answer["audiences"]!.AsArray().Select(a => a!.GetValue<string>())], attributes, Math.Round(elapsed, 2)));
        }
        return answers;
    }

    private static void Flatten(JsonNode? node, string prefix, Dictionary<string, string> into)
    {
        if (node is JsonObject obj)
        {
            foreach (var (name, value) in obj)
            {
                Flatten(value, prefix.Length == 0 ? name : $"{prefix}.{name}", into);
            }
        }
        else if (node is not null)
        {
            into[prefix] = node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node.ToJsonString();
        }
    }

    /// <summary>The devices of the online events' logins (a device id and a person's id in one event), in order.</summary>
    public static IEnumerable<string> LoggedInDevices(IEnumerable<string> requests)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var body in requests)
        {
            foreach (var item in JsonNode.Parse(body)!.AsArray())
            {
                if (item?["eventType"]?.GetValue<string>() == "login"
                    && item["identityMap"]?[StandardNamespaces.Ecid]?[0]?["id"]?.GetValue<string>() is { } device && seen.Add(device))
                {
                    yield return device;
                }
            }
        }
    }

    /// <summary>Delivers what is due now: the HTTP destinations' feeds, and the file export run now (as <c>tessera destination export</c> does).</summary>
    public async Task DeliverAsync(CancellationToken cancellationToken)
    {
        await workspace.Activation.DrainAsync(sandbox, "marketing-webhook", cancellationToken);
        await workspace.Activation.DrainAsync(sandbox, "meta-ads", cancellationToken);
        await workspace.Activation.ExportAsync(sandbox, "crm-export", cancellationToken);
    }
}

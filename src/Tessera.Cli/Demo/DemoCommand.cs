using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Cli.Demo;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Ingestion.Mapping;
using Tessera.Server;
using Tessera.Server.Segment;
using Tessera.Storage;

namespace Tessera.Cli.Commands;

/// <summary>
/// <c>tessera demo</c>: the whole pipeline so far on generated retail data. Re-running it on the
/// same workspace stores nothing twice (its data is deterministic).
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var customers = new Option<int>("--profiles") { Description = "Customers to generate", DefaultValueFactory = _ => 5_000 };
        var command = new Command("demo", "Create a workspace, define sample schemas, ingest generated offline and online data, report") { customers };
        command.WithWorkspace((context, parse, cancellationToken) => RunAsync(context, parse.GetValue(customers), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, int customers, CancellationToken cancellationToken)
    {
        var workspace = context.Workspace;
        var catalog = workspace.Catalog;
        var sandbox = context.Sandbox;
        await catalog.EnsureSandboxAsync(sandbox);
        AnsiConsole.MarkupLine($"[bold]Tessera demo[/] — workspace [blue]{Markup.Escape(workspace.Directory)}[/], sandbox [blue]{Markup.Escape(sandbox)}[/]");

        foreach (var schema in new[] { SampleSchemas.CrmProfile, SampleSchemas.PosOrder, SampleSchemas.WebEvent })
        {
            var stored = await catalog.RegisterSchemaAsync(sandbox, JsonSerializer.Deserialize(schema, CatalogJson.Default.SchemaDocument)!);
            AnsiConsole.MarkupLine($"  schema [green]{stored.Name}[/] v{stored.Version} ({stored.Class.ToString().ToLowerInvariant()})");
        }
        await catalog.CreateDatasetAsync(sandbox, new DatasetDefinition { Name = "crm", Schema = "crm-profile" });
        await catalog.CreateDatasetAsync(sandbox, new DatasetDefinition { Name = "orders", Schema = "pos-order" });
        await catalog.CreateDatasetAsync(sandbox, new DatasetDefinition { Name = "web", Schema = "web-event", EventTtl = TimeSpan.FromDays(90) });
        AnsiConsole.MarkupLine("  datasets [green]crm[/] (profile), [green]orders[/] (event), [green]web[/] (event, 90-day TTL)");

        var sampleDirectory = Path.Combine(workspace.Directory, "sample");
        Directory.CreateDirectory(sampleDirectory);
        var data = new SampleData(customers);
        var crmFile = data.WriteCrm(sampleDirectory);
        var ordersFile = data.WriteOrders(sampleDirectory);

        var (_, adminKey) = await catalog.CreateApiKeyAsync(sandbox, ApiRole.Admin, "demo-admin");
        var (_, collectKey) = await catalog.CreateApiKeyAsync(sandbox, ApiRole.Collect, "demo-collect");

        // The online part arrives the way a site sends it: over HTTP, with the collect key.
        await using var server = TesseraServer.Build(workspace, ["http://127.0.0.1:0"], configure: builder => builder.Logging.ClearProviders());
        await server.StartAsync(cancellationToken);
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", collectKey);

        var batches = new List<BatchInfo>();
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var crmTask = progress.AddTask("CRM customers (CSV)", maxValue: 1);
                batches.Add(await workspace.Ingestion.IngestFileAsync(sandbox, "crm", crmFile, MappingSpec.FromJson(SampleSchemas.CrmMapping), cancellationToken));
                crmTask.Increment(1);
                var ordersTask = progress.AddTask("POS orders (CSV ;)", maxValue: 1);
                batches.Add(await workspace.Ingestion.IngestFileAsync(sandbox, "orders", ordersFile, MappingSpec.FromJson(SampleSchemas.OrderMapping), cancellationToken));
                ordersTask.Increment(1);
                var requests = data.WebEventRequests(250).ToList();
                var webTask = progress.AddTask($"web events (HTTP, {Markup.Escape(address)})", maxValue: requests.Count);
                var streamed = new System.Collections.Concurrent.ConcurrentBag<string>();
                await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (request, token) =>
                {
                    using var response = await http.PostAsync("/collection/v1/datasets/web/events?outcomes=none",
                        new StringContent(request, System.Text.Encoding.UTF8, "application/json"), token);
                    using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(token));
                    if (!response.IsSuccessStatusCode || !body.RootElement.TryGetProperty("batchId", out var batchId))
                    {
                        throw new CatalogException("DEMO_FAILED", $"the server refused web events: {(int)response.StatusCode} {body.RootElement.GetRawText()}");
                    }
                    streamed.Add(batchId.GetString()!);
                    webTask.Increment(1);
                });
                batches.AddRange(streamed.Select(id => catalog.RequireBatch(sandbox, id)));

                // An analytics.js-style sender works unchanged: Segment's batch call, write key as Basic user.
                var segmentTask = progress.AddTask("Segment calls (/v1/batch)", maxValue: 1);
                var binding = workspace.SegmentBindingFor(sandbox);
                await SegmentSchemas.EnsureAsync(catalog, sandbox, binding);
                var since = catalog.Time.GetUtcNow();
                using var segment = new HttpRequestMessage(HttpMethod.Post, "/v1/batch")
                {
                    Content = new StringContent(data.SegmentBatch(), System.Text.Encoding.UTF8, "application/json"),
                };
                segment.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(collectKey + ":")));
                using (var response = await http.SendAsync(segment, cancellationToken))
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new CatalogException("DEMO_FAILED", $"the server refused Segment calls: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
                    }
                }
                batches.AddRange(catalog.ListBatches(sandbox).Where(b => b.CreatedAt >= since && (b.Dataset == binding.EventDataset || b.Dataset == binding.ProfileDataset)));
                segmentTask.Increment(1);
            });

        PrintSummary(batches);
        PrintQuarantine(workspace.Ingestion, sandbox, batches);
        PrintStored(workspace.Store, sandbox);
        var graph = workspace.Identity.Counts(sandbox);
        AnsiConsole.MarkupLine($"[bold]identity graph[/]: {IngestCommands.N(graph.Identities)} identities in {IngestCommands.N(graph.Graphs)} graphs, "
            + $"{IngestCommands.N(graph.Links)} links of which {IngestCommands.N(graph.CutLinks)} cut by the rules (tessera identity show NS:value)");
        PrintProfile(workspace, sandbox);

        await server.StopAsync(cancellationToken);
        AnsiConsole.MarkupLine("\n[bold]API keys[/] made for this demo (stored hashed; shown once):");
        AnsiConsole.MarkupLine($"  admin   [yellow]{adminKey}[/]");
        AnsiConsole.MarkupLine($"  collect [yellow]{collectKey}[/]  (safe in a web page: can only send events)");
        AnsiConsole.MarkupLine($"\nSample files: [blue]{Markup.Escape(sampleDirectory)}[/]. Try: [grey]tessera batch list[/], [grey]tessera batch show {batches[0].Id}[/], [grey]tessera serve[/].");
        return ExitCodes.Ok;
    }

    /// <summary>One stitched profile (CRM record, devices, events) as a lookup shows it.</summary>
    private static void PrintProfile(Workspace workspace, string sandbox)
    {
        for (var customer = 1; customer <= 500; customer++)
        {
            var identity = new IdentityKey(StandardNamespaces.CrmId, customer.ToString("D8", CultureInfo.InvariantCulture));
            // One that shows stitching: its CRM record, a device that logged in, and events.
            if (workspace.Profiles.Lookup(sandbox, identity, events: 3) is not { Fragments.Count: > 0, Timeline.Count: > 1 } profile
                || !profile.Identities.Any(i => i.StartsWith(StandardNamespaces.Ecid + ":", StringComparison.Ordinal)))
            {
                continue;
            }
            var table = new Table().Title($"[bold]profile of {Markup.Escape(identity.ToString())}[/] (merge policy {Markup.Escape(profile.MergePolicy)})")
                .AddColumns("attribute", "value", "from");
            foreach (var source in profile.Sources.Take(12))
            {
                var value = source.Path.Split('.').Aggregate((System.Text.Json.Nodes.JsonNode?)profile.Attributes, (node, part) => node is System.Text.Json.Nodes.JsonObject o ? o[part] : null);
                table.AddRow(Markup.Escape(source.Path), Markup.Escape(value?.ToJsonString() ?? ""), Markup.Escape($"{source.Dataset}, {source.Time:u}"));
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"  identities: {Markup.Escape(string.Join(", ", profile.Identities))}");
            AnsiConsole.MarkupLine($"  {IngestCommands.N(profile.Timeline.Count)} events, newest: "
                + Markup.Escape(string.Join("; ", profile.Timeline.Events.Select(e => $"{e.Timestamp:u} {e.Dataset} {e.Id}"))));
            AnsiConsole.MarkupLine($"  [grey]tessera profile show {Markup.Escape(identity.ToString())}[/]");
            return;
        }
    }

    private static void PrintSummary(List<BatchInfo> batches)
    {
        var table = new Table().Title("[bold]ingested[/]").AddColumns("dataset", "source", "batches", "records in", "stored", "quarantined", "duplicates", "status");
        foreach (var group in batches.GroupBy(b => b.Dataset))
        {
            var first = group.First();
            var statuses = string.Join(", ", group.Select(b => b.Status).Distinct().Select(IngestCommands.StatusMarkup));
            table.AddRow(group.Key, first.Kind == BatchKind.File ? Markup.Escape(Path.GetFileName(first.Source ?? ""))
                : group.Key.StartsWith("segment", StringComparison.Ordinal) ? "Segment API" : "HTTP (collect key)",
                IngestCommands.N(group.Count()), IngestCommands.N(group.Sum(b => b.Counts.Input)),
                IngestCommands.N(group.Sum(b => b.Counts.Accepted - b.Counts.Duplicates)), IngestCommands.N(group.Sum(b => b.Counts.Failed)),
                IngestCommands.N(group.Sum(b => b.Counts.Duplicates)), statuses);
        }
        AnsiConsole.Write(table);
    }

    private static void PrintQuarantine(IngestionService ingestion, string sandbox, List<BatchInfo> batches)
    {
        var reasons = new Dictionary<(string Dataset, string Code, string Path), int>();
        var examples = new Dictionary<(string, string, string), string>();
        foreach (var batch in batches.Where(b => b.Counts.Failed > 0))
        {
            foreach (var entry in ingestion.Quarantine(sandbox, batch.Id))
            {
                foreach (var error in entry.Errors)
                {
                    var key = (batch.Dataset, error.Code, error.Path);
                    reasons[key] = reasons.GetValueOrDefault(key) + 1;
                    examples.TryAdd(key, $"row {entry.Row}: {error.Message}");
                }
            }
        }
        var table = new Table().Title("[bold]quarantined, by reason[/]").AddColumns("dataset", "code", "field", "records", "example");
        foreach (var ((dataset, code, path), count) in reasons.OrderByDescending(r => r.Value))
        {
            table.AddRow(dataset, code, Markup.Escape(path), IngestCommands.N(count), Markup.Escape(examples[(dataset, code, path)]));
        }
        AnsiConsole.Write(table);
    }

    private static void PrintStored(IStore store, string sandbox)
    {
        long fragments = 0, versions = 0, events = 0;
        for (var shard = 0; shard < store.ShardCount; shard++)
        {
            // Each record is stored as a version of its fragment (identity, dataset); the versions of
            // one fragment are adjacent keys, so a fragment starts where the key's fragment part changes.
            byte[] previous = [];
            foreach (var (key, _) in store.Scan(StoreSpace.Facts, shard, FactKeys.SandboxPrefix(FactKeys.RecordTag, sandbox)))
            {
                versions++;
                var fragment = key.AsSpan(0, FactKeys.FragmentPrefixLength(key));
                if (!fragment.SequenceEqual(previous))
                {
                    fragments++;
                    previous = fragment.ToArray();
                }
            }
            events += store.Scan(StoreSpace.Facts, shard, FactKeys.SandboxPrefix(FactKeys.EventTag, sandbox)).LongCount();
        }
        AnsiConsole.MarkupLine($"\n[bold]stored[/] (RocksDB, {store.ShardCount} shards): {IngestCommands.N(fragments)} profile fragments "
            + $"({IngestCommands.N(versions)} record versions), {IngestCommands.N(events)} events");
    }
}

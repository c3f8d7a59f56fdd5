using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Cli.Commands;
using Tessera.Identity.Graph;
using Tessera.Segmentation;
using Tessera.Server;

namespace Tessera.Cli.Demo;

/// <summary>The demo's summary: read back from the stores (batches, quarantine, graph, memberships, delivery runs), then printed.</summary>
internal static class DemoReport
{
    public static DemoSummary Collect(Workspace workspace, string sandbox, int customers, TimeSpan took, IReadOnlyList<BatchInfo> batches,
        IReadOnlyList<Audience> audiences, List<EdgeAnswerSummary> edge, DemoReceiver receiver, DemoOutputs outputs)
    {
        // Batches as stored now (a streamed batch's counts are final once its request was answered).
        var stored = batches.Select(b => workspace.Catalog.RequireBatch(sandbox, b.Id)).ToList();
        var ingested = stored.GroupBy(b => b.Dataset).Select(group => new IngestedDataset(group.Key,
            group.First().Kind == BatchKind.File ? Path.GetFileName(group.First().Source ?? "") : "HTTP (collect key)",
            group.Count(), group.Sum(b => b.Counts.Input), group.Sum(b => b.Counts.Accepted - b.Counts.Duplicates), group.Sum(b => b.Counts.Failed),
            group.Sum(b => b.Counts.Duplicates), string.Join(", ", group.Select(b => b.Status.ToString().ToLowerInvariant()).Distinct()))).ToList();

        var reasons = new Dictionary<(string Dataset, string Code, string Path), (int Count, string Example)>();
        foreach (var batch in stored.Where(b => b.Counts.Failed > 0))
        {
            foreach (var entry in workspace.Ingestion.Quarantine(sandbox, batch.Id))
            {
                foreach (var error in entry.Errors)
                {
                    var key = (batch.Dataset, error.Code, error.Path);
                    reasons[key] = reasons.TryGetValue(key, out var seen) ? (seen.Count + 1, seen.Example) : (1, $"row {entry.Row}: {error.Message}");
                }
            }
        }

        var counts = workspace.Identity.Counts(sandbox);
        var cuts = workspace.Identity.CutLinks(sandbox);
        var identity = new IdentitySummary(counts.Identities, counts.Graphs,
            workspace.Identity.CountGraphs(sandbox, IsStitched), counts.Links, counts.CutLinks,
            [.. cuts.GroupBy(c => c.Rule).OrderByDescending(g => g.Count()).Select(g => new CutReason(g.Key, g.Count(), Describe(g.First())))]);

        var audienceSummaries = audiences.Select(a => new AudienceSummary(a.Id, a.Name, a.Mode, a.Pql,
            (int)workspace.Memberships.Counts(sandbox, a.Id).Members)).ToList();

        var deliveries = new List<DeliverySummary>();
        foreach (var destination in workspace.Activation.Destinations.List(sandbox).OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            var runs = workspace.Activation.Log.Runs(sandbox, destination.Name, take: int.MaxValue);
            var excluded = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (reason, count) in runs.SelectMany(r => r.Excluded))
            {
                excluded[reason] = excluded.GetValueOrDefault(reason) + count;
            }
            var output = destination.File is { } file
                ? string.Join(", ", Directory.Exists(file.Folder) ? Directory.GetFiles(file.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal) : [])
                : $"{receiver.Requests.GetValueOrDefault(Segment(destination))} requests received";
            deliveries.Add(new DeliverySummary(destination.Name, destination.Connector,
                [.. destination.Audiences.Select(a => audiences.FirstOrDefault(x => x.Id == a.AudienceId)?.Name ?? a.AudienceId)],
                runs.Count, runs.Sum(r => r.Activated), excluded, runs.Sum(r => r.Requests), runs.Sum(r => r.Failed), output));
        }

        return new DemoSummary
        {
            Workspace = workspace.Directory,
            Sandbox = sandbox,
            Customers = customers,
            Seconds = Math.Round(took.TotalSeconds, 1),
            Ingested = ingested,
            Quarantined = [.. reasons.OrderByDescending(r => r.Value.Count).Select(r => new QuarantineReason(r.Key.Dataset, r.Key.Code, r.Key.Path, r.Value.Count, r.Value.Example))],
            Identity = identity,
            Audiences = audienceSummaries,
            Edge = edge,
            Deliveries = deliveries,
            Outputs = outputs,
        };
    }

    /// <summary>A graph that joins online behaviour (a device) to an offline customer (a CRM id).</summary>
    private static bool IsStitched(GraphSnapshot graph) =>
        graph.Identities.Any(i => i.Namespace == StandardNamespaces.CrmId) && graph.Identities.Any(i => i.Namespace == StandardNamespaces.Ecid);

    private static string Describe(CutLink cut) => $"{cut.Link.From} – {cut.Link.To}: {cut.Detail}";

    /// <summary>The receiver path segment an HTTP destination posts under (see DemoSetup).</summary>
    private static string Segment(Activation.Destinations.Destination destination) =>
        new Uri(destination.Settings.GetValueOrDefault("endpoint") ?? "http://x/").Segments.LastOrDefault()?.Trim('/') ?? "";

    public static void Print(IAnsiConsole console, DemoSummary summary, Workspace workspace, string sandbox)
    {
        var ingested = new Table().Title("[bold]ingested[/]").AddColumns("dataset", "source", "batches", "records in", "stored", "quarantined", "duplicates", "status");
        foreach (var row in summary.Ingested)
        {
            ingested.AddRow(Markup.Escape(row.Dataset), Markup.Escape(row.Source), N(row.Batches), N(row.Input), N(row.Stored), N(row.Quarantined), N(row.Duplicates), Markup.Escape(row.Status));
        }
        console.Write(ingested);

        var quarantine = new Table().Title("[bold]quarantined, by reason[/] (tessera batch show ID; fix and tessera batch replay ID)").AddColumns("dataset", "code", "field", "records", "example");
        foreach (var row in summary.Quarantined)
        {
            quarantine.AddRow(Markup.Escape(row.Dataset), Markup.Escape(row.Code), Markup.Escape(row.Field), N(row.Records), Markup.Escape(row.Example));
        }
        console.Write(quarantine);

        var graph = summary.Identity;
        console.MarkupLine($"[bold]identity graph[/]: {N(graph.Identities)} identities in {N(graph.Profiles)} profiles; {N(graph.MergedProfiles)} join a device to a CRM customer; "
            + $"{N(graph.Links)} links, {N(graph.CutLinks)} cut by the rules:");
        foreach (var cut in graph.CutReasons)
        {
            console.MarkupLine($"  [yellow]{Markup.Escape(cut.Rule)}[/]: {N(cut.Links)} links, e.g. {Markup.Escape(cut.Example)}");
        }

        var audiences = new Table().Title("[bold]audiences[/]").AddColumns("audience", "engine", "members", "definition (PQL)");
        foreach (var audience in summary.Audiences)
        {
            audiences.AddRow(Markup.Escape(audience.Name), audience.Mode, N(audience.Members), Markup.Escape(audience.Pql));
        }
        console.Write(audiences);

        var edge = new Table().Title("[bold]edge[/]: same-page personalization (POST /edge/v1/evaluate)").AddColumns("visitor", "profile", "edge audiences", "attributes", "ms");
        foreach (var answer in summary.Edge)
        {
            edge.AddRow(Markup.Escape(answer.Identity), Markup.Escape(answer.Profile ?? "(new)"), Markup.Escape(string.Join(", ", answer.Audiences.Select(id => summary.Audiences.FirstOrDefault(a => a.Id == id)?.Name ?? id))),
                Markup.Escape(string.Join(", ", answer.Attributes.Select(a => $"{a.Key}={a.Value}"))), answer.Milliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
        }
        console.Write(edge);

        var deliveries = new Table().Title("[bold]deliveries[/]").AddColumns("destination", "connector", "audiences", "runs", "sent", "excluded", "requests", "failed", "output");
        foreach (var delivery in summary.Deliveries)
        {
            deliveries.AddRow(Markup.Escape(delivery.Destination), delivery.Connector, Markup.Escape(string.Join(", ", delivery.Audiences)), N(delivery.Runs), N(delivery.Activated),
                Markup.Escape(string.Join(", ", delivery.Excluded.Select(e => $"{e.Key} {e.Value:N0}"))), N(delivery.Requests), N(delivery.Failed), Markup.Escape(delivery.Output));
        }
        console.Write(deliveries);

        PrintProfile(console, workspace, sandbox, summary.Audiences.FirstOrDefault(a => a.Mode == "streaming"));
        console.MarkupLine($"\n[bold]outputs[/]: sample files [blue]{Markup.Escape(summary.Outputs.SampleFiles)}[/], exports [blue]{Markup.Escape(summary.Outputs.Exports)}[/], "
            + $"what the platforms received [blue]{Markup.Escape(summary.Outputs.Received)}[/], this summary [blue]{Markup.Escape(summary.Outputs.Summary)}[/]");
        console.MarkupLine($"[grey]{summary.Seconds:0.0} s. Next: tessera audience list, tessera destination runs meta-ads, tessera identity show NS:value, tessera serve[/]");
    }

    /// <summary>One stitched member of the streaming audience, as a profile lookup shows it.</summary>
    private static void PrintProfile(IAnsiConsole console, Workspace workspace, string sandbox, AudienceSummary? audience)
    {
        if (audience is null || workspace.Memberships.Members(sandbox, audience.Id).FirstOrDefault(m => m.IsMember) is not { } member
            || !IdentityKey.TryParse(member.ProfileId, out var identity)
            || workspace.Profiles.Lookup(sandbox, identity, events: 3) is not { } profile)
        {
            return;
        }
        var table = new Table().Title($"[bold]a member of {Markup.Escape(audience.Name)}: {Markup.Escape(member.ProfileId)}[/] (merge policy {Markup.Escape(profile.MergePolicy)})")
            .AddColumns("attribute", "value", "from");
        foreach (var source in profile.Sources.Take(10))
        {
            var value = source.Path.Split('.').Aggregate((System.Text.Json.Nodes.JsonNode?)profile.Attributes, (node, part) => node is System.Text.Json.Nodes.JsonObject o ? o[part] : null);
            table.AddRow(Markup.Escape(source.Path), Markup.Escape(value?.ToJsonString() ?? ""), Markup.Escape($"{source.Dataset}, {source.Time:u}"));
        }
        console.Write(table);
        console.MarkupLine($"  identities: {Markup.Escape(string.Join(", ", profile.Identities))}");
        console.MarkupLine($"  {N(profile.Timeline.Count)} events, newest: " + Markup.Escape(string.Join("; ", profile.Timeline.Events.Select(e => $"{e.Timestamp:u} {e.Dataset}"))));
    }

    private static string N(long value) => IngestCommands.N(value);
}

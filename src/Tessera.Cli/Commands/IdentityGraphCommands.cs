using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Identity.Graph;
using Tessera.Server.Api;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera identity simulate|show|explain|rules|delete</c>: the identity graph.</summary>
internal static class IdentityGraphCommands
{
    private static readonly DateTimeOffset SimulationStart = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The most identities one simulated link event may hold by default: as many as ingestion lets a record carry by default.</summary>
    private static readonly int DefaultMaxIdentitiesPerLine = new IngestionLimits().MaxIdentitiesPerRecord;

    public static Command AddTo(Command identity) =>
        identity.With(Simulate()).With(Show()).With(Explain()).With(Rules()).With(Delete());

    private static Command Show()
    {
        var identity = new Argument<string>("identity") { Description = "Namespace:value, e.g. Email:ann@example.com" };
        var command = new Command("show", "The graph of an identity: primary identity, identities, and links (kept and cut)") { identity };
        command.WithWorkspace((context, parse, _) =>
        {
            var key = context.Workspace.ParseIdentity(context.Sandbox, parse.GetValue(identity)!);
            var found = context.Workspace.Identity.Find(context.Sandbox, key)
                ?? throw new CatalogException("IDENTITY_NOT_FOUND", $"no record or event of sandbox '{context.Sandbox}' carries {key}");
            var view = IdentityGraphResponse.From(found);
            if (context.Json)
            {
                CliContext.PrintJson(view, IdentityCliJson.Default.IdentityGraphResponse);
                return Task.FromResult(ExitCodes.Ok);
            }
            AnsiConsole.MarkupLine($"graph of [bold]{Markup.Escape(view.Identity)}[/]: {view.Identities.Count} identities, primary [bold]{Markup.Escape(view.Primary)}[/]");
            AnsiConsole.MarkupLine(Markup.Escape(string.Join(", ", view.Identities)));
            AnsiConsole.Write(LinkTable(view.Links));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command Explain()
    {
        var a = new Argument<string>("a") { Description = "Namespace:value" };
        var b = new Argument<string>("b") { Description = "Namespace:value" };
        var command = new Command("explain", "Why two identities are in one graph (the links that join them) or not (which rule cut which link)") { a, b };
        command.WithWorkspace((context, parse, _) =>
        {
            var workspace = context.Workspace;
            var why = ExplainResponse.From(workspace.Identity.Explain(context.Sandbox,
                workspace.ParseIdentity(context.Sandbox, parse.GetValue(a)!), workspace.ParseIdentity(context.Sandbox, parse.GetValue(b)!)));
            if (context.Json)
            {
                CliContext.PrintJson(why, IdentityCliJson.Default.ExplainResponse);
                return Task.FromResult(ExitCodes.Ok);
            }
            AnsiConsole.MarkupLine($"{Markup.Escape(why.A)} and {Markup.Escape(why.B)}: {Markup.Escape(why.Summary)}");
            if (why.Path.Count > 0)
            {
                AnsiConsole.Write(LinkTable(why.Path));
            }
            foreach (var cut in why.Cuts)
            {
                AnsiConsole.MarkupLine($"[red]cut[/] {Markup.Escape(cut.Link.From)} – {Markup.Escape(cut.Link.To)} by [bold]{Markup.Escape(cut.Rule)}[/]: {Markup.Escape(cut.Detail)}");
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command Rules()
    {
        var show = new Command("show", "The sandbox's graph rules");
        show.WithWorkspace((context, _, _) =>
        {
            CliContext.PrintJson(context.Workspace.Identity.GetRules(context.Sandbox), IdentityCliJson.Default.IdentityGraphRules);
            return Task.FromResult(ExitCodes.Ok);
        });
        var file = new Argument<FileInfo>("rules") { Description = "Rules as JSON: {\"uniqueNamespaces\": [...], \"priority\": [...], \"maxIdentities\": 50}" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report how many graphs would merge, split or change primary identity" };
        var set = new Command("set", "Replace the graph rules; every graph is derived again from the link ledger") { file, dryRun };
        set.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var rules = await ReadRulesAsync(parse.GetValue(file)!, cancellationToken);
            GraphDiff diff;
            try
            {
                diff = await context.Workspace.Identity.SetRulesAsync(context.Sandbox, rules, parse.GetValue(dryRun), cancellationToken);
            }
            catch (InvalidGraphRulesException error)
            {
                throw new CatalogException(InvalidGraphRulesException.Code, error.Message);
            }
            var change = new RulesChangeResponse(!parse.GetValue(dryRun), rules, diff);
            if (context.Json)
            {
                CliContext.PrintJson(change, IdentityCliJson.Default.RulesChangeResponse);
                return ExitCodes.Ok;
            }
            AnsiConsole.MarkupLine(change.Applied ? "rules applied" : "dry run: nothing changed");
            AnsiConsole.MarkupLine($"graphs {diff.GraphsBefore} → {diff.GraphsAfter}: {diff.Merged} merged, {diff.Split} split, {diff.PrimaryChanged} with another primary identity; cut links {diff.LinksCutBefore} → {diff.LinksCutAfter}");
            return ExitCodes.Ok;
        });
        return new Command("rules", "Identity graph rules: unique namespaces, priority, size cap").With(show).With(set);
    }

    private static Command Delete()
    {
        var batch = new Option<string?>("--batch") { Description = "Remove the links of this batch" };
        var dataset = new Option<string?>("--dataset") { Description = "Remove the links of every batch of this dataset" };
        var identity = new Option<string?>("--identity") { Description = "Remove this identity (Namespace:value) from every link" };
        var command = new Command("delete", "Remove links from the identity ledger and derive the graphs again; graphs split where nothing else holds them") { batch, dataset, identity };
        command.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var workspace = context.Workspace;
            var (batchId, datasetName, identityText) = (parse.GetValue(batch), parse.GetValue(dataset), parse.GetValue(identity));
            if ((batchId is null ? 0 : 1) + (datasetName is null ? 0 : 1) + (identityText is null ? 0 : 1) != 1)
            {
                throw new CatalogException("USAGE", "give exactly one of --batch, --dataset or --identity");
            }
            var filter = workspace.ResolveLedgerFilter(context.Sandbox, batchId, datasetName, identityText);
            var receipt = await workspace.Identity.DeleteAsync(context.Sandbox, filter, cancellationToken);
            if (context.Json)
            {
                CliContext.PrintJson(receipt, IdentityCliJson.Default.LedgerDeletion);
                return ExitCodes.Ok;
            }
            AnsiConsole.MarkupLine($"{Markup.Escape(receipt.Filter)}: {receipt.EntriesRemoved} ledger entries removed, {receipt.EntriesRewritten} rewritten; "
                + $"graphs {receipt.GraphsBefore} → {receipt.GraphsAfter}, links {receipt.LinksBefore} → {receipt.LinksAfter}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Table LinkTable(IEnumerable<LinkResponse> links)
    {
        var table = new Table().AddColumns("link", "state", "dataset", "batch", "record", "time", "seen");
        foreach (var link in links)
        {
            table.AddRow(Markup.Escape($"{link.From} – {link.To}"), link.State == "kept" ? "kept" : $"[red]{link.State}[/]", Markup.Escape(link.Dataset),
                Markup.Escape(link.Batch), Markup.Escape(link.Record ?? ""), link.Time.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
                link.Occurrences.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return table;
    }

    private static Command Simulate()
    {
        var file = new Argument<FileInfo>("file") { Description = "Link events in time order, one per line: Namespace:value, Namespace:value, ..." };
        var rulesFile = new Option<FileInfo?>("--rules") { Description = "Rules as JSON: {\"uniqueNamespaces\": [...], \"priority\": [...], \"maxIdentities\": 50} (default: CRMID unique, cap 50)" };
        var dot = new Option<FileInfo?>("--dot") { Description = "Also write the graphs as Graphviz DOT to this file (kept links solid, cut links dashed)" };
        var maxPerLine = new Option<int>("--max-identities-per-line")
        {
            Description = $"The most distinct identities one line may hold; a line with more is refused (TOO_MANY_IDENTITIES). Default: {DefaultMaxIdentitiesPerLine}, "
                + "as many as a record may carry by default (limits.maxIdentitiesPerRecord); linking takes time that grows with the square of a line's identities",
            DefaultValueFactory = _ => DefaultMaxIdentitiesPerLine,
        };
        var command = new Command("simulate", "Apply graph rules to link events and print the resulting graphs, without a workspace") { file, rulesFile, dot, maxPerLine };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var limit = parse.GetValue(maxPerLine);
            if (limit < 1)
            {
                return CommandExtensions.Fail("PARAMETER_INVALID", $"--max-identities-per-line must be 1 or more, not {limit}");
            }
            try
            {
                var rules = parse.GetValue(rulesFile) is { } path ? await ReadRulesAsync(path, cancellationToken) : IdentityGraphRules.Default();
                var graph = new IdentityGraph(CompiledGraphRules.Compile(rules, SimulationTypeOf));
                var input = parse.GetValue(file)!;
                var lineNumber = 0;
                foreach (var line in await File.ReadAllLinesAsync(input.FullName, cancellationToken))
                {
                    lineNumber++;
                    var text = line.Trim();
                    if (text.Length == 0 || text.StartsWith('#'))
                    {
                        continue;
                    }
                    var identities = new List<IdentityKey>();
                    var seen = new HashSet<IdentityKey>();
                    foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!IdentityKey.TryParse(part, out var key))
                        {
                            throw new SimulationException($"{input.Name}:{lineNumber}: '{part}' is not Namespace:value");
                        }
                        if (seen.Add(key))
                        {
                            identities.Add(key);
                        }
                    }
                    // A line stands for a record's identities; ingestion refuses a record with more (TOO_MANY_IDENTITIES),
                    // and linking thousands at once takes minutes.
                    if (identities.Count > limit)
                    {
                        throw new TooManyIdentitiesException($"{input.Name}:{lineNumber}: {identities.Count} identities on one line, more than the limit of {limit} "
                            + $"(--max-identities-per-line{(limit == DefaultMaxIdentitiesPerLine ? $", {DefaultMaxIdentitiesPerLine} by default as a record's limits.maxIdentitiesPerRecord" : "")})");
                    }
                    graph.Add(new LedgerEntry(lineNumber, SimulationStart.AddSeconds(lineNumber), "simulation", input.Name,
                        lineNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), identities));
                }
                var result = Result(graph);
                if (parse.GetValue(dot) is { } dotFile)
                {
                    await File.WriteAllTextAsync(dotFile.FullName, Dot(graph), cancellationToken);
                }
                if (parse.GetValue(CommonOptions.Json))
                {
                    CliContext.PrintJson(result, IdentityCliJson.Default.SimulationResult);
                }
                else
                {
                    PrintSimulation(result);
                }
                return ExitCodes.Ok;
            }
            catch (Exception error) when (error is SimulationException or TooManyIdentitiesException or InvalidGraphRulesException or CatalogException)
            {
                var code = error switch
                {
                    TooManyIdentitiesException => ErrorCodes.TooManyIdentities,
                    InvalidGraphRulesException => InvalidGraphRulesException.Code,
                    CatalogException rulesError => rulesError.Code,
                    _ => "SIMULATION_INPUT_INVALID",
                };
                return CommandExtensions.Fail(code, error.Message);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // The links file or the --dot file: missing, a directory, unreadable or unwritable.
                var path = error is UnauthorizedAccessException && parse.GetValue(dot) is { } dotFile && Directory.Exists(dotFile.FullName)
                    ? dotFile.FullName
                    : parse.GetValue(file)!.FullName;
                return CommandExtensions.Fail("FILE_UNREADABLE", CliFiles.Why(path, error));
            }
        });
        return command;
    }

    /// <summary>Graph rules from a JSON file; unreadable JSON is RULES_INVALID_JSON naming the file.</summary>
    private static async Task<IdentityGraphRules> ReadRulesAsync(FileInfo path, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path.FullName, cancellationToken), IdentityCliJson.Default.IdentityGraphRules)
                ?? throw new CatalogException("RULES_INVALID_JSON", $"{path.Name}: empty rules");
        }
        catch (JsonException error)
        {
            throw new CatalogException("RULES_INVALID_JSON", $"{path.Name}: {error.Message}");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CatalogException("FILE_UNREADABLE", CliFiles.Why(path.FullName, error));
        }
    }

    /// <summary>Standard namespaces have their types; any other code is taken for a person id (most custom ids are).</summary>
    private static IdentityType? SimulationTypeOf(string ns) =>
        StandardNamespaces.All.FirstOrDefault(n => n.Code == ns)?.Type ?? IdentityType.CrossDevice;

    private static SimulationResult Result(IdentityGraph graph) => new(
        [.. graph.Snapshots().Select(g => new SimulatedGraph([.. g.Identities.Select(i => i.ToString())], g.Primary.ToString()))],
        [.. graph.CutLinks().Select(c => new RemovedLink(c.Link.From.ToString(), c.Link.To.ToString(), c.Rule, c.Detail,
            int.Parse(c.Link.Origin.Record!, System.Globalization.CultureInfo.InvariantCulture)))]);

    private static void PrintSimulation(SimulationResult result)
    {
        var graphs = new Table().AddColumns("#", "primary", "identities");
        for (var i = 0; i < result.Graphs.Count; i++)
        {
            graphs.AddRow((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(result.Graphs[i].Primary),
                Markup.Escape(string.Join(", ", result.Graphs[i].Identities)));
        }
        AnsiConsole.Write(graphs);
        if (result.RemovedLinks.Count == 0)
        {
            AnsiConsole.MarkupLine("no links removed");
            return;
        }
        var removed = new Table().AddColumns("removed link", "rule", "why", "line");
        foreach (var link in result.RemovedLinks)
        {
            removed.AddRow(Markup.Escape($"{link.From} – {link.To}"), Markup.Escape(link.Rule), Markup.Escape(link.Reason),
                link.Line.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(removed);
    }

    /// <summary>One cluster per graph; kept links solid, cut links dashed and red.</summary>
    internal static string Dot(IdentityGraph graph)
    {
        var dot = new StringBuilder("graph identities {\n  node [shape=box, fontname=\"Helvetica\"];\n");
        var snapshots = graph.Snapshots();
        for (var i = 0; i < snapshots.Count; i++)
        {
            dot.Append("  subgraph cluster_").Append(i).Append(" {\n    label=").Append(Quote($"graph {i + 1}")).Append(";\n");
            foreach (var identity in snapshots[i].Identities)
            {
                dot.Append("    ").Append(Quote(identity.ToString()));
                if (identity == snapshots[i].Primary)
                {
                    dot.Append(" [penwidth=2]");
                }
                dot.Append(";\n");
            }
            dot.Append("  }\n");
        }
        foreach (var link in graph.AllLinks())
        {
            dot.Append("  ").Append(Quote(link.From.ToString())).Append(" -- ").Append(Quote(link.To.ToString()));
            dot.Append(link.State == LinkState.Kept ? ";\n" : " [style=dashed, color=red];\n");
        }
        return dot.Append("}\n").ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private sealed class SimulationException(string message) : Exception(message);

    private sealed class TooManyIdentitiesException(string message) : Exception(message);
}

internal sealed record SimulatedGraph(List<string> Identities, string Primary);

/// <param name="Line">The input line of the occurrence that last carried the link.</param>
internal sealed record RemovedLink(string From, string To, string Rule, string Reason, int Line);

internal sealed record SimulationResult(List<SimulatedGraph> Graphs, List<RemovedLink> RemovedLinks);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(IdentityGraphRules))]
[JsonSerializable(typeof(SimulationResult))]
[JsonSerializable(typeof(IdentityGraphResponse))]
[JsonSerializable(typeof(ExplainResponse))]
[JsonSerializable(typeof(RulesChangeResponse))]
[JsonSerializable(typeof(LedgerDeletion))]
internal sealed partial class IdentityCliJson : JsonSerializerContext;

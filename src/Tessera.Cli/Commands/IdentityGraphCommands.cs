using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity.Graph;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera identity simulate|show|explain|rules|delete</c>: the identity graph.</summary>
internal static class IdentityGraphCommands
{
    private static readonly DateTimeOffset SimulationStart = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Command AddTo(Command identity) => identity.With(Simulate());

    private static Command Simulate()
    {
        var file = new Argument<FileInfo>("file") { Description = "Link events in time order, one per line: Namespace:value, Namespace:value, ..." };
        var rulesFile = new Option<FileInfo?>("--rules") { Description = "Rules as JSON: {\"uniqueNamespaces\": [...], \"priority\": [...], \"maxIdentities\": 50} (default: CRMID unique, cap 50)" };
        var dot = new Option<FileInfo?>("--dot") { Description = "Also write the graphs as Graphviz DOT to this file (kept links solid, cut links dashed)" };
        var command = new Command("simulate", "Apply graph rules to link events and print the resulting graphs, without a workspace") { file, rulesFile, dot };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var rules = parse.GetValue(rulesFile) is { } path
                    ? JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path.FullName, cancellationToken), IdentityCliJson.Default.IdentityGraphRules)
                        ?? throw new SimulationException($"{path.Name}: empty rules")
                    : IdentityGraphRules.Default();
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
                    foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!IdentityKey.TryParse(part, out var key))
                        {
                            throw new SimulationException($"{input.Name}:{lineNumber}: '{part}' is not Namespace:value");
                        }
                        if (!identities.Contains(key))
                        {
                            identities.Add(key);
                        }
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
            catch (Exception error) when (error is SimulationException or InvalidGraphRulesException or JsonException or IOException)
            {
                var code = error switch
                {
                    InvalidGraphRulesException => InvalidGraphRulesException.Code,
                    JsonException => "RULES_INVALID_JSON",
                    IOException => "FILE_UNREADABLE",
                    _ => "SIMULATION_INPUT_INVALID",
                };
                return CommandExtensions.Fail(code, error.Message);
            }
        });
        return command;
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
}

internal sealed record SimulatedGraph(List<string> Identities, string Primary);

/// <param name="Line">The input line of the occurrence that last carried the link.</param>
internal sealed record RemovedLink(string From, string To, string Rule, string Reason, int Line);

internal sealed record SimulationResult(List<SimulatedGraph> Graphs, List<RemovedLink> RemovedLinks);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(IdentityGraphRules))]
[JsonSerializable(typeof(SimulationResult))]
internal sealed partial class IdentityCliJson : JsonSerializerContext;

using System.Globalization;
using Spectre.Console;

namespace Tessera.Bench;

internal static class IdentityReport
{
    public static void Print(IdentityRun run)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Identity graph[/]");
        table.AddColumn("step");
        table.AddColumn("ids");
        table.AddColumn("what");
        table.AddColumn(new TableColumn("items/s").RightAligned());
        table.AddColumn(new TableColumn("seconds").RightAligned());
        table.AddColumn(new TableColumn("ratio to floor").RightAligned());
        table.AddColumn("target");
        foreach (var figure in run.Figures)
        {
            var name = figure.Kind == "tessera" ? $"[bold]{Markup.Escape(figure.Name)}[/]" : Markup.Escape(figure.Name);
            if (!figure.Completed)
            {
                name += " [red](budget ran out: part of the ledger)[/]";
            }
            table.AddRow(
                Markup.Escape(figure.Section),
                Markup.Escape(figure.Ids),
                name,
                $"{figure.PerSecond:N0} {figure.Unit}/s",
                figure.Seconds.ToString("0.000", CultureInfo.InvariantCulture),
                figure.Ratio is { } ratio ? ratio.ToString("0.000", CultureInfo.InvariantCulture) : "",
                Markup.Escape(Verdict(figure.Target, figure.Met)));
        }
        AnsiConsole.Write(table);

        var latency = new Table().Border(TableBorder.Rounded).Title("[bold]Identity → graph lookup, ns per lookup[/]");
        latency.AddColumn("what");
        latency.AddColumn("method");
        foreach (var column in new[] { "p50", "p99", "p99.9", "mean", "max" })
        {
            latency.AddColumn(new TableColumn(column).RightAligned());
        }
        latency.AddColumn("target");
        foreach (var figure in run.Latencies)
        {
            latency.AddRow(
                figure.Kind == "tessera" ? $"[bold]{Markup.Escape(figure.Name)}[/]" : Markup.Escape(figure.Name),
                Markup.Escape(figure.Method),
                $"{figure.P50:N0}", $"{figure.P99:N0}", $"{figure.P999:N0}", $"{figure.Mean:N0}", $"{figure.Max:N0}",
                Markup.Escape(Verdict(figure.Target, figure.Met)));
        }
        AnsiConsole.Write(latency);
        foreach (var problem in run.Problems)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(problem)}[/]");
        }
    }

    private static string Verdict(string? target, bool? met) => target is null ? "" : met switch
    {
        true => $"{target}: met",
        false => $"{target}: NOT met",
        null => $"{target}: n/a at this size",
    };

    /// <summary>
    /// The suite's figures: every Tessera step beside its floor (rebuilds, whose target is a time, in
    /// seconds beside the floor's time over the same links), and the lookup p99s beside the floor's.
    /// </summary>
    public static List<Figure> Figures(IdentityRun run, BenchOptions options)
    {
        var w = run.Workload;
        var size = options.QuickNote($"{w.Identities:N0} identities, {w.LinkOccurrences:N0} link occurrences")
            + (run.Full ? "" : " (the rebuild target is at 10,000,000)");
        var figures = new List<Figure>();
        // Tessera's steps that have a floor beside them (the rest are printed above as the group runs).
        foreach (var figure in run.Figures.Where(f => f.Kind == "tessera" && f.Floor is not null))
        {
            var notes = new List<string> { size, $"{figure.Ids} ids", $"{figure.Items:N0} {figure.Unit} in {figure.Seconds:0.000} s" };
            if (!figure.Completed)
            {
                notes.Add("budget ran out: part of the ledger");
            }
            if (figure.Name.Contains("Build", StringComparison.Ordinal) && run.Memory is { } memory && figure.Ids == IdentitySuite.FirstSeen)
            {
                notes.Add($"graph {memory.GraphBytes / 1048576.0:N0} MiB managed, values as UTF-8 (as strings: {memory.ValueStringBytes / 1048576.0:N0} MiB)");
            }
            if (figure.Notes is { } more)
            {
                notes.Add(more);
            }
            var what = figure.Name.Replace("Tessera ", "", StringComparison.Ordinal);
            var name = (what.StartsWith(figure.Section + ":", StringComparison.Ordinal) ? what : $"{figure.Section}: {what}")
                + (figure.Ids == IdentitySuite.Shuffled ? " (ids shuffled)" : "");
            var peer = figure.Floor?.Name.Replace("floor: ", "", StringComparison.Ordinal);
            var timed = figure.Target?.StartsWith('≤') == true;
            figures.Add(timed
                ? new Figure("identity", name, figure.Seconds, "s", HigherIsBetter: false, peer, figure.Floor is { } f ? figure.Items / f.PerSecond : null,
                    figure.Target, figure.Met, string.Join("; ", notes))
                : new Figure("identity", name, figure.PerSecond, $"{figure.Unit}/s", HigherIsBetter: true, peer, figure.Floor?.PerSecond,
                    figure.Target, figure.Met, string.Join("; ", notes)));
        }
        foreach (var latency in run.Latencies.Where(l => l.Kind == "tessera"))
        {
            var floor = run.Latencies.FirstOrDefault(l => l.Kind == "floor" && l.Method == latency.Method);
            figures.Add(new Figure("identity", $"lookup: {latency.Name.Replace("Tessera ", "", StringComparison.Ordinal)}, p99 ({latency.Method})", latency.P99, "ns", HigherIsBetter: false,
                floor?.Name.Replace("floor: ", "", StringComparison.Ordinal), floor?.P99, latency.Target, latency.Met,
                $"{size}; {latency.Method}; p50 {latency.P50:N0} ns, p99.9 {latency.P999:N0} ns, max {latency.Max:N0} ns over {latency.Samples:N0}"
                + (floor is null ? "" : $"; floor p50 {floor.P50:N0} ns")));
        }
        return figures;
    }
}

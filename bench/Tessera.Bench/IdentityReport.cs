using System.Globalization;
using System.Text.Json;
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

    public static void WriteJson(string path, BenchOptions options, IdentityRun run)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("benchmark", "identity");
        writer.WriteString("machine", Machine.Describe());
        writer.WriteString("takenAt", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteStartObject("options");
        writer.WriteBoolean("quick", options.Quick);
        writer.WriteNumber("identities", options.Identities);
        writer.WriteNumber("lookups", options.Lookups);
        writer.WriteNumber("lookupBatch", IdentityBench.LookupBatch);
        writer.WriteNumber("seed", IdentityBench.Seed);
        writer.WriteNumber("budgetSeconds", options.Budget);
        writer.WriteString("rules", "uniqueNamespaces [CRMID], priority [CRMID, Email, Phone, ECID], maxIdentities 50");
        writer.WriteEndObject();

        var w = run.Workload;
        writer.WriteStartObject("workload");
        writer.WriteNumber("generateSeconds", Math.Round(run.GenerateSeconds, 2));
        writer.WriteNumber("people", w.Persons);
        writer.WriteNumber("identities", w.Identities);
        writer.WriteStartObject("identitiesByNamespace");
        for (var ns = 0; ns < IdentityWorkload.Namespaces.Length; ns++)
        {
            writer.WriteNumber(IdentityWorkload.Namespaces[ns], w.ByNamespace[ns]);
        }
        writer.WriteEndObject();
        writer.WriteNumber("occurrences", w.Occurrences);
        writer.WriteNumber("linkOccurrences", w.LinkOccurrences);
        writer.WriteNumber("distinctLinks", run.DistinctLinks);
        writer.WriteNumber("crmRecords", w.CrmRecords);
        writer.WriteNumber("logins", w.Logins);
        writer.WriteNumber("signUpForms", w.Forms);
        writer.WriteNumber("sharedDeviceLogins", w.SharedDeviceLogins);
        writer.WriteNumber("junkEmails", w.JunkEmails);
        writer.WriteNumber("junkEmailUses", w.JunkEmailUses);
        writer.WriteNumber("graphs", run.Graphs);
        writer.WriteNumber("regions", run.Regions);
        writer.WriteNumber("largestRegion", run.LargestRegion);
        writer.WriteNumber("regionsOverCap", run.RegionsOverCap);
        writer.WriteNumber("identitiesInRegionsOverCap", run.IdentitiesInRegionsOverCap);
        writer.WriteEndObject();

        writer.WriteStartArray("results");
        foreach (var figure in run.Figures)
        {
            writer.WriteStartObject();
            writer.WriteString("step", figure.Section);
            writer.WriteString("ids", figure.Ids);
            writer.WriteString("name", figure.Name);
            writer.WriteString("kind", figure.Kind);
            writer.WriteBoolean("completed", figure.Completed);
            writer.WriteString("unit", figure.Unit);
            writer.WriteNumber("items", figure.Items);
            writer.WriteNumber("seconds", Math.Round(figure.Seconds, 4));
            writer.WriteNumber("itemsPerSecond", Math.Round(figure.PerSecond));
            if (figure.Floor is { } floor)
            {
                writer.WriteString("floor", floor.Name);
                writer.WriteNumber("ratioToFloor", Math.Round(figure.Ratio!.Value, 4));
            }
            WriteTarget(writer, figure.Target, figure.Met);
            if (figure.Notes is { } notes)
            {
                writer.WriteString("notes", notes);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        writer.WriteStartObject("lookups");
        writer.WriteNumber("timerOverheadNanoseconds", Math.Round(run.TimerOverheadNanoseconds, 1));
        writer.WriteNumber("randomReadNanoseconds", Math.Round(run.MemoryLatencyNanoseconds, 1));
        writer.WriteStartArray("results");
        foreach (var figure in run.Latencies)
        {
            writer.WriteStartObject();
            writer.WriteString("name", figure.Name);
            writer.WriteString("kind", figure.Kind);
            writer.WriteString("method", figure.Method);
            writer.WriteNumber("samples", figure.Samples);
            writer.WriteNumber("p50Nanoseconds", Math.Round(figure.P50, 1));
            writer.WriteNumber("p99Nanoseconds", Math.Round(figure.P99, 1));
            writer.WriteNumber("p999Nanoseconds", Math.Round(figure.P999, 1));
            writer.WriteNumber("meanNanoseconds", Math.Round(figure.Mean, 1));
            writer.WriteNumber("maxNanoseconds", Math.Round(figure.Max, 1));
            WriteTarget(writer, figure.Target, figure.Met);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();

        if (run.Memory is { } memory)
        {
            writer.WriteStartObject("memoryAfterBuild");
            writer.WriteNumber("graphManagedBytes", memory.GraphBytes);
            writer.WriteNumber("identityValueStringBytes", memory.ValueStringBytes);
            writer.WriteNumber("managedBytesWithLedgerEntries", memory.ManagedWithLedger);
            writer.WriteNumber("workingSetBytesWithLedgerEntries", memory.WorkingSetWithLedger);
            writer.WriteNumber("managedBytesAfter", memory.ManagedAfter);
            writer.WriteNumber("workingSetBytesAfter", memory.WorkingSetAfter);
            writer.WriteNumber("peakWorkingSetBytes", memory.PeakWorkingSet);
            writer.WriteEndObject();
        }
        writer.WriteStartArray("problems");
        foreach (var problem in run.Problems)
        {
            writer.WriteStringValue(problem);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteTarget(Utf8JsonWriter writer, string? target, bool? met)
    {
        if (target is null)
        {
            return;
        }
        writer.WriteString("target", target);
        if (met is { } value)
        {
            writer.WriteBoolean("met", value);
        }
        else
        {
            writer.WriteNull("met");
        }
    }
}

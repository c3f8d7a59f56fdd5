using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace Tessera.Bench;

/// <summary>The suite's one table of every figure, and the same as JSON.</summary>
internal sealed class SuiteReport(BenchOptions options, DateTimeOffset started, DateTimeOffset finished, double totalSeconds, bool optimized,
    IReadOnlyList<GroupRun> runs, IReadOnlyList<Figure> figures)
{
    public void Print()
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Tessera benchmark suite[/] ({(options.Quick ? "quick" : "default")} size)");
        table.AddColumn("group");
        table.AddColumn("what");
        table.AddColumn(new TableColumn("Tessera").RightAligned());
        table.AddColumn("peer / floor");
        table.AddColumn(new TableColumn("peer").RightAligned());
        table.AddColumn(new TableColumn("ratio").RightAligned());
        table.AddColumn("target");
        table.AddColumn("verdict");
        table.AddColumn("notes (all of them in the JSON)");
        foreach (var figure in figures)
        {
            table.AddRow(
                Markup.Escape(figure.Group),
                figure.Target is null ? Markup.Escape(figure.Name) : $"[bold]{Markup.Escape(figure.Name)}[/]",
                Markup.Escape(Format(figure.Value, figure.Unit)),
                Markup.Escape(figure.Peer ?? ""),
                figure.PeerValue is { } peer ? Markup.Escape(Format(peer, figure.Unit)) : "",
                figure.Ratio is { } ratio ? Markup.Escape(Ratio(ratio)) : "",
                Markup.Escape(figure.Target ?? ""),
                Verdict(figure),
                $"[grey]{Markup.Escape(FirstClause(figure.Notes))}[/]");
        }
        AnsiConsole.Write(table);
        var times = string.Join(", ", runs.Select(r => $"{r.Name} {r.Seconds:0.0} s"));
        AnsiConsole.MarkupLine($"time per group: {Markup.Escape(times)}; [bold]total {totalSeconds:0.0} s[/]");
        var targets = figures.Where(f => f.Target is not null).ToList();
        AnsiConsole.MarkupLine($"targets: {targets.Count(f => f.Met == true)} met, {targets.Count(f => f.Met == false)} not met, "
            + $"{targets.Count(f => f.Met is null)} not judged at this size");
        if (!optimized)
        {
            AnsiConsole.MarkupLine("[red bold]WARNING: this build is not optimized (Debug): these figures mean nothing.[/]");
        }
        foreach (var run in runs.Where(r => r.Problem is not null))
        {
            AnsiConsole.MarkupLine($"[red]check failed in {Markup.Escape(run.Name)}: {Markup.Escape(run.Problem!)}[/]");
        }
    }

    public void WriteJson(string path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("machine", Machine.Describe());
        writer.WriteString("loadAverage", Machine.LoadAverage());
        writer.WriteBoolean("optimized", optimized);
        writer.WriteString("started", started.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteString("finished", finished.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteNumber("totalSeconds", Math.Round(totalSeconds, 2));

        writer.WriteStartObject("options");
        writer.WriteBoolean("quick", options.Quick);
        writer.WriteStartArray("only");
        foreach (var name in options.Only ?? [])
        {
            writer.WriteStringValue(name);
        }
        writer.WriteEndArray();
        writer.WriteNumber("csvRows", options.CsvRows);
        writer.WriteNumber("events", options.Events);
        writer.WriteNumber("eventBatch", options.EventBatch);
        writer.WriteNumber("callers", options.Callers);
        writer.WriteNumber("identities", options.Identities);
        writer.WriteNumber("lookups", options.Lookups);
        writer.WriteNumber("budgetSeconds", options.Budget);
        writer.WriteNumber("profiles", options.Profiles);
        writer.WriteNumber("heavyProfiles", options.HeavyProfiles);
        writer.WriteNumber("lightCached", options.LightCached);
        writer.WriteEndObject();

        writer.WriteStartArray("groups");
        foreach (var run in runs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", run.Name);
            writer.WriteNumber("seconds", Math.Round(run.Seconds, 2));
            writer.WriteBoolean("checksPassed", run.Problem is null);
            if (run.Problem is { } problem)
            {
                writer.WriteString("problem", problem);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        writer.WriteStartArray("figures");
        foreach (var figure in figures)
        {
            writer.WriteStartObject();
            writer.WriteString("group", figure.Group);
            writer.WriteString("name", figure.Name);
            writer.WriteNumber("value", Round(figure.Value));
            writer.WriteString("unit", figure.Unit);
            writer.WriteBoolean("higherIsBetter", figure.HigherIsBetter);
            WriteNullable(writer, "peer", figure.Peer);
            if (figure.PeerValue is { } peer)
            {
                writer.WriteNumber("peerValue", Round(peer));
            }
            else
            {
                writer.WriteNull("peerValue");
            }
            if (figure.Ratio is { } ratio)
            {
                writer.WriteNumber("ratio", Math.Round(ratio, 4));
            }
            else
            {
                writer.WriteNull("ratio");
            }
            WriteNullable(writer, "target", figure.Target);
            if (figure.Met is { } met)
            {
                writer.WriteBoolean("met", met);
            }
            else
            {
                writer.WriteNull("met");
            }
            WriteNullable(writer, "notes", figure.Notes);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The table shows a figure's notes up to their first ';' (the sizes, by convention); the JSON has them whole.</summary>
    private static string FirstClause(string? notes) =>
        notes is null ? "" : notes.IndexOf(';', StringComparison.Ordinal) is var at and >= 0 ? notes[..at] : notes;

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Four significant digits at most below 1,000, whole numbers above: enough for any figure here.</summary>
    private static double Round(double value) =>
        double.IsFinite(value) ? Math.Abs(value) >= 1000 ? Math.Round(value) : Math.Round(value, 4) : 0;

    internal static string Format(double value, string unit)
    {
        var abs = Math.Abs(value);
        var number = abs >= 1000 ? value.ToString("N0", CultureInfo.InvariantCulture)
            : abs >= 100 ? value.ToString("0.0", CultureInfo.InvariantCulture)
            : abs >= 1 ? value.ToString("0.00", CultureInfo.InvariantCulture)
            : value.ToString("0.000", CultureInfo.InvariantCulture);
        return $"{number} {unit}";
    }

    private static string Ratio(double ratio) =>
        ratio >= 100 ? ratio.ToString("N0", CultureInfo.InvariantCulture) + "×"
        : ratio >= 10 ? ratio.ToString("0.0", CultureInfo.InvariantCulture) + "×"
        : ratio.ToString("0.000", CultureInfo.InvariantCulture) + "×";

    private static string Verdict(Figure figure) => figure.Target is null ? "" : figure.Met switch
    {
        true => "[green]met[/]",
        false => "[red]NOT met[/]",
        null => "[grey]not judged[/]",
    };
}

internal static class Machine
{
    public static string Describe()
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} logical cores, {memory:0.0} GiB, {RuntimeInformation.OSDescription.Trim()}, "
            + $"{RuntimeInformation.FrameworkDescription}, {CpuModel()}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}";
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux), or n/a: how busy the shared machine was.</summary>
    public static string LoadAverage()
    {
        try
        {
            return OperatingSystem.IsLinux() ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
            // Not Linux: leave it out.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
        return "cpu unknown";
    }
}

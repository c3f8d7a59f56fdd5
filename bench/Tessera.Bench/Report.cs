using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Spectre.Console;

namespace Tessera.Bench;

internal static class Report
{
    public static void PrintTable(IReadOnlyList<BenchResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Ingestion throughput[/]");
        table.AddColumn("input");
        table.AddColumn("what");
        table.AddColumn(new TableColumn("items/s").RightAligned());
        table.AddColumn(new TableColumn("MB/s").RightAligned());
        table.AddColumn(new TableColumn("seconds").RightAligned());
        table.AddColumn(new TableColumn("ratio to floor").RightAligned());
        foreach (var result in results)
        {
            var ratio = result.Floor is { } floor
                ? $"{result.Ratio:0.000} of {floor.Name.Replace("floor: ", "", StringComparison.Ordinal)}"
                  + (result.ExtraFloor is { } extra ? $"; {result.ItemsPerSecond / extra.ItemsPerSecond:0.000} of {extra.Name.Replace("floor: ", "", StringComparison.Ordinal)}" : "")
                : "";
            var name = result.Kind == "tessera" ? $"[bold]{Markup.Escape(result.Name)}[/]" : Markup.Escape(result.Name);
            if (result.Problem is { } problem)
            {
                name += $" [red]{Markup.Escape(problem)}[/]";
            }
            table.AddRow(
                Markup.Escape(result.Group),
                name,
                $"{result.ItemsPerSecond:N0} {result.Unit}/s",
                result.MegabytesPerSecond.ToString("0.0", CultureInfo.InvariantCulture),
                result.Seconds.ToString("0.00", CultureInfo.InvariantCulture),
                Markup.Escape(ratio));
        }
        AnsiConsole.Write(table);
    }

    public static void WriteJson(string path, BenchOptions options, IReadOnlyList<BenchResult> results)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("machine", Machine.Describe());
        writer.WriteString("takenAt", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteStartObject("options");
        writer.WriteBoolean("quick", options.Quick);
        writer.WriteNumber("csvRows", options.CsvRows);
        writer.WriteNumber("events", options.Events);
        writer.WriteNumber("eventBatch", options.EventBatch);
        writer.WriteNumber("callers", options.Callers);
        writer.WriteEndObject();
        writer.WriteStartArray("results");
        foreach (var result in results)
        {
            writer.WriteStartObject();
            writer.WriteString("group", result.Group);
            writer.WriteString("name", result.Name);
            writer.WriteString("kind", result.Kind);
            writer.WriteString("unit", result.Unit);
            writer.WriteNumber("items", result.Items);
            writer.WriteNumber("bytes", result.Bytes);
            writer.WriteNumber("seconds", Math.Round(result.Seconds, 4));
            writer.WriteNumber("itemsPerSecond", Math.Round(result.ItemsPerSecond));
            writer.WriteNumber("megabytesPerSecond", Math.Round(result.MegabytesPerSecond, 2));
            if (result.Floor is { } floor)
            {
                writer.WriteString("floor", floor.Name);
                writer.WriteNumber("ratioToFloor", Math.Round(result.Ratio!.Value, 4));
            }
            if (result.ExtraFloor is { } extra)
            {
                writer.WriteString("secondFloor", extra.Name);
                writer.WriteNumber("ratioToSecondFloor", Math.Round(result.ItemsPerSecond / extra.ItemsPerSecond, 4));
            }
            if (result.Problem is { } problem)
            {
                writer.WriteString("problem", problem);
            }
            if (result.Notes is { } notes)
            {
                writer.WriteString("notes", notes);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

internal static class Machine
{
    public static string Describe()
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} logical cores, {memory:0.0} GiB, {RuntimeInformation.OSDescription.Trim()}, "
            + $"{RuntimeInformation.FrameworkDescription}, {CpuModel()}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}";
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

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Server;

namespace Tessera.Bench;

/// <summary>
/// The streaming benchmark (<c>--only segmentation</c>), first version: web events ingested through
/// the real ingestion path (durable) by concurrent callers, first with no audience published (the
/// floor), then with 100 published window audiences and the streaming engine running, until the
/// engine has evaluated everything; events per second for both, in the same run.
/// </summary>
internal static class SegmentationBench
{
    private const string Web = """
        {"name": "web", "class": "event", "fields": {
          "ecid": {"type": "string", "identity": {"namespace": "ECID", "primary": true}},
          "page": {"type": "string"}}}
        """;

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var events = options.Quick ? 20_000 : 100_000;
        const int Devices = 10_000;
        const int Audiences = 100;
        AnsiConsole.MarkupLine($"[bold]Tessera streaming benchmark[/]: {events:N0} events over {Devices:N0} devices, {Audiences} streaming audiences, {options.Callers} callers of {options.EventBatch} events");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(Machine.Describe())}[/]");
        var root = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"tessera-bench-segmentation-{Environment.ProcessId}");
        var rows = new List<string[]>();
        try
        {
            var floor = await MeasureAsync(Path.Combine(root, "floor"), events, Devices, 0, options);
            rows.Add(["ingestion alone (no audience published)", $"{events / floor.TotalSeconds:N0}", "", ""]);
            var streamed = await MeasureAsync(Path.Combine(root, "streaming"), events, Devices, Audiences, options);
            rows.Add([$"ingestion + streaming engine ({Audiences} audiences), until every event is evaluated", $"{events / streamed.TotalSeconds:N0}",
                $"{floor.TotalSeconds / streamed.TotalSeconds:0.00}× floor", "≥ 100,000 events/s: " + (events / streamed.TotalSeconds >= 100_000 ? "met" : "NOT met")]);
        }
        finally
        {
            if (!options.Keep)
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                    // Leftover benchmark data is harmless.
                }
            }
        }
        var table = new Table().AddColumns("measure", "events/s", "beside", "target");
        foreach (var row in rows)
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
        return 0;
    }

    private static async Task<TimeSpan> MeasureAsync(string directory, int events, int devices, int audiences, BenchOptions options)
    {
        using var workspace = await Workspace.OpenAsync(directory);
        await workspace.Catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize(Web, CatalogJson.Default.SchemaDocument)!);
        await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "web" });
        for (var i = 0; i < audiences; i++)
        {
            await workspace.Audiences.CreateAsync("prod", $"a{i}", $"chain(xEvent, timestamp, [A: WHAT(page = \"p{i}\") WHEN(< 3 hours before now)])", id: $"a{i}");
            await workspace.Audiences.PublishAsync("prod", $"a{i}");
        }
        var engine = workspace.StartStreaming();
        var now = DateTimeOffset.UtcNow;
        var random = new Random(IdentityBench.Seed);
        var bodies = new List<List<JsonElement>>();
        for (var start = 0; start < events; start += options.EventBatch)
        {
            var batch = new List<JsonElement>();
            for (var i = start; i < Math.Min(events, start + options.EventBatch); i++)
            {
                var at = now.AddSeconds(-random.Next(4 * 3600)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                batch.Add(JsonDocument.Parse($$"""{"_id":"e{{i}}","timestamp":"{{at}}","ecid":"d{{random.Next(devices)}}","page":"p{{random.Next(200)}}"}""").RootElement.Clone());
            }
            bodies.Add(batch);
        }
        var watch = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, options.Callers).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
            {
                await workspace.Ingestion.IngestRecordsAsync("prod", "web", bodies[index], "bench");
            }
        })));
        await engine.WhenIdleAsync();
        var took = watch.Elapsed;
        AnsiConsole.MarkupLine($"[grey]{audiences} audiences: {took.TotalSeconds:0.0} s, {engine.Evaluations:N0} answers, {engine.PendingTimers:N0} timers[/]");
        if (audiences > 0)
        {
            AnsiConsole.MarkupLine($"[grey]engine worker: {string.Join(", ", engine.Splits.Select(s => $"{s.Step} {s.Time.TotalSeconds:0.00} s"))}[/]");
        }
        return took;
    }
}

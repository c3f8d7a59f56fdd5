using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using nietras.SeparatedValues;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion;
using Tessera.Ingestion.Mapping;
using Tessera.Server;
using Tessera.Storage;

namespace Tessera.Bench;

/// <summary>
/// End-to-end ingestion benchmark: each Tessera figure is measured in the same run as the floor of
/// merely parsing the same input, and reported with the ratio between the two.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException error)
        {
            Console.Error.WriteLine(error.Message);
            Console.Error.WriteLine(BenchOptions.Usage);
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }
        if (options.Only == "identity")
        {
            return IdentityBench.Run(options);
        }
        if (options.Only == "segmentation")
        {
            return await SegmentationBench.RunAsync(options).ConfigureAwait(false);
        }
        if (options.Only == "pql")
        {
            return PqlBench.Run(options);
        }
        if (options.Only == "activation")
        {
            return await ActivationBench.RunAsync(options).ConfigureAwait(false);
        }
        if (options.Only == "hashing")
        {
            return HashingBench.Run(options);
        }
        if (options.Only == "export")
        {
            return await ExportBench.RunAsync(options).ConfigureAwait(false);
        }
        if (options.Only == "profiles")
        {
            return await ProfileBench.RunAsync(options).ConfigureAwait(false);
        }
        if (options.Only is "batch" or "edge")
        {
            // Temporary, until the registry of groups lands: runs one of the two new groups and prints its figures.
            var figures = options.Only == "batch"
                ? await BatchBench.RunAsync(options, CancellationToken.None).ConfigureAwait(false)
                : await EdgeBench.RunAsync(options, CancellationToken.None).ConfigureAwait(false);
            foreach (var figure in figures)
            {
                Console.WriteLine($"{figure.Name}: {figure.Value:0.###} {figure.Unit}; peer {figure.Peer}: {figure.PeerValue:0.###}; ratio {figure.Ratio:0.###}; target {figure.Target}: {(figure.Met is null ? "-" : figure.Met.Value ? "met" : "NOT met")}; {figure.Notes}");
            }
            return figures.Any(f => f.Met == false) ? 1 : 0;
        }
        var root = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"tessera-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        var results = new List<BenchResult>();
        var total = Stopwatch.StartNew();
        try
        {
            AnsiConsole.MarkupLine($"[bold]Tessera ingestion benchmark[/] ({(options.Quick ? "quick" : "default")} size): "
                + $"{options.CsvRows:N0} CSV rows, {options.Events:N0} events in batches of {options.EventBatch}, {options.Callers} concurrent callers");
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(Machine.Describe())}[/]");
            AnsiConsole.MarkupLine($"[grey]data: {Markup.Escape(root)}[/]");

            var suite = new Suite(options, root, results);
            if (options.Only is null or "csv")
            {
                await suite.RunCsvAsync().ConfigureAwait(false);
            }
            if (options.Only is null or "events" or "http")
            {
                await suite.RunEventsAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (!options.Keep)
            {
                TryDelete(root, options.DataDirectory is null);
            }
        }
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        }
        Report.PrintTable(results);
        AnsiConsole.MarkupLine($"[grey]total {total.Elapsed.TotalSeconds:0.0} s[/]");
        if (options.JsonPath is { } json)
        {
            Report.WriteJson(json, options, results);
            AnsiConsole.MarkupLine($"[grey]wrote {Markup.Escape(json)}[/]");
        }
        return results.Any(r => r.Problem is not null) ? 1 : 0;
    }

    private static void TryDelete(string root, bool wholeDirectory)
    {
        try
        {
            if (wholeDirectory)
            {
                Directory.Delete(root, recursive: true);
                return;
            }
            foreach (var entry in Directory.EnumerateFileSystemEntries(root, "bench-*"))
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }
        catch (IOException)
        {
            // Leftover benchmark data is harmless.
        }
    }
}

/// <summary>The measured scenarios.</summary>
internal sealed class Suite(BenchOptions options, string root, List<BenchResult> results)
{
    private const string Sandbox = TesseraCatalog.DefaultSandbox;
    private int _workspaces;

    public async Task RunCsvAsync()
    {
        var csv = Path.Combine(root, "bench-crm.csv");
        var warmCsv = Path.Combine(root, "bench-crm-warmup.csv");
        var bytes = Timed("generate CSV", () => DataGen.WriteCrmCsv(csv, options.CsvRows, seed: 42));
        DataGen.WriteCrmCsv(warmCsv, Math.Min(50_000, options.CsvRows), seed: 7);

        // (a) floor: Sep reading every field of every row, same file, warm page cache.
        SepFloor(warmCsv);
        var floor = Measure("csv", "floor: Sep parse, all fields", "rows", options.CsvRows, bytes, () => SepFloor(csv), floorOf: null);

        // Diagnostic: Tessera's CSV reader alone (Sep plus one string per cell).
        ReaderOnly(warmCsv);
        Measure("csv", "stage: CsvReader (Sep + strings)", "rows", options.CsvRows, bytes, () => ReaderOnly(csv), floor, stage: true);

        // (b) IngestFileAsync into a fresh workspace: validated, stored, durable when it returns.
        using (var warm = await NewWorkspaceAsync().ConfigureAwait(false))
        {
            await DefineCrmAsync(warm).ConfigureAwait(false);
            await warm.Ingestion.IngestFileAsync(Sandbox, "crm", warmCsv).ConfigureAwait(false);
        }
        using var workspace = await NewWorkspaceAsync().ConfigureAwait(false);
        await DefineCrmAsync(workspace).ConfigureAwait(false);
        BatchInfo? batch = null;
        await MeasureAsync("csv", "Tessera IngestFileAsync (durable)", "rows", options.CsvRows, bytes, async () =>
        {
            batch = await workspace.Ingestion.IngestFileAsync(Sandbox, "crm", csv).ConfigureAwait(false);
        }, floor, check: () => batch is { Status: BatchStatus.Success } b && b.Counts.Accepted == options.CsvRows
            ? null
            : $"batch {batch?.Status}: accepted {batch?.Counts.Accepted} of {options.CsvRows}, failed {batch?.Counts.Failed} ({batch?.FailureReason})").ConfigureAwait(false);

        // Diagnostic: the store alone committing as many facts of the same size, in the same 8 MB sets, one after the other.
        var (keyBytes, value) = SampleFact(workspace);
        await StoreOnlyAsync("csv", $"stage: store commits only ({value.Length} B facts, 8 MB sets, 1 writer)", "rows", options.CsvRows, bytes,
            keyBytes, value, perCommit: (int)Math.Max(1, 8_000_000 / (keyBytes + value.Length)), writers: 1, floor).ConfigureAwait(false);
    }

    public async Task RunEventsAsync()
    {
        var bodies = Timed("generate events", () => DataGen.WebEventBatches(options.Events, options.EventBatch, seed: 1234, out _));
        var bytes = bodies.Sum(b => (long)b.Length);
        var warmBodies = DataGen.WebEventBatches(Math.Min(20_000, options.Events), options.EventBatch, seed: 99, out _);
        var events = options.Events;
        AnsiConsole.MarkupLine($"[grey]events: {events:N0}, {bytes / (double)events:0} bytes each on average, {bodies.Count:N0} request bodies[/]");

        // (c) floors: one core walking every token, and one core building a JsonDocument per body.
        ReaderWalk(warmBodies);
        var walk = Measure("events", "floor: Utf8JsonReader walk", "events", events, bytes, () => ReaderWalk(bodies), floorOf: null);
        DocumentParse(warmBodies);
        var parse = Measure("events", "floor: JsonDocument.Parse", "events", events, bytes, () => DocumentParse(bodies), floorOf: null);

        // (d) IngestRecordsAsync from concurrent callers, each parsing its request body first.
        using (var warm = await NewWorkspaceAsync().ConfigureAwait(false))
        {
            await DefineWebAsync(warm).ConfigureAwait(false);
            await StreamInProcessAsync(warm, warmBodies).ConfigureAwait(false);
        }
        if (options.Only is null or "events")
        {
            using var workspace = await NewWorkspaceAsync().ConfigureAwait(false);
            await DefineWebAsync(workspace).ConfigureAwait(false);
            long accepted = 0;
            await MeasureAsync("events", $"Tessera IngestRecordsAsync, {options.Callers} callers (durable)", "events", events, bytes, async () =>
            {
                accepted = await StreamInProcessAsync(workspace, bodies).ConfigureAwait(false);
            }, parse, check: () => accepted == events ? null : $"accepted {accepted} of {events}", extraFloor: walk).ConfigureAwait(false);

            // Diagnostic: the store alone committing as many facts of the same size, in sets of one request, from as many writers.
            var (keyBytes, value) = SampleFact(workspace);
            await StoreOnlyAsync("events", $"stage: store commits only ({value.Length} B facts, {options.EventBatch} per set, {options.Callers} writers)", "events",
                events, bytes, keyBytes, value, options.EventBatch, options.Callers, parse).ConfigureAwait(false);
        }
        if (options.Only is null or "http")
        {
            await RunHttpAsync(bodies, bytes, parse, walk).ConfigureAwait(false);
        }
    }

    /// <summary>(e) The same request bodies POSTed to the real server on loopback by concurrent HttpClient senders.</summary>
    private async Task RunHttpAsync(List<byte[]> bodies, long bytes, BenchResult parse, BenchResult walk)
    {
        var events = options.Events;
        var warmBodies = DataGen.WebEventBatches(Math.Min(20_000, events), options.EventBatch, seed: 99, out _);
        using var workspace = await NewWorkspaceAsync().ConfigureAwait(false);
        await DefineWebAsync(workspace).ConfigureAwait(false);
        var (_, secret) = await workspace.Catalog.CreateApiKeyAsync(Sandbox, ApiRole.Collect, "bench").ConfigureAwait(false);
        await using var app = TesseraServer.Build(workspace, ["http://127.0.0.1:0"], configure: builder => builder.Logging.ClearProviders());
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Urls.First();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Callers, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        // Warm-up into another dataset, so the measured one starts empty.
        await workspace.Catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = "warmup", Schema = "web" }).ConfigureAwait(false);
        await PostAllAsync(client, "warmup", warmBodies).ConfigureAwait(false);
        long accepted = 0;
        await MeasureAsync("http", $"Tessera POST /collection/v1 events, {options.Callers} HttpClient senders (durable)", "events", events, bytes, async () =>
        {
            accepted = await PostAllAsync(client, "web", bodies).ConfigureAwait(false);
        }, parse, check: () => accepted == events ? null : $"accepted {accepted} of {events}", extraFloor: walk).ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Posts every body (outcomes=none: the response carries the counts only); returns the events stored.</summary>
    private async Task<long> PostAllAsync(HttpClient client, string dataset, List<byte[]> bodies)
    {
        var next = -1;
        long accepted = 0;
        var senders = Enumerable.Range(0, options.Callers).Select(_ => Task.Run(async () =>
        {
            long mine = 0;
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
            {
                using var content = new ByteArrayContent(bodies[index]);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync($"/collection/v1/datasets/{dataset}/events?outcomes=none", content).ConfigureAwait(false);
                var text = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                if (response.StatusCode != System.Net.HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"POST answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(text)}");
                }
                using var answer = JsonDocument.Parse(text);
                var counts = answer.RootElement.GetProperty("counts");
                mine += counts.GetProperty("accepted").GetInt64() - (counts.TryGetProperty("duplicates", out var d) ? d.GetInt64() : 0);
            }
            Interlocked.Add(ref accepted, mine);
        })).ToArray();
        await Task.WhenAll(senders).ConfigureAwait(false);
        return accepted;
    }

    /// <summary>Average key size and one real stored value of the facts a measured run wrote (first shard).</summary>
    private static (int KeyBytes, byte[] Value) SampleFact(Workspace workspace)
    {
        long count = 0, keys = 0;
        byte[] value = [];
        foreach (var (key, stored) in workspace.Store.Scan(StoreSpace.Facts, 0, []))
        {
            if (key[0] is Tessera.Identity.Graph.LedgerCodec.Tag or FactKeys.TimelineTag)
            {
                continue; // the identity link ledger and the timeline index share the shards; the sample is of facts
            }
            count++;
            keys += key.Length;
            if (count == 1)
            {
                value = stored;
            }
            if (count == 10_000)
            {
                break;
            }
        }
        return ((int)(keys / Math.Max(1, count)), value);
    }

    /// <summary>Commits <paramref name="facts"/> facts of the given sizes into a fresh store: the storage part of an ingestion alone.</summary>
    private async Task StoreOnlyAsync(string group, string name, string unit, long facts, long bytes, int keyBytes, byte[] value, int perCommit, int writers, BenchResult floor)
    {
        using var workspace = await NewWorkspaceAsync().ConfigureAwait(false);
        var store = workspace.Store;
        var next = -1L;
        var commits = (facts + perCommit - 1) / perCommit;
        await MeasureAsync(group, name, unit, facts, bytes, async () =>
        {
            var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var random = new Random(w);
                var key = new byte[Math.Max(8, keyBytes)];
                long commit;
                while ((commit = Interlocked.Increment(ref next)) < commits)
                {
                    using var set = new WriteSet((int)Math.Min(int.MaxValue, (long)perCommit * (key.Length + value.Length) + 4096));
                    var count = (int)Math.Min(perCommit, facts - commit * perCommit);
                    for (var i = 0; i < count; i++)
                    {
                        random.NextBytes(key);
                        set.Put(StoreSpace.Facts, key[0] % store.ShardCount, key, value);
                    }
                    await store.CommitAsync(set).ConfigureAwait(false);
                }
            })).ToArray();
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }, floor, check: () => null, kind: "stage").ConfigureAwait(false);
    }

    private async Task<long> StreamInProcessAsync(Workspace workspace, List<byte[]> bodies)
    {
        var next = -1;
        long accepted = 0;
        var callers = Enumerable.Range(0, options.Callers).Select(_ => Task.Run(async () =>
        {
            long mine = 0;
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
            {
                using var document = JsonDocument.Parse(bodies[index]);
                var records = new List<JsonElement>(options.EventBatch);
                foreach (var element in document.RootElement.EnumerateArray())
                {
                    records.Add(element);
                }
                var result = await workspace.Ingestion.IngestRecordsAsync(Sandbox, "web", records, "bench").ConfigureAwait(false);
                mine += result.Batch.Counts.Accepted - result.Batch.Counts.Duplicates;
            }
            Interlocked.Add(ref accepted, mine);
        })).ToArray();
        await Task.WhenAll(callers).ConfigureAwait(false);
        return accepted;
    }

    // ------------------------------------------------------------------ floors

    private static long SepFloor(string path)
    {
        long chars = 0;
        using var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
        foreach (var row in reader)
        {
            for (var i = 0; i < row.ColCount; i++)
            {
                chars += row[i].Span.Length;
            }
        }
        return chars;
    }

    private static long ReaderOnly(string path)
    {
        long values = 0;
        using var reader = IngestionService.OpenReader(path, "csv", new MappingSpec());
        foreach (var record in reader.Read())
        {
            values += record.Values!.Length;
        }
        return values;
    }

    private static long ReaderWalk(List<byte[]> bodies)
    {
        long tokens = 0;
        foreach (var body in bodies)
        {
            var reader = new Utf8JsonReader(body);
            while (reader.Read())
            {
                tokens++;
                if (reader.TokenType == JsonTokenType.String)
                {
                    tokens += reader.ValueSpan.Length;
                }
            }
        }
        return tokens;
    }

    private static long DocumentParse(List<byte[]> bodies)
    {
        long count = 0;
        foreach (var body in bodies)
        {
            using var document = JsonDocument.Parse(body);
            count += document.RootElement.GetArrayLength();
        }
        return count;
    }

    // ------------------------------------------------------------------ workspaces

    private async Task<Workspace> NewWorkspaceAsync()
    {
        var directory = Path.Combine(root, $"bench-ws-{Interlocked.Increment(ref _workspaces)}");
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
        return await Workspace.OpenAsync(directory).ConfigureAwait(false);
    }

    private static async Task DefineCrmAsync(Workspace workspace)
    {
        await workspace.Catalog.RegisterSchemaAsync(Sandbox, JsonSerializer.Deserialize(DataGen.CrmSchemaJson, CatalogJson.Default.SchemaDocument)!).ConfigureAwait(false);
        await workspace.Catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = "crm", Schema = "crm" }).ConfigureAwait(false);
    }

    private static async Task DefineWebAsync(Workspace workspace)
    {
        await workspace.Catalog.RegisterSchemaAsync(Sandbox, JsonSerializer.Deserialize(DataGen.WebSchemaJson, CatalogJson.Default.SchemaDocument)!).ConfigureAwait(false);
        await workspace.Catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = "web", Schema = "web" }).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ measuring

    private static T Timed<T>(string what, Func<T> action)
    {
        var watch = Stopwatch.StartNew();
        var value = action();
        AnsiConsole.MarkupLine($"[grey]{what}: {watch.Elapsed.TotalSeconds:0.00} s[/]");
        return value;
    }

    /// <summary>
    /// Times a single-threaded, side-effect-free step: best of at least three runs and at least a
    /// second in all, so a floor is not understated by one unlucky run on a shared machine.
    /// </summary>
    private BenchResult Measure(string group, string name, string unit, long items, long bytes, Func<long> action, BenchResult? floorOf, bool stage = false)
    {
        var best = double.MaxValue;
        var spent = Stopwatch.StartNew();
        for (var run = 0; run < 3 || (spent.Elapsed.TotalSeconds < 1 && run < 50); run++)
        {
            Collect();
            var watch = Stopwatch.StartNew();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return Add(new BenchResult(group, name, unit, items, bytes, best, stage ? "stage" : floorOf is null ? "floor" : "tessera", floorOf));
    }

    private async Task MeasureAsync(string group, string name, string unit, long items, long bytes, Func<Task> action, BenchResult floor,
        Func<string?> check, BenchResult? extraFloor = null, string kind = "tessera")
    {
        Collect();
        var gcBefore = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2), Pause: GC.GetTotalPauseDuration());
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await action().ConfigureAwait(false);
        watch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var gc = $"GC {GC.CollectionCount(0) - gcBefore.Gen0}/{GC.CollectionCount(1) - gcBefore.Gen1}/{GC.CollectionCount(2) - gcBefore.Gen2} (gen0/1/2), "
            + $"paused {(GC.GetTotalPauseDuration() - gcBefore.Pause).TotalSeconds:0.00} s; process CPU {cpu.TotalSeconds:0.0} s in {watch.Elapsed.TotalSeconds:0.0} s";
        AnsiConsole.MarkupLine($"[grey]  {Markup.Escape(gc)}[/]");
        Add(new BenchResult(group, name, unit, items, bytes, watch.Elapsed.TotalSeconds, kind, floor, extraFloor) { Problem = check(), Notes = gc });
    }

    private BenchResult Add(BenchResult result)
    {
        results.Add(result);
        var ratio = result.Floor is { } f ? $" ({result.ItemsPerSecond / f.ItemsPerSecond:0.000} of floor)" : "";
        AnsiConsole.MarkupLine($"  {Markup.Escape(result.Name)}: [bold]{result.ItemsPerSecond:N0}[/] {result.Unit}/s, {result.MegabytesPerSecond:0.0} MB/s, {result.Seconds:0.00} s{ratio}"
            + (result.Problem is { } p ? $" [red]{Markup.Escape(p)}[/]" : ""));
        return result;
    }

    /// <summary>
    /// Starts a measurement from a clean state: a full garbage collection, and (Linux) the dirty
    /// pages of earlier steps written out, so that their write-back does not slow this step's fsyncs.
    /// </summary>
    private static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        if (OperatingSystem.IsLinux())
        {
            try
            {
                using var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false });
                sync?.WaitForExit();
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // No sync command: measure as is.
            }
        }
    }
}

/// <summary>One measured figure; <see cref="Floor"/> is the parse-only figure it is compared with.</summary>
internal sealed record BenchResult(string Group, string Name, string Unit, long Items, long Bytes, double Seconds, string Kind,
    BenchResult? Floor, BenchResult? ExtraFloor = null)
{
    public double ItemsPerSecond => Items / Seconds;

    public double MegabytesPerSecond => Bytes / 1e6 / Seconds;

    public double? Ratio => Floor is null ? null : ItemsPerSecond / Floor.ItemsPerSecond;

    public string? Problem { get; init; }

    /// <summary>Garbage collections, pause time and process CPU time during the measurement.</summary>
    public string? Notes { get; init; }
}

internal sealed record BenchOptions
{
    public const string Usage = """
        usage: tessera-bench [--quick] [--json FILE] [--data DIR] [--rows N] [--events N] [--batch N] [--callers N] [--only WHAT] [--keep]
                             [--identities N] [--lookups N] [--budget SECONDS]
          --quick       small sizes (200,000 rows, 200,000 events; 1,000,000 identities), under a minute
          --json FILE   also write the results as JSON
          --data DIR    where to put generated input and workspaces (default: a temp folder, deleted after)
          --rows N      CSV rows (default 2,000,000)
          --events N    web events (default 1,000,000)
          --batch N     events per request (default 500)
          --callers N   concurrent in-process callers / HTTP senders (default 4)
          --keep        keep the generated data and workspaces
          --only WHAT   run one group: csv, events or http; or identity (the identity graph, in memory)
                        or profiles (lookups and incremental views), or pql (audience preparation and
                        evaluation, compiled beside interpreted), or segmentation (streaming engine
                        throughput beside ingestion alone), or hashing (match keys normalized, SHA-256'd and
                        written as hex per platform, beside bare SHA256.HashData), or activation (streaming
                        delivery to a local receiver beside bare HTTP POSTs), or export (a 1,000,000-member
                        audience to hashed CSV, JSON Lines and Parquet files), only run when asked for
          --identities N  identities in the identity graph benchmark (default 10,000,000)
          --lookups N   identity-to-graph lookups timed (default 1,000,000)
          --budget SECONDS  longest any one identity step on first-seen ids may run before it is stopped
                        and reported as the share of the ledger it got through (default 60)
          --profiles N  profiles in the profile benchmark (--only profiles; default 1,000,000)
          --heavy N     of them, profiles with 10 fragments and 500 events (default 1,000)
          --light-cached N  light profiles cached to measure their memory (default 100,000)
        """;

    public bool Quick { get; init; }
    public bool Help { get; init; }
    public bool Keep { get; init; }
    public string? JsonPath { get; init; }
    public string? DataDirectory { get; init; }
    public string? Only { get; init; }
    public int CsvRows { get; init; } = 2_000_000;
    public int Events { get; init; } = 1_000_000;
    public int EventBatch { get; init; } = 500;
    public int Callers { get; init; } = 4;
    public int Identities { get; init; } = 10_000_000;
    public int Lookups { get; init; } = 1_000_000;
    public int Budget { get; init; } = 60;
    public int Profiles { get; init; } = 1_000_000;
    public int HeavyProfiles { get; init; } = 1_000;
    public int LightCached { get; init; } = 100_000;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        if (args.Contains("--quick"))
        {
            options = options with { Quick = true, CsvRows = 200_000, Events = 200_000, Identities = 1_000_000, Profiles = 100_000, HeavyProfiles = 200, LightCached = 20_000 };
        }
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Count() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n : throw new ArgumentException($"{args[i - 1]} needs a positive integer");
            options = args[i] switch
            {
                "--quick" => options,
                "--help" or "-h" => options with { Help = true },
                "--keep" => options with { Keep = true },
                "--json" => options with { JsonPath = Value() },
                "--only" => options with { Only = Value() is var only && only is "csv" or "events" or "http" or "identity" or "profiles" or "pql" or "segmentation" or "hashing" or "activation" or "export" or "batch" or "edge" ? only : throw new ArgumentException("--only takes csv, events, http, identity, profiles, pql, segmentation, hashing, activation or export") },
                "--data" => options with { DataDirectory = Path.GetFullPath(Value()) },
                "--rows" => options with { CsvRows = Count() },
                "--events" => options with { Events = Count() },
                "--batch" => options with { EventBatch = Count() },
                "--callers" => options with { Callers = Count() },
                "--identities" => options with { Identities = Count() },
                "--lookups" => options with { Lookups = Count() },
                "--budget" => options with { Budget = Count() },
                "--profiles" => options with { Profiles = Count() },
                "--heavy" => options with { HeavyProfiles = Count() },
                "--light-cached" => options with { LightCached = Count() },
                var other => throw new ArgumentException($"unknown option '{other}'"),
            };
        }
        return options;
    }
}

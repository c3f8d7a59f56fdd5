using System.Diagnostics;
using System.Text;
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
/// The ingestion group: each Tessera figure is measured in the same run as the floor of merely
/// parsing the same input, and reported with the ratio between the two.
/// </summary>
internal static class IngestionBench
{
    public static async Task<IReadOnlyList<Figure>> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var root = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"tessera-bench-ingestion-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        var results = new List<BenchResult>();
        try
        {
            AnsiConsole.MarkupLine($"[bold]Tessera ingestion benchmark[/] ({(options.Quick ? "quick" : "default")} size): "
                + $"{options.CsvRows:N0} CSV rows, {options.Events:N0} events in batches of {options.EventBatch}, {options.Callers} concurrent callers");
            var suite = new Suite(options, root, results);
            if (options.RunsIngestionPart("csv"))
            {
                await suite.RunCsvAsync().ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (options.RunsIngestionPart("events") || options.RunsIngestionPart("http"))
            {
                await suite.RunEventsAsync().ConfigureAwait(false);
            }
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
        var figures = results.Where(r => r.Floor is not null).Select(r => ToFigure(r, options)).ToList();
        var problems = results.Where(r => r.Problem is not null).Select(r => $"{r.Group}: {r.Problem}").ToList();
        return problems.Count > 0 ? throw new BenchCheckException(string.Join("; ", problems), figures) : figures;
    }

    /// <summary>A measured figure beside its (first) floor; the second floor, sizes and GC counts go in the notes.</summary>
    private static Figure ToFigure(BenchResult result, BenchOptions options)
    {
        var target = result.Kind != "tessera" ? null : result.Group switch
        {
            "csv" => 500_000,
            "events" => 300_000,
            "http" => (double?)150_000,
            _ => null,
        };
        var size = result.Group == "csv" ? $"{options.CsvRows:N0} rows" : $"{options.Events:N0} events";
        var notes = new List<string> { options.QuickNote(size), $"{result.MegabytesPerSecond:0.0} MB/s, {result.Seconds:0.00} s" };
        if (result.ExtraFloor is { } extra)
        {
            notes.Add($"{result.ItemsPerSecond / extra.ItemsPerSecond:0.000} of {Bare(extra.Name)} ({extra.ItemsPerSecond:N0} {extra.Unit}/s)");
        }
        if (result.Notes is { } gc)
        {
            notes.Add(gc);
        }
        if (result.Problem is { } problem)
        {
            notes.Add("CHECK FAILED: " + problem);
        }
        return new Figure("ingestion", $"{result.Group}: {result.Name}", result.ItemsPerSecond, $"{result.Unit}/s", HigherIsBetter: true,
            Peer: Bare(result.Floor!.Name), PeerValue: result.Floor.ItemsPerSecond,
            Target: target is { } t ? $"≥ {t:N0} {result.Unit}/s" : null, Met: target is { } goal ? result.ItemsPerSecond >= goal : null,
            Notes: string.Join("; ", notes));
    }

    private static string Bare(string floorName) => floorName.Replace("floor: ", "", StringComparison.Ordinal);
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
        // A fresh workspace each round, as the measure has: what runs once per workspace was otherwise compiled during it.
        var warmup = await JitWarmup.UntilSettledAsync("csv", async _ =>
        {
            using var warm = await NewWorkspaceAsync().ConfigureAwait(false);
            await DefineCrmAsync(warm).ConfigureAwait(false);
            await warm.Ingestion.IngestFileAsync(Sandbox, "crm", warmCsv).ConfigureAwait(false);
        }).ConfigureAwait(false);
        List<PutKind> puts;
        using (var workspace = await NewWorkspaceAsync().ConfigureAwait(false))
        {
            await DefineCrmAsync(workspace).ConfigureAwait(false);
            await MeasureIngestFileAsync(workspace, csv, "Tessera IngestFileAsync (durable)", bytes, floor, stage: false, warmup).ConfigureAwait(false);
            puts = SamplePutsPerFact(workspace);
        }

        // Diagnostic: the same file again into a new workspace, once the first is closed. A third of the first batch's CPU is
        // the kernel first touching memory the process never had (BENCHMARKS.md, "Where a CSV batch's CPU goes, measured
        // again"); this batch mostly takes memory the first one freed, so the two rows together show what that costs here.
        using (var again = await NewWorkspaceAsync().ConfigureAwait(false))
        {
            await DefineCrmAsync(again).ConfigureAwait(false);
            await MeasureIngestFileAsync(again, csv, "stage: the same file again, into a new workspace (memory the first batch freed)", bytes, floor, stage: true, warmup: null)
                .ConfigureAwait(false);
        }

        // Diagnostic: the store alone taking as many rows' puts of the same sizes, in 8 MB sets bulk-loaded at once, as a file batch does.
        await StoreOnlyAsync("csv", $"stage: store bulk load only ({Describe(puts)} a row, 8 MB sets)", "rows", options.CsvRows, bytes,
            puts, perSet: (int)Math.Max(1, 8_000_000 / BytesPerFact(puts)), writers: 1, floor, bulk: true).ConfigureAwait(false);
        // The floor of any way of keeping the rows durably: each row's own line as it was in the file, one put under a record's key.
        List<PutKind> lines = [new PutKind(puts.Max(p => p.KeyBytes), [.. File.ReadLines(csv).Skip(1).Take(SampledValues).Select(Encoding.UTF8.GetBytes)])];
        await StoreOnlyAsync("csv", $"stage: store bulk load only, 1 put a row of its line as sent ({lines[0].MeanBytes - lines[0].KeyBytes:0} B)", "rows", options.CsvRows, bytes,
            lines, perSet: (int)Math.Max(1, 8_000_000 / BytesPerFact(lines)), writers: 1, floor, bulk: true).ConfigureAwait(false);
    }

    /// <summary>Ingests <paramref name="csv"/> into <paramref name="workspace"/> as one measure, checked: every row accepted.</summary>
    private async Task MeasureIngestFileAsync(Workspace workspace, string csv, string name, long bytes, BenchResult floor, bool stage, string? warmup)
    {
        BatchInfo? batch = null;
        await MeasureAsync("csv", name, "rows", options.CsvRows, bytes, async () =>
        {
            batch = await workspace.Ingestion.IngestFileAsync(Sandbox, "crm", csv).ConfigureAwait(false);
        }, floor, check: () => batch is { Status: BatchStatus.Success } b && b.Counts.Accepted == options.CsvRows
            ? null
            : $"batch {batch?.Status}: accepted {batch?.Counts.Accepted} of {options.CsvRows}, failed {batch?.Counts.Failed} ({batch?.FailureReason})",
            kind: stage ? "stage" : "tessera", warmup: warmup).ConfigureAwait(false);
    }

    public async Task RunEventsAsync()
    {
        var bodies = Timed("generate events", () => DataGen.WebEventBatches(options.Events, options.EventBatch, seed: 1234, out _));
        var bytes = bodies.Sum(b => (long)b.Length);
        var warmBodies = WarmBodies(0);
        var events = options.Events;
        AnsiConsole.MarkupLine($"[grey]events: {events:N0}, {bytes / (double)events:0} bytes each on average, {bodies.Count:N0} request bodies[/]");

        // (c) floors: one core walking every token, and one core building a JsonDocument per body.
        ReaderWalk(warmBodies);
        var walk = Measure("events", "floor: Utf8JsonReader walk", "events", events, bytes, () => ReaderWalk(bodies), floorOf: null);
        DocumentParse(warmBodies);
        var parse = Measure("events", "floor: JsonDocument.Parse", "events", events, bytes, () => DocumentParse(bodies), floorOf: null);

        // (d) IngestRecordsAsync from concurrent callers, each parsing its request body first.
        if (options.RunsIngestionPart("events"))
        {
            var warmup = await JitWarmup.UntilSettledAsync("events", async round =>
            {
                using var warm = await NewWorkspaceAsync().ConfigureAwait(false);
                await DefineWebAsync(warm).ConfigureAwait(false);
                await StreamInProcessAsync(warm, round == 0 ? warmBodies : WarmBodies(round)).ConfigureAwait(false);
            }).ConfigureAwait(false);
            using var workspace = await NewWorkspaceAsync().ConfigureAwait(false);
            await DefineWebAsync(workspace).ConfigureAwait(false);
            long accepted = 0;
            await MeasureAsync("events", $"Tessera IngestRecordsAsync, {options.Callers} callers (durable)", "events", events, bytes, async () =>
            {
                accepted = await StreamInProcessAsync(workspace, bodies).ConfigureAwait(false);
            }, parse, check: () => accepted == events ? null : $"accepted {accepted} of {events}", extraFloor: walk, warmup: warmup).ConfigureAwait(false);

            // Diagnostic: the store alone committing as many events' puts of the same sizes, in sets of one request, from as many writers.
            var puts = SamplePutsPerFact(workspace);
            await StoreOnlyAsync("events", $"stage: store commits only ({Describe(puts)} an event, {options.EventBatch} events a set, {options.Callers} writers)", "events",
                events, bytes, puts, options.EventBatch, options.Callers, parse, bulk: false).ConfigureAwait(false);
            // The same bytes in fewer, larger puts: one an event, and one for eight events (as if a request's events of one
            // visitor were packed into one value). What a data model with fewer puts an event could gain.
            var eventKey = puts.Max(p => p.KeyBytes);
            await StoreOnlyAsync("events", "stage: store commits only, the same bytes in 1 put an event", "events",
                events, bytes, [Joined(puts, eventKey, 1)], options.EventBatch, options.Callers, parse, bulk: false).ConfigureAwait(false);
            const int PerPut = 8;
            await StoreOnlyAsync("events", $"stage: store commits only, the same bytes in 1 put for {PerPut} events", "events",
                events / PerPut, bytes, [Joined(puts, eventKey, PerPut)], options.EventBatch / PerPut, options.Callers, parse, bulk: false, itemsPerFact: PerPut).ConfigureAwait(false);
            // The floor of any data model that keeps every event durably: each event's own bytes as it was sent, one put an
            // event, and eight events to a put.
            List<PutKind> received = [ReceivedEvents(bodies) with { KeyBytes = eventKey }];
            await StoreOnlyAsync("events", $"stage: store commits only, 1 put an event of its bytes as sent ({received[0].MeanBytes - eventKey:0} B)", "events",
                events, bytes, received, options.EventBatch, options.Callers, parse, bulk: false).ConfigureAwait(false);
            await StoreOnlyAsync("events", $"stage: store commits only, 1 put for {PerPut} events of their bytes as sent", "events",
                events / PerPut, bytes, [Joined(received, eventKey, PerPut)], options.EventBatch / PerPut, options.Callers, parse, bulk: false, itemsPerFact: PerPut).ConfigureAwait(false);
        }
        if (options.RunsIngestionPart("http"))
        {
            await RunHttpAsync(bodies, bytes, parse, walk).ConfigureAwait(false);
        }
    }

    /// <summary>Request bodies of a warm-up round: new events each round (the same ones again would be duplicates).</summary>
    private List<byte[]> WarmBodies(int round) => DataGen.WebEventBatches(Math.Min(20_000, options.Events), options.EventBatch, seed: 99 + round, out _);

    /// <summary>(e) The same request bodies POSTed to the real server on loopback by concurrent HttpClient senders.</summary>
    private async Task RunHttpAsync(List<byte[]> bodies, long bytes, BenchResult parse, BenchResult walk)
    {
        var events = options.Events;
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
        var warmup = await JitWarmup.UntilSettledAsync("http", round => PostAllAsync(client, "warmup", WarmBodies(round))).ConfigureAwait(false);
        long accepted = 0;
        await MeasureAsync("http", $"Tessera POST /collection/v1 events, {options.Callers} HttpClient senders (durable)", "events", events, bytes, async () =>
        {
            accepted = await PostAllAsync(client, "web", bodies).ConfigureAwait(false);
        }, parse, check: () => accepted == events ? null : $"accepted {accepted} of {events}", extraFloor: walk, warmup: warmup).ConfigureAwait(false);
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

    /// <summary>
    /// One kind of put: its keys' mean length and real values to cycle through. Distinct values matter: the store compresses its
    /// blocks, and one value repeated made every block of a stage row compress far better than real data does.
    /// </summary>
    private sealed record PutKind(int KeyBytes, byte[][] Values)
    {
        public double MeanBytes => KeyBytes + Values.Average(v => v.Length);
    }

    /// <summary>Values sampled per kind of put: enough that a block (4 KB) never holds the same value twice.</summary>
    private const int SampledValues = 1_000;

    /// <summary>
    /// The puts ingestion makes for one fact, sampled from a workspace it filled: the fact itself, its timeline entry (events)
    /// and its link-ledger entry (every fact), each with the mean key length of its kind and its first stored values.
    /// </summary>
    private static List<PutKind> SamplePutsPerFact(Workspace workspace)
    {
        var puts = new List<PutKind>();
        foreach (var tag in new[] { FactKeys.RecordTag, FactKeys.EventTag, FactKeys.TimelineTag, Tessera.Identity.Graph.LedgerCodec.Tag })
        {
            long count = 0, keys = 0;
            var values = new List<byte[]>();
            foreach (var (key, stored) in workspace.Store.Scan(StoreSpace.Facts, 0, [tag]))
            {
                keys += key.Length;
                if (values.Count < SampledValues)
                {
                    values.Add(stored);
                }
                if (++count == 10_000)
                {
                    break;
                }
            }
            if (values.Count > 0)
            {
                var kind = new PutKind((int)(keys / count), [.. values]);
                puts.Add(kind);
                AnsiConsole.MarkupLine($"[grey]a fact's '{(char)tag}' put: key {kind.KeyBytes} B (mean of {count:N0}), value {kind.MeanBytes - kind.KeyBytes:0} B (mean of {values.Count:N0})[/]");
            }
        }
        return puts;
    }

    /// <summary>
    /// The bytes of <paramref name="count"/> facts' puts in one put of a key of <paramref name="keyBytes"/>: each value the facts'
    /// values in turn and, for every put but one, random bytes standing for its key.
    /// </summary>
    private static PutKind Joined(List<PutKind> puts, int keyBytes, int count)
    {
        var random = new Random(17);
        var values = new byte[SampledValues][];
        for (var i = 0; i < values.Length; i++)
        {
            var value = new List<byte>();
            for (var fact = 0; fact < count; fact++)
            {
                foreach (var put in puts)
                {
                    value.AddRange(put.Values[(i * count + fact) % put.Values.Length]);
                    var key = new byte[put.KeyBytes];
                    random.NextBytes(key);
                    value.AddRange(key);
                }
                value.RemoveRange(value.Count - keyBytes, keyBytes);
            }
            values[i] = [.. value];
        }
        return new PutKind(keyBytes, values);
    }

    /// <summary>The first events of the bodies, each as the bytes it was sent as (its JSON text in the request).</summary>
    private static PutKind ReceivedEvents(List<byte[]> bodies)
    {
        var values = new List<byte[]>();
        foreach (var body in bodies)
        {
            using var document = JsonDocument.Parse(body);
            foreach (var item in document.RootElement.EnumerateArray())
            {
                values.Add(Encoding.UTF8.GetBytes(item.GetRawText()));
                if (values.Count == SampledValues)
                {
                    return new PutKind(0, [.. values]);
                }
            }
        }
        return new PutKind(0, [.. values]);
    }

    private static double BytesPerFact(List<PutKind> puts) => puts.Sum(p => p.MeanBytes);

    private static string Describe(List<PutKind> puts) => $"{puts.Count} puts, {BytesPerFact(puts):0} B";

    /// <summary>
    /// Writes <paramref name="facts"/> facts' puts of the given sizes into a fresh store, as ingestion writes them (commits of
    /// <paramref name="perSet"/> facts from <paramref name="writers"/> writers, or one bulk load of such sets): the storage part of an ingestion alone.
    /// A fact stands for <paramref name="itemsPerFact"/> of the figure's items (events packed into one value).
    /// </summary>
    private async Task StoreOnlyAsync(string group, string name, string unit, long facts, long bytes, List<PutKind> puts,
        int perSet, int writers, BenchResult floor, bool bulk, int itemsPerFact = 1)
    {
        using var workspace = await NewWorkspaceAsync().ConfigureAwait(false);
        var store = workspace.Store;
        var next = -1L;
        var sets = (facts + perSet - 1) / perSet;
        var setBytes = (int)Math.Min(int.MaxValue, (long)perSet * puts.Sum(p => Math.Max(8, p.KeyBytes) + p.Values.Max(v => v.Length)) + 4096);
        WriteSet Fill(long index, Random random)
        {
            var set = new WriteSet(setBytes);
            var count = (int)Math.Min(perSet, facts - index * perSet);
            Span<byte> key = stackalloc byte[1024];
            for (var i = 0; i < count; i++)
            {
                var fact = index * perSet + i;
                foreach (var (keyBytes, values) in puts)
                {
                    var some = key[..Math.Clamp(keyBytes, 8, key.Length)];
                    random.NextBytes(some);
                    set.Put(StoreSpace.Facts, some[0] % store.ShardCount, some, values[fact % values.Length]);
                }
            }
            return set;
        }
        // A file batch has every set in hand when its bulk load starts: they are built before the clock starts.
        var prepared = new List<WriteSet>();
        for (var i = 0L; bulk && i < sets; i++)
        {
            prepared.Add(Fill(i, new Random((int)i)));
        }
        await MeasureAsync(group, name, unit, facts * itemsPerFact, bytes, async () =>
        {
            if (bulk)
            {
                await store.BulkLoadAsync(prepared).ConfigureAwait(false);
                return;
            }
            var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var random = new Random(w);
                long index;
                while ((index = Interlocked.Increment(ref next)) < sets)
                {
                    using var set = Fill(index, random);
                    await store.CommitAsync(set).ConfigureAwait(false);
                }
            })).ToArray();
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }, floor, check: () => null, kind: "stage").ConfigureAwait(false);
        prepared.ForEach(set => set.Dispose());
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
        using var reader = IngestionService.OpenReader(path, "csv", new MappingSpec(), new IngestionLimits());
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
            Settle.HeapAndDisk();
            var watch = Stopwatch.StartNew();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return Add(new BenchResult(group, name, unit, items, bytes, best, stage ? "stage" : floorOf is null ? "floor" : "tessera", floorOf));
    }

    private async Task MeasureAsync(string group, string name, string unit, long items, long bytes, Func<Task> action, BenchResult floor,
        Func<string?> check, BenchResult? extraFloor = null, string kind = "tessera", string? warmup = null)
    {
        await Settle.JitAsync().ConfigureAwait(false);
        Settle.HeapAndDisk();
        var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
        var gcBefore = GcMark.Now();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await action().ConfigureAwait(false);
        watch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var gc = gcBefore.Since() + $"; process CPU {cpu.TotalSeconds:0.0} s in {watch.Elapsed.TotalSeconds:0.0} s; "
            + JitWarmup.CompiledSince(jitBefore) + (warmup is null ? "" : "; " + warmup);
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

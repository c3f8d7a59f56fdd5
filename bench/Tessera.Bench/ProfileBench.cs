using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles;
using Tessera.Server;
using Tessera.Storage;

namespace Tessera.Bench;

/// <summary>
/// The profile benchmark (<c>--only profiles</c>): a store of N profiles (one CRM record each), of
/// which a few hundred are heavy (10 fragments, 500 events, three identities), all ingested through
/// the real ingestion path. Measured in the same run: lookups of heavy profiles by email, cold (view
/// built from the store) and warm (cached), beside the floor of reading the same keys from the store
/// raw; cold lookups of light profiles; the incremental update rate of cached views beside rebuilding
/// a view per event; and the managed memory per cached profile.
/// </summary>
internal static class ProfileBench
{
    private const string Sandbox = TesseraCatalog.DefaultSandbox;
    private const int HeavyFragments = 10;
    private const int HeavyEvents = 500;
    private const int PageEvents = 10;
    private static readonly DateTimeOffset EventStart = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<IReadOnlyList<Figure>> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var profiles = options.Profiles;
        var heavy = Math.Min(options.HeavyProfiles, profiles);
        var root = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"tessera-bench-profiles-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        AnsiConsole.MarkupLine($"[bold]Tessera profile benchmark[/]: {profiles:N0} profiles, {heavy:N0} of them with {HeavyFragments} fragments and {HeavyEvents} events");
        var total = Stopwatch.StartNew();
        var rows = new List<string[]>();
        try
        {
            var config = Path.Combine(root, "workspace", Workspace.ConfigFile);
            Directory.CreateDirectory(Path.GetDirectoryName(config)!);
            var cached = Math.Max(heavy, options.LightCached) + 16;
            await File.WriteAllTextAsync(config, "{\"profiles\":{\"cachedProfiles\":" + cached + "}}");
            using var workspace = await Workspace.OpenAsync(Path.Combine(root, "workspace"));
            var watch = Stopwatch.StartNew();
            await LoadAsync(workspace, root, profiles, heavy);
            AnsiConsole.MarkupLine($"[grey]ingested in {watch.Elapsed.TotalSeconds:0.0} s ({workspace.Identity.Counts(Sandbox).Graphs:N0} graphs)[/]");

            var service = workspace.Profiles;
            var random = new Random(IdentityBench.Seed);
            var lookups = Math.Min(options.Lookups, 20_000);
            IdentityKey Heavy(int i) => new("Email", $"p{i}@example.com");
            IdentityKey Light() => new("Email", $"p{heavy + random.Next(profiles - heavy)}@example.com");

            // Warm-up: compile every path.
            for (var i = 0; i < 200; i++)
            {
                service.Invalidate(Sandbox);
                _ = service.Lookup(Sandbox, Heavy(i % heavy), events: PageEvents) ?? throw new InvalidOperationException("heavy profile missing");
                _ = RawRead(workspace.Store, i % heavy);
            }
            Check(service.Lookup(Sandbox, Heavy(0), events: PageEvents)!);

            var floor = Time(lookups, _ => RawRead(workspace.Store, random.Next(heavy)));
            rows.Add(Row("heavy profile: floor, the same keys read raw from the store", floor, null));
            var cold = Time(lookups, _ => { service.Invalidate(Sandbox); return Measure(() => service.Lookup(Sandbox, Heavy(random.Next(heavy)), events: PageEvents)); }, timedInside: true);
            rows.Add(Row("heavy profile lookup by email, cold (view built from the store)", cold, floor));
            service.Invalidate(Sandbox);
            var before = ManagedBytes();
            for (var i = 0; i < heavy; i++)
            {
                _ = service.Lookup(Sandbox, Heavy(i), events: PageEvents);
            }
            var heavyBytes = (ManagedBytes() - before) / heavy;
            var estimate = service.CachedViewBytes(Sandbox) / heavy;
            var warm = Time(lookups, _ => service.Lookup(Sandbox, Heavy(random.Next(heavy)), events: PageEvents));
            rows.Add(Row("heavy profile lookup by email, warm (cached view)", warm, floor));

            var lightFloor = Time(lookups, _ => RawRead(workspace.Store, heavy + random.Next(profiles - heavy)));
            rows.Add(Row("light profile: floor, raw scans of the person's identity prefixes", lightFloor, null));
            service.Invalidate(Sandbox);
            var lightCold = Time(lookups, _ => { service.Invalidate(Sandbox); return Measure(() => service.Lookup(Sandbox, Light(), events: PageEvents)); }, timedInside: true);
            rows.Add(Row("light profile lookup by email, cold", lightCold, lightFloor));
            service.Invalidate(Sandbox);
            var lightCached = Math.Min(options.LightCached, profiles - heavy);
            before = ManagedBytes();
            for (var i = 0; i < lightCached; i++)
            {
                _ = service.Lookup(Sandbox, new IdentityKey("Email", $"p{heavy + i}@example.com"), events: 0);
            }
            var lightBytes = (ManagedBytes() - before) / Math.Max(1, lightCached);

            // Incremental maintenance: events and records for cached heavy profiles, as commits deliver them.
            service.Invalidate(Sandbox);
            for (var i = 0; i < heavy; i++)
            {
                _ = service.Lookup(Sandbox, Heavy(i), events: 0);
            }
            var updates = options.Quick ? 200_000 : 1_000_000;
            var eventSets = EventSets(workspace, heavy, updates);
            var decode = Rate(() =>
            {
                long n = 0;
                foreach (var set in eventSets)
                {
                    for (var i = 0; i < set.Count; i++)
                    {
                        if (set[i].Key.Span[0] == FactKeys.TimelineTag && FactKeys.TryParse(set[i].Key.Span, out _))
                        {
                            n++;
                        }
                    }
                }
                return n;
            });
            var applied = Rate(() =>
            {
                foreach (var set in eventSets)
                {
                    service.OnCommitted(Sandbox, set);
                }
                return updates;
            });
            var recordSets = RecordSets(workspace, heavy, updates / 10);
            var recordRate = Rate(() =>
            {
                foreach (var set in recordSets)
                {
                    service.OnCommitted(Sandbox, set);
                }
                return updates / 10;
            });
            var recompute = 1e6 / cold.Mean;
            AnsiConsole.MarkupLine($"[grey]total {total.Elapsed.TotalSeconds:0.0} s[/]");

            var table = new Table().AddColumns("measure", "mean µs", "p50 µs", "p99 µs", "max µs", "× floor", "allocated; GCs 0/1/2; GC pause; slow calls");
            foreach (var row in rows)
            {
                table.AddRow(row);
            }
            AnsiConsole.Write(table);
            var rates = new Table().AddColumns("incremental maintenance", "per second");
            rates.AddRow("floor: decoding the timeline keys of the commits", $"{decode:N0} events");
            rates.AddRow("events applied to cached views (OnCommitted)", $"{applied:N0} events");
            rates.AddRow("record versions applied to cached views (JSON parse, fold, merge of the changed paths)", $"{recordRate:N0} records");
            rates.AddRow("for comparison: rebuilding the heavy view from the store per event", $"{recompute:N0} events");
            AnsiConsole.Write(rates);
            AnsiConsole.MarkupLine($"managed memory per cached profile: heavy {heavyBytes:N0} B measured (estimate {estimate:N0} B), light {lightBytes:N0} B measured ({lightCached:N0} cached)");
            var size = options.QuickNote($"{profiles:N0} profiles, {heavy:N0} heavy ({HeavyFragments} fragments, {HeavyEvents} events)");
            static string Latency(Timing t) => $"mean {t.Mean:0.0} µs, p50 {t.P50:0.0} µs, max {t.Max:0.0} µs";
            const string LookupTarget = "p99 ≤ 1,000 µs";
            var rawPeer = "the same keys read raw from the store";
            return
            [
                new Figure("profiles", "heavy profile lookup by email, cold (view built from the store), p99", cold.P99, "µs", HigherIsBetter: false,
                    rawPeer, floor.P99, LookupTarget, cold.P99 <= 1000, $"{size}; {lookups:N0} lookups; {Latency(cold)}; floor {Latency(floor)}; {cold.Gc}"),
                new Figure("profiles", "heavy profile lookup by email, warm (cached view), p99", warm.P99, "µs", HigherIsBetter: false,
                    rawPeer, floor.P99, LookupTarget, warm.P99 <= 1000, $"{size}; {lookups:N0} lookups; {Latency(warm)}; {warm.Gc}"),
                new Figure("profiles", "light profile lookup by email, cold, p99", lightCold.P99, "µs", HigherIsBetter: false,
                    "raw store scans of the person's CRMID, Email and ECID prefixes (records and timeline; light profiles have no ECID: one empty scan)", lightFloor.P99, LookupTarget, lightCold.P99 <= 1000, $"{size}; {lookups:N0} lookups; {Latency(lightCold)}; floor {Latency(lightFloor)}; {lightCold.Gc}"),
                new Figure("profiles", "events applied to cached views (OnCommitted)", applied, "events/s", HigherIsBetter: true,
                    "decoding the timeline keys of the commits", decode, "≥ 200,000 events/s", applied >= 200_000,
                    $"{size}; {updates:N0} events; {recompute:N0} events/s rebuilding the heavy view per event instead"),
                new Figure("profiles", "record versions applied to cached views (JSON parse, fold, merge of the changed paths)", recordRate, "records/s", HigherIsBetter: true,
                    "rebuilding the heavy view from the store per record", recompute, null, null, $"{size}; {updates / 10:N0} records"),
                new Figure("profiles", "managed memory per cached heavy profile", heavyBytes, "B", HigherIsBetter: false,
                    "the cache's own estimate", estimate, null, null, $"{size}; {heavy:N0} cached; issue 4 asks for it reported"),
                new Figure("profiles", "managed memory per cached light profile", lightBytes, "B", HigherIsBetter: false,
                    null, null, null, null, $"{size}; {lightCached:N0} cached; issue 4 asks for it reported"),
            ];
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
    }

    private static void Check(ProfileReport report)
    {
        if (report.Fragments.Count != HeavyFragments || report.Timeline.Count != HeavyEvents || report.Identities.Count != 3 || report.Timeline.Events.Count != PageEvents)
        {
            throw new InvalidOperationException($"heavy profile is not as generated: {report.Fragments.Count} fragments, {report.Timeline.Count} events, {report.Identities.Count} identities");
        }
    }

    private static async Task LoadAsync(Workspace workspace, string root, int profiles, int heavy)
    {
        var catalog = workspace.Catalog;
        await catalog.RegisterSchemaAsync(Sandbox, JsonSerializer.Deserialize("""
            {"name":"crm","class":"profile","fields":{
              "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
              "email":{"type":"string","identity":{"namespace":"Email"}},
              "firstName":{"type":"string"},"lastName":{"type":"string"},"tier":{"type":"string"},
              "points":{"type":"int"},"city":{"type":"string"},"source":{"type":"string"}}}
            """, CatalogJson.Default.SchemaDocument)!);
        await catalog.RegisterSchemaAsync(Sandbox, JsonSerializer.Deserialize("""
            {"name":"web","class":"event","fields":{
              "ecid":{"type":"string","identity":{"namespace":"ECID","primary":true}},
              "crmId":{"type":"string","identity":{"namespace":"CRMID"}},
              "page":{"type":"string"},"value":{"type":"int"}}}
            """, CatalogJson.Default.SchemaDocument)!);
        await catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = "crm", Schema = "crm" });
        for (var d = 1; d < HeavyFragments; d++)
        {
            await catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = $"src{d}", Schema = "crm" });
        }
        await catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = "web", Schema = "web" });

        var crm = Path.Combine(root, "crm.csv");
        await using (var writer = new StreamWriter(crm, false, Encoding.UTF8, 1 << 20))
        {
            await writer.WriteLineAsync("crmId,email,firstName,lastName,tier,points,city");
            for (var i = 0; i < profiles; i++)
            {
                await writer.WriteLineAsync($"{Crm(i)},p{i}@example.com,First{i % 977},Last{i % 1013},{(i % 4 == 0 ? "gold" : "silver")},{i % 5000},City{i % 301}");
            }
        }
        await Ingest(workspace, "crm", crm);
        for (var d = 1; d < HeavyFragments; d++)
        {
            var path = Path.Combine(root, $"src{d}.csv");
            await using (var writer = new StreamWriter(path, false, Encoding.UTF8, 1 << 16))
            {
                await writer.WriteLineAsync("crmId,tier,points,city,source");
                for (var i = 0; i < heavy; i++)
                {
                    await writer.WriteLineAsync($"{Crm(i)},tier{d},{d * 10 + i % 7},Town{d}-{i % 11},source {d}");
                }
            }
            await Ingest(workspace, $"src{d}", path);
        }
        var events = Path.Combine(root, "web.jsonl");
        await using (var writer = new StreamWriter(events, false, Encoding.UTF8, 1 << 20))
        {
            for (var i = 0; i < heavy; i++)
            {
                for (var k = 0; k < HeavyEvents; k++)
                {
                    var time = EventStart.AddMinutes(k * 7 + i % 5);
                    await writer.WriteLineAsync($$"""{"_id":"h{{i}}-{{k}}","timestamp":"{{time:yyyy-MM-ddTHH:mm:ssZ}}","ecid":"K{{i}}","crmId":"{{Crm(i)}}","page":"/p/{{k % 40}}","value":{{k % 100}}}""");
                }
            }
        }
        await Ingest(workspace, "web", events);
    }

    private static async Task Ingest(Workspace workspace, string dataset, string path)
    {
        var batch = await workspace.Ingestion.IngestFileAsync(Sandbox, dataset, path);
        if (batch.Status != BatchStatus.Success || batch.Counts.Failed > 0)
        {
            throw new InvalidOperationException($"{dataset}: batch {batch.Status}, {batch.Counts.Failed} failed ({batch.FailureReason})");
        }
    }

    /// <summary>What a lookup must read, read raw: the record versions of the three identities, their timeline keys, the page's event bodies.</summary>
    private static long RawRead(IStore store, int person)
    {
        long bytes = 0;
        var identities = new[] { new IdentityValue("CRMID", Crm(person), true), new IdentityValue("Email", $"p{person}@example.com", true), new IdentityValue("ECID", $"K{person}", true) };
        var page = new List<byte[]>(PageEvents);
        foreach (var identity in identities)
        {
            var shard = FactKeys.ShardOf(Sandbox, identity, store.ShardCount);
            foreach (var (key, value) in store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.RecordTag, Sandbox, identity)))
            {
                bytes += key.Length + value.Length;
            }
            foreach (var (key, value) in store.ScanReverse(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.TimelineTag, Sandbox, identity)))
            {
                bytes += key.Length;
                if (page.Count < PageEvents && FactKeys.TryParse(key, out var parsed))
                {
                    page.Add(FactKeys.EventKey(Sandbox, identity, parsed.Dataset, parsed.EventId!));
                }
            }
            foreach (var key in page)
            {
                bytes += store.Get(StoreSpace.Facts, shard, key)?.Length ?? 0;
            }
            page.Clear();
        }
        return bytes;
    }

    private static List<WriteSet> EventSets(Workspace workspace, int heavy, int count)
    {
        var sets = new List<WriteSet>();
        var body = Encoding.UTF8.GetBytes("""{"record":{"_id":"x","timestamp":"2026-07-01T00:00:00Z","ecid":"K0","page":"/p/1","value":1},"identities":[{"namespace":"ECID","id":"K0","primary":true}],"batch":"bench","ingestedAt":"2026-07-01T00:00:00Z"}""");
        var shards = workspace.Store.ShardCount;
        WriteSet? set = null;
        for (var i = 0; i < count; i++)
        {
            if (i % 1_000 == 0)
            {
                set = new WriteSet(1 << 20);
                sets.Add(set);
            }
            var identity = new IdentityValue("ECID", $"K{i % heavy}", true);
            var shard = FactKeys.ShardOf(Sandbox, identity, shards);
            var id = $"u{i}";
            set!.Put(StoreSpace.Facts, shard, FactKeys.EventKey(Sandbox, identity, "web", id), body);
            set.Put(StoreSpace.Facts, shard, FactKeys.TimelineKey(Sandbox, identity, EventStart.AddDays(30).AddSeconds(i).UtcTicks, "web", id), []);
        }
        return sets;
    }

    private static List<WriteSet> RecordSets(Workspace workspace, int heavy, int count)
    {
        var sets = new List<WriteSet>();
        var shards = workspace.Store.ShardCount;
        WriteSet? set = null;
        for (var i = 0; i < count; i++)
        {
            if (i % 1_000 == 0)
            {
                set = new WriteSet(1 << 20);
                sets.Add(set);
            }
            var person = i % heavy;
            var identity = new IdentityValue("CRMID", Crm(person), true);
            var value = Encoding.UTF8.GetBytes($$"""{"record":{"crmId":"{{Crm(person)}}","tier":"t{{i % 3}}","points":{{i}}},"identities":[{"namespace":"CRMID","id":"{{Crm(person)}}","primary":true}],"batch":"bench","ingestedAt":"2026-07-01T00:00:00Z","time":"2026-07-01T00:00:00Z","order":{{1_000_000 + i}},"row":1}""");
            set!.Put(StoreSpace.Facts, FactKeys.ShardOf(Sandbox, identity, shards), FactKeys.RecordKey(Sandbox, identity, "crm", "bench", i), value);
        }
        return sets;
    }

    /// <summary>A person's CRM id (8 digits, never the blocked all-zeros value).</summary>
    private static string Crm(int person) => (10_000_000 + person).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private sealed record Timing(double Mean, double P50, double P99, double Max, string Gc);

    private static double _measured;

    private static T Measure<T>(Func<T> action)
    {
        var start = Stopwatch.GetTimestamp();
        var result = action();
        _measured = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        return result;
    }

    /// <summary>Times <paramref name="count"/> calls one by one (µs); with <paramref name="timedInside"/> the call times itself with <see cref="Measure"/>.</summary>
    private static Timing Time<T>(int count, Func<int, T> action, bool timedInside = false)
    {
        var samples = new double[count];
        var (gen0, gen1, gen2, paused) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        // Calls over 2 ms, and how many of them a collection ran in: what the tail is made of.
        var slowWithGc = 0;
        var slow = 0;
        for (var i = 0; i < count; i++)
        {
            var collections = GC.CollectionCount(0);
            var start = Stopwatch.GetTimestamp();
            _ = action(i);
            samples[i] = timedInside ? _measured : Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (samples[i] > 2000)
            {
                slow++;
                slowWithGc += GC.CollectionCount(0) != collections ? 1 : 0;
            }
        }
        var gc = $"{(GC.GetAllocatedBytesForCurrentThread() - allocated) / count / 1024.0:N1} KiB/op; {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}, {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:0} ms; {slow} over 2 ms ({slowWithGc} met a GC)";
        Array.Sort(samples);
        return new Timing(samples.Average(), samples[count / 2], samples[(int)(count * 0.99)], samples[^1], gc);
    }

    private static double Rate(Func<long> action)
    {
        var start = Stopwatch.GetTimestamp();
        var n = action();
        return n / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string[] Row(string name, Timing timing, Timing? floor) =>
        [name, $"{timing.Mean:0.0}", $"{timing.P50:0.0}", $"{timing.P99:0.0}", $"{timing.Max:0.0}", floor is null ? "" : $"{timing.Mean / floor.Mean:0.0}×", timing.Gc];
}

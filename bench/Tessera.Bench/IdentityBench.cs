using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Spectre.Console;
using Tessera.Identity.Graph;

namespace Tessera.Bench;

/// <summary>
/// The identity graph benchmark (<c>--only identity</c>): incremental linking, a rebuild from the
/// ledger and identity-to-graph lookups, each beside a plain union-find over the same interned ids
/// and links in the same run.
/// </summary>
internal static class IdentityBench
{
    public const int Seed = 20_261_128;

    /// <summary>Lookups timed together by the batch method: the timer's cost is small beside 100 of them.</summary>
    public const int LookupBatch = 100;

    public static Task<IReadOnlyList<Figure>> RunAsync(BenchOptions options, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            var run = Run(options);
            var figures = IdentityReport.Figures(run, options);
            return run.Problems.Count > 0
                ? throw new BenchCheckException(string.Join("; ", run.Problems), figures)
                : (IReadOnlyList<Figure>)figures;
        }, cancellationToken);

    private static IdentityRun Run(BenchOptions options)
    {
        AnsiConsole.MarkupLine($"[bold]Tessera identity graph benchmark[/] ({(options.Quick ? "quick" : "default")} size): "
            + $"{options.Identities:N0} identities, {options.Lookups:N0} lookups, any step over the ledger stopped after {options.Budget:N0} s");
        var total = Stopwatch.StartNew();
        WarmUp(options);

        var watch = Stopwatch.StartNew();
        var firstSeen = IdentityWorkload.Generate(options.Identities, Seed);
        var run = new IdentityRun { Workload = firstSeen.Stats, GenerateSeconds = watch.Elapsed.TotalSeconds, Full = options.Identities >= 10_000_000 };
        var s = firstSeen.Stats;
        AnsiConsole.MarkupLine($"[grey]generated in {run.GenerateSeconds:0.0} s: {s.Persons:N0} people, {s.Identities:N0} identities "
            + $"({s.ByNamespace[0]:N0} CRMID, {s.ByNamespace[1]:N0} Email, {s.ByNamespace[2]:N0} Phone, {s.ByNamespace[3]:N0} ECID), "
            + $"{s.Occurrences:N0} occurrences carrying {s.LinkOccurrences:N0} links ({s.CrmRecords:N0} CRM records, {s.Logins:N0} logins, "
            + $"{s.Forms:N0} forms, {s.SharedDeviceLogins:N0} logins on a shared device), {s.JunkEmails} junk emails typed {s.JunkEmailUses:N0} times[/]");

        AnsiConsole.MarkupLine("[bold]Node ids in order of first occurrence[/] (as Tessera numbers a ledger it interns)");
        new IdentitySuite(firstSeen, run, IdentitySuite.FirstSeen, options.Lookups, options.Budget, quiet: false).RunFirstSeen();
        var shuffled = firstSeen.WithShuffledIds(Seed + 2);
        firstSeen = null;
        AnsiConsole.MarkupLine("[bold]Node ids shuffled[/] (the same workload interned in a random order: how much the locality of first-seen ids is worth)");
        new IdentitySuite(shuffled, run, IdentitySuite.Shuffled, options.Lookups, options.Budget, quiet: false).RunShuffled();

        IdentityReport.Print(run);
        AnsiConsole.MarkupLine($"[grey]identity total {total.Elapsed.TotalSeconds:0.0} s[/]");
        return run;
    }

    /// <summary>Runs everything on a small workload from another seed, so every measured path is compiled first.</summary>
    private static void WarmUp(BenchOptions options)
    {
        var watch = Stopwatch.StartNew();
        var warmup = IdentityWorkload.Generate(Math.Max(10_000, Math.Min(20_000, options.Identities / 10)), seed: 7);
        var run = new IdentityRun { Workload = warmup.Stats };
        new IdentitySuite(warmup, run, IdentitySuite.FirstSeen, Math.Min(20_000, options.Lookups), budgetSeconds: 10, quiet: true).RunFirstSeen();
        new IdentitySuite(warmup.WithShuffledIds(3), run, IdentitySuite.Shuffled, Math.Min(20_000, options.Lookups), budgetSeconds: 10, quiet: true).RunShuffled();
        AnsiConsole.MarkupLine($"[grey]warm-up on {warmup.IdentityCount:N0} identities: {watch.Elapsed.TotalSeconds:0.0} s[/]");
    }
}

/// <summary>
/// The measurements over one numbering of a workload. Steps that take a time budget stop once it
/// is spent and report the share of the ledger they got through.
/// </summary>
internal sealed class IdentitySuite(IdentityWorkload workload, IdentityRun run, string ids, int lookups, double budgetSeconds, bool quiet)
{
    public const string FirstSeen = "first seen";
    public const string Shuffled = "shuffled";

    private readonly CompiledGraphRules _rules = IdentityWorkload.Rules();
    private long _sink;
    private int _yielded;

    private long Links => workload.Stats.LinkOccurrences;

    private bool AtTenMillion => workload.IdentityCount >= 10_000_000;

    /// <summary>
    /// Ids as Tessera numbers them when it interns a ledger: everything, with the targets. Each step
    /// over the ledger stops when the time budget is spent (and says how far it got).
    /// </summary>
    public void RunFirstSeen()
    {
        var n = workload.IdentityCount;
        var unionFind = new UnionFind(n);
        var linkFloor = Floor("link", "floor: union-find, every link occurrence in ledger order", Links, "links", unionFind.Reset, () => LinkAll(unionFind));
        DescribeRegions(unionFind);

        // Interning, beside a plain string dictionary filled with the same values.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var internFloor = Once("intern", "floor: Dictionary<string,int>.Add of every value (no capacity)", n, "identities", "floor", null, () =>
        {
            for (var i = 0; i < n; i++)
            {
                index.Add(workload.Values[i], i);
            }
        });
        index = null;
        Once("intern", "stage: the same with the capacity given up front", n, "identities", "stage", internFloor, () =>
        {
            var sized = new Dictionary<string, int>(n, StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                sized.Add(workload.Values[i], i);
            }
            _sink += sized.Count;
        });

        // Not in the warm-up (quiet): 256 MiB and a second of building for a figure nobody reads.
        var latency = quiet ? null : new MemoryLatency();
        // (a) Incremental linking with the rules on, on pre-interned ids.
        var graph = NewGraph();
        Once("intern", "Tessera IdentityGraph.Intern, every identity (new graph)", n, "identities", "tessera", internFloor, () => InternAll(graph));
        var outcomes = new long[3];
        var readBeforeAdd = MeasureMemory(latency, "the link pass");
        var add = Budgeted("link", "Tessera IdentityGraph.Add, rules on, pre-interned ids", "tessera", linkFloor, deadline => AddAll(graph, outcomes, deadline));
        add.Notes += $"; outcomes: {outcomes[(int)GraphChange.None]:N0} none, {outcomes[(int)GraphChange.Merged]:N0} merged, {outcomes[(int)GraphChange.Rederived]:N0} rederived{readBeforeAdd}";
        LinkTarget(add);
        int? incrementalGraphs = add.Completed ? graph.GraphCount : null;
        run.Graphs = graph.GraphCount;
        run.DistinctLinks = graph.LinkCount;
        graph = null;
        if (add.Completed)
        {
            // Where Add spends its time: the same adds again, each timed and filed by what it did.
            ProfileAdds(linkFloor, unionFind);
        }

        // (c) Rebuild on pre-interned ids: Record every occurrence, then derive once.
        graph = NewGraph();
        var intern = Once("rebuild", "Tessera Intern, every identity", n, "identities", "stage", null, () => InternAll(graph));
        var record = Budgeted("rebuild", "Tessera Record, every occurrence", "stage", linkFloor, deadline => RecordAll(graph, deadline));
        if (record.Completed)
        {
            var derive = Once("rebuild", $"Tessera RederiveAll ({graph.LinkCount:N0} distinct links)", Links, "links", "stage", linkFloor, graph.RederiveAll);
            RebuildTarget(Add(Sum("Tessera rebuild: Intern + Record + RederiveAll", linkFloor, intern, record, derive)));
            CheckGraphs(graph, incrementalGraphs, "rebuilt");
        }
        graph = null;
        PairStages();
        DeriveStages();

        // (c) The rebuild a restart does: the ledger as the store holds it (encoded key and value per
        // entry), each read in place by IdentityGraph.LoadStored (as IdentityService does at start), then one derivation.
        var encoded = workload.ToEncodedLedger("prod");
        Say($"  encoded ledger: {encoded.Count:N0} entries, {encoded.Bytes / 1048576.0:N0} MiB");
        IdentityGraph? restarted = null;
        // IdentityService sizes a sandbox's graph from the counts it kept after the last start (its size hint); a
        // first start, with no hint, grows its tables by doubling: both are measured.
        int StoredRebuild(int identities, int links, long deadline)
        {
            restarted = new IdentityGraph(_rules, identities, links);
            var load = restarted.LoadStored();
            for (var i = 0; i < encoded.Count; i++)
            {
                if ((i & 1023) == 0 && Stopwatch.GetTimestamp() > deadline)
                {
                    return i;
                }
                load.Take(encoded.Key(i), encoded.Value(i));
            }
            load.Complete();
            restarted.RederiveAll();
            return encoded.Count;
        }
        // The floor such a rebuild is judged against: the same stored entries rebuilt by a plain program.
        var plain = new PlainLedgerRebuild(encoded, IdentityWorkload.Namespaces, workload.Stats.ByNamespace, unionFind);
        var plainFloor = Floor("rebuild", "floor: plain rebuild of the same stored entries (Dictionary<string,int> per namespace + union-find)", Links, "links",
            unionFind.Reset, plain.Run);
        if (plain.Identities != n)
        {
            run.Problems.Add($"the plain rebuild numbered {plain.Identities:N0} identities, the workload has {n:N0}");
        }
        var readBeforeRebuild = MeasureMemory(latency, "the rebuild");
        latency = null;
        var fromStored = Budgeted("rebuild", "Tessera rebuild from the stored ledger: LoadStored every entry + RederiveAll", "tessera", linkFloor,
            deadline => StoredRebuild(n, run.DistinctLinks, deadline));
        fromStored.Notes += $"; sized from the last start's counts, as IdentityService does{readBeforeRebuild}";
        RebuildTarget(fromStored);
        // The same measurement beside the plain rebuild of the same entries, which also interns every occurrence's text.
        var besidePlain = Add(fromStored with { Name = "Tessera rebuild from the stored ledger, beside a plain rebuild of it", Floor = plainFloor });
        RebuildTarget(besidePlain);
        if (!fromStored.Completed)
        {
            Say("  [red]the rebuild from the stored ledger ran out of its budget: lookups, which need the whole graph, are not measured[/]");
            return;
        }
        CheckGraphs(restarted!, incrementalGraphs, "restarted");
        // What that rebuild pays besides Record on pre-interned ids: reading the entries, and interning known values.
        Once("rebuild", "stage: read every stored entry in place (LedgerCodec.Read and its identities, nothing recorded)", encoded.Count, "entries", "stage", null, () =>
        {
            long sum = 0;
            for (var i = 0; i < encoded.Count; i++)
            {
                var value = encoded.Value(i);
                var entry = LedgerCodec.Read(encoded.Key(i), value);
                var position = entry.IdentitiesAt;
                for (var k = 0; k < entry.Count; k++)
                {
                    LedgerCodec.ReadIdentity(value, ref position, out var ns, out var identity);
                    sum += ns.Length + identity.Length;
                }
            }
            _sink += sum;
        });
        Once("rebuild", "stage: every stored entry recorded again into the rebuilt graph (every identity known, no derivation)", encoded.Count, "entries", "stage", null, () =>
        {
            var load = restarted!.LoadStored();
            for (var i = 0; i < encoded.Count; i++)
            {
                load.Take(encoded.Key(i), encoded.Value(i));
            }
            load.Complete();
        });

        // (e) Identity to graph, on the graph a restart rebuilt from the stored ledger (what a running server looks up in).
        LookupsIn(restarted!, unionFind);
        restarted = null;
        Settle.Heap();
        Budgeted("rebuild", "stage: the same rebuild at a first start (no size kept: tables grow by doubling)", "stage", linkFloor,
            deadline => StoredRebuild(0, 0, deadline));
        restarted = null;
        encoded = null;

        // (d) IdentityGraph.Build from LedgerEntry objects (interning included), with the memory the graph takes.
        var ledger = workload.ToLedger();
        Settle.Heap();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        IdentityGraph? built = null;
        var build = Budgeted("rebuild", "Tessera IdentityGraph.Build from LedgerEntry objects", "tessera", linkFloor, deadline =>
        {
            built = IdentityGraph.Build(_rules, Until(ledger, deadline));
            return _yielded;
        });
        RebuildTarget(build);
        if (!build.Completed)
        {
            Say("  [red]Build ran out of its budget: the memory of its graph is not measured[/]");
            return;
        }
        CheckGraphs(built!, incrementalGraphs, "built");
        CheckNumbering(built!, "Build");
        Settle.Heap();
        var memory = new MemoryFigures
        {
            GraphBytes = GC.GetTotalMemory(forceFullCollection: true) - before,
            ValueStringBytes = workload.Values.Sum(v => (22L + (2L * v.Length) + 7) & ~7L),
            ManagedWithLedger = GC.GetTotalMemory(forceFullCollection: false),
            WorkingSetWithLedger = Environment.WorkingSet,
        };
        ledger = null;
        Settle.Heap();
        memory.ManagedAfter = GC.GetTotalMemory(forceFullCollection: true);
        memory.WorkingSetAfter = Environment.WorkingSet;
        memory.PeakWorkingSet = Process.GetCurrentProcess().PeakWorkingSet64;
        run.Memory = memory;
        Say($"  memory: the built graph holds {memory.GraphBytes / 1048576.0:N0} MiB of managed memory, its identity values and record ids in UTF-8 arenas "
            + $"(the values alone as strings: {memory.ValueStringBytes / 1048576.0:N0} MiB); process working set {memory.WorkingSetAfter / 1048576.0:N0} MiB "
            + $"with the workload and lookup floor alive, {memory.WorkingSetWithLedger / 1048576.0:N0} MiB with the LedgerEntry list, peak {memory.PeakWorkingSet / 1048576.0:N0} MiB");

        GC.KeepAlive(built);
    }

    /// <summary>Interning known values and identity-to-graph lookups in <paramref name="graph"/>, beside plain dictionaries of the graph's own strings.</summary>
    private void LookupsIn(IdentityGraph graph, UnionFind unionFind)
    {
        // The floor's dictionaries hold the very strings the graph holds, so that neither side's keys
        // are laid out better in memory than the other's.
        CheckNumbering(graph, "the rebuild");
        var n = workload.IdentityCount;
        var graphValues = new string[n];
        var floorIndex = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var id = 0; id < n; id++)
        {
            graphValues[id] = graph.KeyOf(id).Value;
            floorIndex.Add(graphValues[id], id);
        }
        // The union-find answers for the same ids: linked over every occurrence, as the link floor left it.
        unionFind.Reset();
        LinkAll(unionFind);

        // What a rebuild pays per identity occurrence on top of Record: interning a value it has seen before.
        InternStages(graph, floorIndex);
        Lookups(graph, floorIndex, unionFind, graphValues);
    }

    /// <summary>
    /// The same workload with its ids shuffled: how much of each figure the locality of first-seen
    /// ids is worth (no targets here).
    /// </summary>
    public void RunShuffled()
    {
        var n = workload.IdentityCount;
        var unionFind = new UnionFind(n);
        var linkFloor = Floor("link", "floor: union-find, every link occurrence in ledger order", Links, "links", unionFind.Reset, () => LinkAll(unionFind));
        unionFind = null;
        var graph = NewGraph();
        Once("intern", "Tessera IdentityGraph.Intern, every identity (new graph)", n, "identities", "tessera", null, () => InternAll(graph));
        var outcomes = new long[3];
        Budgeted("link", "Tessera IdentityGraph.Add, rules on, pre-interned ids", "tessera", linkFloor, deadline => AddAll(graph, outcomes, deadline));
        graph = null;
        graph = NewGraph();
        var intern = Once("rebuild", "Tessera Intern, every identity", n, "identities", "stage", null, () => InternAll(graph));
        var record = Budgeted("rebuild", "Tessera Record, every occurrence", "stage", linkFloor, deadline => RecordAll(graph, deadline));
        if (record.Completed)
        {
            var derive = Once("rebuild", $"Tessera RederiveAll ({graph.LinkCount:N0} distinct links)", Links, "links", "stage", linkFloor, graph.RederiveAll);
            Add(Sum("Tessera rebuild: Intern + Record + RederiveAll", linkFloor, intern, record, derive));
        }
        GC.KeepAlive(graph);
    }

    /// <summary>Steps measured one after the other, as one figure over the ledger's links.</summary>
    private IdentityFigure Sum(string name, IdentityFigure floor, params IdentityFigure[] steps) =>
        new("rebuild", name, "tessera", Links, "links", steps.Sum(step => step.Seconds), floor) { Ids = ids };

    private void LinkTarget(IdentityFigure figure)
    {
        figure.Target = "≥ 2,000,000 links/s";
        figure.Met = figure.PerSecond >= 2_000_000 ? (figure.Completed ? true : null) : false;
    }

    private void RebuildTarget(IdentityFigure figure)
    {
        figure.Target = "≤ 10 s at 10,000,000 identities";
        figure.Met = !AtTenMillion ? null : figure.Completed && figure.Seconds <= 10;
    }

    /// <summary>Whether the graph numbered identities in order of first occurrence, as the workload does (the floors use the workload's ids).</summary>
    private void CheckNumbering(IdentityGraph graph, string what)
    {
        var n = workload.IdentityCount;
        for (var id = 0; id < n; id += Math.Max(1, n / 1000))
        {
            if (!graph.TryGetNode(new IdentityKey(IdentityWorkload.Namespaces[workload.NamespaceOf[id]], workload.Values[id]), out var node) || node != id)
            {
                run.Problems.Add($"{what} numbered {workload.Values[id]} {node}, the workload {id}: ids are not in order of first occurrence");
                return;
            }
        }
    }

    private void CheckGraphs(IdentityGraph graph, int? expected, string what)
    {
        if (expected is not null && graph.GraphCount != expected)
        {
            run.Problems.Add($"the {what} graph has {graph.GraphCount:N0} graphs, the incremental one {expected:N0}");
        }
    }

    private IdentityGraph NewGraph(bool collect = true)
    {
        if (collect)
        {
            Settle.Heap();
        }
        var graph = new IdentityGraph(_rules);
        for (var i = 0; i < workload.Sources.Length; i++)
        {
            if (graph.Source(workload.Sources[i].Dataset, workload.Sources[i].Batch) != i)
            {
                throw new InvalidOperationException("source ids differ from the workload's");
            }
        }
        return graph;
    }

    /// <summary>The ledger until <paramref name="deadline"/>; <see cref="_yielded"/> counts what was handed out.</summary>
    private IEnumerable<LedgerEntry> Until(List<LedgerEntry> ledger, long deadline)
    {
        _yielded = 0;
        for (var i = 0; i < ledger.Count; i++)
        {
            if ((i & 1023) == 0 && Stopwatch.GetTimestamp() > deadline)
            {
                yield break;
            }
            _yielded = i + 1;
            yield return ledger[i];
        }
    }

    // ------------------------------------------------------------------ the measured loops

    private void LinkAll(UnionFind unionFind)
    {
        var start = workload.Start;
        var members = workload.Members;
        for (var i = 0; i < workload.OccurrenceCount; i++)
        {
            var first = members[start[i]];
            for (var m = start[i] + 1; m < start[i + 1]; m++)
            {
                unionFind.Union(first, members[m]);
            }
        }
    }

    private void InternAll(IdentityGraph graph)
    {
        var values = workload.Values;
        var namespaceOf = workload.NamespaceOf;
        for (var i = 0; i < values.Length; i++)
        {
            if (graph.Intern(IdentityWorkload.Namespaces[namespaceOf[i]], values[i]) != i)
            {
                throw new InvalidOperationException("node ids differ from the workload's");
            }
        }
    }

    /// <summary>A dependent random read's cost just before a step, printed and returned as a note for its figure.</summary>
    private string MeasureMemory(MemoryLatency? memory, string before)
    {
        if (memory is null)
        {
            return "";
        }
        var nanoseconds = memory.Measure();
        var firstTouch = Tessera.Bench.MemoryLatency.FirstTouchMicroseconds();
        Say($"  memory: a dependent random read over 256 MiB, just before {before}: {nanoseconds:N0} ns; a page of new memory first touched: {firstTouch:N1} µs");
        return $"; a dependent random read over 256 MiB took {nanoseconds:N0} ns just before, a first touch of a 4 KiB page of new memory {firstTouch:N1} µs";
    }

    /// <returns>How many occurrences were added before <paramref name="deadline"/> (a timestamp), looked at every 1,024.</returns>
    private int AddAll(IdentityGraph graph, long[] outcomes, long deadline)
    {
        for (var i = 0; i < workload.OccurrenceCount; i++)
        {
            if ((i & 1023) == 0 && Stopwatch.GetTimestamp() > deadline)
            {
                return i;
            }
            // As IdentityGraph.Add(entries) does for a commit's entries: the memory of an occurrence a few ahead is prefetched.
            if (i + IdentityGraph.PrefetchDistance < workload.OccurrenceCount)
            {
                graph.Prefetch(workload.Occurrence(i + IdentityGraph.PrefetchDistance));
            }
            var change = graph.Add(workload.Occurrence(i), workload.SourceOf[i], workload.RecordOf[i], workload.Time[i], i + 1);
            outcomes[(int)change]++;
        }
        return workload.OccurrenceCount;
    }

    private int RecordAll(IdentityGraph graph, long deadline)
    {
        for (var i = 0; i < workload.OccurrenceCount; i++)
        {
            if ((i & 1023) == 0 && Stopwatch.GetTimestamp() > deadline)
            {
                return i;
            }
            if (i + IdentityGraph.PrefetchDistance < workload.OccurrenceCount)
            {
                graph.Prefetch(workload.Occurrence(i + IdentityGraph.PrefetchDistance));
            }
            graph.Record(workload.Occurrence(i), workload.SourceOf[i], workload.RecordOf[i], workload.Time[i], i + 1);
        }
        return workload.OccurrenceCount;
    }

    // ------------------------------------------------------------------ where the time goes

    /// <summary>Regions (identities connected over any link, kept or cut) bound what a conflict derives again.</summary>
    private void DescribeRegions(UnionFind unionFind)
    {
        var sizes = new int[workload.IdentityCount];
        for (var i = 0; i < sizes.Length; i++)
        {
            sizes[unionFind.Find(i)]++;
        }
        long overCap = 0, nodesOverCap = 0;
        var largest = 0;
        foreach (var size in sizes)
        {
            largest = Math.Max(largest, size);
            if (size > _rules.MaxIdentities)
            {
                overCap++;
                nodesOverCap += size;
            }
        }
        run.Regions = unionFind.Sets;
        run.LargestRegion = largest;
        run.RegionsOverCap = overCap;
        run.IdentitiesInRegionsOverCap = nodesOverCap;
        Say($"  regions (connected over any link): {unionFind.Sets:N0}; largest {largest:N0} identities; {overCap:N0} hold more than {_rules.MaxIdentities} ({nodesOverCap:N0} identities)");
    }

    /// <summary>
    /// Adds every occurrence to a new graph, timing each call and filing it under what it did; the
    /// calls that derived a region again also by the size of that region once the whole ledger is in
    /// (<paramref name="regions"/>: the floor's union-find over every link, so a region at the time of
    /// the call was at most that big).
    /// </summary>
    private void ProfileAdds(IdentityFigure linkFloor, UnionFind regions)
    {
        var regionSize = new int[workload.IdentityCount];
        for (var i = 0; i < regionSize.Length; i++)
        {
            regionSize[regions.Find(i)]++;
        }
        var graph = NewGraph();
        InternAll(graph);
        // Buckets: no change, merged, then derived again in a region of ≤ 50, ≤ 1,000 and more identities.
        var ticks = new long[5];
        var calls = new long[5];
        var links = new long[5];
        var longest = new long[5];
        var overhead = TimerOverhead();
        for (var i = 0; i < workload.OccurrenceCount; i++)
        {
            var nodes = workload.Occurrence(i);
            if (i + IdentityGraph.PrefetchDistance < workload.OccurrenceCount)
            {
                graph.Prefetch(workload.Occurrence(i + IdentityGraph.PrefetchDistance));
            }
            var started = Stopwatch.GetTimestamp();
            var change = graph.Add(nodes, workload.SourceOf[i], workload.RecordOf[i], workload.Time[i], i + 1);
            var elapsed = Stopwatch.GetTimestamp() - started - overhead;
            var bucket = (int)change;
            if (change == GraphChange.Rederived)
            {
                var size = regionSize[regions.Find(nodes[0])];
                bucket = size <= _rules.MaxIdentities ? 2 : size <= 1000 ? 3 : 4;
            }
            ticks[bucket] += elapsed;
            longest[bucket] = Math.Max(longest[bucket], elapsed);
            calls[bucket]++;
            links[bucket] += nodes.Length - 1;
        }
        string[] what =
        [
            "changed no graph", "merged two graphs", $"derived a region of ≤ {_rules.MaxIdentities} identities again",
            $"derived a region of {_rules.MaxIdentities + 1}-1,000 identities again", "derived a region of > 1,000 identities again",
        ];
        for (var c = 0; c < what.Length; c++)
        {
            if (calls[c] == 0)
            {
                continue;
            }
            var seconds = Math.Max(ticks[c], 1) / (double)Stopwatch.Frequency;
            Add(new IdentityFigure("link", $"stage: Adds that {what[c]} ({calls[c]:N0} calls)", "stage", links[c], "links", seconds, linkFloor)
            {
                Ids = ids,
                // The longest call shows a table growing in one step (a copy or a rehash holds the writer up meanwhile).
                Notes = $"{seconds * 1e9 / Math.Max(1, calls[c]):N0} ns per call, the longest {longest[c] * 1e3 / Stopwatch.Frequency:N1} ms; "
                    + $"each call timed, the timer's cost ({overhead * 1e9 / Stopwatch.Frequency:0} ns) taken off",
            });
        }
        GC.KeepAlive(graph);
    }

    /// <summary>
    /// Tessera's pair index on its own: a <c>Dictionary&lt;long,int&gt;</c> keyed by the two node ids
    /// packed in a long (lower id high), one upsert per link occurrence. With the default comparer a
    /// long hashes to its two halves XORed, so the links of identities first seen together, whose ids
    /// are neighbours, share a handful of hash codes; a multiplicative hash spreads them.
    /// </summary>
    private void PairStages()
    {
        // At most 10 s: on first-seen ids this runs at a few thousand links a second, and that is the point made.
        var pairs = new Dictionary<PlainPair, int>();
        Budgeted("link", "stage: Dictionary<long,int> of pair keys, default comparer, upsert per link occurrence", "stage", null,
            deadline => Upsert(pairs, Math.Min(deadline, Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency)), null));
        pairs = null;
        _linkA = [];
        _linkB = [];
        _newest = [];
        var mixed = new Dictionary<MixedPair, int>();
        Budgeted("link", "stage: the same keyed by a struct whose hash multiplies (key × 2⁶⁴/φ, high half)", "stage", null,
            deadline => Upsert(mixed, long.MaxValue, this));
    }

    private List<int> _linkA = [];
    private List<int> _linkB = [];
    private List<long> _newest = [];

    /// <param name="links">When given, collects each distinct link's ends and newest occurrence (occurrence index &lt;&lt; 8 | position).</param>
    private int Upsert<TKey>(Dictionary<TKey, int> pairs, long deadline, IdentitySuite? links)
        where TKey : struct, IPairKey<TKey>
    {
        var start = workload.Start;
        var members = workload.Members;
        for (var i = 0; i < workload.OccurrenceCount; i++)
        {
            if ((i & 1023) == 0 && Stopwatch.GetTimestamp() > deadline)
            {
                return i;
            }
            var first = members[start[i]];
            for (var m = start[i] + 1; m < start[i + 1]; m++)
            {
                var other = members[m];
                if (other == first)
                {
                    continue;
                }
                var key = first < other ? ((long)first << 32) | (uint)other : ((long)other << 32) | (uint)first;
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(pairs, TKey.From(key), out var exists);
                if (!exists)
                {
                    slot = pairs.Count - 1;
                    if (links is not null)
                    {
                        _linkA.Add(first);
                        _linkB.Add(other);
                        _newest.Add(0);
                    }
                }
                if (links is not null)
                {
                    // The ledger is in time order, so the last occurrence of a link is its newest.
                    _newest[slot] = ((long)i << 8) | (uint)(m - start[i]);
                }
            }
        }
        return workload.OccurrenceCount;
    }

    /// <summary>
    /// Build interns every identity of every occurrence; all but the first of each are hits. These
    /// time the hits alone, beside a plain dictionary lookup of the same values, and the source
    /// lookup Build makes per occurrence.
    /// </summary>
    private void InternStages(IdentityGraph graph, Dictionary<string, int> index)
    {
        var members = workload.Members;
        var values = workload.Values;
        var namespaceOf = workload.NamespaceOf;
        Once("rebuild", "stage: IdentityGraph.Intern of every identity occurrence, all seen before", members.Length, "identities", "stage", null, () =>
        {
            long sum = 0;
            foreach (var node in members)
            {
                sum += graph.Intern(IdentityWorkload.Namespaces[namespaceOf[node]], values[node]);
            }
            _sink += sum;
        });
        Once("rebuild", "stage: Dictionary<string,int> lookup of every identity occurrence", members.Length, "identities", "stage", null, () =>
        {
            long sum = 0;
            foreach (var node in members)
            {
                sum += index[values[node]];
            }
            _sink += sum;
        });
        Once("rebuild", "stage: IdentityGraph.Source(dataset, batch) of every occurrence", workload.OccurrenceCount, "occurrences", "stage", null, () =>
        {
            long sum = 0;
            foreach (var source in workload.SourceOf)
            {
                var (dataset, batch) = workload.Sources[source];
                sum += graph.Source(dataset, batch);
            }
            _sink += sum;
        });
    }

    /// <summary>A pair of node ids packed in a long, as a dictionary key.</summary>
    private interface IPairKey<TSelf>
        where TSelf : struct, IPairKey<TSelf>
    {
        static abstract TSelf From(long key);
    }

    /// <summary>Hashes as a long does: its two halves XORed (what <c>Dictionary&lt;long,int&gt;</c> does).</summary>
    private readonly record struct PlainPair(long Key) : IPairKey<PlainPair>
    {
        public static PlainPair From(long key) => new(key);

        public override int GetHashCode() => Key.GetHashCode();
    }

    /// <summary>Fibonacci hashing: the key times 2⁶⁴ divided by the golden ratio, high 32 bits.</summary>
    private readonly record struct MixedPair(long Key) : IPairKey<MixedPair>
    {
        public static MixedPair From(long key) => new(key);

        public override int GetHashCode() => (int)(((ulong)Key * 0x9E37_79B9_7F4A_7C15UL) >> 32);
    }

    /// <summary>
    /// What a derivation must do at least, on plain arrays, over the distinct links the pair stage
    /// found: sort them newest first, and union in that order.
    /// </summary>
    private void DeriveStages()
    {
        var keys = new NewestFirst[_linkA.Count];
        for (var link = 0; link < keys.Length; link++)
        {
            var occurrence = (int)(_newest[link] >> 8);
            keys[link] = new NewestFirst(workload.Time[occurrence], occurrence + 1, (int)(_newest[link] & 0xFF), link);
        }
        _newest = [];
        Once("rebuild", $"stage: sort {keys.Length:N0} distinct links newest first (time, sequence, position)", keys.Length, "links", "stage", null,
            () => keys.AsSpan().Sort());
        var unionFind = new UnionFind(workload.IdentityCount);
        Once("rebuild", "stage: union-find over the distinct links in that order (no rules)", keys.Length, "links", "stage", null, () =>
        {
            foreach (var key in keys)
            {
                unionFind.Union(_linkA[key.Link], _linkB[key.Link]);
            }
        });
        _linkA = [];
        _linkB = [];
    }

    /// <summary>The derivation's order: later time first, then later sequence, then the position in the occurrence.</summary>
    private readonly record struct NewestFirst(long Time, long Sequence, int Position, int Link) : IComparable<NewestFirst>
    {
        public int CompareTo(NewestFirst other) =>
            Time != other.Time ? other.Time.CompareTo(Time)
            : Sequence != other.Sequence ? other.Sequence.CompareTo(Sequence)
            : Position.CompareTo(other.Position);
    }

    // ------------------------------------------------------------------ lookups

    /// <summary>
    /// Identity to graph for random identities, as fresh strings (as a request would bring them), by
    /// two methods, each alternating Tessera and the floor lookup by lookup or batch by batch so that
    /// noise falls on both alike.
    /// </summary>
    /// <param name="graphValues">Every identity value by id: the strings the graph holds.</param>
    private void Lookups(IdentityGraph graph, Dictionary<string, int> index, UnionFind unionFind, string[] graphValues)
    {
        var random = new Random(IdentityBench.Seed + 1);
        var keys = new IdentityKey[lookups];
        var values = new string[lookups];
        for (var k = 0; k < lookups; k++)
        {
            var id = random.Next(workload.IdentityCount);
            // Each side gets its own copy of the value: the first to hash it must not warm the cache for the other.
            values[k] = new string(workload.Values[id].AsSpan());
            keys[k] = new IdentityKey(IdentityWorkload.Namespaces[workload.NamespaceOf[id]], new string(workload.Values[id].AsSpan()));
        }
        for (var k = 0; k < Math.Min(lookups, 1000); k++)
        {
            if (!graph.TryGetNode(keys[k], out _) || !index.ContainsKey(values[k]))
            {
                run.Problems.Add($"lookup of {keys[k]} found nothing");
                break;
            }
        }
        run.MemoryLatencyNanoseconds = MemoryLatency();
        Say($"  machine: one dependent read at a random place in 256 MiB takes {run.MemoryLatencyNanoseconds:0} ns (pointer chase)");
        Settle.Heap();
        var overhead = TimerOverhead();
        var toNanoseconds = 1e9 / Stopwatch.Frequency;
        run.TimerOverheadNanoseconds = overhead * toNanoseconds;

        // Batch method: a batch of lookups between two timestamps, divided by the batch size.
        var batches = lookups / IdentityBench.LookupBatch;
        var tesseraBatches = new double[batches];
        var floorBatches = new double[batches];
        for (var b = 0; b < batches; b++)
        {
            var from = b * IdentityBench.LookupBatch;
            if ((b & 1) == 0)
            {
                tesseraBatches[b] = TesseraBatch(graph, keys, from) * toNanoseconds / IdentityBench.LookupBatch;
                floorBatches[b] = FloorBatch(index, unionFind, values, from) * toNanoseconds / IdentityBench.LookupBatch;
            }
            else
            {
                floorBatches[b] = FloorBatch(index, unionFind, values, from) * toNanoseconds / IdentityBench.LookupBatch;
                tesseraBatches[b] = TesseraBatch(graph, keys, from) * toNanoseconds / IdentityBench.LookupBatch;
            }
        }
        var batchMethod = $"batches of {IdentityBench.LookupBatch}, mean per lookup";
        var tesseraByBatch = AddLatency("Tessera TryGetNode + GraphOf", "tessera", batchMethod, tesseraBatches);
        AddLatency("floor: Dictionary<string,int> + union-find find", "floor", batchMethod, floorBatches);

        // The two halves apart, same method: identity to node, and node to graph.
        var nodes = new int[lookups];
        var ids = new int[lookups];
        for (var k = 0; k < lookups; k++)
        {
            graph.TryGetNode(keys[k], out nodes[k]);
            ids[k] = index[values[k]];
        }
        var toNode = new double[batches];
        var toId = new double[batches];
        var toGraph = new double[batches];
        var toRoot = new double[batches];
        for (var b = 0; b < batches; b++)
        {
            var from = b * IdentityBench.LookupBatch;
            if ((b & 1) == 0)
            {
                toNode[b] = NodeBatch(graph, keys, from) * toNanoseconds / IdentityBench.LookupBatch;
                toId[b] = IdBatch(index, values, from) * toNanoseconds / IdentityBench.LookupBatch;
                toGraph[b] = GraphBatch(graph, nodes, from) * toNanoseconds / IdentityBench.LookupBatch;
                toRoot[b] = RootBatch(unionFind, ids, from) * toNanoseconds / IdentityBench.LookupBatch;
            }
            else
            {
                toId[b] = IdBatch(index, values, from) * toNanoseconds / IdentityBench.LookupBatch;
                toNode[b] = NodeBatch(graph, keys, from) * toNanoseconds / IdentityBench.LookupBatch;
                toRoot[b] = RootBatch(unionFind, ids, from) * toNanoseconds / IdentityBench.LookupBatch;
                toGraph[b] = GraphBatch(graph, nodes, from) * toNanoseconds / IdentityBench.LookupBatch;
            }
        }
        AddLatency("stage: Tessera TryGetNode alone", "stage", batchMethod, toNode);
        AddLatency("stage: floor Dictionary<string,int> alone", "stage", batchMethod, toId);
        AddLatency("stage: Tessera GraphOf alone (node known)", "stage", batchMethod, toGraph);
        AddLatency("stage: floor union-find find alone (id known)", "stage", batchMethod, toRoot);

        // Tessera keeps one dictionary per namespace and finds the namespace's by its code first: the
        // same plain dictionaries, picked by a namespace index the caller already has.
        var perNamespace = new Dictionary<string, int>[IdentityWorkload.Namespaces.Length];
        for (var ns = 0; ns < perNamespace.Length; ns++)
        {
            perNamespace[ns] = new Dictionary<string, int>(StringComparer.Ordinal);
        }
        for (var id = 0; id < graphValues.Length; id++)
        {
            perNamespace[workload.NamespaceOf[id]].Add(graphValues[id], id);
        }
        var namespaceOf = new byte[lookups];
        for (var k = 0; k < lookups; k++)
        {
            namespaceOf[k] = workload.NamespaceOf[ids[k]];
        }
        Settle.Heap();
        for (var b = 0; b < batches; b++)
        {
            var from = b * IdentityBench.LookupBatch;
            if ((b & 1) == 0)
            {
                toNode[b] = NodeBatch(graph, keys, from) * toNanoseconds / IdentityBench.LookupBatch;
                toId[b] = PerNamespaceBatch(perNamespace, namespaceOf, values, from) * toNanoseconds / IdentityBench.LookupBatch;
            }
            else
            {
                toId[b] = PerNamespaceBatch(perNamespace, namespaceOf, values, from) * toNanoseconds / IdentityBench.LookupBatch;
                toNode[b] = NodeBatch(graph, keys, from) * toNanoseconds / IdentityBench.LookupBatch;
            }
        }
        AddLatency("stage: Tessera TryGetNode alone, again", "stage", batchMethod, toNode);
        AddLatency("stage: floor Dictionary<string,int> per namespace, namespace index known", "stage", batchMethod, toId);

        // Single method: each lookup between two timestamps, the timer's own cost taken off.
        var tesseraSingle = new double[lookups];
        var floorSingle = new double[lookups];
        for (var k = 0; k < lookups; k++)
        {
            if ((k & 1) == 0)
            {
                tesseraSingle[k] = Math.Max(0, TesseraOne(graph, keys[k]) - overhead) * toNanoseconds;
                floorSingle[k] = Math.Max(0, FloorOne(index, unionFind, values[k]) - overhead) * toNanoseconds;
            }
            else
            {
                floorSingle[k] = Math.Max(0, FloorOne(index, unionFind, values[k]) - overhead) * toNanoseconds;
                tesseraSingle[k] = Math.Max(0, TesseraOne(graph, keys[k]) - overhead) * toNanoseconds;
            }
        }
        var singleMethod = "each lookup timed, timer cost taken off";
        var tesseraBySingle = AddLatency("Tessera TryGetNode + GraphOf", "tessera", singleMethod, tesseraSingle);
        AddLatency("floor: Dictionary<string,int> + union-find find", "floor", singleMethod, floorSingle);
        tesseraByBatch.Target = tesseraBySingle.Target = "p99 ≤ 1 µs";
        tesseraByBatch.Met = tesseraByBatch.P99 <= 1000;
        tesseraBySingle.Met = tesseraBySingle.P99 <= 1000;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long TesseraBatch(IdentityGraph graph, IdentityKey[] keys, int from)
    {
        long sum = 0;
        var started = Stopwatch.GetTimestamp();
        for (var k = from; k < from + IdentityBench.LookupBatch; k++)
        {
            sum += graph.TryGetNode(keys[k], out var node) ? graph.GraphOf(node) : -1;
        }
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += sum;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long FloorBatch(Dictionary<string, int> index, UnionFind unionFind, string[] values, int from)
    {
        long sum = 0;
        var started = Stopwatch.GetTimestamp();
        for (var k = from; k < from + IdentityBench.LookupBatch; k++)
        {
            sum += index.TryGetValue(values[k], out var node) ? unionFind.FindReadOnly(node) : -1;
        }
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += sum;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long NodeBatch(IdentityGraph graph, IdentityKey[] keys, int from)
    {
        long sum = 0;
        var started = Stopwatch.GetTimestamp();
        for (var k = from; k < from + IdentityBench.LookupBatch; k++)
        {
            sum += graph.TryGetNode(keys[k], out var node) ? node : -1;
        }
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += sum;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long PerNamespaceBatch(Dictionary<string, int>[] perNamespace, byte[] namespaceOf, string[] values, int from)
    {
        long sum = 0;
        var started = Stopwatch.GetTimestamp();
        for (var k = from; k < from + IdentityBench.LookupBatch; k++)
        {
            sum += perNamespace[namespaceOf[k]].TryGetValue(values[k], out var id) ? id : -1;
        }
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += sum;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long IdBatch(Dictionary<string, int> index, string[] values, int from)
    {
        long sum = 0;
        var started = Stopwatch.GetTimestamp();
        for (var k = from; k < from + IdentityBench.LookupBatch; k++)
        {
            sum += index.TryGetValue(values[k], out var id) ? id : -1;
        }
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += sum;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long GraphBatch(IdentityGraph graph, int[] nodes, int from)
    {
        long sum = 0;
        var started = Stopwatch.GetTimestamp();
        for (var k = from; k < from + IdentityBench.LookupBatch; k++)
        {
            sum += graph.GraphOf(nodes[k]);
        }
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += sum;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long RootBatch(UnionFind unionFind, int[] ids, int from)
    {
        long sum = 0;
        var started = Stopwatch.GetTimestamp();
        for (var k = from; k < from + IdentityBench.LookupBatch; k++)
        {
            sum += unionFind.FindReadOnly(ids[k]);
        }
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += sum;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long TesseraOne(IdentityGraph graph, IdentityKey key)
    {
        var started = Stopwatch.GetTimestamp();
        var graphOf = graph.TryGetNode(key, out var node) ? graph.GraphOf(node) : -1;
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += graphOf;
        return elapsed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long FloorOne(Dictionary<string, int> index, UnionFind unionFind, string value)
    {
        var started = Stopwatch.GetTimestamp();
        var graphOf = index.TryGetValue(value, out var node) ? unionFind.FindReadOnly(node) : -1;
        var elapsed = Stopwatch.GetTimestamp() - started;
        _sink += graphOf;
        return elapsed;
    }

    /// <summary>
    /// Nanoseconds per read of a pointer chase through one random cycle over 256 MiB (Sattolo's
    /// shuffle): each read depends on the last, so this is the latency of a cache and TLB miss here.
    /// </summary>
    private double MemoryLatency()
    {
        var next = new int[64 << 20];
        for (var i = 0; i < next.Length; i++)
        {
            next[i] = i;
        }
        var random = new Random(IdentityBench.Seed + 3);
        for (var i = next.Length - 1; i > 0; i--)
        {
            var j = random.Next(i);
            (next[i], next[j]) = (next[j], next[i]);
        }
        const int Steps = 5_000_000;
        var at = 0;
        var watch = Stopwatch.StartNew();
        for (var step = 0; step < Steps; step++)
        {
            at = next[at];
        }
        var nanoseconds = watch.Elapsed.TotalNanoseconds / Steps;
        _sink += at;
        return nanoseconds;
    }

    /// <summary>The median cost, in timer ticks, of two timestamps with nothing between them.</summary>
    private static long TimerOverhead()
    {
        var samples = new long[100_001];
        for (var i = 0; i < samples.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            samples[i] = Stopwatch.GetTimestamp() - started;
        }
        Array.Sort(samples);
        return samples[samples.Length / 2];
    }

    private LatencyFigure AddLatency(string name, string kind, string method, double[] nanoseconds)
    {
        var sorted = (double[])nanoseconds.Clone();
        Array.Sort(sorted);
        double At(double quantile) => sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
        var figure = new LatencyFigure(name, kind, method, sorted.Length, sorted.Average(), At(0.5), At(0.99), At(0.999), sorted[^1]);
        run.Latencies.Add(figure);
        Say($"  {name} ({method}): p50 {figure.P50:N0} ns, p99 {figure.P99:N0} ns, p99.9 {figure.P999:N0} ns, mean {figure.Mean:N0} ns, max {figure.Max:N0} ns over {figure.Samples:N0}");
        return figure;
    }

    // ------------------------------------------------------------------ measuring

    /// <summary>A floor: best of at least three runs, each after <paramref name="reset"/>.</summary>
    private IdentityFigure Floor(string section, string name, long items, string unit, Action reset, Action action)
    {
        var best = double.MaxValue;
        double? bestSteal = null;
        var spent = Stopwatch.StartNew();
        for (var run = 0; run < 3 || (spent.Elapsed.TotalSeconds < 1 && run < 20); run++)
        {
            reset();
            Settle.Heap();
            var stealBefore = Machine.StealSeconds();
            var watch = Stopwatch.StartNew();
            action();
            var seconds = watch.Elapsed.TotalSeconds;
            if (seconds < best)
            {
                (best, bestSteal) = (seconds, Machine.StealSeconds() - stealBefore);
            }
        }
        var notes = "best of 3" + (bestSteal is { } steal ? $"; the hypervisor took {steal:0.0} s of CPU during the best (steal)" : "");
        return Add(new IdentityFigure(section, name, "floor", items, unit, best, null) { Ids = ids, Notes = notes });
    }

    /// <summary>One timed run, with the collections, pauses and CPU time it took.</summary>
    private IdentityFigure Once(string section, string name, long items, string unit, string kind, IdentityFigure? floor, Action action)
    {
        var (seconds, notes) = Measure(action);
        return Add(new IdentityFigure(section, name, kind, items, unit, seconds, floor) { Ids = ids, Notes = notes });
    }

    /// <summary>
    /// One timed run over the ledger that stops once <see cref="BudgetTicks"/> are spent; the figure
    /// counts the links of the occurrences it got through.
    /// </summary>
    private IdentityFigure Budgeted(string section, string name, string kind, IdentityFigure? floor, Func<long, int> action)
    {
        var done = 0;
        var (seconds, notes) = Measure(() => done = action(Stopwatch.GetTimestamp() + BudgetTicks));
        var completed = done == workload.OccurrenceCount;
        if (!completed)
        {
            notes = $"stopped when its time budget ran out, after {done:N0} of {workload.OccurrenceCount:N0} occurrences "
                + $"({100.0 * done / workload.OccurrenceCount:0.0} %); " + notes;
        }
        // Occurrence i carries Start[i + 1] - Start[i] - 1 links.
        var links = workload.Start[done] - (long)done;
        return Add(new IdentityFigure(section, name, kind, links, "links", seconds, floor) { Ids = ids, Notes = notes, Completed = completed });
    }

    private long BudgetTicks => (long)(budgetSeconds * Stopwatch.Frequency);

    private static (double Seconds, string Notes) Measure(Action action)
    {
        Settle.Heap();
        var gcBefore = GcMark.Now();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stealBefore = Machine.StealSeconds();
        var watch = Stopwatch.StartNew();
        action();
        watch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var notes = gcBefore.Since() + $"; process CPU {cpu.TotalSeconds:0.0} s in {watch.Elapsed.TotalSeconds:0.0} s";
        if (Machine.StealSeconds() - stealBefore is { } steal)
        {
            notes += $"; the hypervisor took {steal:0.0} s of CPU meanwhile (steal)";
        }
        return (watch.Elapsed.TotalSeconds, notes);
    }

    private IdentityFigure Add(IdentityFigure figure)
    {
        run.Figures.Add(figure);
        var ratio = figure.Ratio is { } r ? $" ({r:0.000} of floor)" : "";
        Say($"  {Markup.Escape(figure.Name)}: [bold]{figure.PerSecond:N0}[/] {figure.Unit}/s, {figure.Seconds:0.000} s{ratio}"
            + (figure.Notes is { } notes ? $" [grey]{Markup.Escape(notes)}[/]" : ""));
        return figure;
    }

    private void Say(string markup)
    {
        if (!quiet)
        {
            AnsiConsole.MarkupLine(markup);
        }
    }

}

/// <summary>A throughput figure; <see cref="Floor"/> is the union-find (or dictionary) figure over the same items.</summary>
internal sealed record IdentityFigure(string Section, string Name, string Kind, long Items, string Unit, double Seconds, IdentityFigure? Floor)
{
    public double PerSecond => Items / Seconds;

    public double? Ratio => Floor is null ? null : PerSecond / Floor.PerSecond;

    /// <summary>How the node ids were numbered: <see cref="IdentitySuite.FirstSeen"/> or <see cref="IdentitySuite.Shuffled"/>.</summary>
    public string Ids { get; init; } = "";

    /// <summary>False when the step ran out of its time budget before the end of the ledger.</summary>
    public bool Completed { get; init; } = true;

    public string? Notes { get; set; }

    public string? Target { get; set; }

    public bool? Met { get; set; }
}

/// <summary>Lookup latency percentiles, in nanoseconds per lookup.</summary>
internal sealed record LatencyFigure(string Name, string Kind, string Method, int Samples, double Mean, double P50, double P99, double P999, double Max)
{
    public string? Target { get; set; }

    public bool? Met { get; set; }
}

internal sealed class MemoryFigures
{
    /// <summary>Managed bytes the built graph added, its value and record arenas included (its interning and link tables are native memory, not counted).</summary>
    public long GraphBytes { get; init; }

    /// <summary>What the identity values would take as strings (the graph keeps them as UTF-8 instead).</summary>
    public long ValueStringBytes { get; init; }

    public long ManagedWithLedger { get; init; }

    public long WorkingSetWithLedger { get; init; }

    public long ManagedAfter { get; set; }

    public long WorkingSetAfter { get; set; }

    public long PeakWorkingSet { get; set; }
}

/// <summary>Everything one run measured.</summary>
internal sealed class IdentityRun
{
    public required WorkloadStats Workload { get; init; }

    public double GenerateSeconds { get; set; }

    public bool Full { get; set; }

    public int Graphs { get; set; }

    public int DistinctLinks { get; set; }

    public int Regions { get; set; }

    public int LargestRegion { get; set; }

    public long RegionsOverCap { get; set; }

    public long IdentitiesInRegionsOverCap { get; set; }

    public double TimerOverheadNanoseconds { get; set; }

    public double MemoryLatencyNanoseconds { get; set; }

    public List<IdentityFigure> Figures { get; } = [];

    public List<LatencyFigure> Latencies { get; } = [];

    public MemoryFigures? Memory { get; set; }

    public List<string> Problems { get; } = [];
}

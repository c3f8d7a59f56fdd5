#:project ../../src/Tessera.Identity/Tessera.Identity.csproj

// A restart's rebuild of one sandbox's identity graph, alone in its process: a synthetic ledger (people with a
// CRMID, one or two emails, a phone and one to three cookies that log in), encoded as the store holds it, then
// LoadStored + RederiveAll on a graph sized from the counts, as IdentityService sizes it from the last start.
// Compare builds by running this from a worktree of each commit in turn (BENCHMARKS.md, "Identity graph"):
//   dotnet run -c Release bench/scripts/restart-rebuild.cs -- 1930000    # about 10 million identities
//   dotnet run -c Release bench/scripts/restart-rebuild.cs -- 1930000 again node-ids   # derived twice more; the same from node ids
using System.Buffers;
using System.Diagnostics;
using Tessera.Abstractions;
using Tessera.Identity.Graph;

var people = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_930_000;
var random = new Random(42);
var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
var occurrences = new List<(long Ticks, IdentityKey[] Identities)>();
for (var p = 0; p < people; p++)
{
    var crm = new IdentityKey("CRMID", $"{p:D9}");
    var email = new IdentityKey("Email", $"person{p}@example{p % 97}.com");
    var record = new List<IdentityKey> { crm, email };
    if (random.Next(10) < 3)
    {
        record.Add(new IdentityKey("Email", $"p.{p}.alt@mail{p % 13}.net"));
    }
    if (random.Next(10) < 9)
    {
        record.Add(new IdentityKey("Phone", $"+1{2_000_000_000L + (p * 7919L % 7_999_999_999L)}"));
    }
    occurrences.Add((Time(), [.. record]));
    for (var cookie = 1 + random.Next(3); cookie > 0; cookie--)
    {
        var ecid = new IdentityKey("ECID", $"{p:x8}-{cookie:x4}-4a1b-9c2d-{random.NextInt64():x12}");
        for (var login = 1 + random.Next(5); login > 0; login--)
        {
            occurrences.Add((Time(), [ecid, crm]));
        }
        if (random.Next(10) == 0)
        {
            occurrences.Add((Time(), [ecid, email]));
        }
    }
}
occurrences.Sort((a, b) => a.Ticks.CompareTo(b.Ticks));

var keys = new byte[occurrences.Count][];
var values = new byte[occurrences.Count][];
var key = new ArrayBufferWriter<byte>();
var value = new ArrayBufferWriter<byte>();
for (var i = 0; i < occurrences.Count; i++)
{
    key.ResetWrittenCount();
    value.ResetWrittenCount();
    LedgerCodec.WriteKey(key, "prod", i + 1);
    LedgerCodec.Encode(new LedgerEntry(i + 1, new DateTimeOffset(occurrences[i].Ticks, TimeSpan.Zero), "web", "b1", $"r{i}", occurrences[i].Identities), value);
    keys[i] = key.WrittenSpan.ToArray();
    values[i] = value.WrittenSpan.ToArray();
}
occurrences = null;

var rules = CompiledGraphRules.Compile(
    new IdentityGraphRules { UniqueNamespaces = ["CRMID"], Priority = ["CRMID", "Email", "Phone", "ECID"], MaxIdentities = 50 },
    ns => ns switch { "ECID" => IdentityType.Cookie, "Phone" => IdentityType.Phone, "Email" => IdentityType.Email, _ => IdentityType.CrossDevice });
// The counts a restart would know from the last start, from an unsized rebuild first.
var (identities, links) = Rebuild(new IdentityGraph(rules));
GC.Collect();
GC.WaitForPendingFinalizers();
GC.Collect();
// A line to start a profiler on: perf record -F 299 -g -p PID -- sleep 11 profiles the load.
Console.WriteLine($"timed rebuild starts (process {Environment.ProcessId})");
var last = ProcessMark.Now();
var clock = Stopwatch.StartNew();
var graph = new IdentityGraph(rules, identities, links);
var loaded = Load(graph);
var duringLoad = SinceLastMark();
graph.RederiveAll();
var total = clock.Elapsed.TotalSeconds;
Console.WriteLine($"{keys.Length:N0} entries, {identities:N0} identities, {links:N0} links: load {loaded:F2} s + derive {total - loaded:F2} s = {total:F2} s; graphs {graph.GraphCount:N0}");
Console.WriteLine($"during the load: {duringLoad}; during the derivation: {SinceLastMark()}");

if (args.Contains("again"))
{
    // The same graph derived twice more: the first derivation after a load has cost two to four times a later one.
    for (var again = 0; again < 2; again++)
    {
        SinceLastMark();
        clock.Restart();
        graph.RederiveAll();
        Console.WriteLine($"derived again: {clock.Elapsed.TotalSeconds:F2} s; {SinceLastMark()}");
    }
}

if (args.Contains("node-ids"))
{
    // What a ledger stored as node ids (an identity table once, entries as numbers) would leave of a rebuild: every
    // identity interned in node order on one thread, then every entry recorded from its nodes (eight ahead prefetched),
    // then the derivation. Not what the product does: the bound a change of the ledger's format could reach.
    var entryNodes = new int[keys.Length][];
    var records = new string?[keys.Length];
    var ticks = new long[keys.Length];
    for (var i = 0; i < keys.Length; i++)
    {
        var entry = LedgerCodec.Decode(keys[i], values[i]);
        entryNodes[i] = [.. entry.Identities.Select(k => graph.TryGetNode(k, out var node) ? node : throw new InvalidOperationException($"{k} not interned"))];
        (records[i], ticks[i]) = (entry.Record, entry.Time.UtcTicks);
    }
    var byNode = Enumerable.Range(0, identities).Select(graph.KeyOf).ToArray();
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    clock.Restart();
    var fromIds = new IdentityGraph(rules, identities, links);
    foreach (var identity in byNode)
    {
        fromIds.Intern(identity.Namespace, identity.Value);
    }
    var interned = clock.Elapsed.TotalSeconds;
    var source = fromIds.Source("web", "b1");
    for (var i = 0; i < entryNodes.Length; i++)
    {
        if (i + IdentityGraph.PrefetchDistance < entryNodes.Length)
        {
            fromIds.Prefetch(entryNodes[i + IdentityGraph.PrefetchDistance]);
        }
        fromIds.Record(entryNodes[i], source, records[i], ticks[i], i + 1);
    }
    var recorded = clock.Elapsed.TotalSeconds;
    fromIds.RederiveAll();
    Console.WriteLine($"from node ids: intern in node order {interned:F2} s, record {recorded - interned:F2} s, derive {clock.Elapsed.TotalSeconds - recorded:F2} s; graphs {fromIds.GraphCount:N0}");
}

// What the process did since the last call: collections, their pauses, minor page faults (a page first touched costs up to
// 15-20 µs on the benchmarks' virtual machine, BENCHMARKS.md, so memory a step takes fresh is a cost of its own) and CPU time.
string SinceLastMark()
{
    var now = ProcessMark.Now();
    var text = now.Since(last);
    last = now;
    return text;
}

long Time() => start + (long)(random.NextDouble() * TimeSpan.FromDays(90).Ticks);

double Load(IdentityGraph into)
{
    var timer = Stopwatch.StartNew();
    var load = into.LoadStored();
    for (var i = 0; i < keys.Length; i++)
    {
        load.Take(keys[i], values[i]);
    }
    load.Complete();
    return timer.Elapsed.TotalSeconds;
}

(int Identities, int Links) Rebuild(IdentityGraph into)
{
    Load(into);
    return (into.IdentityCount, into.LinkCount);
}

internal readonly record struct ProcessMark(int Gen0, int Gen1, int Gen2, TimeSpan Paused, long PageFaults, TimeSpan Cpu)
{
    public static ProcessMark Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(),
        MinorFaults(), Process.GetCurrentProcess().TotalProcessorTime);

    public string Since(ProcessMark before) =>
        $"collections {Gen0 - before.Gen0}/{Gen1 - before.Gen1}/{Gen2 - before.Gen2}, paused {(Paused - before.Paused).TotalSeconds:F2} s, " +
        $"{PageFaults - before.PageFaults:N0} page faults, process CPU {(Cpu - before.Cpu).TotalSeconds:F2} s";

    // Field 10 of /proc/self/stat (after the command's closing parenthesis); 0 where there is no such file.
    private static long MinorFaults() => File.Exists("/proc/self/stat")
        ? long.Parse(File.ReadAllText("/proc/self/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[7], System.Globalization.CultureInfo.InvariantCulture)
        : 0;
}

using FsCheck.Xunit;
using Tessera.Identity.Graph;
using static Tessera.Identity.Tests.Graph.GraphFixtures;

namespace Tessera.Identity.Tests.Graph;

/// <summary>
/// Random ledgers over small pools of identities (so that conflicts are common), each occurrence
/// written by FsCheck as four bytes: three identities (the third optional) and a minute.
/// </summary>
public sealed class GraphProperties
{
    private static readonly string[] Namespaces = ["CRMID", "Email", "ECID", "Phone"];

    private static List<LedgerEntry> ToLedger((byte A, byte B, byte C, byte Minute)[]? occurrences, int batches = 3)
    {
        var ledger = new List<LedgerEntry>();
        foreach (var (a, b, c, minute) in occurrences ?? [])
        {
            var identities = new List<IdentityKey> { Decode(a), Decode(b) };
            if (c % 3 == 0)
            {
                identities.Add(Decode(c));
            }
            var sequence = ledger.Count + 1;
            // Few distinct minutes, so equal times (ordered by sequence) happen often.
            ledger.Add(new LedgerEntry(sequence, Start.AddMinutes(minute % 16), "web", $"b{sequence % batches}", $"r{sequence}",
                identities.Distinct().ToList()));
        }
        return ledger;
    }

    private static IdentityKey Decode(byte code) => new(Namespaces[code % 4], $"v{code / 4 % 6}");

    private static CompiledGraphRules RulesFor(byte choice) => (choice % 3) switch
    {
        0 => Rules(unique: ["CRMID"], maxIdentities: 2 + choice % 7),
        1 => Rules(unique: ["CRMID", "Email"], maxIdentities: 50),
        _ => Rules(unique: ["CRMID", "Phone"], maxIdentities: 4),
    };

    private static string Fingerprint(IdentityGraph graph) => Describe(graph) + " || " + DescribeCuts(graph);

    /// <summary>Every link's state as <c>identity show</c> lists it (kept, or the rule that cuts it), each link written with its two identities in ordinal order.</summary>
    private static string LinkStates(IdentityGraph graph) =>
        string.Join(" | ", graph.AllLinks()
            .Select(l => string.CompareOrdinal(l.From.ToString(), l.To.ToString()) < 0 ? $"{l.From}-{l.To} {l.State}" : $"{l.To}-{l.From} {l.State}")
            .Order(StringComparer.Ordinal));

    [Property(Replay = "(31337,543657)", MaxTest = 300)]
    public bool No_graph_breaks_a_unique_namespace_or_the_size_cap((byte, byte, byte, byte)[] occurrences, byte rulesChoice)
    {
        var rules = RulesFor(rulesChoice);
        var graph = Incremental(rules, ToLedger(occurrences));
        return graph.Snapshots().All(g =>
            g.Identities.Count <= rules.MaxIdentities &&
            rules.Source.UniqueNamespaces.All(ns => g.Identities.Count(i => i.Namespace == ns) <= 1));
    }

    [Property(Replay = "(31337,543659)", MaxTest = 300)]
    public bool Adding_in_any_arrival_order_equals_deriving_the_whole_ledger((byte, byte, byte, byte)[] occurrences, byte rulesChoice, int shuffleSeed)
    {
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        var arrival = ledger.OrderBy(_ => 0).ToList();
        new Random(shuffleSeed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(arrival));
        var incremental = Incremental(rules, arrival);
        var built = IdentityGraph.Build(rules, ledger);
        return Fingerprint(incremental) == Fingerprint(built) && LinkStates(incremental) == LinkStates(built);
    }

    [Property(Replay = "(31337,543671)", MaxTest = 200)]
    public bool After_every_add_in_time_order_the_graph_is_the_derivation_of_what_came_so_far((byte, byte, byte, byte)[] occurrences, byte rulesChoice)
    {
        var rules = RulesFor(rulesChoice);
        // In time order (as live ingestion mostly is), so each new link is usually the newest and its
        // conflicts take the incremental path; every state checked against a whole derivation.
        var ledger = ToLedger(occurrences).OrderBy(e => e.Time).ThenBy(e => e.Sequence).ToList();
        var graph = new IdentityGraph(rules);
        for (var i = 0; i < ledger.Count; i++)
        {
            graph.Add(ledger[i]);
            var built = IdentityGraph.Build(rules, ledger.Take(i + 1));
            if (Describe(graph) != Describe(built) || LinkStates(graph) != LinkStates(built) || graph.GraphCount != built.GraphCount)
            {
                return false;
            }
        }
        return true;
    }

    [Property(Replay = "(31337,543661)", MaxTest = 300)]
    public bool Deleting_a_batch_equals_never_having_had_it((byte, byte, byte, byte)[] occurrences, byte rulesChoice, byte deleted)
    {
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        var batch = $"b{deleted % 3}";
        // The ledger as it is after the delete, against one that never had the batch: its
        // sequence numbers are dense, as if the batch's occurrences had never been appended.
        var afterDelete = IdentityGraph.Build(rules, ledger.Where(e => e.Batch != batch));
        var neverHad = Incremental(rules, ledger.Where(e => e.Batch != batch).Select((e, i) => e with { Sequence = i + 1 }));
        return Fingerprint(afterDelete) == Fingerprint(neverHad);
    }

    [Property(Replay = "(31337,543663)", MaxTest = 200)]
    public bool Replaying_the_ledger_twice_gives_the_same_graphs((byte, byte, byte, byte)[] occurrences, byte rulesChoice)
    {
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        var once = IdentityGraph.Build(rules, ledger);
        var twice = IdentityGraph.Build(rules, ledger.Concat(ledger));
        return Fingerprint(once) == Fingerprint(twice) && Fingerprint(once) == Fingerprint(IdentityGraph.Build(rules, ledger));
    }

    /// <summary>
    /// Records each entry as the store holds it through one <see cref="IdentityGraph.StoredLedgerLoad"/> (<see cref="ForEachStored"/>);
    /// false if a read gives back another sequence.
    /// </summary>
    private static bool RecordStored(IdentityGraph graph, List<LedgerEntry> ledger, IdentityGraph.StoredLedgerLoad? load = null)
    {
        var sequencesMatch = true;
        var taking = load ?? graph.LoadStored();
        ForEachStored(ledger, (entry, key, value) => sequencesMatch &= taking.Take(key, value) == entry.Sequence);
        taking.Complete();
        return sequencesMatch;
    }

    [Property(Replay = "(31337,543673)", MaxTest = 200)]
    public bool Adding_stored_entries_equals_adding_the_entries((byte, byte, byte, byte)[] occurrences, byte rulesChoice)
    {
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        var fromBytes = new IdentityGraph(rules);
        var add = fromBytes.AddStored();
        ForEachStored(ledger, (_, key, value) => add.Take(key, value));
        add.Complete();
        var fromEntries = Incremental(rules, ledger);
        return Fingerprint(fromBytes) == Fingerprint(fromEntries) && LinkStates(fromBytes) == LinkStates(fromEntries)
            && Enumerable.Range(0, fromEntries.IdentityCount).All(n => fromBytes.KeyOf(n) == fromEntries.KeyOf(n));
    }

    [Fact]
    public void A_stored_entry_with_many_identities_of_every_kind_records_as_the_entry_does()
    {
        // More identities than are prepared together, and values no slot holds (long, not ASCII) among them.
        List<IdentityKey> identities =
        [
            new("CRMID", "c1"), new("Email", "zoë@example.com"), new("ECID", new string('7', 80)),
            new("Phone", "+33612345678"), new("Email", "a@example.com"), new("ECID", "e1"), new("ECID", "e2"), new("ECID", "e3"),
            new("ECID", Convert.ToHexStringLower(new byte[32])), new("ECID", "e4"), new("Email", "b@example.com"),
        ];
        var ledger = new List<LedgerEntry>
        {
            new(1, Start, "crm", "b1", "r1", identities),
            new(2, Start.AddMinutes(1), "web", "b2", null, [identities[5], identities[1], new IdentityKey("ECID", "e9")]),
        };
        var rules = Rules(unique: ["CRMID"], maxIdentities: 50);
        var fromBytes = new IdentityGraph(rules);
        Assert.True(RecordStored(fromBytes, ledger));
        fromBytes.RederiveAll();
        var fromEntries = IdentityGraph.Build(rules, ledger);
        Assert.Equal(Fingerprint(fromEntries), Fingerprint(fromBytes));
        Assert.Equal(12, fromBytes.IdentityCount);
        for (var node = 0; node < fromBytes.IdentityCount; node++)
        {
            Assert.Equal(fromEntries.KeyOf(node), fromBytes.KeyOf(node)); // Numbered in the same order.
        }
        Assert.True(fromBytes.TryGetNode(identities[2], out _));
        Assert.True(fromBytes.TryGetNode(identities[8], out _));
    }

    [Property(Replay = "(31337,543669)", MaxTest = 200)]
    public bool Rebuilding_from_the_stored_bytes_equals_building_from_entries((byte, byte, byte, byte)[] occurrences, byte rulesChoice, byte room)
    {
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        // Sized up front as a restart sizes it (from the last start's counts: too few, enough or too many), or not at all.
        var fromBytes = room % 4 == 0 ? new IdentityGraph(rules) : new IdentityGraph(rules, room, room / 2);
        var sequencesRead = RecordStored(fromBytes, ledger);
        fromBytes.RederiveAll();
        var fromEntries = IdentityGraph.Build(rules, ledger);
        return sequencesRead && Fingerprint(fromBytes) == Fingerprint(fromEntries)
            && fromBytes.AllLinks().Select(l => l.ToString()).SequenceEqual(fromEntries.AllLinks().Select(l => l.ToString()));
    }

    [Property(Replay = "(31337,543677)", MaxTest = 200)]
    public bool Rebuilding_on_two_threads_equals_building_from_entries((byte, byte, byte, byte)[] occurrences, byte rulesChoice, byte blocks)
    {
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        // Links recorded on a second thread, from blocks of one to four entries handed over one to three at a time (most
        // ledgers here take several hand-offs); then sorted in two halves, each on a thread, from a few links on.
        var fromBytes = new IdentityGraph(rules) { SortInHalvesFrom = 1 + blocks % 7 };
        var sequencesRead = RecordStored(fromBytes, ledger, fromBytes.LoadStored(1 + blocks % 4, 1 + blocks / 4 % 3));
        fromBytes.RederiveAll();
        var fromEntries = IdentityGraph.Build(rules, ledger);
        return sequencesRead && Fingerprint(fromBytes) == Fingerprint(fromEntries)
            && fromBytes.AllLinks().Select(l => l.ToString()).SequenceEqual(fromEntries.AllLinks().Select(l => l.ToString()))
            && Enumerable.Range(0, fromEntries.IdentityCount).All(n => fromBytes.KeyOf(n) == fromEntries.KeyOf(n));
    }

    [Fact]
    public void A_load_abandoned_between_hand_offs_stops_its_recorder()
    {
        var ledger = ToLedger([.. Enumerable.Range(0, 40).Select(i => ((byte)i, (byte)(i + 1), (byte)0, (byte)i))]);
        var graph = new IdentityGraph(Rules());
        var load = graph.LoadStored(entriesPerBlock: 2, blocksPerHandOff: 2);
        ForEachStored(ledger.Take(13), (_, key, value) => load.Take(key, value));
        load.Dispose(); // returns only once the recorder thread has ended
        Assert.InRange(graph.IdentityCount, 1, 13 * 3);
    }

    [Property(Replay = "(31337,543679)", MaxTest = 200)]
    public bool Record_ids_stay_with_their_links_when_the_record_arena_is_rewritten((byte, byte, byte, byte)[] occurrences, byte rulesChoice)
    {
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        // Rewritten as soon as two thirds of it are superseded record ids, which repeat links make often here.
        var rewritten = new IdentityGraph(rules) { MinRecordGarbage = 0 };
        foreach (var entry in ledger)
        {
            rewritten.Add(entry);
        }
        var kept = Incremental(rules, ledger);
        return rewritten.AllLinks().Select(l => l.ToString()).SequenceEqual(kept.AllLinks().Select(l => l.ToString()));
    }

    [Fact]
    public void A_link_seen_again_and_again_keeps_its_newest_record_id_through_rewrites_of_the_record_arena()
    {
        var graph = new IdentityGraph(Rules()) { MinRecordGarbage = 0 };
        graph.Add(new LedgerEntry(1, Start, "crm", "b0", "first", [Key("CRMID:tom"), Key("Email:tom@example.com")]));
        for (var i = 2; i <= 30; i++)
        {
            graph.Add(new LedgerEntry(i, Start.AddMinutes(i), "web", "b1", $"login-{i}", [Key("ECID:111"), Key("CRMID:tom")]));
        }
        Assert.True(graph.RecordArenaRewrites > 0);
        var links = graph.AllLinks().ToDictionary(l => l.To.ToString(), l => l.Origin.Record);
        Assert.Equal("first", links["Email:tom@example.com"]);
        Assert.Equal("login-30", links["CRMID:tom"]);
    }

    [Property(Replay = "(31337,543681)", MaxTest = 300)]
    public bool Links_walked_along_arrays_derive_and_explain_as_along_their_lists((byte, byte, byte, byte)[] occurrences, byte rulesChoice, byte busy,
        int shuffleSeed, byte x, byte y)
    {
        // Identities here have at most 23 links, so with the default threshold every walk follows a list; from one to
        // four links on, most follow an array, some made when the identity became busy and some grown after.
        var rules = RulesFor(rulesChoice);
        var ledger = ToLedger(occurrences);
        var arrival = ledger.OrderBy(_ => 0).ToList();
        new Random(shuffleSeed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(arrival));
        var arrays = new IdentityGraph(rules) { BusyDegree = 1 + busy % 4 };
        var lists = new IdentityGraph(rules);
        foreach (var entry in arrival)
        {
            arrays.Add(entry);
            lists.Add(entry);
        }
        var switched = arrays.WithRules(RulesFor((byte)(rulesChoice + 1)));
        return Fingerprint(arrays) == Fingerprint(lists) && LinkStates(arrays) == LinkStates(lists)
            && Fingerprint(arrays) == Fingerprint(IdentityGraph.Build(rules, ledger))
            && arrays.Explain(Decode(x), Decode(y)) is var why && why.Summary == lists.Explain(Decode(x), Decode(y)).Summary
            && string.Join(" ", why.Path.Select(l => $"{l.From}-{l.To} {l.State}")) == string.Join(" ", lists.Explain(Decode(x), Decode(y)).Path.Select(l => $"{l.From}-{l.To} {l.State}"))
            && Fingerprint(switched) == Fingerprint(lists.WithRules(RulesFor((byte)(rulesChoice + 1))));
    }

    [Property(Replay = "(31337,543665)", MaxTest = 200)]
    public bool Changing_rules_equals_deriving_under_the_new_rules((byte, byte, byte, byte)[] occurrences, byte before, byte after)
    {
        var ledger = ToLedger(occurrences);
        var switched = IdentityGraph.Build(RulesFor(before), ledger).WithRules(RulesFor(after));
        return Fingerprint(switched) == Fingerprint(IdentityGraph.Build(RulesFor(after), ledger));
    }

    [Property(Replay = "(31337,543667)", MaxTest = 200)]
    public bool Explain_agrees_with_the_graphs((byte, byte, byte, byte)[] occurrences, byte rulesChoice, byte x, byte y)
    {
        var graph = Incremental(RulesFor(rulesChoice), ToLedger(occurrences));
        var a = Decode(x);
        var b = Decode(y);
        var why = graph.Explain(a, b);
        var together = graph.TryGetNode(a, out var na) && graph.TryGetNode(b, out var nb) && graph.GraphOf(na) == graph.GraphOf(nb);
        return why.Joined == together &&
            (!together || why.Path.All(l => l.State == LinkState.Kept)) &&
            why.Cuts.Count == why.Path.Count(l => l.State != LinkState.Kept);
    }
}

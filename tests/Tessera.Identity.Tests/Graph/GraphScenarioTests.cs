using Tessera.Abstractions;
using Tessera.Identity.Graph;
using static Tessera.Identity.Tests.Graph.GraphFixtures;

namespace Tessera.Identity.Tests.Graph;

public sealed class GraphScenarioTests
{
    [Fact]
    public void Shared_device_ends_up_with_its_last_logged_in_person()
    {
        var ledger = Ledger(
            "CRMID:alice, ECID:d1",
            "CRMID:bob, ECID:d1",
            "ECID:d1");
        var graph = Incremental(Rules(), ledger);

        Assert.Equal("CRMID:alice | CRMID:bob ECID:d1", Describe(graph));
        Assert.Equal("CRMID:alice-ECID:d1 unique-namespace", DescribeCuts(graph));
        var why = graph.Explain(Key("CRMID:alice"), Key("ECID:d1"));
        Assert.Equal("not joined: 1 link on the closest path was cut (CRMID:alice–ECID:d1 by rule unique-namespace)", why.Summary);
        Assert.Equal("unique namespace: it would put CRMID:alice and CRMID:bob in one graph, and newer links already hold them", Assert.Single(why.Cuts).Detail);
        var joined = graph.Explain(Key("CRMID:bob"), Key("ECID:d1"));
        Assert.Equal(("joined by 1 link", "r2"), (joined.Summary, Assert.Single(joined.Path).Origin.Record));

        graph.Add(Entry(4, 3, "CRMID:alice, ECID:d1"));
        Assert.Equal("CRMID:alice ECID:d1 | CRMID:bob", Describe(graph));
        Assert.Equal("CRMID:bob-ECID:d1 unique-namespace", DescribeCuts(graph));
    }

    [Fact]
    public void Junk_email_shared_by_many_people_stays_with_the_newest_and_glues_nobody()
    {
        var lines = Enumerable.Range(0, 200)
            .Select(i => $"CRMID:p{i:D3}, Email:junk@example.com, Phone:+1555000{i:D4}")
            .ToArray();
        var graph = Incremental(Rules(), Ledger(lines));

        Assert.Equal(200, graph.GraphCount);
        var snapshots = graph.Snapshots();
        Assert.All(snapshots, g => Assert.Single(g.Identities, i => i.Namespace == "CRMID"));
        Assert.Equal("CRMID:p199 Email:junk@example.com Phone:+15550000199", string.Join(" ", snapshots[^1].Identities));
        Assert.Equal("CRMID:p000 Phone:+15550000000", string.Join(" ", snapshots[0].Identities));
        Assert.Equal(199, graph.CutLinks().Count);

        var why = graph.Explain(Key("CRMID:p000"), Key("Email:junk@example.com"));
        Assert.False(why.Joined);
        var cut = Assert.Single(why.Cuts);
        Assert.Equal(IdentityGraph.UniqueNamespaceRule, cut.Rule);
        Assert.Equal("unique namespace: it would put CRMID:p000 and CRMID:p199 in one graph, and newer links already hold them", cut.Detail);
    }

    [Fact]
    public void Late_event_cannot_merge_two_crm_ids_and_explain_names_the_rule()
    {
        var ledger = new List<LedgerEntry>
        {
            Entry(1, 10, "CRMID:a, ECID:e1", "b1"),
            Entry(2, 20, "CRMID:b, ECID:e2", "b1"),
            // Arrives last, happened first: the device was b's before it was a's.
            Entry(3, 5, "ECID:e1, CRMID:b", "late"),
        };
        var graph = Incremental(Rules(), ledger);

        Assert.Equal("CRMID:a ECID:e1 | CRMID:b ECID:e2", Describe(graph));
        var why = graph.Explain(Key("CRMID:a"), Key("CRMID:b"));
        Assert.False(why.Joined);
        Assert.Equal(["CRMID:a-ECID:e1 Kept", "ECID:e1-CRMID:b CutUniqueNamespace"],
            why.Path.Select(l => $"{l.From}-{l.To} {l.State}"));
        var cut = Assert.Single(why.Cuts);
        Assert.Equal("late", cut.Link.Origin.Batch);
        Assert.Equal(Start.AddMinutes(5), cut.Link.Origin.Time);
        Assert.Equal("unique namespace: it would put CRMID:a and CRMID:b in one graph, and newer links already hold them", cut.Detail);
        Assert.Equal("not joined: 1 link on the closest path was cut (ECID:e1–CRMID:b by rule unique-namespace)", why.Summary);

        var joined = graph.Explain(Key("CRMID:b"), Key("ECID:e2"));
        Assert.True(joined.Joined);
        var link = Assert.Single(joined.Path);
        Assert.Equal(new LinkOrigin("web", "b1", "r2", Start.AddMinutes(20)), link.Origin);
    }

    [Fact]
    public void Deleting_a_batch_splits_the_graph_it_held_together()
    {
        var ledger = new List<LedgerEntry>
        {
            Entry(1, 0, "CRMID:c, Email:c@example.com", "crm"),
            Entry(2, 1, "ECID:x", "web-1"),
            Entry(3, 2, "ECID:x, Email:c@example.com", "web-2"),
        };
        var graph = Incremental(Rules(), ledger);
        Assert.Equal("CRMID:c Email:c@example.com ECID:x", Describe(graph));

        var after = IdentityGraph.Build(Rules(), ledger.Where(e => e.Batch != "web-2"));
        Assert.Equal("CRMID:c Email:c@example.com | ECID:x", Describe(after));
        Assert.Equal("not joined: no record or event links them, directly or through other identities",
            after.Explain(Key("CRMID:c"), Key("ECID:x")).Summary);
    }

    [Fact]
    public void Size_cap_keeps_the_most_recently_linked_identities()
    {
        var graph = Incremental(Rules(maxIdentities: 3), Ledger(
            "CRMID:z, ECID:old",
            "CRMID:z, ECID:mid",
            "CRMID:z, ECID:new1",
            "CRMID:z, ECID:new2"));

        Assert.Equal("CRMID:z ECID:new2 ECID:new1 | ECID:mid | ECID:old", Describe(graph));
        Assert.Equal("CRMID:z-ECID:mid size-cap | CRMID:z-ECID:old size-cap", DescribeCuts(graph));
    }

    [Fact]
    public void Priority_picks_the_primary_identity_and_devices_may_not_outrank_people()
    {
        var ledger = Ledger("ECID:d, Email:p@example.com, LoyaltyID:L1");
        Assert.Equal("LoyaltyID:L1", Incremental(Rules(), ledger).Snapshots()[0].Primary.ToString());
        Assert.Equal("Email:p@example.com", Incremental(Rules(priority: ["Email"]), ledger).Snapshots()[0].Primary.ToString());

        var refused = Assert.Throws<InvalidGraphRulesException>(() => Rules(priority: ["ECID", "CRMID"]));
        Assert.Equal("priority: device namespace 'ECID' may not rank above person namespace 'CRMID'", Assert.Single(refused.Problems));
        Assert.Contains("uniqueNamespaces: unknown namespace 'Nope'",
            Assert.Throws<InvalidGraphRulesException>(() => Rules(unique: ["Nope"])).Problems);
    }

    [Fact]
    public void Nulls_in_rules_read_from_json_are_problems_named_by_entry()
    {
        // From a rules file: {"priority": [null]} threw ArgumentNullException (a null dictionary key),
        // {"priority": null} a NullReferenceException (tessera identity simulate|rules set, the API).
        var entries = Assert.Throws<InvalidGraphRulesException>(() => CompiledGraphRules.Compile(
            new IdentityGraphRules { UniqueNamespaces = ["CRMID", null!], Priority = ["Email", " "] }, TypeOf));
        Assert.Equal(["uniqueNamespaces: entry 2 must be a namespace code, found null", "priority: entry 2 must be a namespace code, found ' '"], entries.Problems);

        var lists = Assert.Throws<InvalidGraphRulesException>(() => CompiledGraphRules.Compile(
            new IdentityGraphRules { UniqueNamespaces = null!, Priority = null! }, TypeOf));
        Assert.Equal(["uniqueNamespaces must be a list of namespace codes, not null", "priority must be a list of namespace codes, not null"], lists.Problems);
    }

    [Fact]
    public void Rules_change_dry_run_reports_merges_splits_and_primary_changes()
    {
        var ledger = Ledger(
            "CRMID:alice, ECID:d1",
            "CRMID:bob, ECID:d1",
            "Email:e@example.com, ECID:d2",
            "Email:f@example.com, ECID:d2");
        var strict = IdentityGraph.Build(Rules(unique: ["CRMID", "Email"]), ledger);
        Assert.Equal("CRMID:alice | CRMID:bob ECID:d1 | Email:e@example.com | Email:f@example.com ECID:d2", Describe(strict));

        var loose = strict.WithRules(Rules(unique: []));
        // Within a namespace the most recently seen identity is primary.
        Assert.Equal("CRMID:bob CRMID:alice ECID:d1 | Email:f@example.com Email:e@example.com ECID:d2", Describe(loose));
        var diff = strict.Compare(loose);
        Assert.Equal(new GraphDiff(GraphsBefore: 4, GraphsAfter: 2, Merged: 2, Split: 0, PrimaryChanged: 2, LinksCutBefore: 2, LinksCutAfter: 0), diff);
    }

    [Fact]
    public void A_cut_link_shows_the_rule_a_whole_derivation_names_after_a_later_link_changes_it()
    {
        // Cap 2: alice's device link is cut by the cap (alice already has her phone).
        var graph = new IdentityGraph(Rules(maxIdentities: 2));
        graph.Add(Entry(1, 0, "CRMID:alice, Phone:+15550001, ECID:d1"));
        Assert.True(graph.TryGetNode(Key("ECID:d1"), out var d1));
        Assert.Equal(LinkState.CutSizeCap, graph.LinksOf(d1).Single(l => l.State != LinkState.Kept).State);

        // Bob logs in on d1 later: d1 is his now, and a whole derivation meets bob's graph at alice's
        // device link, so the rule that cuts it is the unique namespace (checked before the cap). No
        // link changes between kept and cut, so the add does not derive that link again.
        graph.Add(Entry(2, 1, "CRMID:bob, ECID:d1, CRMID:alice"));

        var whole = IdentityGraph.Build(Rules(maxIdentities: 2),
            [Entry(1, 0, "CRMID:alice, Phone:+15550001, ECID:d1"), Entry(2, 1, "CRMID:bob, ECID:d1, CRMID:alice")]);
        // Read before anything traces the region (tracing derives it again, which writes the rules it finds).
        var shown = graph.LinksOf(d1).Where(l => l.State != LinkState.Kept).Select(l => $"{l.From}-{l.To} {l.State}");
        Assert.Equal(["CRMID:bob-CRMID:alice CutUniqueNamespace", "CRMID:alice-ECID:d1 CutUniqueNamespace"], shown);
        Assert.Equal(string.Join(" | ", whole.AllLinks()), string.Join(" | ", graph.AllLinks()));
        Assert.Equal("CRMID:alice-CRMID:bob unique-namespace | CRMID:alice-ECID:d1 unique-namespace", DescribeCuts(whole));
        Assert.Equal(DescribeCuts(whole), DescribeCuts(graph));
    }
}

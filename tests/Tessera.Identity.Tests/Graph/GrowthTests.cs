using FsCheck.Xunit;
using Tessera.Identity.Graph;
using static Tessera.Identity.Tests.Graph.GraphFixtures;

namespace Tessera.Identity.Tests.Graph;

/// <summary>Sizing a graph ahead of a batch: the estimate of what stored entries add, and room made in one step.</summary>
public sealed class GrowthTests
{
    private const int People = 20_000;

    /// <summary>Per person: a CRM record (CRMID with email), then three events of one cookie with the CRMID.</summary>
    private static List<LedgerEntry> PeopleLedger(int from, int to)
    {
        var ledger = new List<LedgerEntry>();
        for (var p = from; p < to; p++)
        {
            ledger.Add(new LedgerEntry(ledger.Count + 1, Start, "crm", "b1", $"r{p}", [new("CRMID", $"c{p}"), new("Email", $"p{p}@example.com")]));
            for (var visit = 0; visit < 3; visit++)
            {
                ledger.Add(new LedgerEntry(ledger.Count + 1, Start.AddMinutes(visit), "web", "b2", null, [new("ECID", $"x{p}"), new("CRMID", $"c{p}")]));
            }
        }
        return ledger;
    }

    private static IdentityGraph.GrowthEstimate Estimate(IdentityGraph graph, IEnumerable<LedgerEntry> ledger)
    {
        var estimate = graph.EstimateGrowth();
        ForEachStored(ledger, (_, key, value) => estimate.Take(key, value));
        return estimate;
    }

    private static void AddStored(IdentityGraph graph, IEnumerable<LedgerEntry> ledger)
    {
        var add = graph.AddStored();
        ForEachStored(ledger, (_, key, value) => add.Take(key, value));
        add.Complete();
    }

    [Fact]
    public void The_estimate_counts_distinct_new_identities_and_links_not_occurrences()
    {
        // 80,000 entries carrying 140,000 identity occurrences: 60,000 distinct identities and 40,000 distinct links.
        var ledger = PeopleLedger(0, People);
        var graph = new IdentityGraph(Rules());
        var empty = Estimate(graph, ledger);
        // One distinct value in 64 is sampled (about 940 identities, 625 links): six standard deviations either side.
        Assert.InRange(empty.Identities, 0.8 * 3 * People, 1.2 * 3 * People);
        Assert.InRange(empty.Links, 0.75 * 2 * People, 1.25 * 2 * People);

        AddStored(graph, PeopleLedger(0, People / 2));
        var half = Estimate(graph, ledger);
        Assert.InRange(half.Identities, 0.75 * 3 * People / 2, 1.25 * 3 * People / 2);
        Assert.InRange(half.Links, 0.7 * 2 * People / 2, 1.3 * 2 * People / 2);

        AddStored(graph, PeopleLedger(People / 2, People));
        var known = Estimate(graph, ledger);
        Assert.Equal(0, known.Identities); // every sampled value is found: a file read again reserves nothing
        Assert.Equal(0, known.Links);
        Assert.Equal(3 * People, graph.IdentityCount);
    }

    [Property(Replay = "(31337,543691)", MaxTest = 200)]
    public bool Room_reserved_midway_changes_no_graph((byte A, byte B, byte Minute)[] occurrences, byte identities, byte links)
    {
        string[] namespaces = ["CRMID", "Email", "ECID"];
        var ledger = (occurrences ?? []).Select((o, i) => new LedgerEntry(i + 1, Start.AddMinutes(o.Minute % 8), "web", "b1", $"r{i}",
            new[] { new IdentityKey(namespaces[o.A % 3], $"v{o.A / 3 % 9}"), new IdentityKey(namespaces[o.B % 3], $"v{o.B / 3 % 9}") }.Distinct().ToList())).ToList();
        var rules = Rules(unique: ["CRMID"], maxIdentities: 4);
        var reserved = new IdentityGraph(rules);
        AddStored(reserved, ledger.Take(ledger.Count / 2));
        reserved.Reserve(identities * 40, links * 40); // up to 10,200 of each: tables resized with entries in them
        AddStored(reserved, ledger.Skip(ledger.Count / 2));
        var grown = new IdentityGraph(rules);
        AddStored(grown, ledger);
        return Describe(reserved) == Describe(grown) && DescribeCuts(reserved) == DescribeCuts(grown)
            && Enumerable.Range(0, grown.IdentityCount).All(n => reserved.KeyOf(n) == grown.KeyOf(n))
            && ledger.SelectMany(e => e.Identities).All(i => reserved.TryGetNode(i, out _));
    }
}

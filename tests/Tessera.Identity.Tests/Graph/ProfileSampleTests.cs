using Tessera.Identity.Graph;
using static Tessera.Identity.Tests.Graph.GraphFixtures;

namespace Tessera.Identity.Tests.Graph;

/// <summary>The profiles the graph knows (identities that were an occurrence's primary) and uniform samples of them.</summary>
public sealed class ProfileSampleTests
{
    /// <summary>
    /// A CRM record per person (CRMID primary, with an email), and for every fourth person a web visit (ECID primary) with the
    /// CRMID: 1,000 people, 1,250 identities holding facts, 2,250 identities in all.
    /// </summary>
    private static List<LedgerEntry> People(int people = 1000)
    {
        var ledger = new List<LedgerEntry>();
        for (var p = 0; p < people; p++)
        {
            ledger.Add(Entry(ledger.Count + 1, p, $"CRMID:c{p}, Email:p{p}@example.com"));
            if (p % 4 == 0)
            {
                ledger.Add(Entry(ledger.Count + 1, p, $"ECID:e{p}, CRMID:c{p}"));
            }
        }
        return ledger;
    }

    private static IdentityGraph Loaded(IEnumerable<LedgerEntry> ledger)
    {
        var graph = new IdentityGraph(Rules());
        var load = graph.LoadStored(entriesPerBlock: 3, blocksPerHandOff: 2);
        ForEachStored(ledger, (_, key, value) => load.Take(key, value));
        load.Complete();
        graph.RederiveAll();
        return graph;
    }

    [Fact]
    public void Every_way_of_building_a_graph_marks_the_primary_identities_alone()
    {
        var ledger = People();
        foreach (var graph in new[] { Incremental(Rules(), ledger), IdentityGraph.Build(Rules(), ledger), Loaded(ledger), Incremental(Rules(), ledger).WithRules(Rules(maxIdentities: 2)) })
        {
            Assert.Equal(2250, graph.IdentityCount);
            Assert.Equal(1250, graph.HolderCount);
            Assert.True(graph.TryGetNode(Key("CRMID:c7"), out var crm) && graph.IsHolder(crm));
            Assert.True(graph.TryGetNode(Key("ECID:e8"), out var ecid) && graph.IsHolder(ecid));
            Assert.True(graph.TryGetNode(Key("Email:p8@example.com"), out var email) && !graph.IsHolder(email));
        }
    }

    [Fact]
    public void An_entry_whose_first_identity_holds_nothing_marks_no_holder()
    {
        // What a privacy deletion leaves when it removes an entry's primary: the rest still link, none holds the record.
        var ledger = People(8).Select(e => e.Sequence == 1 ? e with { Identities = [Key("Email:p0@example.com")], FirstHolds = false } : e)
            .Append(Entry(100, 100, "Email:p1@example.com, Phone:+15550000001") with { FirstHolds = false }).ToList();
        foreach (var graph in new[] { Incremental(Rules(), ledger), IdentityGraph.Build(Rules(), ledger), Loaded(ledger), Incremental(Rules(), ledger).WithRules(Rules(maxIdentities: 2)) })
        {
            Assert.True(graph.TryGetNode(Key("Email:p0@example.com"), out var email) && !graph.IsHolder(email));
            Assert.True(graph.TryGetNode(Key("ECID:e0"), out var ecid) && graph.IsHolder(ecid));
            Assert.True(graph.TryGetNode(Key("CRMID:c0"), out var crm) && !graph.IsHolder(crm)); // now only the web visit's second
            Assert.True(graph.TryGetNode(Key("Email:p1@example.com"), out var other) && !graph.IsHolder(other));
            Assert.Equal(9, graph.HolderCount); // CRMID c1-c7, ECID e0 and e4
        }
    }

    [Fact]
    public void Identities_numbered_past_the_last_holder_are_not_holders()
    {
        // Sixteen records of a CRMID alone, then one with 200 emails: the marks end in the first word of 64 identities, the
        // emails' numbers run three words past it, and a draw of one profile of seventeen picks nodes at random among them.
        var emails = string.Join(", ", Enumerable.Range(0, 200).Select(i => $"Email:e{i}@example.com"));
        var ledger = Enumerable.Range(0, 16).Select(i => Entry(i + 1, i, $"CRMID:c{i}")).Append(Entry(17, 17, "CRMID:x, " + emails));
        var graph = Incremental(Rules(maxIdentities: 500), ledger);
        Assert.True(graph.TryGetNode(Key("Email:e199@example.com"), out var last) && !graph.IsHolder(last));
        Assert.Equal((217, 17), (graph.IdentityCount, graph.HolderCount));
        for (var seed = 1; seed <= 50; seed++)
        {
            var (profiles, sample) = graph.SampleProfiles(1, stitched: true, new Random(seed));
            Assert.Equal(17, profiles);
            Assert.True(graph.IsHolder(Assert.Single(sample)));
        }
    }

    [Fact]
    public void Profiles_are_holders_alone_or_graphs_holding_one()
    {
        var graph = Incremental(Rules(), People());
        Assert.Equal(1250, graph.SampleProfiles(0, stitched: false, new Random(1)).Profiles);
        Assert.Equal(1000, graph.SampleProfiles(0, stitched: true, new Random(1)).Profiles);

        // A late login joins two people's cookie to the second person (the CRMID is unique): still one profile each.
        graph.Add(Entry(5000, 5000, "ECID:e0, CRMID:c1"));
        Assert.Equal(1000, graph.SampleProfiles(0, stitched: true, new Random(1)).Profiles);
        // A record stored under an email alone: one more identity, holder and profile.
        graph.Add(Entry(5001, 5001, "Email:lone@example.com"));
        Assert.Equal((2251, 1251, 1001), (graph.IdentityCount, graph.HolderCount, graph.SampleProfiles(0, stitched: true, new Random(1)).Profiles));
        // Its email seen again beside a person's CRMID (the CRMID first) joins it to that person: one profile fewer.
        graph.Add(Entry(5002, 5002, "CRMID:c9, Email:lone@example.com"));
        Assert.Equal((2251, 1251, 1000), (graph.IdentityCount, graph.HolderCount, graph.SampleProfiles(0, stitched: true, new Random(1)).Profiles));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_sample_of_all_lists_every_profile_once(bool stitched)
    {
        var graph = Incremental(Rules(), People());
        var (profiles, sample) = graph.SampleProfiles(5000, stitched, new Random(3));
        Assert.Equal(profiles, sample.Count);
        Assert.All(sample, node => Assert.True(graph.IsHolder(node)));
        Assert.Equal(profiles, (stitched ? sample.Select(graph.GraphOf) : sample).Distinct().Count());
    }

    [Theory]
    [InlineData(40)] // under an eighth of the profiles: drawn node by node
    [InlineData(400)] // more: drawn from the list of every profile
    public void Each_profile_is_drawn_as_often_whatever_its_identities(int count)
    {
        // The people with a visit are a quarter of the profiles and have three identities, two of them holders: drawn
        // by identity they would be 3/7 of the draws (of holders, 2/5).
        var graph = Incremental(Rules(), People());
        var random = new Random(11);
        var drawn = 0;
        var visitors = 0;
        for (var round = 0; round < 200; round++)
        {
            var (_, sample) = graph.SampleProfiles(count, stitched: true, random);
            Assert.Equal(count, sample.Select(graph.GraphOf).Distinct().Count());
            drawn += sample.Count;
            visitors += sample.Count(node => graph.SizeOf(node) == 3);
        }
        Assert.InRange((double)visitors / drawn, 0.23, 0.27);
        // The same seed draws the same sample.
        Assert.Equal(graph.SampleProfiles(count, stitched: true, new Random(5)).Sample, graph.SampleProfiles(count, stitched: true, new Random(5)).Sample);
    }
}

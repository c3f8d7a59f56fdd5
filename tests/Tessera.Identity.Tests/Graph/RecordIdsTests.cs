using Tessera.Identity.Graph;
using static Tessera.Identity.Tests.Graph.GraphFixtures;

namespace Tessera.Identity.Tests.Graph;

/// <summary>The record ids links name, kept as UTF-8 outside the link array.</summary>
public sealed class RecordIdsTests
{
    [Fact]
    public void Ids_read_back_as_added_and_none_stays_none()
    {
        var ids = new RecordIds();
        var plain = ids.Add("row 17");
        var accented = ids.Add("zoë-42");
        var empty = ids.Add("");
        var huge = ids.Add(new string('r', 5 << 20)); // longer than a chunk
        Assert.Equal("row 17", ids.Get(plain));
        Assert.Equal("zoë-42", ids.Get(accented));
        Assert.Equal("", ids.Get(empty));
        Assert.Equal(5 << 20, ids.Get(huge)!.Length);
        Assert.Equal(RecordIds.None, ids.Add((string?)null));
        Assert.Equal(RecordIds.None, ids.Add(ReadOnlySpan<byte>.Empty));
        Assert.Null(ids.Get(RecordIds.None));
    }

    [Fact]
    public void Compaction_keeps_the_named_ids_and_copies_a_shared_one_once()
    {
        var ids = new RecordIds();
        var handles = new[] { ids.Add("a"), ids.Add("garbage"), ids.Add("b"), RecordIds.None };
        handles[1] = handles[0]; // Two holders name "a"; "garbage" is named by nobody now.
        var compacted = ids.Compacted(handles.Length, i => handles[i], (i, moved) => handles[i] = moved);
        Assert.Equal(["a", "a", "b", null], handles.Select(compacted.Get));
        Assert.Equal(handles[0], handles[1]);
    }

    [Fact]
    public void A_graph_names_each_links_newest_record_through_compactions()
    {
        var graph = new IdentityGraph(Rules(unique: ["CRMID"], maxIdentities: 50));
        var a = graph.Intern("CRMID", "c1");
        var b = graph.Intern("Email", "x@example.com");
        var c = graph.Intern("ECID", "e1");
        var source = graph.Source("web", "b1");
        const int Occurrences = 600_000; // about 14 MiB of ids: past the first compaction
        for (var i = 0; i < Occurrences; i++)
        {
            graph.Add([a, b, c], source, $"record-{i:D12}", Start.AddSeconds(i).UtcTicks, i + 1);
        }
        graph.Record([c, a], source, "last", Start.AddSeconds(Occurrences).UtcTicks, Occurrences + 1);
        var links = graph.AllLinks().ToDictionary(l => (l.From.ToString(), l.To.ToString()), l => l.Origin.Record);
        Assert.Equal($"record-{Occurrences - 1:D12}", links[("CRMID:c1", "Email:x@example.com")]);
        Assert.Equal("last", links[("CRMID:c1", "ECID:e1")]);
        var copy = graph.WithRules(Rules(unique: ["CRMID"], maxIdentities: 10));
        graph.Add([a, b], source, "after the copy", Start.AddSeconds(Occurrences + 2).UtcTicks, Occurrences + 2);
        Assert.Contains(copy.AllLinks(), l => l.Origin.Record == $"record-{Occurrences - 1:D12}");
        Assert.DoesNotContain(copy.AllLinks(), l => l.Origin.Record == "after the copy");
    }
}

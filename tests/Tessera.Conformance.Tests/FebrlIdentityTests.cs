using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Ingestion.Mapping;

namespace Tessera.Conformance.Tests;

/// <summary>
/// Febrl's synthetic person records (originals and duplicates with typos), ingested with the social
/// security id as a person identity. Each record is keyed by its own record id; the graphs then group
/// the records that share an ssn, and those groups are compared with the ground truth in
/// <c>rec_id</c> (<c>rec-{entity}-org</c>, <c>rec-{entity}-dup-{k}</c>). The graph is deterministic:
/// it joins only what an identity it trusts says, so its precision must be 1.0; recall is what that
/// one identity can give, reported (measured: 0.9000 on dataset1, 0.9122 on dataset4a+4b; the floors
/// asserted are those, rounded down, so a regression shows).
/// </summary>
[Trait("Category", "Conformance")]
public sealed class FebrlIdentityTests
{
    private static readonly string[] Columns =
        ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state", "date_of_birth", "soc_sec_id"];

    [Theory]
    [InlineData(1000, 0.90, "febrl/dataset1.csv")]
    [InlineData(10000, 0.91, "febrl/dataset4a.csv", "febrl/dataset4b.csv")]
    public async Task Graphs_from_the_ssn_match_the_ground_truth_with_perfect_precision(int records, double minimumRecall, params string[] files)
    {
        await using var test = await ConformanceWorkspace.CreateAsync();
        await test.CreateNamespaceAsync("FebrlRecord", IdentityType.NonPeople);
        await test.CreateNamespaceAsync("SSN", IdentityType.CrossDevice);
        await test.DefineAsync("""
            {"name":"people","class":"profile","fields":{
              "rec_id":{"type":"string","required":true,"identity":{"namespace":"FebrlRecord","primary":true}},
              "soc_sec_id":{"type":"string","identity":{"namespace":"SSN"}},
              "given_name":{"type":"string"}, "surname":{"type":"string"}, "street_number":{"type":"string"},
              "address_1":{"type":"string"}, "address_2":{"type":"string"}, "suburb":{"type":"string"},
              "postcode":{"type":"string"}, "state":{"type":"string"}, "date_of_birth":{"type":"string"}}}
            """);
        // The header is written "rec_id, given_name, ...": name the columns by position instead.
        var mapping = new MappingSpec { Columns = Columns };
        var ingested = 0L;
        foreach (var file in files)
        {
            var batch = await test.Ingestion.IngestFileAsync("prod", "people", SharedDatasets.Require(file), mapping);
            Assert.True(batch.Counts.Failed == 0, ConformanceWorkspace.Describe(test.Quarantine(batch.Id)));
            ingested += batch.Counts.Accepted;
        }
        Assert.Equal(records, ingested);

        // Every record's graph, as the set of record ids in it.
        var graphOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var entityOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var fact in test.Facts())
        {
            var recId = fact.Value.GetProperty("record").GetProperty("rec_id").GetString()!;
            entityOf[recId] = recId.Split('-')[1];
            var graph = test.Workspace.Identity.Find("prod", new IdentityKey("FebrlRecord", recId))!.Graph;
            graphOf[recId] = string.Join(",", graph.Identities.Where(i => i.Namespace == "FebrlRecord").Select(i => i.Value).Order(StringComparer.Ordinal));
        }
        Assert.Equal(records, graphOf.Count);

        long truePairs = 0, predictedPairs = 0, correctPairs = 0;
        var ids = graphOf.Keys.Order(StringComparer.Ordinal).ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            for (var j = i + 1; j < ids.Length; j++)
            {
                var same = entityOf[ids[i]] == entityOf[ids[j]];
                var joined = graphOf[ids[i]] == graphOf[ids[j]];
                truePairs += same ? 1 : 0;
                predictedPairs += joined ? 1 : 0;
                correctPairs += same && joined ? 1 : 0;
            }
        }
        var precision = predictedPairs == 0 ? 1.0 : (double)correctPairs / predictedPairs;
        var recall = (double)correctPairs / truePairs;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{string.Join(" + ", files)}: {records} records, {truePairs} true pairs, {predictedPairs} joined by the graph, {correctPairs} correct: precision {precision:0.0000}, recall {recall:0.0000}");
        Assert.Equal(1.0, precision);
        Assert.True(recall >= minimumRecall, $"recall {recall:0.0000} below {minimumRecall}");
    }
}

using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Ingestion.Mapping;

namespace Tessera.Conformance.Tests;

/// <summary>
/// CDNOW_master.txt: 69,659 real CD-store transactions, separated by runs of spaces with leading
/// spaces, CRLF line ends, dates as yyyyMMdd and zero-padded customer ids ("00001").
/// </summary>
[Trait("Category", "Conformance")]
public sealed class CdnowTests
{
    private const string Schema = """
        {"name":"orders","class":"event","fields":{
          "customer_id":{"type":"string","required":true,"pattern":"^[0-9]{5}$","identity":{"namespace":"CRMID","primary":true}},
          "number_of_cds":{"type":"int","min":1},
          "dollar_value":{"type":"double","min":0}}}
        """;

    private static readonly MappingSpec Mapping = new()
    {
        Delimiter = "whitespace",
        Fields = new Dictionary<string, string?> { ["date"] = "timestamp" },
        Formats = new Dictionary<string, string> { ["date"] = "yyyyMMdd" },
    };

    [Fact]
    public async Task Every_transaction_is_stored_as_an_order_event_with_its_zero_padded_customer_id()
    {
        var path = SharedDatasets.Require("cdnow/CDNOW_master.txt");
        await using var test = await ConformanceWorkspace.CreateAsync();
        await test.DefineAsync(Schema);

        var batch = await test.Ingestion.IngestFileAsync("prod", "orders", path, Mapping);

        Assert.True(batch.Counts.Failed == 0, ConformanceWorkspace.Describe(test.Quarantine(batch.Id)));
        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal((69_659L, 69_659L, 0L, 0L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed, batch.Counts.Duplicates));

        // Customer "00001" keeps its zero padding: in the key, the record and the identities.
        var first = Assert.Single(test.FactsOf(FactKeys.EventTag, "CRMID", "00001"));
        var record = first.GetProperty("record");
        Assert.Equal("00001", record.GetProperty("customer_id").GetString());
        Assert.Equal("1997-01-01T00:00:00.000Z", record.GetProperty("timestamp").GetString());
        Assert.Equal(1, record.GetProperty("number_of_cds").GetInt32());
        Assert.Equal(11.77, record.GetProperty("dollar_value").GetDouble());
        Assert.Equal("00001", first.GetProperty("identities")[0].GetProperty("id").GetString());
        Assert.Empty(test.FactsOf(FactKeys.EventTag, "CRMID", "1"));
        Assert.Equal(2, test.FactsOf(FactKeys.EventTag, "CRMID", "00002").Count);

        var facts = test.Facts().ToList();
        Assert.Equal(69_659, facts.Count);
        Assert.Equal(23_570, facts.Select(f => f.Key[3]).Distinct(StringComparer.Ordinal).Count());
        Assert.All(facts, f => Assert.Equal(5, f.Key[3].Length));
    }

    [Fact]
    public async Task Ingesting_the_file_again_stores_nothing_twice()
    {
        var path = SharedDatasets.Require("cdnow/CDNOW_master.txt");
        await using var test = await ConformanceWorkspace.CreateAsync();
        await test.DefineAsync(Schema);
        await test.Ingestion.IngestFileAsync("prod", "orders", path, Mapping);

        var again = await test.Ingestion.IngestFileAsync("prod", "orders", path, Mapping);

        Assert.Equal((69_659L, 69_659L), (again.Counts.Accepted, again.Counts.Duplicates));
        Assert.Equal(69_659, test.Facts().Count());
    }
}

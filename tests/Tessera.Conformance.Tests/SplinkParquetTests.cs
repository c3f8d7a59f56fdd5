using Tessera.Abstractions;
using Tessera.Ingestion;

namespace Tessera.Conformance.Tests;

/// <summary>
/// splink's historical_figures_with_errors_50k.parquet: person records with typos, at size. The
/// file is named "50k"; its footer and its rows say 50,578 (5,156 people).
/// </summary>
/// <remarks>
/// <c>dob</c> is declared a string, not a date: the dataset's errors are deliberate and include
/// impossible dates such as 1856-86-18 and BC years written -0050-01-0, which a matching stage
/// needs to see as they were written.
/// </remarks>
[Trait("Category", "Conformance")]
public sealed class SplinkParquetTests
{
    [Fact]
    public async Task Every_parquet_row_is_stored()
    {
        var path = SharedDatasets.Require("splink/historical_figures_with_errors_50k.parquet");
        await using var test = await ConformanceWorkspace.CreateAsync();
        await test.CreateNamespaceAsync("HistoricalFigure", IdentityType.CrossDevice);
        await test.DefineAsync("""
            {"name":"figures","class":"profile","fields":{
              "unique_id":{"type":"string","required":true,"identity":{"namespace":"HistoricalFigure","primary":true}},
              "cluster":{"type":"string","required":true},
              "full_name":{"type":"string"},
              "first_and_surname":{"type":"string"},
              "first_name":{"type":"string"},
              "surname":{"type":"string"},
              "dob":{"type":"string"},
              "birth_place":{"type":"string"},
              "postcode_fake":{"type":"string"},
              "gender":{"type":"string"},
              "occupation":{"type":"string"}}}
            """);

        var batch = await test.Ingestion.IngestFileAsync("prod", "figures", path);

        Assert.True(batch.Counts.Failed == 0, ConformanceWorkspace.Describe(test.Quarantine(batch.Id)));
        Assert.Equal(("parquet", BatchStatus.Success), (batch.Format, batch.Status));
        Assert.Equal((50_578L, 50_578L), (batch.Counts.Input, batch.Counts.Accepted));
        var facts = test.Facts().ToList();
        Assert.Equal(50_578, facts.Count);
        Assert.Equal(5_156, facts.Select(f => f.Value.GetProperty("record").GetProperty("cluster").GetString()).Distinct(StringComparer.Ordinal).Count());
        var first = Assert.Single(test.FactsOf(FactKeys.RecordTag, "HistoricalFigure", "Q2296770-1")).GetProperty("record");
        Assert.Equal("thomas clifford, 1st baron clifford of chudleigh", first.GetProperty("full_name").GetString());
        Assert.Equal("1630-08-01", first.GetProperty("dob").GetString());
    }
}

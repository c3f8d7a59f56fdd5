using System.Globalization;
using System.Text;
using Tessera.Abstractions;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// Tabular profile files are validated on every core in chunks; the result must be the one a
/// single pass gives: the later of two rows for one identity wins, rejected rows keep their row
/// numbers, and it holds through the WAL, the bulk load, and the read-twice path.
/// </summary>
public sealed class ParallelValidationTests
{
    private const int Rows = 20_000;
    private const int Identities = 7_000;

    [Theory]
    [InlineData(null, false)]
    [InlineData("""{"bulkLoadThreshold": 1000}""", false)]
    [InlineData(null, true)]
    public async Task A_large_profile_file_gives_the_result_of_one_ordered_pass(string? config, bool readTwice)
    {
        await using var test = await TestWorkspace.CreateAsync(config);
        await test.DefineAsync(Schemas.Crm);
        var text = new StringBuilder("crmId,age,firstName\n");
        var expected = new Dictionary<string, long>();
        var rejected = new List<long>();
        for (var row = 1; row <= Rows; row++)
        {
            var id = (row % Identities + 1).ToString("D6", CultureInfo.InvariantCulture); // not 000000: all zeros is a blocked identity
            var age = row % 997 == 0 ? 200 : row % 150;
            text.Append(CultureInfo.InvariantCulture, $"{id},{age},n{row}\n");
            if (age == 200)
            {
                rejected.Add(row);
            }
            else
            {
                expected[id] = age;
            }
        }
        var path = test.WriteFile("crm.csv", text.ToString());
        var ingestion = readTwice
            ? new IngestionService(test.Catalog, test.Workspace.Identity, test.Ingestion.Limits, Path.Combine(test.Directory, "uploads")) { RetainBytes = 0 }
            : test.Ingestion;

        var batch = await ingestion.IngestFileAsync("prod", "crm", path);

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal((Rows, Rows - rejected.Count, rejected.Count), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        Assert.Equal(rejected, test.Quarantine(batch.Id).Select(e => e.Row));
        var facts = test.Facts();
        Assert.Equal(Rows - rejected.Count, facts.Count); // every accepted row is a version of its identity's fragment
        Assert.All(facts, fact => Assert.Equal(fact.KeyRow, fact.Value.GetProperty("row").GetInt64()));
        Assert.Single(facts.Select(f => f.Value.GetProperty("order").GetInt64()).Distinct()); // one order for every worker of the batch
        var newest = test.NewestFacts();
        Assert.Equal(expected.Count, newest.Count);
        Assert.All(newest, fact => Assert.Equal(expected[fact.Identity], fact.Record.GetProperty("age").GetInt64())); // the last row wins
    }
}

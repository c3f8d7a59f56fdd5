using System.Globalization;
using System.Text;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// Bad input never costs good data: records of any shape, with values at the edges of every type, go to the quarantine by
/// name or are stored; none throws out of its batch, and every record of the file is counted one way or the other.
/// </summary>
public sealed class MalformedInputProperties
{
    private const string Config = """{"limits":{"batchFailureThreshold":1.0,"maxFieldsPerRecord":50,"maxIdentitiesPerRecord":5}}""";

    private static readonly string[] Names =
    [
        "crmId", "email", "firstName", "age", "tier", "zip", "birthDate", "lastSeen", "score", "visits", "vip", "address", "tags",
        "attributes", "context", "identityMap", "xdm:identityMap", "_id", "@id", "timestamp", "xdm:timestamp", "ecid", "page", "unknown", "",
        "\\u0000", "a.b", "\\ud800",
    ];

    private static readonly string[] Scalars =
    [
        "null", "true", "false", "0", "-0", "1e308", "-1e308", "1e400", "1e-400", "9223372036854775808", "-9223372036854775809",
        "2147483648", "0.1", "123456789012345678901234567890", "\"\"", "\" \"", "\"null\"", "\"n/a\"", "\"-1\"", "\"0000\"", "\"x@y.z\"",
        "\"+14155550123\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\ud83d\\ude00\"", "\"é\"", "\"2024-02-30\"",
        "\"0001-01-01T00:00:00+14:00\"", "\"9999-12-31T23:59:59-14:00\"", "\"9999-12-31\"", "\"2024-01-01T25:00:00Z\"", "\"1700000000000\"",
        "\"gold\"", "\"GOLD\"", "\"12345\"", "\"a\\\"b\\\\c\"", "\"" + new string('x', 2000) + "\"",
    ];

    [Theory]
    [InlineData(1, "crm")]
    [InlineData(2, "crm")]
    [InlineData(3, "crm")]
    [InlineData(4, "crm")]
    [InlineData(5, "web")]
    [InlineData(6, "web")]
    public async Task No_json_record_throws_out_of_its_batch(int seed, string dataset)
    {
        var random = new Random(seed);
        await using var test = await TestWorkspace.CreateAsync(Config);
        await test.DefineAsync(dataset == "crm" ? Schemas.Crm : Schemas.Web);
        var good = dataset == "crm"
            ? Enumerable.Range(0, 20).Select(i => $$"""{"crmId":"good{{i}}"}""")
            : Enumerable.Range(0, 20).Select(i => $$"""{"_id":"good{{i}}","timestamp":"2026-11-01T10:00:00Z","ecid":"d{{i}}"}""");
        var lines = Enumerable.Range(0, 300).Select(i => Value(random, 0, i)).Concat(good).ToList();

        var batch = await test.IngestAsync(dataset, test.WriteFile(dataset + ".jsonl", string.Join('\n', lines)));

        Assert.Equal(lines.Count, batch.Counts.Input);
        Assert.Equal(batch.Counts.Input, batch.Counts.Accepted + batch.Counts.Failed);
        Assert.True(batch.Counts.Accepted >= 20, "the good records are stored");
        Assert.All(test.Quarantine(batch.Id), entry => Assert.NotEmpty(entry.Errors));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task No_csv_cell_throws_out_of_its_batch(int seed)
    {
        var random = new Random(seed);
        await using var test = await TestWorkspace.CreateAsync(Config);
        await test.DefineAsync(Schemas.Crm);
        string[] columns = ["crmId", "email", "age", "birthDate", "born", "lastSeen", "seen", "score", "visits", "vip", "city", "tag", "ecid"];
        var csv = new StringBuilder(string.Join(',', columns)).Append('\n');
        for (var row = 0; row < 300; row++)
        {
            csv.AppendJoin(',', columns.Select(_ => Quote(Cell(random)))).Append('\n');
        }
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?>
            {
                ["born"] = "birthDate",
                ["birthDate"] = null,
                ["seen"] = "lastSeen",
                ["lastSeen"] = null,
                ["city"] = "address.city",
                ["tag"] = "context.tag",
                ["ecid"] = "identityMap.ECID"
            },
            Formats = new Dictionary<string, string> { ["born"] = "M/d/yyyy", ["seen"] = "yyyyMMddHHmmss.FFFFFFF zzz" },
        };

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", csv.ToString()), mapping);

        Assert.Equal(300, batch.Counts.Input);
        Assert.Equal(batch.Counts.Input, batch.Counts.Accepted + batch.Counts.Failed);
        Assert.All(test.Quarantine(batch.Id), entry => Assert.NotEmpty(entry.Errors));
    }

    private static string Cell(Random random) => random.Next(6) switch
    {
        0 => "",
        1 => random.Next(1_000_000).ToString(CultureInfo.InvariantCulture),
        2 => ((char)random.Next(0x20, 0xD800)).ToString(),
        3 => "1/2/" + random.Next(-5, 20000).ToString(CultureInfo.InvariantCulture),
        4 => random.Next(100_000_000).ToString("D8", CultureInfo.InvariantCulture) + "000000.1234567 +" + random.Next(0, 30).ToString("D2", CultureInfo.InvariantCulture) + ":00",
        _ => new[] { "NaN", "-Infinity", "1e999", "-0", "999999999999999999", "99999999999999999999", "true", "Y", "null", "n/a", "+1 415 555 0123",
            "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "x@y", "\"", "a,b", "\u00e9\u0301" }[random.Next(17)],
    };

    private static string Quote(string cell) => "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A JSON value: at the top a record-like object, deeper anything.</summary>
    private static string Value(Random random, int depth, int row)
    {
        if (depth == 0)
        {
            var fields = Enumerable.Range(0, random.Next(0, 8)).Select(_ => $"\"{Names[random.Next(Names.Length)]}\":{Value(random, 1, row)}");
            var id = random.Next(10) == 0 ? "" : $"\"crmId\":\"r{row}\",";
            return "{" + id + string.Join(',', fields) + "}";
        }
        return (depth > 3 ? 0 : random.Next(4)) switch
        {
            1 => "[" + string.Join(',', Enumerable.Range(0, random.Next(0, 4)).Select(_ => Value(random, depth + 1, row))) + "]",
            2 => "{" + string.Join(',', Enumerable.Range(0, random.Next(0, 4))
                .Select(_ => $"\"{Names[random.Next(Names.Length)]}\":{Value(random, depth + 1, row)}")) + "}",
            3 => "{\"Email\":[{\"id\":" + Scalars[random.Next(Scalars.Length)] + ",\"primary\":" + Scalars[random.Next(Scalars.Length)] + "}],\"" +
                Names[random.Next(Names.Length)] + "\":" + Value(random, depth + 1, row) + "}",
            _ => Scalars[random.Next(Scalars.Length)],
        };
    }
}

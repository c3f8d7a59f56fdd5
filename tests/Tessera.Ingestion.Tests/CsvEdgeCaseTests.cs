using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Tests;

/// <summary>Files as spreadsheets and other systems really write them.</summary>
public sealed class CsvEdgeCaseTests
{
    private static async Task<TestWorkspace> CrmAsync()
    {
        var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        return test;
    }

    [Theory]
    [InlineData(",")]
    [InlineData("whitespace")]
    public async Task A_utf8_byte_order_mark_is_not_part_of_the_first_column_name(string delimiter)
    {
        await using var test = await CrmAsync();
        var separator = delimiter == "," ? "," : "  ";
        var path = Path.Combine(test.Directory, "crm.csv");
        await File.WriteAllTextAsync(path, $"crmId{separator}firstName\r\n00001{separator}Zoë\r\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Delimiter = delimiter });

        Assert.True(batch.Counts.Accepted == 1, string.Join("; ", test.Quarantine(batch.Id).SelectMany(e => e.Errors).Select(e => $"{e.Path} {e.Code}")));
        Assert.Equal("Zoë", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001")).Text("firstName"));
    }

    [Fact]
    public async Task Numbers_json_cannot_hold_and_epoch_times_past_the_calendar_are_quarantined_by_name()
    {
        await using var test = await CrmAsync();
        var lines = new List<string> { "crmId,score,lastSeen" };
        lines.AddRange(Enumerable.Range(1, 100).Select(i => $"{i:00000},2.5,1700000000000"));
        lines.AddRange(["b1,NaN,", "b2,Infinity,", "b3,1e999,", "b4,1,999999999999999999"]);

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", string.Join('\n', lines)));

        Assert.Equal(100, batch.Counts.Accepted);
        var errors = test.Quarantine(batch.Id).Select(e => Assert.Single(e.Errors)).Select(e => $"{e.Path} {e.Code}").ToList();
        Assert.Equal(["score TYPE_MISMATCH", "score TYPE_MISMATCH", "score TYPE_MISMATCH", "lastSeen FORMAT_INVALID"], errors);
    }

    [Fact]
    public async Task Crlf_line_ends_and_a_missing_final_newline_are_fine()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,firstName\r\n00001,Ann\r\n00002,Bob");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(2, batch.Counts.Accepted);
        Assert.Equal("Bob", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00002")).Text("firstName"));
    }

    [Fact]
    public async Task A_header_only_file_is_an_empty_successful_batch()
    {
        await using var test = await CrmAsync();

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", "crmId,firstName\n"));

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal(0, batch.Counts.Input);
        Assert.Empty(test.Facts());
    }

    [Fact]
    public async Task Non_ascii_values_and_identities_are_kept_exactly()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,firstName,email\nÉ-001,Łukasz,łukasz@例え.jp\n");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(1, batch.Counts.Accepted);
        var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "É-001"));
        Assert.Equal("Łukasz", fact.Text("firstName"));
        Assert.Contains(("Email", "łukasz@例え.jp", false), fact.Identities);
    }

    [Fact]
    public async Task Identity_values_are_trimmed_but_other_values_are_not()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,firstName\n\" 00001 \",\" Ann \"\n");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(1, batch.Counts.Accepted);
        var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001"));
        Assert.Equal(" Ann ", fact.Text("firstName"));
    }
}

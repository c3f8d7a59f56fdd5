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

    /// <summary>Fifty good CRM rows (00001..00050) with <paramref name="bad"/> bytes as a row of their own after the tenth.</summary>
    private static byte[] CrmWith(byte[] bad, string separator = ",")
    {
        var rows = Enumerable.Range(1, 50).Select(i => System.Text.Encoding.UTF8.GetBytes($"{i:D5}{separator}Ann{i}\n")).ToList();
        rows.Insert(10, bad);
        return [.. System.Text.Encoding.UTF8.GetBytes($"crmId{separator}firstName\n"), .. rows.SelectMany(r => r)];
    }

    [Theory]
    [InlineData(",")]
    [InlineData("whitespace")]
    public async Task A_row_with_bytes_that_are_not_utf8_is_quarantined_naming_its_column_and_the_others_are_stored(string delimiter)
    {
        await using var test = await CrmAsync();
        var separator = delimiter == "," ? "," : "  ";
        // "Zo\xEB" is Latin-1, not UTF-8; U+FFFD written as UTF-8 is a valid character and stays one.
        byte[] bad = [.. "b0001"u8, .. System.Text.Encoding.UTF8.GetBytes(separator), .. "Zo"u8, 0xEB, (byte)'\n', .. "b0002"u8,
            .. System.Text.Encoding.UTF8.GetBytes(separator), .. "Re\uFFFDe\n"u8];
        var path = Path.Combine(test.Directory, "crm.csv");
        await File.WriteAllBytesAsync(path, CrmWith(bad, separator), TestContext.Current.CancellationToken);

        var batch = await test.IngestAsync("crm", path, new MappingSpec { Delimiter = delimiter });

        Assert.Equal((BatchStatus.Success, 51L, 1L), (batch.Status, batch.Counts.Accepted, batch.Counts.Failed));
        var entry = Assert.Single(test.Quarantine(batch.Id));
        var error = Assert.Single(entry.Errors);
        Assert.Equal((11L, 12L), (entry.Row, entry.Line));
        Assert.Equal(("firstName", ErrorCodes.EncodingInvalid), (error.Path, error.Code));
        Assert.Equal("line 12: column 'firstName' holds bytes that are not UTF-8 (at character 3, shown as U+FFFD); save the file as UTF-8", error.Message);
        Assert.Contains("Zo\uFFFD", entry.Raw);
        Assert.Equal("Re\uFFFDe", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "b0002")).Text("firstName"));
        Assert.Empty(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "b0001"));

        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);
        Assert.Equal(ErrorCodes.EncodingInvalid, Assert.Single(Assert.Single(test.Quarantine(replay.Id)).Errors).Code);
    }

    [Fact]
    public async Task Bytes_that_are_not_utf8_after_a_byte_order_mark_are_found_too()
    {
        await using var test = await CrmAsync();
        var path = Path.Combine(test.Directory, "crm.csv");
        // 0xC3 opens a two-byte sequence that '(' does not continue.
        await File.WriteAllBytesAsync(path, [0xEF, 0xBB, 0xBF, .. CrmWith([.. "b0001,"u8, 0xC3, (byte)'(', (byte)'\n'])], TestContext.Current.CancellationToken);

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal(50, batch.Counts.Accepted);
        Assert.Equal(ErrorCodes.EncodingInvalid, Assert.Single(Assert.Single(test.Quarantine(batch.Id)).Errors).Code);
    }

    [Fact]
    public async Task A_json_line_with_bytes_that_are_not_utf8_is_quarantined_naming_its_field()
    {
        await using var test = await CrmAsync();
        var lines = Enumerable.Range(1, 50).Select(i => System.Text.Encoding.UTF8.GetBytes($"{{\"crmId\":\"{i:D5}\",\"firstName\":\"Ann\"}}\n")).ToList();
        lines.Insert(10, [.. "{\"crmId\":\"b0001\",\"address\":{\"city\":\"K"u8, 0xF6, .. "ln\"}}\n"u8]);
        var path = Path.Combine(test.Directory, "crm.jsonl");
        await File.WriteAllBytesAsync(path, [.. lines.SelectMany(l => l)], TestContext.Current.CancellationToken);

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal((50L, 1L), (batch.Counts.Accepted, batch.Counts.Failed));
        var entry = Assert.Single(test.Quarantine(batch.Id));
        var error = Assert.Single(entry.Errors);
        Assert.Equal((11L, "address.city", ErrorCodes.EncodingInvalid), (entry.Row, error.Path, error.Code));
        Assert.StartsWith("line 11: 'address.city' holds bytes that are not UTF-8", error.Message);
        Assert.Contains("K\uFFFDln", entry.Raw);
    }

    [Fact]
    public async Task A_quote_never_closed_fails_the_batch_naming_where_it_opened_instead_of_swallowing_the_rows_after_it()
    {
        await using var test = await CrmAsync();
        var rows = Enumerable.Range(1, 50).Select(i => $"{i:D5},Ann{i}").ToList();
        rows.Insert(10, "b0001,\"Ann");
        var path = test.WriteFile("crm.csv", "crmId,firstName\n" + string.Join('\n', rows) + "\n");

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", path));

        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Equal("file 'crm.csv' cannot be read as csv: row 11 (line 12) opens a quote that is never closed, so the 40 line(s) after it to the end of the file "
            + "would be read as one field; close the quote (a quote inside a field is written twice, \"\")", error.Message);
        Assert.Empty(test.Facts());
        Assert.Equal(BatchStatus.Failed, Assert.Single(test.Catalog.BatchesNewestFirst("prod")).Status);
    }

    [Fact]
    public async Task A_quote_never_closed_on_the_last_line_quarantines_that_row_only()
    {
        await using var test = await CrmAsync();
        var rows = Enumerable.Range(1, 50).Select(i => $"{i:D5},Ann{i}");
        var path = test.WriteFile("crm.csv", "crmId,firstName\n" + string.Join('\n', rows) + "\nb0001,\"Ann\n");

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal((50L, 1L), (batch.Counts.Accepted, batch.Counts.Failed));
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal((51L, ErrorCodes.ParseError), (entry.Row, Assert.Single(entry.Errors).Code));
        Assert.Equal("line 52: a quote opened in this row is never closed", entry.Errors[0].Message);
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

    /// <summary>Sep numbers the first row it reads with the line after it; without a header that row is the file's first.</summary>
    [Fact]
    public async Task Without_a_header_the_first_row_is_on_line_1()
    {
        await using var test = await CrmAsync();
        var rows = new List<string> { "b0001,Ann,x", "00002,\"Bob\nJr\",1", "b0003,Cy,y" };
        rows.AddRange(Enumerable.Range(4, 60).Select(i => $"{i:D5},Ann{i},1.5"));
        var mapping = new MappingSpec { Header = false, Columns = ["crmId", "firstName", "score"] };

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", string.Join('\n', rows)), mapping);

        Assert.Equal(61, batch.Counts.Accepted);
        Assert.Equal([(1L, 1L), (3L, 4L)], test.Quarantine(batch.Id).Select(e => (e.Row, e.Line)));
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

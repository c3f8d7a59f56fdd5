using Tessera.Activation.Files;
using static Tessera.Activation.Tests.Files.ExportTestData;

namespace Tessera.Activation.Tests.Files;

/// <summary>Splitting into parts, the column model, mandatory attributes and de-duplication.</summary>
public sealed class FileExporterTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly FileExporter _exporter = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_run_above_the_row_limit_is_split_into_parts_all_suffixed_in_order()
    {
        var settings = Settings(_folder.Path) with { MaxRowsPerFile = 4 };
        var result = await _exporter.ExportAsync("crm", "aud-1", RunAt, MemberColumns, Members(10), settings);

        Assert.Equal(["crm_aud-1_20261129050607_part0001.csv", "crm_aud-1_20261129050607_part0002.csv", "crm_aud-1_20261129050607_part0003.csv"],
            result.Files.Select(f => f.Name));
        Assert.Equal([4L, 4, 2], result.Files.Select(f => f.Rows));
        Assert.Equal(result.Files.Select(f => f.Name), _folder.FileNames());
        var emails = result.Files.SelectMany(f => ReadCsv(f.Path).Rows).Select(r => r[0]);
        Assert.Equal(Members(10).Select(m => m.Keys[0].Value), emails);
        Assert.Equal(10, result.RowsWritten);
        Assert.Equal(result.Files.Sum(f => new FileInfo(f.Path).Length), result.Bytes);
    }

    [Theory]
    [InlineData(FileExportFormat.JsonLines, true, ".jsonl.gz")]
    [InlineData(FileExportFormat.Parquet, false, ".parquet")]
    public async Task Parts_of_every_format_carry_the_suffix_before_the_extension(FileExportFormat format, bool gzip, string extension)
    {
        var settings = Settings(_folder.Path, format) with { MaxRowsPerFile = 3, Gzip = gzip };
        var result = await _exporter.ExportAsync("crm", "aud-1", RunAt, MemberColumns, Members(7), settings);

        Assert.Equal([1, 2, 3], result.Files.Select(f => int.Parse(f.Name.AsSpan(f.Name.IndexOf("_part", StringComparison.Ordinal) + 5, 4), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(result.Files, f => Assert.EndsWith(extension, f.Name, StringComparison.Ordinal));
        Assert.Equal([3L, 3, 1], result.Files.Select(f => f.Rows));
    }

    [Fact]
    public async Task Exactly_the_row_limit_is_one_file_without_a_part_suffix()
    {
        var settings = Settings(_folder.Path) with { MaxRowsPerFile = 5 };
        var result = await _exporter.ExportAsync("crm", "aud-1", RunAt, MemberColumns, Members(5), settings);

        var file = Assert.Single(result.Files);
        Assert.Equal("crm_aud-1_20261129050607.csv", file.Name);
        Assert.Equal(5, file.Rows);
    }

    [Fact]
    public async Task The_run_time_is_written_in_utc()
    {
        var local = new DateTimeOffset(2026, 11, 29, 7, 6, 7, TimeSpan.FromHours(2));
        var result = await _exporter.ExportAsync("crm", "aud-1", local, MemberColumns, Members(1), Settings(_folder.Path));

        Assert.Equal("crm_aud-1_20261129050607.csv", result.Files[0].Name);
    }

    [Fact]
    public async Task Columns_take_the_first_match_key_of_their_target_then_the_attribute_of_their_name()
    {
        var record = new DeliveryRecord(0, "aud-1", "p1", DeliveryOperation.Add, RunAt,
            [new MatchKey("email", "first@example.com"), new MatchKey("email", "second@example.com"), new MatchKey("phone", "+15550100")],
            [new("email", "attribute@example.com"), new("city", "Lyon"), new("unmapped", "x")]);

        var result = await _exporter.ExportAsync("d", "a", RunAt, ["phone", "email", "city", "country"], [record], Settings(_folder.Path));

        var (header, rows) = ReadCsv(result.Files[0].Path);
        Assert.Equal(["phone", "email", "city", "country"], header);
        Assert.Equal(["+15550100", "first@example.com", "Lyon", ""], Assert.Single(rows));
    }

    [Fact]
    public async Task The_operation_column_says_add_or_remove_and_an_update_is_an_add()
    {
        DeliveryRecord[] records =
        [
            Record(DeliveryOperation.Add, "a@example.com"),
            Record(DeliveryOperation.Remove, "b@example.com"),
            Record(DeliveryOperation.Update, "c@example.com"),
        ];

        var result = await _exporter.ExportAsync("d", "a", RunAt, ["email", FileExporter.OperationColumn], records, Settings(_folder.Path));

        Assert.Equal(["add", "remove", "add"], ReadCsv(result.Files[0].Path).Rows.Select(r => r[1]));
    }

    [Fact]
    public async Task Without_an_operation_column_a_removal_is_left_out_and_counted()
    {
        DeliveryRecord[] records = [Record(DeliveryOperation.Add, "a@example.com"), Record(DeliveryOperation.Remove, "b@example.com")];

        var result = await _exporter.ExportAsync("d", "a", RunAt, ["email"], records, Settings(_folder.Path));

        Assert.Equal(1, result.RowsWritten);
        Assert.Equal(2, result.RecordsRead);
        Assert.Equal(1, result.Excluded[ExportExclusionReasons.RemovalWithoutOperationColumn]);
    }

    [Fact]
    public async Task Rows_missing_a_mandatory_attribute_are_left_out_and_counted()
    {
        DeliveryRecord[] records =
        [
            Member("a@example.com", ("firstName", "Ann"), ("tier", "gold")),
            Member(null, ("firstName", "No email"), ("tier", "gold")),
            Member("c@example.com", ("firstName", ""), ("tier", "gold")),
            Member("d@example.com", ("firstName", "   "), ("tier", "gold")),
            Member("e@example.com", ("firstName", null), ("tier", "gold")),
            Member("f@example.com", ("tier", "gold")),
            Member("g@example.com", ("firstName", "Gus")),
        ];
        var settings = Settings(_folder.Path) with { MandatoryAttributes = ["email", "firstName"] };

        var result = await _exporter.ExportAsync("d", "a", RunAt, MemberColumns, records, settings);

        Assert.Equal(["a@example.com", "g@example.com"], ReadCsv(result.Files[0].Path).Rows.Select(r => r[0]));
        Assert.Equal(5, result.Excluded[ExportExclusionReasons.MandatoryAttribute]);
        Assert.Equal(7, result.RecordsRead);
        Assert.Equal(2, result.RowsWritten);
        Assert.Equal(2, result.Files[0].Rows);
    }

    [Fact]
    public async Task Rows_with_a_dedup_key_seen_before_are_dropped_and_counted_as_duplicates()
    {
        DeliveryRecord[] records =
        [
            Member("a@example.com", ("firstName", "Ann"), ("tier", "1")),
            Member("a@example.com", ("firstName", "Ann again"), ("tier", "1")),
            Member("a@example.com", ("firstName", "Ann"), ("tier", "2")),
            Member("b@example.com", ("firstName", "Bob"), ("tier", "1")),
            Member("a@example.com", ("firstName", "Ann"), ("tier", "1")),
        ];
        var settings = Settings(_folder.Path) with { DedupKey = ["email", "tier"] };

        var result = await _exporter.ExportAsync("d", "a", RunAt, MemberColumns, records, settings);

        Assert.Equal(["Ann", "Ann", "Bob"], ReadCsv(result.Files[0].Path).Rows.Select(r => r[1]));
        Assert.Equal(2, result.Duplicates);
        Assert.Equal(3, result.RowsWritten);
    }

    [Fact]
    public async Task The_dedup_key_tells_apart_shifted_values_and_missing_from_empty()
    {
        DeliveryRecord[] records =
        [
            Member("ab", ("firstName", "c")),
            Member("a", ("firstName", "bc")),
            Member("x", ("firstName", "")),
            Member("x", ("firstName", null)),
            Member("x"),
        ];
        var settings = Settings(_folder.Path) with { DedupKey = ["email", "firstName"] };

        var result = await _exporter.ExportAsync("d", "a", RunAt, ["email", "firstName"], records, settings);

        Assert.Equal(4, result.RowsWritten);
        Assert.Equal(1, result.Duplicates);
    }

    [Fact]
    public async Task A_row_left_out_for_a_mandatory_attribute_does_not_take_its_dedup_key()
    {
        DeliveryRecord[] records =
        [
            Member("a@example.com", ("firstName", "")),
            Member("a@example.com", ("firstName", "Ann")),
        ];
        var settings = Settings(_folder.Path) with { MandatoryAttributes = ["firstName"], DedupKey = ["email"] };

        var result = await _exporter.ExportAsync("d", "a", RunAt, MemberColumns, records, settings);

        Assert.Equal(["Ann"], ReadCsv(result.Files[0].Path).Rows.Select(r => r[1]));
        Assert.Equal(1, result.Excluded[ExportExclusionReasons.MandatoryAttribute]);
        Assert.Equal(0, result.Duplicates);
    }

    [Fact]
    public async Task Excluded_rows_do_not_count_toward_the_part_size()
    {
        var records = Members(6).SelectMany(m => new[] { m, m });
        var settings = Settings(_folder.Path) with { MaxRowsPerFile = 3, DedupKey = ["email"] };

        var result = await _exporter.ExportAsync("d", "a", RunAt, MemberColumns, records, settings);

        Assert.Equal([3L, 3], result.Files.Select(f => f.Rows));
        Assert.Equal(6, result.Duplicates);
    }

    [Fact]
    public async Task Invalid_settings_refuse_the_export_before_anything_is_written()
    {
        var settings = Settings(_folder.Path) with { MandatoryAttributes = ["loyaltyId"], MaxRowsPerFile = 0 };

        var error = await Assert.ThrowsAsync<FileExportSettingsException>(() =>
            _exporter.ExportAsync("d", "a", RunAt, MemberColumns, Members(3), settings));

        Assert.Contains(error.Errors, e => e.Setting == "mandatoryAttributes" && e.Rule.Contains("loyaltyId", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Setting == "maxRowsPerFile");
        Assert.Empty(_folder.FileNames());
    }
}

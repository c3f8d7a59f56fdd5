using System.Text;
using Tessera.Activation.Files;
using static Tessera.Activation.Tests.Files.ExportTestData;

namespace Tessera.Activation.Tests.Files;

/// <summary>Each format written and read back with the library that reads it.</summary>
public sealed class FileExportFormatTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly FileExporter _exporter = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Values that need quoting in CSV, a missing value and non-ASCII text.</summary>
    private static readonly DeliveryRecord[] Awkward =
    [
        Member("ann@example.com", ("firstName", "Ann, the \"first\""), ("note", "line one\nline two")),
        Member("bob@example.com", ("firstName", "Bøb; Ünïcode ✓"), ("note", "semi;colon\r\nCRLF")),
        Member("cy@example.com", ("firstName", ""), ("note", null)),
        Member("dee@example.com", ("firstName", "  spaced  "), ("note", "tab\there")),
    ];

    private static readonly string[] AwkwardColumns = ["email", "firstName", "note"];

    [Theory]
    [InlineData(",")]
    [InlineData(";")]
    [InlineData("\t")]
    [InlineData("|")]
    public async Task Csv_reads_back_with_Sep_including_delimiters_quotes_and_newlines_in_values(string delimiter)
    {
        var settings = Settings(_folder.Path) with { Delimiter = delimiter };
        var result = await _exporter.ExportAsync("crm-files", "aud-1", RunAt, AwkwardColumns, Awkward, settings);

        var file = Assert.Single(result.Files);
        Assert.Equal("crm-files_aud-1_20261129050607.csv", file.Name);
        Assert.Equal(4, file.Rows);
        var (header, rows) = ReadCsv(file.Path, delimiter[0]);
        Assert.Equal(AwkwardColumns, header);
        Assert.Equal(Awkward.Length, rows.Count);
        for (var i = 0; i < Awkward.Length; i++)
        {
            Assert.Equal(Awkward[i].Keys[0].Value, rows[i][0]);
            Assert.Equal(Awkward[i].Attributes[0].Value ?? "", rows[i][1]);
            Assert.Equal(Awkward[i].Attributes[1].Value ?? "", rows[i][2]);
        }
        Assert.Equal(new FileInfo(file.Path).Length, result.Bytes);
    }

    [Fact]
    public async Task Csv_quotes_only_what_needs_it_by_default_and_every_value_with_quote_all()
    {
        var records = new[] { Member("ann@example.com", ("firstName", "Ann, A")), Member("bob@example.com", ("firstName", "Bob")) };
        string[] columns = ["email", "firstName"];

        var needed = await _exporter.ExportAsync("d", "a", RunAt, columns, records, Settings(Path.Combine(_folder.Path, "needed")));
        var all = await _exporter.ExportAsync("d", "a", RunAt, columns, records,
            Settings(Path.Combine(_folder.Path, "all")) with { Quoting = CsvQuoting.All });

        Assert.Equal("email,firstName\nann@example.com,\"Ann, A\"\nbob@example.com,Bob\n", NormalizedText(needed.Files[0].Path));
        Assert.Equal("\"email\",\"firstName\"\n\"ann@example.com\",\"Ann, A\"\n\"bob@example.com\",\"Bob\"\n", NormalizedText(all.Files[0].Path));
        var (header, rows) = ReadCsv(all.Files[0].Path);
        Assert.Equal(columns, header);
        Assert.Equal(["ann@example.com", "Ann, A"], rows[0]);
    }

    [Fact]
    public async Task Csv_quote_all_doubles_quotes_inside_values()
    {
        var settings = Settings(_folder.Path) with { Quoting = CsvQuoting.All };
        var result = await _exporter.ExportAsync("d", "a", RunAt, AwkwardColumns, Awkward, settings);

        var (_, rows) = ReadCsv(result.Files[0].Path);
        Assert.Equal("Ann, the \"first\"", rows[0][1]);
        Assert.Equal("line one\nline two", rows[0][2]);
        Assert.Equal("semi;colon\r\nCRLF", rows[1][2]);
    }

    [Fact]
    public async Task Csv_is_utf8_without_a_byte_order_mark()
    {
        var result = await _exporter.ExportAsync("d", "a", RunAt, AwkwardColumns, Awkward, Settings(_folder.Path));

        var bytes = await File.ReadAllBytesAsync(result.Files[0].Path);
        Assert.Equal((byte)'e', bytes[0]);
        Assert.Contains("Bøb; Ünïcode ✓", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzipped_csv_round_trips_and_is_named_csv_gz()
    {
        var settings = Settings(_folder.Path) with { Gzip = true };
        var result = await _exporter.ExportAsync("d", "a", RunAt, AwkwardColumns, Awkward, settings);

        var file = Assert.Single(result.Files);
        Assert.Equal("d_a_20261129050607.csv.gz", file.Name);
        var bytes = await File.ReadAllBytesAsync(file.Path);
        Assert.Equal([0x1f, 0x8b], bytes[..2]); // the gzip magic number
        var (header, rows) = ReadCsv(file.Path);
        Assert.Equal(AwkwardColumns, header);
        Assert.Equal("line one\nline two", rows[0][2]);
        Assert.Equal(4, rows.Count);
    }

    [Theory]
    [InlineData(false, "d_a_20261129050607.jsonl")]
    [InlineData(true, "d_a_20261129050607.jsonl.gz")]
    public async Task Json_lines_parse_one_object_per_line_with_nulls_for_missing_values(bool gzip, string name)
    {
        var settings = Settings(_folder.Path, FileExportFormat.JsonLines) with { Gzip = gzip };
        var result = await _exporter.ExportAsync("d", "a", RunAt, AwkwardColumns, Awkward, settings);

        var file = Assert.Single(result.Files);
        Assert.Equal(name, file.Name);
        var lines = ReadJsonLines(file.Path);
        Assert.Equal(4, lines.Count);
        Assert.Equal("ann@example.com", lines[0].GetProperty("email").GetString());
        Assert.Equal("Ann, the \"first\"", lines[0].GetProperty("firstName").GetString());
        Assert.Equal("line one\nline two", lines[0].GetProperty("note").GetString());
        Assert.Equal("Bøb; Ünïcode ✓", lines[1].GetProperty("firstName").GetString());
        Assert.Equal("", lines[2].GetProperty("firstName").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, lines[2].GetProperty("note").ValueKind);
        Assert.Equal(AwkwardColumns, lines[3].EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Json_lines_keep_non_ascii_readable()
    {
        var result = await _exporter.ExportAsync("d", "a", RunAt, AwkwardColumns, Awkward, Settings(_folder.Path, FileExportFormat.JsonLines));

        var text = await File.ReadAllTextAsync(result.Files[0].Path);
        Assert.Contains("Bøb; Ünïcode ✓", text, StringComparison.Ordinal);
        Assert.EndsWith("}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_reads_back_with_Parquet_Net_in_row_groups_of_the_set_size()
    {
        var settings = Settings(_folder.Path, FileExportFormat.Parquet) with { ParquetRowGroupRows = 4 };
        var records = Members(10).Concat(Awkward).ToList();
        var result = await _exporter.ExportAsync("d", "a", RunAt, ["email", "firstName", "note"], records, settings);

        var file = Assert.Single(result.Files);
        Assert.Equal("d_a_20261129050607.parquet", file.Name);
        var (columns, groups, rows) = await ReadParquetAsync(file.Path);
        Assert.Equal(["email", "firstName", "note"], columns);
        Assert.Equal([4L, 4, 4, 2], groups);
        Assert.Equal(14, rows.Count);
        Assert.Equal(["m0003@example.com", "Name 3", null], rows[3]);
        Assert.Equal(["ann@example.com", "Ann, the \"first\"", "line one\nline two"], rows[10]);
        Assert.Equal(["cy@example.com", "", null], rows[12]);
    }

    [Theory]
    [InlineData(FileExportFormat.Csv)]
    [InlineData(FileExportFormat.JsonLines)]
    [InlineData(FileExportFormat.Parquet)]
    public async Task An_export_with_no_rows_is_still_one_readable_file(FileExportFormat format)
    {
        var result = await _exporter.ExportAsync("d", "a", RunAt, MemberColumns, [], Settings(_folder.Path, format));

        var file = Assert.Single(result.Files);
        Assert.Equal(0, file.Rows);
        Assert.Equal(0, result.RowsWritten);
        switch (format)
        {
            case FileExportFormat.Csv:
                Assert.Equal("email,firstName,tier\n", NormalizedText(file.Path));
                break;
            case FileExportFormat.JsonLines:
                Assert.Equal(0, new FileInfo(file.Path).Length);
                break;
            default:
                var (columns, groups, rows) = await ReadParquetAsync(file.Path);
                Assert.Equal(MemberColumns, columns);
                Assert.Empty(rows);
                Assert.Empty(groups);
                break;
        }
    }

    [Fact]
    public async Task Async_sources_export_like_synchronous_ones()
    {
        var sync = await _exporter.ExportAsync("d", "a", RunAt, MemberColumns, Members(20), Settings(Path.Combine(_folder.Path, "sync")));
        var async = await _exporter.ExportAsync("d", "a", RunAt, MemberColumns, Members(20).ToAsyncEnumerable(), Settings(Path.Combine(_folder.Path, "async")));
        var asyncAhead = await new FileExporter(readAhead: true).ExportAsync("d", "a", RunAt, MemberColumns, Members(20).ToAsyncEnumerable(), Settings(Path.Combine(_folder.Path, "ahead")));

        Assert.Equal(await File.ReadAllBytesAsync(sync.Files[0].Path), await File.ReadAllBytesAsync(async.Files[0].Path));
        Assert.Equal(await File.ReadAllBytesAsync(sync.Files[0].Path), await File.ReadAllBytesAsync(asyncAhead.Files[0].Path));
        Assert.Equal(20, async.RowsWritten);
    }

    [Theory]
    [InlineData(FileExportFormat.Csv)]
    [InlineData(FileExportFormat.JsonLines)]
    [InlineData(FileExportFormat.Parquet)]
    public async Task Reading_ahead_on_another_thread_writes_the_same_bytes_as_reading_in_step(FileExportFormat format)
    {
        var settings = Settings(Path.Combine(_folder.Path, "ahead"), format) with { MaxRowsPerFile = 2_500, DedupKey = ["tier", "firstName"] };
        var records = Members(6_000).Concat(Members(3_000)).ToList();

        var ahead = await new FileExporter(readAhead: true).ExportAsync("d", "a", RunAt, MemberColumns, records, settings);
        var inStep = await new FileExporter(readAhead: false).ExportAsync("d", "a", RunAt, MemberColumns, records, settings with { Folder = Path.Combine(_folder.Path, "step") });

        Assert.Equal([2_500L, 2_500, 1_000], ahead.Files.Select(f => f.Rows));
        Assert.Equal(3_000, ahead.Duplicates);
        Assert.Equal(inStep.Files.Select(f => (f.Name, f.Rows, f.Bytes)), ahead.Files.Select(f => (f.Name, f.Rows, f.Bytes)));
        foreach (var (first, second) in ahead.Files.Zip(inStep.Files))
        {
            Assert.Equal(await File.ReadAllBytesAsync(second.Path), await File.ReadAllBytesAsync(first.Path));
        }
    }

    [Theory]
    [InlineData(FileExportFormat.Csv)]
    [InlineData(FileExportFormat.JsonLines)]
    [InlineData(FileExportFormat.Parquet)]
    public async Task A_lone_surrogate_in_a_value_is_written_as_the_replacement_character(FileExportFormat format)
    {
        DeliveryRecord[] records = [Member("a@example.com", ("firstName", "broken \uD800 text"))];

        var result = await _exporter.ExportAsync("d", "a", RunAt, ["email", "firstName"], records, Settings(_folder.Path, format));

        var value = format switch
        {
            FileExportFormat.Csv => ReadCsv(result.Files[0].Path).Rows[0][1],
            FileExportFormat.JsonLines => ReadJsonLines(result.Files[0].Path)[0].GetProperty("firstName").GetString(),
            _ => (await ReadParquetAsync(result.Files[0].Path)).Rows[0][1],
        };
        Assert.Equal("broken \uFFFD text", value);
    }

    /// <summary>The file's text with Sep's line ending (the platform's) shown as <c>\n</c>.</summary>
    private static string NormalizedText(string path) => File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
}

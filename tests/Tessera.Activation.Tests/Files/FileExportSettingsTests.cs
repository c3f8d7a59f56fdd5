using System.Text.Json;
using Tessera.Activation.Files;

namespace Tessera.Activation.Tests.Files;

public sealed class FileExportSettingsTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Defaults_are_csv_comma_quoted_when_needed_uncompressed_five_million_rows()
    {
        var settings = new FileExportSettings { Folder = "/exports" };

        Assert.Equal(FileExportFormat.Csv, settings.Format);
        Assert.Equal(",", settings.Delimiter);
        Assert.Equal(CsvQuoting.WhenNeeded, settings.Quoting);
        Assert.False(settings.Gzip);
        Assert.Equal(5_000_000, settings.MaxRowsPerFile);
        Assert.Empty(settings.MandatoryAttributes);
        Assert.Empty(settings.DedupKey);
        Assert.Empty(settings.Validate(["email"]));
    }

    [Fact]
    public void Settings_read_from_a_destination_json_document()
    {
        var settings = JsonSerializer.Deserialize<FileExportSettings>("""
            {"format": "jsonl", "folder": "/exports/crm", "gzip": true, "maxRowsPerFile": 1000,
             "mandatoryAttributes": ["email"], "dedupKey": ["email", "tier"], "quoting": "all", "delimiter": "\t"}
            """, Web)!;

        Assert.Equal(FileExportFormat.JsonLines, settings.Format);
        Assert.Equal("/exports/crm", settings.Folder);
        Assert.True(settings.Gzip);
        Assert.Equal(1000, settings.MaxRowsPerFile);
        Assert.Equal(["email"], settings.MandatoryAttributes);
        Assert.Equal(["email", "tier"], settings.DedupKey);
        Assert.Equal(CsvQuoting.All, settings.Quoting);
        Assert.Equal("\t", settings.Delimiter);
        var again = JsonSerializer.Deserialize<FileExportSettings>(JsonSerializer.Serialize(settings, Web), Web)!;
        Assert.Contains("\"format\":\"jsonl\"", JsonSerializer.Serialize(settings, Web), StringComparison.Ordinal);
        Assert.Equal(settings.Format, again.Format);
        Assert.Equal(settings.DedupKey, again.DedupKey);
    }

    [Theory]
    [InlineData("""{"format": "xml", "folder": "/x"}""")]
    [InlineData("""{"quoting": "sometimes", "folder": "/x"}""")]
    public void Unknown_names_are_refused_when_reading(string json) =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<FileExportSettings>(json, Web));

    [Theory]
    [InlineData("", "must be exactly one character")]
    [InlineData(",,", "must be exactly one character")]
    [InlineData("\"", "must not be a quote")]
    [InlineData("\n", "must not be a quote")]
    public void A_bad_delimiter_is_named(string delimiter, string rule)
    {
        var errors = new FileExportSettings { Folder = "/x", Delimiter = delimiter }.Validate();

        var error = Assert.Single(errors);
        Assert.Equal("delimiter", error.Setting);
        Assert.Contains(rule, error.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void The_delimiter_is_not_checked_for_formats_without_one()
    {
        var settings = new FileExportSettings { Folder = "/x", Format = FileExportFormat.JsonLines, Delimiter = "" };

        Assert.Empty(settings.Validate());
    }

    [Fact]
    public void Every_broken_rule_is_reported_with_its_setting()
    {
        var settings = new FileExportSettings
        {
            Format = FileExportFormat.Parquet,
            Folder = " ",
            Gzip = true,
            MaxRowsPerFile = 0,
            ParquetRowGroupRows = -1,
            MandatoryAttributes = ["email", "", "email"],
            DedupKey = ["loyaltyId"],
        };

        var errors = settings.Validate(["email", "tier", "tier"]);

        Assert.Equal(
            [
                "folder: is required",
                "gzip: applies to csv and jsonl only (Parquet compresses its pages itself)",
                "maxRowsPerFile: must be at least 1",
                "parquetRowGroupRows: must be at least 1",
                "mandatoryAttributes: holds an empty column name",
                "mandatoryAttributes: names column 'email' twice",
                "dedupKey: names column 'loyaltyId', which the export does not have",
                "columns: names column 'tier' twice",
            ],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void An_export_needs_a_column_and_an_undefined_format_is_named()
    {
        var errors = new FileExportSettings { Folder = "/x", Format = (FileExportFormat)7 }.Validate([]);

        Assert.Equal(["format", "columns"], errors.Select(e => e.Setting));
    }

    [Fact]
    public void The_exception_lists_every_error()
    {
        var error = Assert.Throws<FileExportSettingsException>(() => new FileExportSettings { MaxRowsPerFile = -5 }.EnsureValid());

        Assert.Equal("invalid file export settings: folder: is required; maxRowsPerFile: must be at least 1", error.Message);
        Assert.Equal(2, error.Errors.Count);
    }
}

using System.IO.Compression;
using System.Text;
using Parquet.Serialization;
using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// Files that are not what their format says, and mappings that cannot be used, are refused with a
/// named error (and the batch recorded as failed), never an exception from a parser underneath.
/// </summary>
public sealed class UnreadableSourceTests
{
    private static async Task<TestWorkspace> CrmAsync()
    {
        var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        return test;
    }

    private static async Task<CatalogException> RefusedAsync(TestWorkspace test, string path, MappingSpec? mapping = null) =>
        await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", path, mapping));

    [Fact]
    public async Task A_file_that_is_not_parquet_fails_its_batch_as_FILE_UNREADABLE()
    {
        await using var test = await CrmAsync();
        var path = Path.Combine(test.Directory, "crm.parquet");
        await File.WriteAllBytesAsync(path, [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 37 % 251))], TestContext.Current.CancellationToken);

        var error = await RefusedAsync(test, path);

        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Contains("crm.parquet' cannot be read as parquet", error.Message);
        var batch = Assert.Single(test.Catalog.BatchesNewestFirst("prod"));
        Assert.Equal(BatchStatus.Failed, batch.Status);
        Assert.StartsWith("FILE_UNREADABLE: ", batch.FailureReason);
    }

    [Theory]
    [InlineData(0.5)]  // cut in the middle: no footer
    [InlineData(0.99)] // cut in the footer
    public async Task A_truncated_or_damaged_parquet_file_is_FILE_UNREADABLE(double keep)
    {
        await using var test = await CrmAsync();
        var rows = Enumerable.Range(1, 200).Select(i => new JsonAndParquetFormatTests.ParquetRow { CrmId = $"{i:D5}", Age = 30, LastSeen = DateTime.UnixEpoch }).ToList();
        using var buffer = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, buffer, cancellationToken: TestContext.Current.CancellationToken);
        var bytes = buffer.ToArray();
        var path = Path.Combine(test.Directory, "crm.parquet");
        await File.WriteAllBytesAsync(path, bytes[..(int)(bytes.Length * keep)], TestContext.Current.CancellationToken);
        var damaged = Path.Combine(test.Directory, "damaged.parquet");
        for (var i = 8; i < 108; i++)
        {
            bytes[i] ^= 0xFF; // the first column's data, behind an intact footer
        }
        await File.WriteAllBytesAsync(damaged, bytes, TestContext.Current.CancellationToken);

        Assert.Equal(ErrorCodes.FileUnreadable, (await RefusedAsync(test, path)).Code);
        Assert.Equal(ErrorCodes.FileUnreadable, (await RefusedAsync(test, damaged)).Code);
        Assert.Empty(test.Facts());
    }

    [Fact]
    public async Task A_gz_file_that_is_not_gzip_or_is_damaged_midway_is_FILE_UNREADABLE()
    {
        await using var test = await CrmAsync();
        var notGzip = test.WriteFile("plain.csv.gz", "crmId,age\n00001,30\n");
        var lines = string.Join('\n', ["crmId,age", .. Enumerable.Range(1, 20_000).Select(i => $"{i:D5},{i % 90}")]);
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(lines));
        }
        var bytes = buffer.ToArray();
        for (var i = bytes.Length / 2; i < bytes.Length / 2 + 64; i++)
        {
            bytes[i] ^= 0xFF;
        }
        var damaged = Path.Combine(test.Directory, "damaged.csv.gz");
        await File.WriteAllBytesAsync(damaged, bytes, TestContext.Current.CancellationToken);

        var first = await RefusedAsync(test, notGzip);
        var second = await RefusedAsync(test, damaged);

        Assert.Equal((ErrorCodes.FileUnreadable, ErrorCodes.FileUnreadable), (first.Code, second.Code));
        Assert.Contains("plain.csv.gz' cannot be read as gzip-compressed csv: the gzip data is damaged", first.Message);
        Assert.Empty(test.Facts());
        Assert.All(test.Catalog.BatchesNewestFirst("prod"), b => Assert.Equal(BatchStatus.Failed, b.Status));
    }

    [Fact]
    public async Task A_header_naming_a_column_twice_is_a_mapping_error_unless_columns_rename_it()
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,age,age\n00001,30,31\n");

        var error = await RefusedAsync(test, path);

        Assert.Equal(ErrorCodes.MappingError, error.Code);
        Assert.Contains("column 'age'", error.Message);
        var batch = await test.IngestAsync("crm", path, new MappingSpec { Columns = ["crmId", "age", "ageNext"], Ignore = ["ageNext"] });
        Assert.Equal(1, batch.Counts.Accepted);
        Assert.Equal(30, Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001")).Record.GetProperty("age").GetInt32());
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r")]
    [InlineData("\"")]
    [InlineData("#")]
    [InlineData("é")]
    [InlineData("\u0001")]
    public async Task A_delimiter_the_csv_reader_cannot_split_on_is_a_mapping_error(string delimiter)
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", "crmId,age\n00001,30\n");

        var error = await RefusedAsync(test, path, new MappingSpec { Delimiter = delimiter });

        Assert.Equal(ErrorCodes.MappingError, error.Code);
        Assert.Contains($"delimiter U+{(int)delimiter[0]:X4} cannot separate columns", error.Message);
    }

    [Fact]
    public async Task A_mapping_file_that_is_missing_or_a_directory_is_a_mapping_error()
    {
        await using var test = await CrmAsync();

        var missing = Assert.Throws<CatalogException>(() => MappingSpec.Load(Path.Combine(test.Directory, "nope.json")));
        var directory = Assert.Throws<CatalogException>(() => MappingSpec.Load(test.Directory));

        Assert.Equal((ErrorCodes.MappingError, ErrorCodes.MappingError), (missing.Code, directory.Code));
        Assert.EndsWith("nope.json' does not exist", missing.Message);
        Assert.EndsWith("is a directory, not a file", directory.Message);
    }

    [Fact]
    public async Task A_directory_given_as_the_file_is_named_as_one()
    {
        await using var test = await CrmAsync();
        var path = Directory.CreateDirectory(Path.Combine(test.Directory, "crm.csv")).FullName;

        var error = await RefusedAsync(test, path);

        Assert.Equal("FILE_NOT_FOUND", error.Code);
        Assert.EndsWith("crm.csv' is a directory, not a file", error.Message);
    }
}

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
    public async Task A_gzipped_parquet_file_is_refused_by_name()
    {
        await using var test = await CrmAsync();
        var rows = Enumerable.Range(1, 20).Select(i => new JsonAndParquetFormatTests.ParquetRow { CrmId = $"{i:D5}", Age = 30, LastSeen = DateTime.UnixEpoch }).ToList();
        var path = Path.Combine(test.Directory, "crm.parquet.gz");
        await using (var file = File.Create(path))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            await ParquetSerializer.SerializeAsync(rows, gzip, cancellationToken: TestContext.Current.CancellationToken);
        }

        var error = await RefusedAsync(test, path);

        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Equal("file 'crm.parquet.gz' cannot be read as gzip-compressed parquet: Parquet is read from its end, which a gzip stream "
            + "cannot reach (and compresses its own pages): ingest the .parquet file itself", error.Message);
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

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }
        return buffer.ToArray();
    }

    private static string CrmLines(int from, int to) => string.Concat(Enumerable.Range(from, to - from + 1).Select(i => $"{i:D5},{i % 90}\n"));

    [Theory]
    [InlineData("csv", 0.5)]   // cut in the deflate data
    [InlineData("csv", -1)]    // cut in the 8-byte trailer: every row is there, the end is not
    [InlineData("csv", -8)]    // the trailer missing entirely
    [InlineData("csv", -3)]
    [InlineData("jsonl", 0.5)]
    [InlineData("jsonl", -3)]
    [InlineData("json", -4)]
    public async Task A_truncated_gz_fails_its_batch_as_FILE_UNREADABLE_and_the_complete_file_then_ingests(string format, double cut)
    {
        await using var test = await CrmAsync();
        var text = format switch
        {
            "csv" => "crmId,age\n" + CrmLines(1, 5_000),
            "jsonl" => string.Concat(Enumerable.Range(1, 5_000).Select(i => $"{{\"crmId\":\"{i:D5}\",\"age\":{i % 90}}}\n")),
            _ => "[" + string.Join(',', Enumerable.Range(1, 5_000).Select(i => $"{{\"crmId\":\"{i:D5}\",\"age\":{i % 90}}}")) + "]",
        };
        var bytes = Gzip(text);
        var kept = cut > 0 ? (int)(bytes.Length * cut) : bytes.Length + (int)cut;
        var path = Path.Combine(test.Directory, $"crm.{format}.gz");
        await File.WriteAllBytesAsync(path, bytes[..kept], TestContext.Current.CancellationToken);

        var error = await RefusedAsync(test, path);

        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Contains($"file 'crm.{format}.gz' cannot be read as gzip-compressed {format}: it ends early", error.Message);
        Assert.Contains("the file is incomplete", error.Message);
        if (format == "csv" && cut > 0)
        {
            Assert.Matches(@"after row \d+ \(line \d+\)", error.Message);
        }
        Assert.Empty(test.Facts());
        var failed = Assert.Single(test.Catalog.BatchesNewestFirst("prod"));
        Assert.Equal(BatchStatus.Failed, failed.Status);
        Assert.StartsWith("FILE_UNREADABLE: ", failed.FailureReason);

        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
        var batch = await test.IngestAsync("crm", path);
        Assert.Equal((BatchStatus.Success, 5_000L, 0L), (batch.Status, batch.Counts.Accepted, batch.Counts.Failed));
    }

    [Fact]
    public async Task Concatenated_gzip_members_are_one_file_and_a_cut_in_the_last_one_is_still_found()
    {
        await using var test = await CrmAsync();
        byte[] members = [.. Gzip("crmId,age\n" + CrmLines(1, 3_000)), .. Gzip(CrmLines(3_001, 3_010)), .. Gzip(CrmLines(3_011, 6_000))];
        var whole = Path.Combine(test.Directory, "whole.csv.gz");
        var cut = Path.Combine(test.Directory, "cut.csv.gz");
        await File.WriteAllBytesAsync(whole, members, TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(cut, members[..^5], TestContext.Current.CancellationToken);

        var batch = await test.IngestAsync("crm", whole);
        var error = await RefusedAsync(test, cut);

        Assert.Equal((BatchStatus.Success, 6_000L), (batch.Status, batch.Counts.Accepted));
        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Contains("it ends early, after row 6000", error.Message);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(17, 100_000)]
    [InlineData(65_537, 3)]
    public void The_CRC_of_a_suffix_follows_from_the_CRCs_of_the_prefix_and_the_whole(int prefixLength, int suffixLength)
    {
        var random = new Random(7);
        var bytes = new byte[prefixLength + suffixLength];
        random.NextBytes(bytes);

        var derived = Sources.CheckedGzipStream.Crc32Suffix(
            System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, prefixLength)), System.IO.Hashing.Crc32.HashToUInt32(bytes), suffixLength);

        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(prefixLength)), derived);
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

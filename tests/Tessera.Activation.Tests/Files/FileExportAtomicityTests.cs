using Tessera.Activation.Files;
using static Tessera.Activation.Tests.Files.ExportTestData;

namespace Tessera.Activation.Tests.Files;

/// <summary>
/// A run never leaves a half-written file under a final name, and running it again after a crash
/// (same destination, audience and run time) cleans up and writes the same files.
/// </summary>
public sealed class FileExportAtomicityTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly FileExporter _exporter = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(FileExportFormat.Csv, false)]
    [InlineData(FileExportFormat.Csv, true)]
    [InlineData(FileExportFormat.JsonLines, false)]
    [InlineData(FileExportFormat.Parquet, false)]
    public async Task A_rerun_after_a_crash_removes_the_stale_staging_files_and_writes_identical_files(FileExportFormat format, bool gzip)
    {
        var crashed = Path.Combine(_folder.Path, "crashed");
        var clean = Path.Combine(_folder.Path, "clean");
        var settings = Settings(crashed, format) with { MaxRowsPerFile = 40, Gzip = gzip, ParquetRowGroupRows = 16 };
        Directory.CreateDirectory(crashed);
        // What a process killed in the middle of the run leaves: one complete staged part, one half-written.
        var runName = "dest_aud-1_20261129050607";
        var extension = ExportFileNames.Extension(format, gzip);
        await File.WriteAllTextAsync(Path.Combine(crashed, $"{runName}_part0001{extension}.tmp"), "complete but never published");
        await File.WriteAllTextAsync(Path.Combine(crashed, $"{runName}_part0002{extension}.tmp"), "half a ro");
        // Another run's staging file (another audience) is not this run's to delete.
        var other = Path.Combine(crashed, $"dest_aud-2_20261129050607_part0001{extension}.tmp");
        await File.WriteAllTextAsync(other, "someone else's");

        var rerun = await _exporter.ExportAsync("dest", "aud-1", RunAt, MemberColumns, Members(100), settings);
        var reference = await _exporter.ExportAsync("dest", "aud-1", RunAt, MemberColumns, Members(100), settings with { Folder = clean });

        Assert.Equal(reference.Files.Select(f => f.Name), rerun.Files.Select(f => f.Name));
        Assert.Equal([.. rerun.Files.Select(f => f.Name), Path.GetFileName(other)], Directory.GetFiles(crashed).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var (mine, theirs) in rerun.Files.Zip(reference.Files))
        {
            Assert.Equal(await File.ReadAllBytesAsync(theirs.Path), await File.ReadAllBytesAsync(mine.Path));
        }
        Assert.Equal([40L, 40, 20], rerun.Files.Select(f => f.Rows));
    }

    [Fact]
    public async Task A_rerun_replaces_the_parts_a_crashed_attempt_published_even_when_it_writes_fewer()
    {
        var settings = Settings(_folder.Path) with { MaxRowsPerFile = 10 };
        // The crashed attempt published three parts of a larger export before it died.
        foreach (var part in new[] { 1, 2, 3 })
        {
            await File.WriteAllTextAsync(Path.Combine(_folder.Path, $"dest_aud-1_20261129050607_part{part:D4}.csv"), "stale");
        }
        var earlierRun = Path.Combine(_folder.Path, "dest_aud-1_20261128050607.csv");
        await File.WriteAllTextAsync(earlierRun, "yesterday's run stays");

        var result = await _exporter.ExportAsync("dest", "aud-1", RunAt, MemberColumns, Members(8), settings);

        Assert.Equal(["dest_aud-1_20261128050607.csv", "dest_aud-1_20261129050607.csv"], _folder.FileNames());
        Assert.Equal(8, ReadCsv(result.Files[0].Path).Rows.Count);
    }

    [Theory]
    [InlineData(FileExportFormat.Csv, true)]
    [InlineData(FileExportFormat.Csv, false)]
    [InlineData(FileExportFormat.JsonLines, true)]
    [InlineData(FileExportFormat.Parquet, true)]
    [InlineData(FileExportFormat.Parquet, false)]
    public async Task Cancelling_mid_write_leaves_no_file_under_a_final_name(FileExportFormat format, bool readAhead)
    {
        var exporter = new FileExporter(readAhead);
        using var cancel = new CancellationTokenSource();
        var settings = Settings(_folder.Path, format) with { MaxRowsPerFile = 3_000, ParquetRowGroupRows = 1_000 };

        // Cancelled after two parts are complete and staged, in the middle of the third.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            exporter.ExportAsync("dest", "aud-1", RunAt, MemberColumns, CancelAfter(Members(20_000), 7_000, cancel), settings, cancel.Token));

        Assert.Empty(_folder.FileNames());
    }

    [Theory]
    [InlineData(true, 12)]
    [InlineData(true, 5_000)]
    [InlineData(false, 12)]
    public async Task A_source_that_fails_mid_export_leaves_no_file_under_a_final_name(bool readAhead, int failAfter)
    {
        var settings = Settings(_folder.Path) with { MaxRowsPerFile = 5 };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new FileExporter(readAhead).ExportAsync("dest", "aud-1", RunAt, MemberColumns, FailAfter(Members(10_000), failAfter), settings));

        Assert.Equal("the membership read failed", error.Message);
        Assert.Empty(_folder.FileNames());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_async_source_that_fails_is_reported_as_it_failed(bool readAhead)
    {
        var settings = Settings(_folder.Path) with { MaxRowsPerFile = 5 };

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new FileExporter(readAhead).ExportAsync("dest", "aud-1", RunAt, MemberColumns, FailAfter(Members(10_000), 3_000).ToAsyncEnumerable(), settings));

        Assert.Empty(_folder.FileNames());
    }

    [Fact]
    public async Task While_a_run_is_written_only_staging_files_exist_and_then_only_final_ones()
    {
        var settings = Settings(_folder.Path) with { MaxRowsPerFile = 5 };
        string[] seenMidway = [];

        // Without read-ahead (the default) the source runs in step with the writer, so what it sees is what has been written.
        var result = await _exporter.ExportAsync("dest", "aud-1", RunAt, MemberColumns,
            Observe(Members(12), 11, () => seenMidway = _folder.FileNames()), settings);

        Assert.Equal(["dest_aud-1_20261129050607_part0001.csv.tmp", "dest_aud-1_20261129050607_part0002.csv.tmp", "dest_aud-1_20261129050607_part0003.csv.tmp"], seenMidway);
        Assert.Equal(result.Files.Select(f => f.Name), _folder.FileNames());
    }

    private static IEnumerable<DeliveryRecord> CancelAfter(IEnumerable<DeliveryRecord> records, int count, CancellationTokenSource cancel)
    {
        var seen = 0;
        foreach (var record in records)
        {
            if (++seen == count)
            {
                cancel.Cancel();
            }
            yield return record;
        }
    }

    private static IEnumerable<DeliveryRecord> FailAfter(IEnumerable<DeliveryRecord> records, int count)
    {
        var seen = 0;
        foreach (var record in records)
        {
            if (++seen > count)
            {
                throw new InvalidOperationException("the membership read failed");
            }
            yield return record;
        }
    }

    private static IEnumerable<DeliveryRecord> Observe(IEnumerable<DeliveryRecord> records, int after, Action observe)
    {
        var seen = 0;
        foreach (var record in records)
        {
            if (seen++ == after)
            {
                observe();
            }
            yield return record;
        }
    }
}

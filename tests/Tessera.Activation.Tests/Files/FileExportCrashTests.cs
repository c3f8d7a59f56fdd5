using System.Diagnostics;
using Tessera.Activation.Files;
using static Tessera.Activation.Tests.Files.ExportTestData;

namespace Tessera.Activation.Tests.Files;

/// <summary>
/// A real process killed with SIGKILL in the middle of an export leaves no file under a final name,
/// and the re-run of the same run cleans up its staging files and writes the same files as a run
/// that never crashed. The child is this test assembly itself, started on
/// <see cref="Crash_host_exports_until_it_is_killed"/> (skipped unless a crash test starts it).
/// </summary>
[Trait("Category", "Crash")]
public sealed class FileExportCrashTests : IDisposable
{
    private const string FolderVariable = "TESSERA_EXPORT_CRASH_FOLDER";
    private const int RowsPerPart = 20_000;
    // Made when first used: the child process, killed outright, never disposes its test class.
    private TempFolder? _folder;

    private TempFolder Folder => _folder ??= new TempFolder();

    public void Dispose() => _folder?.Dispose();

    private static FileExportSettings CrashSettings(string folder) => Settings(folder) with { MaxRowsPerFile = RowsPerPart, Gzip = true };

    [Fact]
    public async Task An_export_killed_mid_write_leaves_only_staging_files_and_its_rerun_writes_the_same_files()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var crashed = Path.Combine(Folder.Path, "crashed");
        Directory.CreateDirectory(crashed);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(FileExportCrashTests).Assembly.Location);
        start.ArgumentList.Add("-method");
        start.ArgumentList.Add($"{typeof(FileExportCrashTests).FullName}.{nameof(Crash_host_exports_until_it_is_killed)}");
        start.Environment[FolderVariable] = crashed;
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        _ = process.StandardError.ReadToEndAsync(cancellationToken);

        // Killed once two parts are staged and a third is being written.
        var third = Path.Combine(crashed, ExportFileNames.StagingName(ExportFileNames.RunName("dest", "aud-1", RunAt), ".csv.gz", 3));
        var waited = Stopwatch.StartNew();
        while (!File.Exists(third) || new FileInfo(third).Length == 0)
        {
            Assert.False(process.HasExited, $"the export process stopped by itself ({(process.HasExited ? process.ExitCode : 0)})");
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), "the export process wrote no third part in 2 minutes");
            await Task.Delay(20, cancellationToken);
        }
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(cancellationToken);

        var left = Directory.GetFiles(crashed).Select(Path.GetFileName).ToList();
        Assert.All(left, name => Assert.EndsWith(ExportFileNames.StagingSuffix, name, StringComparison.Ordinal));
        Assert.True(left.Count >= 3, $"expected staged parts, found {string.Join(", ", left)}");

        var records = Members(50_000).ToList();
        var rerun = await new FileExporter().ExportAsync("dest", "aud-1", RunAt, MemberColumns, records, CrashSettings(crashed), cancellationToken);
        var clean = await new FileExporter().ExportAsync("dest", "aud-1", RunAt, MemberColumns, records, CrashSettings(Path.Combine(Folder.Path, "clean")), cancellationToken);

        Assert.Equal(rerun.Files.Select(f => f.Name), Directory.GetFiles(crashed).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(clean.Files.Select(f => f.Name), rerun.Files.Select(f => f.Name));
        foreach (var (mine, theirs) in rerun.Files.Zip(clean.Files))
        {
            Assert.Equal(await File.ReadAllBytesAsync(theirs.Path, cancellationToken), await File.ReadAllBytesAsync(mine.Path, cancellationToken));
        }
        Assert.Equal([20_000L, 20_000, 10_000], rerun.Files.Select(f => f.Rows));
    }

    /// <summary>The child's side: an export of an endless source, until the crash test kills the process.</summary>
    [Fact]
    public async Task Crash_host_exports_until_it_is_killed()
    {
        var folder = Environment.GetEnvironmentVariable(FolderVariable);
        Assert.SkipWhen(folder is null, $"runs only as the child of the crash test (with {FolderVariable} set)");
        await new FileExporter().ExportAsync("dest", "aud-1", RunAt, MemberColumns, Members(int.MaxValue), CrashSettings(folder!), TestContext.Current.CancellationToken);
        Assert.Fail("an endless export ended");
    }
}

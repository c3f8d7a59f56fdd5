using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera bench</c> through the real CLI process, on its smallest group at a tiny size.</summary>
public sealed class BenchCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tessera-bench-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Writes_every_figure_with_its_floor_and_ratio_as_json_and_exits_0()
    {
        var json = Path.Combine(_folder, "bench.json");
        var data = Path.Combine(_folder, "data");
        // A page with the markers (as BENCHMARKS.md): the table goes between them, the rest is kept.
        var markdown = Path.Combine(_folder, "BENCHMARKS.md");
        File.WriteAllText(markdown, "# Benchmarks\n\n<!-- tessera bench: begin -->\nold table\n<!-- tessera bench: end -->\n\n## Notes kept\n");
        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken,
            "bench", "--quick", "--only", "csv", "--rows", "3000", "--json", json, "--markdown", markdown, "--data", data);

        Assert.True(run.ExitCode == 0, run.Output + run.Errors);
        Assert.Contains("time per group: ingestion", run.Output, StringComparison.Ordinal);
#if DEBUG
        // The CLI beside this test is a Debug build too: the suite says its figures mean nothing.
        Assert.Contains("WARNING: this build is not optimized", run.Output, StringComparison.Ordinal);
#else
        Assert.DoesNotContain("WARNING: this build is not optimized", run.Output, StringComparison.Ordinal);
#endif
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var root = report.RootElement;
        Assert.True(root.GetProperty("options").GetProperty("quick").GetBoolean());
        Assert.Equal(3000, root.GetProperty("options").GetProperty("csvRows").GetInt32());
        Assert.True(root.GetProperty("totalSeconds").GetDouble() > 0);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("machine").GetString()));
        var group = Assert.Single(root.GetProperty("groups").EnumerateArray());
        Assert.Equal("ingestion", group.GetProperty("name").GetString());
        Assert.True(group.GetProperty("checksPassed").GetBoolean());

        var figures = root.GetProperty("figures").EnumerateArray().ToList();
        Assert.NotEmpty(figures);
        Assert.All(figures, figure =>
        {
            Assert.Equal("ingestion", figure.GetProperty("group").GetString());
            Assert.False(string.IsNullOrEmpty(figure.GetProperty("peer").GetString()));
            Assert.True(figure.GetProperty("value").GetDouble() > 0);
            Assert.True(figure.GetProperty("peerValue").GetDouble() > 0);
            Assert.True(figure.GetProperty("ratio").GetDouble() > 0);
        });
        var ingest = Assert.Single(figures, f => f.GetProperty("name").GetString()!.Contains("IngestFileAsync", StringComparison.Ordinal));
        Assert.Equal("rows/s", ingest.GetProperty("unit").GetString());
        Assert.Equal("Sep parse, all fields", ingest.GetProperty("peer").GetString());
        Assert.Equal("≥ 500,000 rows/s", ingest.GetProperty("target").GetString());
        Assert.True(ingest.GetProperty("met").ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.StartsWith("quick: 3,000 rows", ingest.GetProperty("notes").GetString(), StringComparison.Ordinal);

        var page = File.ReadAllText(markdown);
        Assert.StartsWith("# Benchmarks\n\n<!-- tessera bench: begin", page, StringComparison.Ordinal);
        Assert.EndsWith("<!-- tessera bench: end -->\n\n## Notes kept\n", page, StringComparison.Ordinal);
        Assert.DoesNotContain("old table", page, StringComparison.Ordinal);
        Assert.Contains("| ingestion | **", page, StringComparison.Ordinal);
        Assert.Contains("IngestFileAsync", page, StringComparison.Ordinal);
        Assert.Contains("| Sep parse, all fields |", page, StringComparison.Ordinal);

        // The workspace went into --data DIR and was cleaned up (no --keep).
        Assert.Empty(Directory.Exists(data) ? Directory.GetFileSystemEntries(data) : []);
    }

    [Fact]
    public async Task An_unknown_group_is_a_usage_error()
    {
        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "bench", "--only", "identity,nosuch");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown group 'nosuch'", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_names_every_group_and_the_exit_codes()
    {
        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "bench", "--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var group in new[] { "ingestion", "identity", "profiles", "pql", "segmentation", "hashing", "activation", "export" })
        {
            Assert.Contains(group, run.Output, StringComparison.Ordinal);
        }
        Assert.Contains("Exit codes: 0 the run completed", run.Output, StringComparison.Ordinal);
        Assert.Contains("--json <FILE>", run.Output, StringComparison.Ordinal);
    }
}

namespace Tessera.Bench;

/// <summary>
/// What one run of the benchmark suite measures and where: the groups to run, the sizes, the JSON
/// report. <see cref="Defaults"/> gives the default or the quick sizes; set any size after it.
/// </summary>
public sealed record BenchOptions
{
    /// <summary>Small sizes: the whole suite in a few minutes on 2 cores.</summary>
    public bool Quick { get; init; }

    /// <summary>Keep the generated input and workspaces.</summary>
    public bool Keep { get; init; }

    /// <summary>Also write the report as JSON to this file.</summary>
    public string? JsonPath { get; init; }

    /// <summary>Where to write the table as Markdown: the section between the <c>tessera bench: begin</c> and <c>end</c> markers if the file has them, else the whole file.</summary>
    public string? MarkdownPath { get; init; }

    /// <summary>Where generated input and workspaces go (one folder per group); null: a temporary folder, deleted after.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>
    /// The groups to run (<see cref="BenchSuite.Groups"/> names, or <c>csv</c>, <c>events</c>,
    /// <c>http</c> for parts of ingestion); null runs every group.
    /// </summary>
    public IReadOnlyList<string>? Only { get; init; }

    public int CsvRows { get; init; } = 2_000_000;
    public int Events { get; init; } = 1_000_000;
    public int EventBatch { get; init; } = 500;
    public int Callers { get; init; } = 4;
    public int Identities { get; init; } = 10_000_000;
    public int Lookups { get; init; } = 1_000_000;
    public int Budget { get; init; } = 60;
    public int Profiles { get; init; } = 1_000_000;
    public int HeavyProfiles { get; init; } = 1_000;
    public int LightCached { get; init; } = 100_000;

    /// <summary>Batch engine runs over the same data: the first is timed against DuckDB, the later ones are diagnostics.</summary>
    public int BatchRuns { get; init; } = 1;

    /// <summary>The default sizes, or with <paramref name="quick"/> the quick ones.</summary>
    public static BenchOptions Defaults(bool quick) => quick
        ? new BenchOptions
        {
            Quick = true,
            CsvRows = 200_000,
            Events = 200_000,
            Identities = 1_000_000,
            Lookups = 200_000,
            Profiles = 100_000,
            HeavyProfiles = 200,
            LightCached = 20_000,
        }
        : new BenchOptions();

    /// <summary>The parts of ingestion to run: csv, events, http (all of them unless <see cref="Only"/> names some).</summary>
    internal bool RunsIngestionPart(string part) =>
        Only is null || Only.Contains("ingestion", StringComparer.Ordinal) || Only.Contains(part, StringComparer.Ordinal);

    /// <summary>"quick: " with what was scaled down, for a figure's notes; empty at default size.</summary>
    internal string QuickNote(string sizes) => Quick ? $"quick: {sizes}" : sizes;
}

using System.Diagnostics;
using System.Reflection;
using Spectre.Console;

namespace Tessera.Bench;

/// <summary>One group of the suite: its name (for <c>--only</c>), what it measures, and the measurement.</summary>
/// <param name="Name">The name <c>--only</c> takes.</param>
/// <param name="Description">One line for <c>--help</c>.</param>
/// <param name="Run">
/// Measures, printing progress and detail as it goes, and returns its figures. A failed correctness
/// check (wrong row counts, a lookup that finds nothing) throws, ideally a
/// <see cref="BenchCheckException"/> carrying the figures measured anyway.
/// </param>
public sealed record BenchGroup(string Name, string Description, Func<BenchOptions, CancellationToken, Task<IReadOnlyList<Figure>>> Run);

/// <summary>A measurement's correctness check failed; <see cref="Figures"/> are what was measured all the same.</summary>
public sealed class BenchCheckException : Exception
{
    public BenchCheckException()
    {
    }

    public BenchCheckException(string message)
        : base(message)
    {
    }

    public BenchCheckException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public BenchCheckException(string message, IReadOnlyList<Figure> figures)
        : base(message) => Figures = figures;

    public IReadOnlyList<Figure> Figures { get; } = [];
}

/// <summary>How one group's run went.</summary>
/// <param name="Name">The group.</param>
/// <param name="Seconds">Its wall time, generation of input and warm-ups included.</param>
/// <param name="Problem">Null when every correctness check held.</param>
public sealed record GroupRun(string Name, double Seconds, string? Problem);

/// <summary>
/// The end-to-end benchmark suite (<c>tessera bench</c>): every group in order, each Tessera figure
/// beside the peer or floor measured in the same run, in one table and optionally one JSON file.
/// </summary>
public static class BenchSuite
{
    /// <summary>Exit code: the run completed (targets not met are reported, not errors).</summary>
    public const int Completed = 0;

    /// <summary>Exit code: a measurement's correctness check failed, or a group could not run.</summary>
    public const int CheckFailed = 1;

    /// <summary>Every group, in the order the suite runs them; adding one is one line here.</summary>
    public static IReadOnlyList<BenchGroup> Groups { get; } =
    [
        new("ingestion", "CSV files, streamed events in process and over HTTP, beside raw parsing (Sep, Utf8JsonReader, JsonDocument)", IngestionBench.RunAsync),
        new("identity", "incremental linking, rebuild from the ledger and identity-to-graph lookups, beside a plain union-find", IdentityBench.RunAsync),
        new("profiles", "profile lookups cold and warm beside raw store reads, incremental view updates, memory per profile", ProfileBench.RunAsync),
        new("pql", "audience preparation beside parsing, compiled evaluation beside the interpreter", PqlBench.RunAsync),
        new("segmentation", "streaming engine throughput and latency beside ingestion alone", SegmentationBench.RunAsync),
        new("batch", "50 audiences over every profile by the batch engine, beside DuckDB running equivalent SQL (member counts checked equal)", BatchBench.RunAsync),
        new("estimate", "a draft audience's size estimated from a sample of 10,000 profiles, beside reading that sample alone", EstimateBench.RunAsync),
        new("edge", "edge evaluation latency at a fixed request rate on loopback, beside a bare Kestrel endpoint", EdgeBench.RunAsync),
        new("hashing", "match keys normalized, SHA-256'd and encoded per platform, beside bare SHA256.HashData", HashingBench.RunAsync),
        new("activation", "streaming delivery to a local receiver beside bare POSTs; full export through a file destination", ActivationBench.RunAsync),
        new("export", "FileExporter to hashed CSV, JSON Lines and Parquet beside the hash loop and Sep writing", ExportBench.RunAsync),
    ];

    /// <summary>Names <c>--only</c> takes besides the groups: parts of ingestion.</summary>
    public static IReadOnlyList<string> IngestionParts { get; } = ["csv", "events", "http"];

    /// <summary>Whether the running code was compiled with the JIT optimizer on (Release); Debug figures mean nothing.</summary>
    public static bool IsOptimized =>
        new[] { typeof(BenchSuite).Assembly, typeof(Tessera.Ingestion.IngestionService).Assembly, typeof(Tessera.Identity.Graph.IdentityGraph).Assembly }
            .All(assembly => assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true });

    /// <summary>Runs the groups <paramref name="options"/> selects, prints the table, writes the JSON; returns the exit code.</summary>
    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var selected = Select(options.Only);
        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();
        var ownRoot = options.DataDirectory is null;
        var root = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"tessera-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
        }
        AnsiConsole.MarkupLine($"[bold]Tessera benchmark suite[/] ({(options.Quick ? "quick" : "default")} size): {string.Join(", ", selected.Select(g => g.Name))}");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(Machine.Describe())}; load average {Markup.Escape(Machine.LoadAverage())}[/]");
        AnsiConsole.MarkupLine($"[grey]data: {Markup.Escape(root)}[/]");
        if (!IsOptimized)
        {
            AnsiConsole.MarkupLine("[red bold]WARNING: this build is not optimized (Debug): its figures mean nothing. Run with -c Release.[/]");
        }

        var figures = new List<Figure>();
        var runs = new List<GroupRun>();
        try
        {
            for (var i = 0; i < selected.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var group = selected[i];
                AnsiConsole.WriteLine();
                AnsiConsole.Write(new Rule($"[bold]{i + 1}/{selected.Count} {Markup.Escape(group.Name)}[/]: {Markup.Escape(group.Description)}").LeftJustified());
                var directory = Path.Combine(root, $"bench-{group.Name}");
                DeleteQuietly(directory);
                var watch = Stopwatch.StartNew();
                string? problem = null;
                try
                {
                    figures.AddRange(await group.Run(options with { DataDirectory = directory }, cancellationToken).ConfigureAwait(false));
                }
                catch (BenchCheckException check)
                {
                    figures.AddRange(check.Figures);
                    problem = check.Message;
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    problem = $"{error.GetType().Name}: {error.Message}";
                    AnsiConsole.WriteException(error, ExceptionFormats.ShortenEverything);
                }
                finally
                {
                    if (!options.Keep)
                    {
                        DeleteQuietly(directory);
                    }
                }
                runs.Add(new GroupRun(group.Name, watch.Elapsed.TotalSeconds, problem));
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(group.Name)}[/]: {watch.Elapsed.TotalSeconds:0.0} s"
                    + (problem is null ? "" : $" [red]check failed: {Markup.Escape(problem)}[/]"));
            }
        }
        finally
        {
            if (ownRoot && !options.Keep)
            {
                DeleteQuietly(root);
            }
        }

        var report = new SuiteReport(options, started, DateTimeOffset.UtcNow, total.Elapsed.TotalSeconds, IsOptimized, runs, figures);
        AnsiConsole.WriteLine();
        report.Print();
        if (options.JsonPath is { } json)
        {
            report.WriteJson(json);
            AnsiConsole.MarkupLine($"[grey]wrote {Markup.Escape(json)}[/]");
        }
        if (options.MarkdownPath is { } markdown)
        {
            report.WriteMarkdown(markdown);
            AnsiConsole.MarkupLine($"[grey]wrote {Markup.Escape(markdown)}[/]");
        }
        return runs.Any(r => r.Problem is not null) ? CheckFailed : Completed;
    }

    /// <summary>The groups <paramref name="only"/> names, in suite order; every group when null. Unknown names throw.</summary>
    public static IReadOnlyList<BenchGroup> Select(IReadOnlyList<string>? only)
    {
        if (only is null || only.Count == 0)
        {
            return Groups;
        }
        foreach (var name in only)
        {
            if (!Groups.Any(g => g.Name == name) && !IngestionParts.Contains(name))
            {
                throw new ArgumentException($"unknown group '{name}': the groups are {string.Join(", ", Groups.Select(g => g.Name))} (or csv, events, http for parts of ingestion)");
            }
        }
        return Groups.Where(g => only.Contains(g.Name) || (g.Name == "ingestion" && only.Any(IngestionParts.Contains))).ToList();
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Leftover benchmark data is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion;
using Tessera.Server;
using Tessera.Storage;

namespace Tessera.Bench;

/// <summary>
/// The estimate benchmark (<c>estimate</c>): the size of a draft PQL estimated from a sample of 10,000 profiles with its 95 %
/// interval (<c>tessera audience estimate --pql</c>, <c>POST /segmentation/v1/estimate</c>), over a workspace of 10,000,000
/// CRM profiles (1,000,000 with <c>--quick</c>) loaded from CSV, beside the floor of reading the same sample's profiles
/// alone (what any estimate from that sample must do), and beside a bare scan of every profile's record keys (what merely
/// counting the population by its keys costs, which the estimate did before 2026-12-02). The true count is known from the
/// generator: an interval missing it in more than one call of five fails the group's check.
/// </summary>
internal static class EstimateBench
{
    private const string Sandbox = TesseraCatalog.DefaultSandbox;
    private const string Group = "segmentation";
    private const int Sample = 10_000;
    private const int RowsPerFile = 2_000_000;
    private const string Draft = "tier = \"gold\" and points > 1000";
    private const int Calls = 5;

    public static async Task<IReadOnlyList<Figure>> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var profiles = options.Quick ? 1_000_000 : 10_000_000;
        var size = $"{profiles:N0} profiles";
        var root = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"tessera-bench-estimate-{Environment.ProcessId}");
        AnsiConsole.MarkupLine($"[bold]Tessera estimate benchmark[/]: a draft's size from a sample of {Sample:N0} over {size}");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(Machine.Describe())}[/]");
        try
        {
            var watch = Stopwatch.StartNew();
            var (files, matching) = Write(Path.Combine(root, "input"), profiles);
            Note($"generated {size} as CSV in {files.Count} files in {watch.Elapsed.TotalSeconds:0.0} s; {matching:N0} match the draft {Markup.Escape(Draft)}");

            var load = await Workspace.OpenAsync(Path.Combine(root, "workspace"));
            watch.Restart();
            await load.Catalog.RegisterSchemaAsync(Sandbox, JsonSerializer.Deserialize(BatchWorkload.ProfileSchemaJson, CatalogJson.Default.SchemaDocument)!);
            await load.Catalog.CreateDatasetAsync(Sandbox, new DatasetDefinition { Name = "shoppers", Schema = "shopper" });
            foreach (var file in files)
            {
                var batch = await load.Ingestion.IngestFileAsync(Sandbox, "shoppers", file, cancellationToken: cancellationToken);
                if (batch.Status != BatchStatus.Success || batch.Counts.Failed > 0)
                {
                    throw new InvalidOperationException($"{Path.GetFileName(file)}: batch {batch.Status}, {batch.Counts.Accepted} accepted, {batch.Counts.Failed} failed ({batch.FailureReason})");
                }
            }
            Note($"Tessera load (IngestFileAsync, durable, bulk load): {watch.Elapsed.TotalSeconds:0.0} s");
            // Estimates are timed as a server that has been started on the workspace would make them, not in the instance that
            // just bulk-loaded ten million records (there, each read cost about twice as much CPU).
            load.Dispose();
            Settle.Heap();
            using var workspace = await Workspace.OpenAsync(Path.Combine(root, "workspace"));

            // Warm-up: estimates of other seeds until the JIT has settled (the first, which loads the identity graph, included).
            var estimator = workspace.Estimator;
            var warmup = await JitWarmup.UntilSettledAsync("estimate", round =>
            {
                estimator.EstimatePql(Sandbox, Draft, sampleSize: Sample, seed: 100 + round, cancellationToken: cancellationToken);
                return Task.CompletedTask;
            });
            Note(warmup);
            await Settle.JitAsync();
            Settle.Heap();
            var jitBefore = JitInfo.GetCompilationTime();
            var gc = GcMark.Now();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;

            var times = new List<double>();
            var held = 0;
            var last = default(Tessera.Segmentation.Estimates.SizeEstimate);
            for (var seed = 1; seed <= Calls; seed++)
            {
                watch.Restart();
                last = estimator.EstimatePql(Sandbox, Draft, sampleSize: Sample, seed: seed, cancellationToken: cancellationToken);
                times.Add(watch.Elapsed.TotalSeconds);
                held += last.Low <= matching && matching <= last.High ? 1 : 0;
                Note($"estimate (seed {seed}): {last.Estimate:N0} in {last.Low:N0}..{last.High:N0} of {last.Profiles:N0} ({last.Matched:N0} of {last.Sampled:N0} sampled) in {times[^1]:0.000} s");
            }
            var compiled = $"{JitWarmup.CompiledSince(jitBefore)}; {gc.Since()}; process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.0} s";
            if (last!.Profiles != profiles || held < Calls - 1)
            {
                throw new InvalidOperationException($"the estimate counted {last.Profiles:N0} profiles of {profiles:N0}, and {held} of {Calls} intervals held the true count {matching:N0}");
            }

            // The floor: a sample's profiles read as the estimate reads them (a part per core, not kept), without evaluating
            // anything. Samples of other seeds: the measured estimates' blocks are warm now, and each estimate draws afresh.
            var floors = new List<double>();
            for (var seed = 1; seed <= Calls; seed++)
            {
                watch.Restart();
                var (_, sample) = workspace.Identity.SampleProfiles(Sandbox, Sample, stitched: true, new Random(1000 + seed));
                Parallel.For(0, Environment.ProcessorCount, part =>
                {
                    for (var i = part; i < sample.Count; i += Environment.ProcessorCount)
                    {
                        _ = workspace.Profiles.ForEvaluation(Sandbox, sample[i], keepInCache: false);
                    }
                });
                floors.Add(watch.Elapsed.TotalSeconds);
            }

            // What counting the population by its keys costs: every record key of the sandbox, on every shard.
            watch.Restart();
            long keys = 0;
            var prefix = FactKeys.SandboxPrefix(FactKeys.RecordTag, Sandbox);
            for (var shard = 0; shard < workspace.Store.ShardCount; shard++)
            {
                workspace.Store.Scan(StoreSpace.Facts, shard, prefix, (_, _) =>
                {
                    keys++;
                    return true;
                });
            }
            var scan = watch.Elapsed.TotalSeconds;

            var median = times.Order().ElementAt(Calls / 2);
            var floor = floors.Order().ElementAt(Calls / 2);
            var notes = $"{size}; sample {Sample:N0}; draft {Draft}; true count {matching:N0}, held by {held} of {Calls} intervals; median of {Calls} calls "
                + $"({string.Join(", ", times.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))} s); {compiled}";
            var full = profiles >= 10_000_000;
            return
            [
                new Figure(Group, "estimate: a draft's size from a sample of 10,000 profiles, with its 95 % interval", median, "s", HigherIsBetter: false,
                    "a sample's profiles read alone", floor, "≤ 1 s at 10,000,000 profiles", full ? median <= 1 : null,
                    full ? notes : $"quick: {notes} (the target is at 10,000,000)"),
                new Figure(Group, "estimate stage: every profile's record key scanned (counting the population by its keys)", scan, "s", HigherIsBetter: false,
                    "the estimate", median, Notes: $"{keys:N0} record keys on {workspace.Store.ShardCount} shards"),
            ];
        }
        finally
        {
            if (!options.Keep && options.DataDirectory is null && Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>Profiles in files of <see cref="RowsPerFile"/> (a file batch keeps its validated facts in memory), and how many match <see cref="Draft"/>.</summary>
    private static (List<string> Files, long Matching) Write(string directory, int profiles)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(BatchWorkload.Seed);
        var files = new List<string>();
        long matching = 0;
        var line = new StringBuilder(128);
        for (var from = 0; from < profiles; from += RowsPerFile)
        {
            var path = Path.Combine(directory, $"profiles-{files.Count}.csv");
            using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
            writer.WriteLine(BatchWorkload.ProfileHeader);
            for (var i = from; i < Math.Min(profiles, from + RowsPerFile); i++)
            {
                var row = BatchWorkload.ProfileRow(line.Clear(), i, random).ToString();
                var fields = row.Split(',');
                matching += fields[1] == "gold" && fields[2].Length > 0 && int.Parse(fields[2], CultureInfo.InvariantCulture) > 1000 ? 1 : 0;
                writer.WriteLine(row);
            }
            files.Add(path);
        }
        return (files, matching);
    }

    private static void Note(string markup) => AnsiConsole.MarkupLine($"[grey]{markup}[/]");
}

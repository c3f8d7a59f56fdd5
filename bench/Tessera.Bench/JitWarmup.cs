using System.Diagnostics;
using System.Runtime;
using Spectre.Console;

namespace Tessera.Bench;

/// <summary>
/// Warm-up until the JIT has settled. The runtime compiles a method quickly first, then again with
/// instrumentation once it has been called often enough, then optimized with what that measured, each
/// step on a background thread after a quiet period; one pass of a workload leaves many hot methods
/// half-way, and a measurement that starts then counts their compilation and their slow code (a third
/// of the quick ingestion figures: BENCHMARKS.md). The targets are about a process that has been
/// running, so rounds of a workload (each on fresh data) run until the JIT takes almost none of a
/// round's time. Method counts do not say it: code called once per batch reaches the call count of
/// its next tier only after dozens of batches, and compiling it costs next to nothing.
/// </summary>
internal static class JitWarmup
{
    /// <summary>A round in which compiling took at most this share of its wall time ends the warm-up.</summary>
    public const double SettledShare = 0.02;

    /// <summary>
    /// Runs <paramref name="round"/> (given its number, from 0) at least twice and until compiling took at most
    /// <see cref="SettledShare"/> of a round, or <paramref name="maxRounds"/> rounds; returns what it did, for a figure's notes.
    /// </summary>
    public static async Task<string> UntilSettledAsync(string what, Func<int, Task> round, int maxRounds = 16)
    {
        var watch = Stopwatch.StartNew();
        var shares = new List<double>();
        while (shares.Count < maxRounds && (shares.Count < 2 || shares[^1] > SettledShare))
        {
            var compiling = JitInfo.GetCompilationTime();
            var started = Stopwatch.GetTimestamp();
            await round(shares.Count).ConfigureAwait(false);
            shares.Add((JitInfo.GetCompilationTime() - compiling) / Stopwatch.GetElapsedTime(started));
        }
        var report = $"warm-up {shares.Count} rounds in {watch.Elapsed.TotalSeconds:0.0} s, "
            + (shares[^1] <= SettledShare ? "until the JIT settled" : "stopped before the JIT settled")
            + $" (compiling per round: {string.Join(", ", shares.Select(s => $"{s:0%}"))} of its time)";
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(what)}: {Markup.Escape(report)}[/]");
        return report;
    }

    /// <summary>What the JIT did since <paramref name="before"/> (a <see cref="JitInfo.GetCompilationTime"/> reading), for a measurement's notes.</summary>
    public static string CompiledSince(TimeSpan before) => $"JIT compiling {(JitInfo.GetCompilationTime() - before).TotalSeconds:0.00} s during the measure";
}

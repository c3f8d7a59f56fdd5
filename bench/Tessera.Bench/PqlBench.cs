using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Spectre.Console;
using Tessera.Pql.Binding;
using Tessera.Pql.Classification;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

using static Tessera.Bench.BenchInputs;

namespace Tessera.Bench;

/// <summary>
/// The PQL benchmark (<c>--only pql</c>): preparing a typical audience (parse, check against the
/// profile's types, classify, compile) beside parsing alone; and evaluating audiences per profile
/// with the compiled evaluator beside the reference interpreter, in the same run, over a few thousand
/// distinct generated profiles: attribute-only, and a 24-hour event window over 100 events.
/// </summary>
internal static class PqlBench
{
    private const int HotProfiles = 8;

    public static Task<IReadOnlyList<Figure>> RunAsync(BenchOptions options, CancellationToken cancellationToken) =>
        Task.Run(() => Run(options), cancellationToken);

    private static IReadOnlyList<Figure> Run(BenchOptions options)
    {
        var quick = options.Quick;
        var profileCount = quick ? 2_000 : 10_000;
        AnsiConsole.MarkupLine($"[bold]Tessera PQL benchmark[/]: {profileCount:N0} profiles of 100 events each, evaluated at {Now:u}");
        var random = new Random(IdentityBench.Seed);
        var json = Enumerable.Range(0, profileCount).Select(_ => Profile(random)).ToArray();
        var profiles = json.Select(p => PqlProfile.FromJson(p)).ToArray();
        var type = PqlTypes.FromSample(json[0]);
        var rows = new List<string[]>();
        var figures = new List<Figure>();
        var size = options.QuickNote($"{profileCount:N0} profiles of 100 events");

        // Preparing an audience.
        var warmup = TimeSpan.FromSeconds(quick ? 0.5 : 1.5);
        var prepareRounds = quick ? 5_000 : 20_000;
        var parse = PerCall(warmup, prepareRounds, () => Parser.Parse(Typical));
        rows.Add(["typical audience: parse (floor)", Micro(parse), "", ""]);
        var prepare = PerCall(warmup, prepareRounds, () =>
        {
            var tree = Parser.Parse(Typical);
            var check = Binder.Check(tree, type);
            if (check.Errors.Count > 0)
            {
                throw new InvalidOperationException(check.Errors[0].Message);
            }
            _ = EvaluationModeClassifier.Classify(tree);
            return PqlCompiler.Compile(tree);
        });
        rows.Add(["typical audience: parse + check + classify + compile", Micro(prepare), $"{prepare / parse:0.0}× parse", Verdict(prepare, 100e-6)]);
        figures.Add(new Figure("pql", "typical audience: parse + check + classify + compile", prepare * 1e6, "µs", HigherIsBetter: false,
            "parse alone", parse * 1e6, "≤ 100 µs", prepare <= 100e-6, $"{size}; mean of {prepareRounds:N0} calls"));

        // Evaluating per profile.
        var clock = new FakeTimeProvider(Now);
        foreach (var (name, text, target) in new (string, string, double?)[]
        {
            ("attribute-only audience", AttributeOnly, 100e-9),
            ("24-hour event window (chain) over 100 events", EventWindow, 2e-6),
            ("24-hour event count (filter + count) over 100 events", EventCount, 2e-6),
            ("funnel: 24-hour product view, then a purchase (chain of two steps) over 100 events", Funnel, null),
        })
        {
            var tree = Parser.Parse(text);
            var compiled = PqlCompiler.Compile(tree);
            var agree = 0;
            var members = 0;
            for (var i = 0; i < Math.Min(500, profileCount); i++)
            {
                var expected = Interpreter.Evaluate(tree, json[i], clock) is true;
                agree += expected == compiled.Matches(profiles[i], Now) ? 1 : 0;
                members += expected ? 1 : 0;
            }
            if (agree != Math.Min(500, profileCount))
            {
                throw new InvalidOperationException($"{name}: compiled and interpreted disagree");
            }
            var interpreted = PerProfile(warmup, 1, Math.Min(profileCount, quick ? 2_000 : 10_000), i => Interpreter.Evaluate(tree, json[i], clock) is true);
            // Hot: a few profiles, in cache, as the streaming and edge engines meet the profile an event just touched.
            var hot = PerProfile(warmup, quick ? 20_000 : 100_000, HotProfiles, i => compiled.Matches(profiles[i], Now));
            // Cold: every profile in turn, each read from memory, as a scan over all profiles meets them.
            var cold = PerProfile(warmup, quick ? 20 : 100, profileCount, i => compiled.Matches(profiles[i], Now));
            rows.Add([$"{name}: interpreter (on JSON)", Nano(interpreted), "", ""]);
            rows.Add([$"{name}: compiled, profile in cache ({members * 100 / Math.Min(500, profileCount)} % members)", Nano(hot), $"{interpreted / hot:0}× faster", target is { } limit ? Verdict(hot, limit) : ""]);
            rows.Add([$"{name}: compiled, {profileCount:N0} profiles from memory", Nano(cold), $"{interpreted / cold:0}× faster", ""]);
            var share = $"{members * 100 / Math.Min(500, profileCount)} % members";
            figures.Add(new Figure("pql", $"{name}: compiled, profile in cache", hot * 1e9, "ns", HigherIsBetter: false,
                "reference interpreter (on JSON)", interpreted * 1e9, target is { } most ? $"≤ {Format(most)}" : null, target is null ? null : hot <= target, $"{size}; {HotProfiles} profiles evaluated in turn; {share}"));
            figures.Add(new Figure("pql", $"{name}: compiled, {profileCount:N0} profiles from memory", cold * 1e9, "ns", HigherIsBetter: false,
                "reference interpreter (on JSON)", interpreted * 1e9, null, null, $"{size}; {share}"));
        }
        var conversion = PerProfile(warmup, quick ? 2 : 5, profileCount, i => PqlProfile.FromJson(json[i]) is not null);
        rows.Add(["profile conversion to compiled values (once per profile change, not per audience)", Micro(conversion), "", ""]);
        figures.Add(new Figure("pql", "profile conversion to compiled values (once per profile change, not per audience)", conversion * 1e6, "µs", HigherIsBetter: false,
            Notes: size));

        // A stored web event (the ingestion benchmark's: identity map, page, URLs, device, user agent, IP) converted
        // whole, and with only the fields these audiences read, as the engines convert and keep it.
        var events = DataGen.WebEventBatches(quick ? 2_000 : 10_000, 500, IdentityBench.Seed, out var eventBytes)
            .SelectMany(batch =>
            {
                using var document = System.Text.Json.JsonDocument.Parse(batch);
                return document.RootElement.EnumerateArray().Select(e => System.Text.Encoding.UTF8.GetBytes(e.GetRawText())).ToArray();
            }).ToArray();
        var projection = EventProjection.Of([.. new[] { Typical, EventWindow, EventCount, PageName }.Select(Parser.Parse)]);
        var (whole, wholeBytes) = PerEvent(warmup, quick ? 20 : 50, events, null);
        var (projected, projectedBytes) = PerEvent(warmup, quick ? 20 : 50, events, projection);
        var eventSize = $"{eventBytes / events.Length:N0} B events";
        rows.Add([$"stored web event ({eventSize}) converted whole: allocates {wholeBytes:N0} B", Micro(whole), "", ""]);
        rows.Add([$"the same, only what the 4 audiences above read ({projection}): allocates {projectedBytes:N0} B", Micro(projected), $"{whole / projected:0.0}× faster", ""]);
        figures.Add(new Figure("pql", "stored web event converted with only the fields the audiences read (EventProjection)", projected * 1e6, "µs", HigherIsBetter: false,
            "the event converted whole", whole * 1e6, null, null,
            $"{size}; {events.Length:N0} {eventSize}; kept: {projection}; allocated {projectedBytes:N0} B an event against {wholeBytes:N0} B whole"));

        var table = new Table().AddColumns("measure", "per call", "beside", "target");
        foreach (var row in rows)
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
        return figures;
    }

    /// <summary>Seconds and bytes allocated per event converted, <paramref name="rounds"/> times over all of them after warming up.</summary>
    private static (double Seconds, long Bytes) PerEvent(TimeSpan warmup, int rounds, byte[][] events, EventProjection? projection)
    {
        var kept = 0;
        var warming = Stopwatch.StartNew();
        while (warming.Elapsed < warmup)
        {
            foreach (var json in events)
            {
                kept += PqlProfile.Convert(json, TimeZoneInfo.Utc, projection).Record.Count;
            }
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var json in events)
            {
                kept += PqlProfile.Convert(json, TimeZoneInfo.Utc, projection).Record.Count;
            }
        }
        var seconds = watch.Elapsed.TotalSeconds;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        GC.KeepAlive(kept);
        var count = (long)rounds * events.Length;
        return (seconds / count, allocated / count);
    }

    private static string Verdict(double seconds, double target) =>
        seconds <= target ? $"≤ {Format(target)}: met" : $"≤ {Format(target)}: NOT met";

    private static string Format(double seconds) => seconds >= 1e-6 ? $"{seconds * 1e6:0.##} µs" : $"{seconds * 1e9:0} ns";

    private static string Micro(double seconds) => $"{seconds * 1e6:0.0} µs";

    private static string Nano(double seconds) => seconds >= 1e-6 ? $"{seconds * 1e6:0.00} µs" : $"{seconds * 1e9:0.0} ns";

    /// <summary>Seconds per call, after warming up for <paramref name="warmup"/>.</summary>
    private static double PerCall<T>(TimeSpan warmup, int rounds, Func<T> body)
    {
        var warming = Stopwatch.StartNew();
        while (warming.Elapsed < warmup)
        {
            _ = body();
        }
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < rounds; i++)
        {
            _ = body();
        }
        return watch.Elapsed.TotalSeconds / rounds;
    }

    /// <summary>
    /// Seconds per profile over the first <paramref name="profiles"/>, <paramref name="rounds"/> times,
    /// after warming up for <paramref name="warmup"/>: long enough for tiered compilation to replace
    /// the first code of the closures (measured before it, the compiled figures were 3 to 8 times worse).
    /// </summary>
    private static double PerProfile(TimeSpan warmup, int rounds, int profiles, Func<int, bool> evaluate)
    {
        var hits = 0;
        var warming = Stopwatch.StartNew();
        do
        {
            for (var i = 0; i < profiles; i++)
            {
                hits += evaluate(i) ? 1 : 0;
            }
        }
        while (warming.Elapsed < warmup);
        var watch = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < profiles; i++)
            {
                hits += evaluate(i) ? 1 : 0;
            }
        }
        GC.KeepAlive(hits);
        return watch.Elapsed.TotalSeconds / ((long)rounds * profiles);
    }
}

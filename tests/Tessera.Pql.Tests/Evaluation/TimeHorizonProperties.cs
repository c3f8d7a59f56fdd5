using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>
/// The time horizon is safe: on random expressions over random profiles (the compiler property's
/// generator), at random instants in three time zones, the interpreter gives the value it gives at
/// now at every instant sampled before the horizon, and the horizon lies after now.
/// </summary>
public sealed class TimeHorizonProperties
{
    private static readonly DateTimeOffset Base = new(2026, 3, 29, 0, 30, 0, TimeSpan.Zero);

    [Property(Replay = "(20261129,29)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool The_value_holds_until_the_horizon(int seed, int salt, int twist)
    {
        // Three integers date from before the EndSize, when FsCheck's stayed within ±100 (thousands of cases, not hundreds).
        var random = new Random(unchecked((seed * 1_000_003) + (salt * 1_009) + twist));
        var tree = EvaluationTrees.Expression(random);
        var profile = EvaluationTrees.Profile(random);
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        // Whole minutes, and sometimes odd ticks, so that instants fall both on and between boundaries.
        var now = Base.AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40)).AddTicks(random.Next(3) == 0 ? random.NextInt64(TimeSpan.TicksPerHour) : 0);
        return HoldsUntilTheHorizon(tree, profile, zone, now, random);
    }

    private static bool HoldsUntilTheHorizon(PqlNode tree, JsonObject profile, TimeZoneInfo zone, DateTimeOffset now, Random random)
    {
        var atNow = ValueAt(tree, profile, now, zone);
        var horizon = TimeHorizon.NextChange(tree, profile, now, zone);
        if (horizon <= now)
        {
            throw new InvalidOperationException($"{Printer.Print(tree)}: horizon {horizon:O} is not after {now:O}");
        }
        // Without a horizon the value must hold for good: sample far out (beyond every profile instant).
        var end = horizon ?? now.AddYears(3);
        foreach (var instant in Samples(random, now, end))
        {
            var value = ValueAt(tree, profile, instant, zone);
            if (!CompilerProperties.Same(atNow, value))
            {
                throw new InvalidOperationException(
                    $"{Printer.Print(tree)} in {zone.Id}: {CompilerProperties.Show(atNow)} at {now:O}, {CompilerProperties.Show(value)} at {instant:O}, " +
                    $"horizon {horizon:O}\nprofile: {profile.ToJsonString()}");
            }
        }
        // For the record, not asserted: whether the value really changes at the horizon (and at the first step's).
        if (Environment.GetEnvironmentVariable("PQL_HORIZON_TIGHTNESS") is { } tally)
        {
            var firstStep = TimeHorizon.NextPossibleChange(tree, profile, now, zone);
            File.AppendAllText(tally, $"{Tightness(tree, profile, zone, atNow, horizon)} {Tightness(tree, profile, zone, atNow, firstStep)} {horizon - now} {Printer.Print(tree)}\n");
        }
        return true;
    }

    /// <summary>
    /// Windows at their edges: time conditions of every form over events and a profile date, with
    /// now placed within a few units of one of the profile's instants, so that window ends cross them.
    /// </summary>
    [Property(Replay = "(20261129,31)", MaxTest = 800, EndSize = 100_000_000)]
    public bool The_value_holds_until_the_horizon_at_window_edges(int seed, int salt, int twist)
    {
        var random = new Random(unchecked((seed * 1_000_003) + (salt * 1_009) + twist));
        var tree = Parser.Parse(WindowConditions.Condition(random));
        var profile = EvaluationTrees.Profile(random);
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        var instants = profile.ToJsonString().Split('"').Where(text => text.Length >= 10 && text[4] == '-' && char.IsAsciiDigit(text[0])).ToList();
        var near = instants.Count == 0 ? Base : DateTimeOffset.Parse(instants[random.Next(instants.Count)], System.Globalization.CultureInfo.InvariantCulture);
        var now = near.AddTicks(random.NextInt64(-TimeSpan.TicksPerDay * 3, WindowConditions.Span(random)));
        return HoldsUntilTheHorizon(tree, profile, zone, now, random);
    }

    /// <summary>
    /// The compiled horizon (what the streaming engine asks) is never later than the interpreter's, and
    /// the interpreter's value holds at every instant sampled between now and it: on the random
    /// expressions and on the window conditions at their edges, in three zones, with <c>inSegment</c>.
    /// </summary>
    [Property(Replay = "(20261129,37)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool The_compiled_horizon_is_never_later_than_the_interpreters(int seed, int salt, int twist)
    {
        var random = new Random(unchecked((seed * 1_000_003) + (salt * 1_009) + twist));
        var windows = random.Next(2) == 0;
        var tree = windows ? Parser.Parse(WindowConditions.Condition(random)) : EvaluationTrees.Expression(random);
        var profile = EvaluationTrees.Profile(random);
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        var instants = profile.ToJsonString().Split('"').Where(text => text.Length >= 10 && text[4] == '-' && char.IsAsciiDigit(text[0])).ToList();
        var now = windows && instants.Count > 0
            ? DateTimeOffset.Parse(instants[random.Next(instants.Count)], System.Globalization.CultureInfo.InvariantCulture).AddTicks(random.NextInt64(-TimeSpan.TicksPerDay * 3, WindowConditions.Span(random)))
            : Base.AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40)).AddTicks(random.Next(3) == 0 ? random.NextInt64(TimeSpan.TicksPerHour) : 0);
        var member = random.Next(2) == 0;
        bool InSegment(string id) => member;
        var interpreted = TimeHorizon.NextChange(tree, profile, now, zone, InSegment);
        var compiled = TimeHorizon.NextChange(TimeHorizon.ClockReading.Of(tree, zone), PqlCompiler.Compile(tree, zone), PqlProfile.FromJson(profile, zone), now, InSegment);
        if (compiled <= now || (compiled is null && interpreted is not null) || (compiled is { } c && interpreted is { } i && c > i))
        {
            throw new InvalidOperationException($"{Printer.Print(tree)} in {zone.Id} at {now:O}: compiled {compiled:O}, interpreter {interpreted:O}\nprofile: {profile.ToJsonString()}");
        }
        var atNow = CompilerProperties.Outcome(() => Interpreter.Evaluate(tree, profile, new FakeTimeProvider(now), zone, InSegment));
        foreach (var instant in Samples(random, now, compiled ?? now.AddYears(3)))
        {
            var value = CompilerProperties.Outcome(() => Interpreter.Evaluate(tree, profile, new FakeTimeProvider(instant), zone, InSegment));
            if (!CompilerProperties.Same(atNow, value))
            {
                throw new InvalidOperationException(
                    $"{Printer.Print(tree)} in {zone.Id}: {CompilerProperties.Show(atNow)} at {now:O}, {CompilerProperties.Show(value)} at {instant:O}, " +
                    $"compiled horizon {compiled:O}\nprofile: {profile.ToJsonString()}");
            }
        }
        return true;
    }

    /// <summary>Just after now, just before the end, powers of three seconds from now, and random instants in between.</summary>
    private static IEnumerable<DateTimeOffset> Samples(Random random, DateTimeOffset now, DateTimeOffset end)
    {
        var span = end.UtcTicks - now.UtcTicks;
        yield return now.AddTicks(1);
        yield return end.AddTicks(-1);
        if (span > TimeSpan.TicksPerSecond)
        {
            yield return end.AddSeconds(-1);
        }
        for (var seconds = 1L; seconds * TimeSpan.TicksPerSecond < span; seconds *= 3)
        {
            yield return now.AddSeconds(seconds);
        }
        for (var i = 0; i < 6; i++)
        {
            yield return now.AddTicks(random.NextInt64(span));
        }
    }

    /// <summary>Whether the value differs at the horizon or shortly after: how early the horizon is, for the record.</summary>
    private static string Tightness(PqlNode tree, JsonObject profile, TimeZoneInfo zone, object? atNow, DateTimeOffset? horizon) =>
        horizon is not { } at ? "never"
        : new[] { at, at.AddTicks(1), at.AddSeconds(1) }.Any(instant => !CompilerProperties.Same(atNow, ValueAt(tree, profile, instant, zone))) ? "flips"
        : "early";

    private static object? ValueAt(PqlNode tree, JsonObject profile, DateTimeOffset instant, TimeZoneInfo zone) =>
        CompilerProperties.Outcome(() => Interpreter.Evaluate(tree, profile, new FakeTimeProvider(instant), zone));
}

/// <summary>PQL texts of time conditions in every <c>occurs</c> form, inside the constructs that read events.</summary>
internal static class WindowConditions
{
    private static readonly string[] Units = ["seconds", "minutes", "hours", "days", "weeks", "months", "years"];
    private static readonly long[] UnitTicks = [TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour, TimeSpan.TicksPerDay, 7 * TimeSpan.TicksPerDay, 31 * TimeSpan.TicksPerDay, 366 * TimeSpan.TicksPerDay];

    /// <summary>How far after a profile instant to put now: up to a few of a random unit.</summary>
    public static long Span(Random random) => UnitTicks[random.Next(UnitTicks.Length)] * random.Next(1, 8);

    public static string Condition(Random random)
    {
        var form = Form(random);
        return random.Next(7) switch
        {
            0 => $"exists X from xEvent where X.eventType = \"addToCart\" and X.timestamp occurs {form}",
            1 => $"count(xEvent[timestamp occurs {form}]) >= {random.Next(0, 4)}",
            2 => $"not (person.birthday occurs {form})",
            3 => $"chain(xEvent, timestamp, [A: WHEN({form}) COUNT({random.Next(1, 4)})])",
            4 => $"chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN({form}), B: WHEN({Form(random)})])",
            5 => $"{new[] { "now()", "now()", "today()", "tomorrow()" }[random.Next(4)]} {new[] { "<", "<=", ">", ">=", "=" }[random.Next(5)]} {(random.Next(2) == 0 ? "person.birthday" : "xEvent.timestamp.head()")}",
            _ => $"person.birthday occurs {form} or xEvent.exists(timestamp occurs {Form(random)})",
        };
    }

    private static string Form(Random random)
    {
        var unit = Units[random.Next(Units.Length)];
        return random.Next(6) switch
        {
            0 => $"{new[] { "last", "this", "next" }[random.Next(3)]} {unit}",
            1 => $"between {Anchor(random)} and {Anchor(random)}",
            2 => $"{(random.Next(2) == 0 ? "before" : "after")} {Anchor(random)}",
            3 => $"on {Anchor(random)}",
            _ => $"{new[] { "=", "<", "<=", ">", ">=" }[random.Next(5)]} {random.Next(0, 5)} {unit} {(random.Next(2) == 0 ? "before" : "after")} {Anchor(random)}",
        };
    }

    private static string Anchor(Random random) => random.Next(6) switch
    {
        0 or 1 => "now",
        2 => new[] { "today", "yesterday", "tomorrow" }[random.Next(3)],
        3 => $"date(2026, {random.Next(1, 5)}, {random.Next(1, 29)})",
        4 => "person.birthday",
        _ => "now",
    };
}

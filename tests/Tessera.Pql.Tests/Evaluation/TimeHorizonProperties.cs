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

    [Property(Replay = "(20261129,29)", MaxTest = 2000)]
    public bool The_value_holds_until_the_horizon(int seed, int salt, int twist)
    {
        // FsCheck's integers stay small; three of them give thousands of distinct cases, not hundreds.
        var random = new Random(unchecked((seed * 1_000_003) + (salt * 1_009) + twist));
        var tree = EvaluationTrees.Expression(random);
        var profile = EvaluationTrees.Profile(random);
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        // Whole minutes, and sometimes odd ticks, so that instants fall both on and between boundaries.
        var now = Base.AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40)).AddTicks(random.Next(3) == 0 ? random.NextInt64(TimeSpan.TicksPerHour) : 0);
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
        if (Environment.GetEnvironmentVariable("PQL_HORIZON_TIGHTNESS") is { } tally)
        {
            var firstStep = TimeHorizon.NextPossibleChange(tree, profile, now, zone);
            File.AppendAllText(tally, $"{Tightness(tree, profile, zone, atNow, horizon)} {Tightness(tree, profile, zone, atNow, firstStep)} {horizon - now} {Printer.Print(tree)}\n");
        }
        return true;
    }

    /// <summary>Just after now, just before the end, powers of two seconds from now, and random instants in between.</summary>
    private static IEnumerable<DateTimeOffset> Samples(Random random, DateTimeOffset now, DateTimeOffset end)
    {
        var span = end.UtcTicks - now.UtcTicks;
        yield return now.AddTicks(1);
        yield return end.AddTicks(-1);
        if (span > TimeSpan.TicksPerSecond)
        {
            yield return end.AddSeconds(-1);
        }
        for (var seconds = 1L; seconds * TimeSpan.TicksPerSecond < span; seconds *= 2)
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

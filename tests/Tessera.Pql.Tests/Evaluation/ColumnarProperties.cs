using System.Text;
using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>
/// Columnar evaluation answers as the compiled evaluator does: random conditions over random profiles (events with
/// ties, missing and date-only times, prices that are not numbers), at two instants, in three time zones. Where the
/// condition's event parts are taken out, the answer computed from the events in columns must hold exactly when the
/// compiled evaluator's holds on the whole profile; where the compiled evaluator fails, so must the columnar one.
/// </summary>
public sealed class ColumnarProperties
{
    private static readonly DateTimeOffset Base = new(2026, 3, 29, 0, 30, 0, TimeSpan.Zero);

    [Property(Replay = "(20261201,5)", MaxTest = 4000, EndSize = 100_000_000)]
    public bool Columnar_evaluation_agrees_with_the_compiled_evaluator(int seed)
    {
        var random = new Random(seed);
        var trees = new[] { EvaluationTrees.Expression(random), EvaluationTrees.Expression(random), EvaluationTrees.Expression(random) };
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        var columnar = ColumnarAudiences.Compile(trees, zone);
        var profiles = Enumerable.Range(0, random.Next(1, 4)).Select(_ => EvaluationTrees.Profile(random)).ToArray();
        var now = Base.AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40));
        foreach (var at in new[] { now, now.AddHours(random.Next(1, 24 * 40)) })
        {
            Check(trees, columnar, profiles, zone, at);
        }
        return true;
    }

    /// <summary>As above, on conditions made of the parts columnar evaluation takes apart (and a few it does not), so that nearly all are.</summary>
    [Property(Replay = "(20261201,11)", MaxTest = 3000, EndSize = 100_000_000)]
    public bool Columnar_evaluation_agrees_on_conditions_built_for_it(int seed)
    {
        var random = new Random(seed);
        var trees = Enumerable.Range(0, 4).Select(_ => ColumnarTrees.Condition(random, 0)).ToArray();
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        var columnar = ColumnarAudiences.Compile(trees, zone);
        var profiles = Enumerable.Range(0, random.Next(1, 4)).Select(_ => EvaluationTrees.Profile(random)).ToArray();
        var now = Base.AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40));
        Check(trees, columnar, profiles, zone, now);
        return true;
    }

    /// <summary>The audiences of the batch benchmark's kind are all taken apart, and the common event conditions shared.</summary>
    [Fact]
    public void Counts_sums_windows_and_chains_are_columnar_and_share_their_conditions()
    {
        string[] audiences =
        [
            "tier = \"gold\"",
            "count(xEvent[eventType = \"order\"]) >= 3",
            "sum(xEvent[eventType = \"order\"].amount) >= 1000",
            "xEvent[eventType = \"order\" and amount >= 400]",
            "xEvent[eventType = \"order\" and timestamp occurs < 7 days before now]",
            "count(xEvent[eventType = \"cart.add\"]) >= 2 and count(xEvent[eventType = \"order\"]) = 0",
            "chain(xEvent, timestamp, [A: WHAT(eventType = \"cart.add\") WHEN(< 30 days before now), B: WHAT(eventType = \"order\")])",
            "chain(xEvent, timestamp, [A: WHAT(eventType = \"page.view\") WHEN(< 3 days before now) COUNT(5)])",
            "tier in [\"gold\", \"platinum\"] and not (count(xEvent[timestamp occurs this month]) < 3)",
            "inSegment(\"a\") and count(xEvent) >= 50",
        ];
        var columnar = ColumnarAudiences.Compile([.. audiences.Select(Parser.Parse)], TimeZoneInfo.Utc);
        Assert.Equal(audiences.Length, columnar.ColumnarCount);
        // One field test per distinct test wherever it appears: eventType is "order", "cart.add", "page.view"; amount >= 400.
        Assert.Equal(4, columnar.TestCount);
    }

    /// <summary>The property is about something: many of the random conditions read events and are taken apart.</summary>
    [Fact]
    public void Most_random_conditions_over_events_are_columnar()
    {
        var random = new Random(20261201);
        var trees = Enumerable.Range(0, 2000).Select(_ => EvaluationTrees.Expression(random)).ToArray();
        var columnar = ColumnarAudiences.Compile(trees, TimeZoneInfo.Utc);
        var readingEvents = Enumerable.Range(0, trees.Length).Where(i => Printer.Print(trees[i]).Contains("xEvent", StringComparison.Ordinal)).ToArray();
        var taken = readingEvents.Count(columnar.IsColumnar);
        Assert.True(taken * 6 >= readingEvents.Length, $"{taken} of {readingEvents.Length} conditions over events are columnar");
        Assert.True(columnar.SiteCount >= 100 && columnar.TestCount >= 10, $"{columnar.SiteCount} sites, {columnar.TestCount} tests");
    }

    /// <summary>Cases worth keeping: events without a time, and two steps of a chain at the same instant.</summary>
    [Theory]
    [InlineData("count(xEvent[timestamp occurs before now]) = 3", true)]
    [InlineData("count(xEvent[eventType = \"a\"]) = 3", true)]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"a\"), B: WHAT(eventType = \"b\")])", false)]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"b\"), B: WHAT(eventType = \"a\")])", false)]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"a\") COUNT(2)])", true)]
    public void Untimed_events_and_ties_are_answered_as_the_compiled_evaluator_answers(string pql, bool expected)
    {
        var profile = JsonNode.Parse("""
            {"xEvent": [
              {"eventType": "a", "timestamp": null},
              {"eventType": "b", "timestamp": "2026-03-01T10:00:00Z"},
              {"eventType": "a", "timestamp": "2026-03-01T10:00:00Z"},
              {"eventType": "a", "timestamp": "2026-03-01T10:00:00Z"}
            ]}
            """)!.AsObject();
        var tree = Parser.Parse(pql);
        var compiled = ValueOperations.Holds(PqlCompiler.Compile(tree).Evaluate(PqlProfile.FromJson(profile), Base));
        Assert.Equal(expected, compiled);
        var columnar = ColumnarAudiences.Compile([tree], TimeZoneInfo.Utc);
        Assert.True(columnar.IsColumnar(0));
        Check([tree], columnar, [profile], TimeZoneInfo.Utc, Base);
    }

    /// <summary>Uses of events it does not take apart leave the audience to the compiled evaluator.</summary>
    [Theory]
    [InlineData("xEvent[timestamp > date(2026, 1, 1)]")] // the time read other than in a window
    [InlineData("count(xEvent[amount > ^.threshold]) > 0")] // the profile read from an event's condition
    [InlineData("exists X from xEvent where X.eventType = \"order\"")]
    [InlineData("max(xEvent.timestamp) > now()")]
    [InlineData("count(xEvent[eventType = \"order\"]) = count(xEvent[eventType = \"order\"].productListItems[SKU = \"a\"])")]
    [InlineData("(Profile) => count(Profile.xEvent) > 1")]
    public void Other_uses_of_events_are_not_columnar(string pql)
    {
        var columnar = ColumnarAudiences.Compile([Parser.Parse(pql)], TimeZoneInfo.Utc);
        Assert.False(columnar.IsColumnar(0));
    }

    private static void Check(PqlNode[] trees, ColumnarAudiences columnar, JsonObject[] profiles, TimeZoneInfo zone, DateTimeOffset now)
    {
        // Now and then with room for two shapes only: the others are tested per event, with the same answers.
        var run = now.Minute % 4 == 0 ? columnar.Start(now, maxShapes: 2) : columnar.Start(now);
        var events = run.NewEvents();
        var lists = profiles.Select(p => (p["xEvent"] as JsonArray ?? []).ToArray()).ToArray();
        Exception? failure = null;
        try
        {
            events.Reset([.. lists.Select(l => l.Length)]);
            for (var p = 0; p < profiles.Length; p++)
            {
                for (var e = 0; e < lists[p].Length; e++)
                {
                    events.Add(p, e, Encoding.UTF8.GetBytes(lists[p][e]!.ToJsonString()));
                }
            }
            events.Compute();
        }
        catch (Exception error)
        {
            failure = error;
        }
        Assert.True(run.Shapes <= (now.Minute % 4 == 0 ? 2 : ColumnarRun.MaxShapes));
        for (var p = 0; p < profiles.Length; p++)
        {
            var whole = PqlProfile.FromJson(profiles[p], zone);
            var attributes = (JsonObject)profiles[p].DeepClone();
            attributes.Remove("xEvent");
            var alone = PqlProfile.WithEvents(PqlProfile.Convert(attributes, zone), [], zone);
            for (var a = 0; a < trees.Length; a++)
            {
                if (!columnar.IsColumnar(a))
                {
                    continue;
                }
                var expected = CompilerProperties.Outcome(() => ValueOperations.Holds(PqlCompiler.Compile(trees[a], zone).Evaluate(whole, now)));
                var actual = failure is not null ? new CompilerProperties.Failure(failure.GetType())
                    : CompilerProperties.Outcome(() => ValueOperations.Holds(events.Evaluate(a, p, alone, null)));
                var agree = Equals(expected, actual) || (expected is bool && actual is CompilerProperties.Failure && MayFailOnAnEventNotReached(trees[a]));
                if (!agree)
                {
                    throw new InvalidOperationException($"{Printer.Print(trees[a])} at {now:O} in {zone.Id}\ncompiled: {expected}\ncolumnar: {actual}\nprofile: {profiles[p].ToJsonString()}");
                }
            }
        }
    }

    /// <summary>
    /// A test that can fail (a pattern that is no regular expression, a function not evaluated) is answered for every
    /// distinct event, where the compiled evaluator may stop before the event that fails it (a count's filter after a
    /// false operand of <c>and</c>, a chain that found its events): the run fails where the profile alone might not.
    /// </summary>
    private static bool MayFailOnAnEventNotReached(PqlNode tree) => Printer.Print(tree) is var text
        && (text.Contains("matches", StringComparison.Ordinal) || text.Contains("like", StringComparison.Ordinal) || text.Contains("regexGroup", StringComparison.Ordinal));
}

/// <summary>Random audiences made of counts, sums, bare sets and chains over filtered events, with attribute conditions beside them.</summary>
internal static class ColumnarTrees
{
    private static readonly string[] EventTypes = ["addToCart", "homePageView", "commerce.checkouts"];
    private static readonly string[] Units = ["minutes", "hours", "days", "weeks", "months"];

    private static FunctionCall Call(string name, params PqlNode[] arguments) => new(name, null, arguments);

    private static FieldLookup Field(string name) => new(null, name);

    private static Literal Integer(long value) => new(LiteralKind.Integer, value);

    public static PqlNode Condition(Random random, int depth) => (depth > 2 ? random.Next(4, 10) : random.Next(10)) switch
    {
        0 => Call("and", Condition(random, depth + 1), Condition(random, depth + 1)),
        1 => Call("or", Condition(random, depth + 1), Condition(random, depth + 1)),
        2 => Call("not", Condition(random, depth + 1)),
        3 => Call("if", Condition(random, depth + 1), Condition(random, depth + 1), Events(random)),
        4 => Call(new[] { ">=", "=", "<", ">" }[random.Next(4)], Call("count", Events(random)), Integer(random.Next(4))),
        5 => Events(random),
        6 => Call(">", Call(new[] { "sum", "average", "min", "max", "count" }[random.Next(5)], new FieldLookup(Events(random), "price")), Integer(random.Next(0, 150))),
        7 => Chain(random),
        8 => Call(">", Field("age"), Integer(random.Next(15, 90))),
        _ => Call("=", Call("count", Events(random)), Call("count", Events(random))),
    };

    private static PqlNode Events(Random random)
    {
        PqlNode events = Field("xEvent");
        for (var i = random.Next(3); i > 0; i--)
        {
            events = new Filter(events, EventCondition(random, 0));
        }
        return events;
    }

    private static PqlNode EventCondition(Random random, int depth) => (depth > 1 ? random.Next(1, 7) : random.Next(7)) switch
    {
        0 => Call("and", EventCondition(random, depth + 1), EventCondition(random, depth + 1)),
        1 => Call("=", Field("eventType"), new Literal(LiteralKind.String, EventTypes[random.Next(3)])),
        2 => Call(new[] { ">", "<=", "!=" }[random.Next(3)], Field("price"), Integer(random.Next(100))),
        3 => Window(random, Field("timestamp")),
        4 => Call("or", EventCondition(random, depth + 1), EventCondition(random, depth + 1)),
        5 => Call("in", Field("eventType"), new ArrayLiteral([new Literal(LiteralKind.String, EventTypes[random.Next(3)]), new Literal(LiteralKind.String, "x")])),
        _ => new Filter(Field("productListItems"), Call("=", Field("SKU"), new Literal(LiteralKind.String, $"S{random.Next(3)}"))),
    };

    private static Occurs Window(Random random, PqlNode? subject) => random.Next(4) switch
    {
        0 => new Occurs(subject, null, null, Units[random.Next(Units.Length)], new[] { "last", "this", "next" }[random.Next(3)], null, null),
        1 => new Occurs(subject, null, null, null, random.Next(2) == 0 ? "before" : "after", Call(random.Next(2) == 0 ? "now" : "today"), null),
        2 => new Occurs(subject, null, null, null, "between", Call("date", Integer(2026), Integer(random.Next(1, 5)), Integer(random.Next(1, 29))), Call("today")),
        _ => new Occurs(subject, new[] { "=", "<", "<=", ">", ">=" }[random.Next(5)], Integer(random.Next(0, 30)), Units[random.Next(Units.Length)],
            random.Next(2) == 0 ? "before" : "after", Call("now"), null),
    };

    private static PqlNode Chain(Random random) => new Chain("chain", Events(random), Field("timestamp"),
        [.. Enumerable.Range(0, random.Next(1, 4)).Select(i => new ChainStep($"S{i}",
            random.Next(4) == 0 ? null : EventCondition(random, 1),
            random.Next(3) == 0 ? Call(">", Field("price"), Integer(random.Next(50))) : null,
            random.Next(2) == 0 ? Window(random, null) : null,
            random.Next(3) == 0 ? Integer(random.Next(0, 3)) : null))]);
}

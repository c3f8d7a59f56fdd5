using System.Globalization;
using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>
/// The compiled evaluator agrees with the reference interpreter: on random expressions over random
/// profiles, at random instants, in three time zones (UTC, a fixed offset, one with daylight saving),
/// both give the same value or both fail the same way.
/// </summary>
public sealed class CompilerProperties
{
    private static readonly DateTimeOffset Base = new(2026, 3, 29, 0, 30, 0, TimeSpan.Zero); // a daylight-saving Sunday in the DST zone

    internal static readonly TimeZoneInfo[] Zones =
    [
        TimeZoneInfo.Utc,
        TimeZoneInfo.CreateCustomTimeZone("UTC-05:30", TimeSpan.FromMinutes(-330), "UTC-05:30", "UTC-05:30"),
        TimeZoneInfo.CreateCustomTimeZone("CET-like", TimeSpan.FromHours(1), "CET-like", "CET", "CEST",
        [
            TimeZoneInfo.AdjustmentRule.CreateAdjustmentRule(DateTime.MinValue.Date, DateTime.MaxValue.Date, TimeSpan.FromHours(1),
                TimeZoneInfo.TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 5, DayOfWeek.Sunday),
                TimeZoneInfo.TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 3, 0, 0), 10, 5, DayOfWeek.Sunday)),
        ]),
    ];

    [Property(Replay = "(20261129,13)", MaxTest = 3000, EndSize = 100_000_000)]
    public bool Compiled_evaluation_agrees_with_the_interpreter(int seed)
    {
        var random = new Random(seed);
        var tree = EvaluationTrees.Expression(random);
        return Agree(tree, random);
    }

    /// <summary>Windows over timelines, which the compiled evaluator narrows to the events they cover (docs/pql.md, "Compiler").</summary>
    [Property(Replay = "(20261204,7)", MaxTest = 3000, EndSize = 100_000_000)]
    public bool Compiled_evaluation_agrees_over_a_window_of_a_timeline(int seed)
    {
        var random = new Random(seed);
        var tree = EvaluationTrees.OverAWindow(random);
        return Agree(tree, random, timeline: true);
    }

    [Property(Replay = "(20261129,17)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool Compiled_evaluation_agrees_on_arbitrary_syntax_trees(int seed)
    {
        var random = new Random(seed);
        var tree = Tessera.Pql.Tests.Syntax.SyntaxProperties.Node(random, 0, []);
        return Agree(tree, random);
    }

    /// <summary>
    /// Cases the arbitrary trees found: a chain of one step whose step fails (here a lambda read as a value). The
    /// interpreter reads the step only on items that have a time, in time order, so it answers false when none has
    /// one, and fails on the earliest item that fails even when a later one, earlier in the array, matches.
    /// </summary>
    [Theory]
    [InlineData("chain(xEvent, timestamp, [S0: WHAT((K, G) => G)])", """[{"page": "a"}]""", "False")]
    [InlineData("chain([989], timestamp, [S0: WHAT((K, G) => G)])", "[]", "False")]
    [InlineData("chain(xEvent, timestamp, [S0: WHAT(if(page = \"a\", true, (K) => K))])",
        """[{"page": "a", "timestamp": "2026-03-02T00:00:00Z"}, {"page": "b", "timestamp": "2026-03-01T00:00:00Z"}]""", "Failure { Type = Tessera.Pql.Syntax.PqlException }")]
    public void A_one_step_chain_fails_where_the_interpreter_does(string pql, string events, string outcome)
    {
        var tree = Parser.Parse(pql);
        var profile = new JsonObject { ["xEvent"] = JsonNode.Parse(events) };
        var expected = Outcome(() => Interpreter.Evaluate(tree, profile, new FakeTimeProvider(Base), TimeZoneInfo.Utc));
        var actual = Outcome(() => PqlCompiler.Compile(tree, TimeZoneInfo.Utc).Evaluate(PqlProfile.FromJson(profile, TimeZoneInfo.Utc), Base).ToObject());
        Assert.Equal(outcome, Show(expected));
        Assert.Equal(outcome, Show(actual));
    }

    private static bool Agree(PqlNode tree, Random random, bool? timeline = null)
    {
        var profile = EvaluationTrees.Profile(random, timeline);
        var zone = Zones[random.Next(Zones.Length)];
        var now = Base.AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40));
        var expected = Outcome(() => Interpreter.Evaluate(tree, profile, new FakeTimeProvider(now), zone));
        var compiled = PqlCompiler.Compile(tree, zone);
        var converted = PqlProfile.FromJson(profile, zone);
        var actual = Outcome(() => compiled.Evaluate(converted, now).ToObject());
        // Again at another instant: windows kept for one clock reading must not leak into the next.
        var later = now.AddHours(random.Next(1, 24 * 40));
        var expectedLater = Outcome(() => Interpreter.Evaluate(tree, profile, new FakeTimeProvider(later), zone));
        var actualLater = Outcome(() => compiled.Evaluate(converted, later).ToObject());
        if (!Same(expected, actual) || !Same(expectedLater, actualLater))
        {
            throw new InvalidOperationException(
                $"{Printer.Print(tree)} at {now:O} and {later:O} in {zone.Id}\ninterpreter: {Show(expected)}, {Show(expectedLater)}\n" +
                $"compiled:    {Show(actual)}, {Show(actualLater)}\nprofile: {profile.ToJsonString()}");
        }
        if (Environment.GetEnvironmentVariable("PQL_OUTCOMES") is { } tally)
        {
            File.AppendAllText(tally, Show(expected) switch { "True" or "False" or "null" => Show(expected), var other when expected is Failure => "failure", _ => "value" } + "\n");
        }
        return true;
    }

    internal static object? Outcome(Func<object?> evaluate)
    {
        try
        {
            return evaluate();
        }
        catch (Exception error)
        {
            return new Failure(error.GetType());
        }
    }

    internal sealed record Failure(Type Type);

    internal static bool Same(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Same(p.First, p.Second)),
        (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
            x.Count == y.Count && x.All(e => y.TryGetValue(e.Key, out var other) && Same(e.Value, other)),
        (double x, double y) => x.Equals(y),
        _ => Equals(a, b),
    };

    internal static string Show(object? value) => value switch
    {
        null => "null",
        List<object?> list => "[" + string.Join(", ", list.Select(Show)) + "]",
        Dictionary<string, object?> map => "{" + string.Join(", ", map.Select(e => e.Key + ": " + Show(e.Value))) + "}",
        string text => "\"" + text + "\"",
        DateTimeOffset instant => instant.ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>Random expressions that mean something on <see cref="Profile"/>s: real fields, time windows, chains, per-item functions.</summary>
internal static class EvaluationTrees
{
    private static readonly string[] EventTypes = ["addToCart", "homePageView", "commerce.checkouts"];
    private static readonly string[] Countries = ["US", "CA", "FR"];
    private static readonly string[] Units = ["seconds", "minutes", "hours", "days", "weeks", "months", "years"];

    public static JsonObject Profile(Random random, bool? timeline = null)
    {
        var now = new DateTimeOffset(2026, 3, 29, 0, 30, 0, TimeSpan.Zero);
        // A few shared instants, so that events tie (chains' strict order) and fall on window edges.
        DateTimeOffset Instant() => random.Next(3) == 0 ? now.AddHours(-24 * random.Next(3)) : now.AddMinutes(random.Next(-60 * 24 * 60, 60 * 24 * 10));
        string Time() => Instant().ToString(random.Next(4) == 0 ? "yyyy-MM-dd" : "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        // Half the profiles hold a timeline as the engines do: every event timed, oldest first (windows then read only
        // the part of it they cover).
        timeline ??= random.Next(2) == 0;
        var events = new JsonArray();
        var times = timeline.Value ? [.. Enumerable.Range(0, random.Next(13)).Select(_ => Instant()).Order()] : Array.Empty<DateTimeOffset>();
        for (var i = timeline.Value ? times.Length : random.Next(6); i > 0; i--)
        {
            var items = new JsonArray();
            for (var j = random.Next(3); j > 0; j--)
            {
                items.Add(new JsonObject { ["SKU"] = $"S{random.Next(3)}", ["price"] = random.Next(3) == 0 ? random.Next(1, 50) + 0.5 : random.Next(1, 50) });
            }
            events.Add(new JsonObject
            {
                ["eventType"] = EventTypes[random.Next(EventTypes.Length)],
                ["timestamp"] = timeline.Value ? times[^i].ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : random.Next(10) == 0 ? null : Time(),
                ["price"] = random.Next(5) == 0 ? "n/a" : random.Next(100),
                ["productListItems"] = items,
            });
        }
        var profile = new JsonObject
        {
            ["age"] = random.Next(5) == 0 ? null : random.Next(15, 90),
            ["score"] = random.NextDouble() * 100,
            ["name"] = random.Next(2) == 0 ? "Ann Lee" : "joe smith",
            ["homeAddress"] = new JsonObject { ["country"] = Countries[random.Next(Countries.Length)] },
            ["person"] = new JsonObject { ["birthday"] = Time(), ["gender"] = random.Next(2) == 0 ? "female" : "male" },
            ["tags"] = new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => (JsonNode?)JsonValue.Create($"t{random.Next(4)}"))]),
            ["scores"] = new JsonObject { ["a"] = random.Next(10), ["b"] = random.Next(10) },
            ["segmentMembership"] = new JsonObject { ["ups"] = new JsonObject { ["gold"] = new JsonObject { ["status"] = random.Next(2) == 0 ? "realized" : "exited" } } },
            ["xEvent"] = events,
        };
        if (random.Next(4) == 0)
        {
            profile.Remove("homeAddress");
        }
        return profile;
    }

    public static PqlNode Expression(Random random) => Condition(random, 0);

    private static PqlNode Call(string name, params PqlNode[] arguments) => new FunctionCall(name, null, arguments);

    private static PqlNode Method(string name, PqlNode receiver, params PqlNode[] arguments) => new FunctionCall(name, receiver, arguments);

    private static PqlNode Field(params string[] path) => path.Skip(1).Aggregate((PqlNode)new FieldLookup(null, path[0]), (target, name) => new FieldLookup(target, name));

    private static PqlNode Text(string text) => new Literal(LiteralKind.String, text);

    private static PqlNode Integer(long value) => new Literal(LiteralKind.Integer, value);

    private static PqlNode Condition(Random random, int depth)
    {
        if (depth > 3)
        {
            return Compare(random, depth);
        }
        var next = depth + 1;
        return random.Next(15) switch
        {
            0 => Call("and", Condition(random, next), Condition(random, next)),
            1 => Call("or", Condition(random, next), Condition(random, next)),
            2 => Call("not", Condition(random, next)),
            3 => Chain(random, next),
            4 => TimeCondition(random, random.Next(2) == 0 ? Field("person", "birthday") : Method("head", Call("map", Field("xEvent"), Field("timestamp")))),
            5 => new Quantifier((QuantifierKind)random.Next(2), [new QuantifierClause("X", Field("xEvent"), Call("and",
                Call("=", new FieldLookup(new Parameter(0, "X"), "eventType"), Text(EventTypes[random.Next(3)])),
                TimeCondition(random, new FieldLookup(new Parameter(0, "X"), "timestamp"))))]),
            6 => Call(random.Next(2) == 0 ? ">" : "=", Call("count", new Filter(Field("xEvent"), EventCondition(random, next))), Integer(random.Next(3))),
            7 => Method(new[] { "startsWith", "contains", "endsWith", "equals", "notEqualTo", "doesNotContain" }[random.Next(6)], Field("name"),
                Text(new[] { "Ann", "ann", "smith", "Lee", "" }[random.Next(5)]), new Literal(LiteralKind.Boolean, random.Next(2) == 0)),
            8 => Call(random.Next(2) == 0 ? "like" : "matches", Field("name"), Text(new[] { "%Lee", "joe_%", "^(?i)ann", "[", "%" }[random.Next(5)])),
            9 => Call(random.Next(2) == 0 ? "in" : "notIn", Field("homeAddress", "country"), new ArrayLiteral([Text("US"), Text("FR"), Literal(random)])),
            10 => Call("inSegment", Text(random.Next(2) == 0 ? "gold" : "silver")),
            11 => Method(new[] { "includes", "intersects", "subsetOf", "supersetOf" }[random.Next(4)], Field("tags"),
                random.Next(2) == 0 ? Text("t1") : new ArrayLiteral([Text("t1"), Text("t2")])),
            12 => new Let([new KeyValuePair<string, PqlNode>("A", Value(random, next))], Call("=", new Parameter(0, "A"), Value(random, next))),
            13 => Method(random.Next(2) == 0 ? "exists" : "forall", Field("xEvent"), EventCondition(random, next)),
            _ => Compare(random, depth),
        };
    }

    private static PqlNode EventCondition(Random random, int depth) => random.Next(depth > 4 ? 3 : 10) switch
    {
        0 => Call("=", Field("eventType"), Text(EventTypes[random.Next(3)])),
        1 => TimeCondition(random, Field("timestamp")),
        2 => new Filter(Field("productListItems"), Call("or", Call("=", Field("SKU"), Text("S1")),
            Call("=", new FieldLookup(new FieldLookup(new Parameter(0, null, 2), "homeAddress"), "country"), Text("US")))),
        3 => Call(random.Next(2) == 0 ? "or" : "and", EventCondition(random, depth + 1), EventCondition(random, depth + 1)),
        4 => Call("not", EventCondition(random, depth + 1)),
        5 or 6 => Call("and", EventCondition(random, depth + 1), Condition(random, depth + 2)),
        _ => random.Next(2) == 0 ? Call("=", Field("eventType"), Text(EventTypes[random.Next(3)])) : TimeCondition(random, Field("timestamp")),
    };

    private static PqlNode Compare(Random random, int depth) =>
        Call(new[] { "=", "!=", "<", "<=", ">", ">=" }[random.Next(6)], Value(random, depth + 1), Value(random, depth + 1));

    private static PqlNode Literal(Random random) => random.Next(6) switch
    {
        0 => Integer(random.Next(-5, 60)),
        1 => new Literal(LiteralKind.Double, Math.Round(random.NextDouble() * 60, 2)),
        2 => Text(new[] { "US", "t1", "2026-03-28", "2026-03-28T12:00:00Z", "abc" }[random.Next(5)]),
        3 => new Literal(LiteralKind.Boolean, random.Next(2) == 0),
        4 => new Literal(LiteralKind.Null, null),
        _ => Call("date", Integer(2026), Integer(random.Next(1, 14)), Integer(random.Next(0, 32))),
    };

    private static PqlNode Value(Random random, int depth)
    {
        if (depth > 4)
        {
            return Literal(random);
        }
        var next = depth + 1;
        PqlNode Events() => random.Next(2) == 0 ? Field("xEvent") : new Filter(Field("xEvent"), EventCondition(random, next));
        return random.Next(19) switch
        {
            0 => Field("age"),
            1 => Field("score"),
            2 => Field("homeAddress", "country"),
            3 => Call(new[] { "+", "-", "*", "/", "%" }[random.Next(5)], Value(random, next), Value(random, next)),
            4 => Call(new[] { "count", "sum", "average", "min", "max" }[random.Next(5)], Call("map", Events(), Field("price"))),
            5 => new Aggregation(new[] { "sum", "count", "average", "min", "max" }[random.Next(5)], new FieldLookup(new Parameter(0, "X"), "price"), "X", Events(),
                random.Next(2) == 0 ? null : Call(">", new FieldLookup(new Parameter(0, "X"), "price"), Integer(random.Next(50)))),
            6 => Call(new[] { "now", "today", "yesterday", "tomorrow", "currentMonth", "currentYear", "currentDayOfMonth" }[random.Next(7)]),
            7 => Method(new[] { "getMonth", "getYear", "getDayOfMonth" }[random.Next(3)], random.Next(2) == 0 ? Field("person", "birthday") : Literal(random)),
            8 => Call("if", Condition(random, next), Value(random, next), Value(random, next)),
            9 => Method("head", Call(random.Next(2) == 0 ? "topN" : "bottomN", Events(), random.Next(2) == 0 ? Field("price") : Field("timestamp"), Integer(random.Next(-1, 3)))),
            10 => Call("get", Call("groupBy", Events(), new Lambda(["E"], new FieldLookup(new Parameter(0, "E"), "eventType"))), Text(EventTypes[random.Next(3)])),
            17 => Call("get", Method("map", Call("groupBy", Events(), Field("eventType")), random.Next(3) switch
            {
                0 => new Lambda(["K", "G"], Method("count", new Parameter(0, "G"))),
                1 => new Lambda(["K", "G"], Call("mapEntry", Method("count", new Parameter(0, "G")), new Parameter(0, "K"))),
                _ => Call("sum", Field("price")),
            }), random.Next(2) == 0 ? Text(EventTypes[random.Next(3)]) : Text($"{random.Next(4)}")),
            11 => Method(random.Next(2) == 0 ? "distinct" : "values", random.Next(2) == 0 ? Field("tags") : Field("scores")),
            12 => Call("regexGroup", Field("name"), Text("^(\\w+) (\\w+)$"), Integer(random.Next(-1, 4))),
            13 => new Quantifier(QuantifierKind.Select, [new QuantifierClause("Y", Field("tags"), random.Next(2) == 0 ? null : Call("!=", new Parameter(0, "Y"), Text("t0")))]),
            14 => Method(random.Next(2) == 0 ? "keys" : "intersection", Field("scores"), new ArrayLiteral([Text("a")])),
            15 => random.Next(2) == 0 ? Field("xEvent", "eventType") : Method("distinct", Field("xEvent", "productListItems", "SKU")),
            16 => Method(new[] { "count", "sum", "average", "min", "max" }[random.Next(5)], Events(), random.Next(2) == 0 ? Field("price") : EventCondition(random, next)),
            _ => Literal(random),
        };
    }

    /// <summary>
    /// What reads a timeline through a window of time: a filter, its count, a chain (mostly of one step), with conditions of
    /// event types, prices and windows (mostly on the clock alone) joined by <c>and</c>, <c>or</c> and <c>not</c>, now
    /// and then with a construct refused at run time.
    /// </summary>
    public static PqlNode OverAWindow(Random random)
    {
        // Now and then a window anchored on the event itself, different for every event: nothing to narrow by.
        PqlNode Window() => random.Next(8) != 0 ? TimeCondition(random, Field("timestamp"), clockOnly: true)
            : random.Next(2) == 0 ? new Occurs(Field("timestamp"), null, null, null, "on", Field("timestamp"), null)
            : new Occurs(Field("timestamp"), null, null, null, "between", Anchor(random, clockOnly: true), Field("timestamp"));
        PqlNode Part(int depth) => random.Next(depth > 2 ? 3 : 7) switch
        {
            0 => Window(),
            1 => Call("=", Field("eventType"), Text(EventTypes[random.Next(3)])),
            2 => Call(">", Field("price"), Integer(random.Next(100))),
            3 or 4 => Call("and", Part(depth + 1), Part(depth + 1)),
            5 => Call("or", Part(depth + 1), Part(depth + 1)),
            _ => random.Next(4) == 0 ? Call("noSuchFunction") : Call("not", Part(depth + 1)),
        };
        PqlNode Condition() => random.Next(3) == 0 ? Part(0) : random.Next(2) == 0 ? Call("and", Part(1), Window()) : Call("and", Window(), Part(1));
        return random.Next(4) switch
        {
            0 => new Filter(Field("xEvent"), Condition()),
            1 => Call(new[] { ">=", "=" }[random.Next(2)], Call("count", new Filter(Field("xEvent"), Condition())), Integer(random.Next(4))),
            2 => Call("count", new Filter(Field("xEvent"), Condition())),
            _ => new Chain("chain", Field("xEvent"), Field("timestamp"), [.. Enumerable.Range(0, random.Next(3) == 0 ? random.Next(2, 4) : 1)
                .Select(i => new ChainStep($"S{i}",
                    random.Next(3) == 0 ? null : Part(1), random.Next(3) == 0 ? Call(">", Field("price"), Integer(random.Next(50))) : null,
                    random.Next(6) == 0 ? null : random.Next(8) != 0 ? TimeCondition(random, null, clockOnly: true)
                        : new Occurs(null, null, null, null, "between", Anchor(random, clockOnly: true), Field("timestamp")),
                    random.Next(3) == 0 ? Integer(random.Next(0, 4)) : null))]),
        };
    }

    private static PqlNode Anchor(Random random, bool clockOnly = false) => random.Next(clockOnly ? 2 : 3) switch
    {
        0 => Call(new[] { "now", "today", "yesterday", "tomorrow" }[random.Next(4)]),
        1 => Call("date", Integer(2026), Integer(random.Next(1, 5)), Integer(random.Next(1, 29))),
        _ => Field("person", "birthday"),
    };

    private static Occurs TimeCondition(Random random, PqlNode? subject, bool clockOnly = false) => random.Next(5) switch
    {
        0 => new Occurs(subject, null, null, Units[random.Next(Units.Length)], new[] { "last", "this", "next" }[random.Next(3)], null, null),
        1 => new Occurs(subject, null, null, null, "between", Anchor(random, clockOnly), Anchor(random, clockOnly)),
        2 => new Occurs(subject, null, null, null, random.Next(2) == 0 ? "before" : "after", Anchor(random, clockOnly), null),
        3 => new Occurs(subject, null, null, null, "on", Anchor(random, clockOnly), null),
        _ => new Occurs(subject, new[] { "=", "<", "<=", ">", ">=" }[random.Next(5)], Integer(random.Next(0, 30)), Units[random.Next(Units.Length)],
            random.Next(2) == 0 ? "before" : "after", Anchor(random, clockOnly), null),
    };

    private static PqlNode Chain(Random random, int depth) => new Chain("chain", Field("xEvent"), Field("timestamp"),
        [.. Enumerable.Range(0, random.Next(1, 4)).Select(i => new ChainStep($"S{i}",
            random.Next(4) == 0 ? null : Call("=", Field("eventType"), Text(EventTypes[random.Next(3)])),
            random.Next(3) == 0 ? Call(">", Field("price"), Integer(random.Next(50))) : null,
            random.Next(2) == 0 ? TimeCondition(random, null) : null,
            random.Next(3) == 0 ? Integer(random.Next(0, 3)) : null))]);
}

/// <summary>A profile composed from converted attributes and separately converted events is the profile converted whole.</summary>
public sealed class ComposedProfileProperties
{
    [Property(Replay = "(20261129,41)", MaxTest = 500, EndSize = 100_000_000)]
    public bool Composing_converted_parts_gives_the_whole_conversion(int seed)
    {
        var random = new Random(seed);
        var profile = EvaluationTrees.Profile(random);
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        var whole = PqlProfile.FromJson(profile, zone);
        var attributes = (JsonObject)profile.DeepClone();
        var events = attributes["xEvent"] as JsonArray;
        if (random.Next(2) == 0)
        {
            attributes.Remove("xEvent"); // Absent: appended last, as setting a new JSON property.
        }
        else
        {
            attributes["xEvent"] = null; // Present: replaced where it stands.
        }
        var converted = PqlProfile.Convert(attributes, zone);
        var composed = PqlProfile.WithEvents(converted, [.. (events ?? []).Select(e => PqlProfile.Convert(e, zone))], zone);
        if (!TimeHorizon.ValueSame(whole.Root, composed.Root))
        {
            throw new InvalidOperationException($"composed differs: {composed.Root.ToJson()!.ToJsonString()} vs {profile.ToJsonString()}");
        }
        return true;
    }
}

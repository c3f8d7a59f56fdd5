using System.Text;
using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>
/// Events converted with only the fields an expression can read (<see cref="EventProjection"/>) give the same
/// answers as whole events: on random expressions, the compiled evaluator over projected events equals the
/// reference interpreter over the whole profile.
/// </summary>
public sealed class EventProjectionTests
{
    private static readonly DateTimeOffset Base = new(2026, 3, 29, 0, 30, 0, TimeSpan.Zero);

    [Property(Replay = "(20261201,7)", MaxTest = 3000, EndSize = 100_000_000)]
    public bool Projected_events_answer_as_whole_events(int seed) => Agree(EvaluationTrees.Expression(new Random(seed)), new Random(seed ^ 0x5eed));

    [Property(Replay = "(20261201,11)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool Projected_events_answer_as_whole_events_on_arbitrary_syntax_trees(int seed) =>
        Agree(Tessera.Pql.Tests.Syntax.SyntaxProperties.Node(new Random(seed), 0, []), new Random(seed ^ 0x5eed));

    [Fact]
    public void Most_generated_expressions_get_a_projection_so_the_properties_test_something()
    {
        var projected = Enumerable.Range(0, 1000).Count(seed => EventProjection.Of([EvaluationTrees.Expression(new Random(seed))]) is not null);
        Assert.InRange(projected, 300, 1000);
    }

    [Theory]
    [InlineData("""count(xEvent[eventType = "cart.add" and timestamp occurs < 3 days before now]) > 2""", "eventType,timestamp")]
    [InlineData("""xEvent[eventType = "order"]""", "eventType,timestamp")]
    [InlineData("""sum(xEvent[eventType = "order"].amount) > 100""", "amount,eventType,timestamp")]
    [InlineData("""xEvent[web.webPageDetails.name = "home"]""", "timestamp,web{webPageDetails{name}}")]
    [InlineData("""xEvent[productListItems[SKU = "S1"]]""", "productListItems,timestamp")]
    [InlineData("""xEvent[count(productListItems[price > ^.amount]) > 0]""", "amount,productListItems,timestamp")]
    [InlineData("""xEvent[eventType = ^.favorite]""", "eventType,timestamp")]
    [InlineData("""exists X from xEvent where X.eventType = "a" and X.price > 3""", "eventType,price,timestamp")]
    [InlineData("""chain(xEvent, timestamp, [A: WHAT(page = "p1") WHEN(< 3 hours before now)])""", "page,timestamp")]
    [InlineData("""(Profile) => Profile.xEvent.count() > 1 and Profile.homeAddress.city = "Paris" """, "timestamp")]
    [InlineData("""let E = xEvent[eventType = "order"] in count(E) > 2""", "eventType,timestamp")]
    [InlineData("""homeAddress.city = "Paris" """, "timestamp")]
    public void A_projection_keeps_what_is_read(string pql, string key) =>
        Assert.Equal(key, EventProjection.Of([Parser.Parse(pql)])?.Key);

    [Theory]
    [InlineData("""select X from xEvent where X.eventType = "a" """)]
    [InlineData("""topN(xEvent, timestamp, 1).eventType = "a" """)]
    [InlineData("""(Profile) => keys(Profile).count() > 3""")]
    [InlineData("""exists X from xEvent where keys(X).count() > 3""")]
    public void Reading_a_whole_event_or_the_whole_profile_keeps_everything(string pql) =>
        Assert.Null(EventProjection.Of([Parser.Parse(pql)]));

    [Fact]
    public void Several_expressions_keep_the_union_of_their_reads()
    {
        var projection = EventProjection.Of([Parser.Parse("""xEvent[eventType = "a"]"""), Parser.Parse("""xEvent[web.webPageDetails.name = "x" and web.webPageDetails.URL = "u"]""")]);
        Assert.Equal("eventType,timestamp,web{webPageDetails{URL,name}}", projection?.Key);
    }

    [Fact]
    public void Conversion_keeps_the_named_fields_through_arrays_and_escaped_names_and_skips_the_rest()
    {
        const string json = """
            {"_id": "e1", "eventType": "order", "timestamp": "2026-03-29T00:30:00Z", "identityMap": {"ECID": [{"id": "1", "primary": true}]},
             "productListItems": [{"SKU": "S1", "price": 3, "name": "x"}, {"SKU": "S2"}], "web": {"webPageDetails": {"name": "home", "URL": "u"}},
             "ev\u0065ntType2": [1, {"a": 2}]}
            """;
        var projection = EventProjection.Of([Parser.Parse("""xEvent[eventType = "order" and productListItems.SKU.includes("S1") and web.webPageDetails.name = "home" and eventType2 = 1]""")])!;
        var value = PqlProfile.Convert(Encoding.UTF8.GetBytes(json), TimeZoneInfo.Utc, projection);
        Assert.Equal("""{"eventType":"order","timestamp":"2026-03-29T00:30:00Z","productListItems":[{"SKU":"S1"},{"SKU":"S2"}],"web":{"webPageDetails":{"name":"home"}},"eventType2":[1,{"a":2}]}""",
            value.ToJson()!.ToJsonString());
    }

    /// <summary>
    /// With the projection of the whole value, the compiled value over projected events is the interpreter's over whole
    /// events (every inner read followed); with the projection of a condition, whether it holds is.
    /// </summary>
    /// <remarks>
    /// The whole value is compared for every subexpression evaluated in the expression's own context too (not within a
    /// filter's item or a variable's scope): a condition's answer seldom depends on one read, a value always does.
    /// </remarks>
    private static bool Agree(PqlNode tree, Random random)
    {
        var state = random.Next();
        return Agree(tree, new Random(state), values: false) && Closed(tree).All(node => Agree(node, new Random(state), values: true));
    }

    /// <summary>The node and the nodes below it evaluated in its context: not a filter's condition, a chain's steps, a variable's scope.</summary>
    private static IEnumerable<PqlNode> Closed(PqlNode node)
    {
        yield return node;
        IEnumerable<PqlNode?> children = node switch
        {
            FunctionCall { Function: "topN" or "bottomN" or "groupBy" or "map" or "filter" or "exists" or "forall" } call =>
                [call.Receiver ?? call.Arguments.FirstOrDefault()],
            FunctionCall { Function: "count" or "sum" or "average" or "min" or "max" } call when (call.Receiver is null ? 0 : 1) + call.Arguments.Count > 1 =>
                [call.Receiver ?? call.Arguments.FirstOrDefault()],
            FunctionCall call => call.Arguments.Prepend(call.Receiver),
            FieldLookup field => [field.Target],
            ArrayLiteral array => array.Items,
            Occurs occurs => [occurs.Subject, occurs.Amount, occurs.Anchor, occurs.Until],
            Filter filter => [filter.Source],
            Chain chain => [chain.Source, .. chain.Steps.Select(step => step.Count)],
            Aggregation aggregation => [aggregation.Source],
            Quantifier quantifier => [quantifier.Clauses.FirstOrDefault()?.Source],
            Let let => [.. let.Bindings.Take(1).Select(binding => binding.Value)],
            _ => [],
        };
        foreach (var child in children.OfType<PqlNode>().SelectMany(Closed))
        {
            yield return child;
        }
    }

    private static bool Agree(PqlNode tree, Random random, bool values)
    {
        // Through its text, as stored events are: a number reads back as it is written.
        var profile = JsonNode.Parse(EvaluationTrees.Profile(random).ToJsonString())!.AsObject();
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        var now = Base.AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40));
        var projection = EventProjection.Of([tree], values);
        var attributes = (JsonObject)profile.DeepClone();
        var events = (JsonArray)attributes["xEvent"]!;
        attributes.Remove("xEvent");
        var converted = PqlProfile.WithEvents(PqlProfile.Convert(attributes, zone),
            [.. events.Select(e => PqlProfile.Convert(Encoding.UTF8.GetBytes(e!.ToJsonString()), zone, projection))], zone);
        var expected = CompilerProperties.Outcome(() => Interpreter.Evaluate(tree, profile, new FakeTimeProvider(now), zone));
        var actual = CompilerProperties.Outcome(() => PqlCompiler.Compile(tree, zone).Evaluate(converted, now).ToObject());
        if (!values)
        {
            (expected, actual) = (Holds(expected), Holds(actual));
        }
        if (!CompilerProperties.Same(expected, actual))
        {
            throw new InvalidOperationException(
                $"{Printer.Print(tree)} at {now:O} in {zone.Id}, projection {projection?.Key ?? "(none)"}\n" +
                $"whole: {CompilerProperties.Show(expected)}\nprojected: {CompilerProperties.Show(actual)}\nprofile: {profile.ToJsonString()}");
        }
        return true;
    }

    /// <summary>Whether an interpreter's value holds, as ValueOperations.Holds reads a compiled one; a failure stays a failure.</summary>
    private static object? Holds(object? value) => value switch
    {
        CompilerProperties.Failure failure => failure,
        bool yes => yes,
        List<object?> items => items.Count > 0,
        _ => false,
    };
}

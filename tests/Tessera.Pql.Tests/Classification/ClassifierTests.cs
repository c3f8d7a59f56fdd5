using Tessera.Pql.Classification;

namespace Tessera.Pql.Tests.Classification;

/// <summary>One test per rule of docs/pql.md "Evaluation modes": the mode, and the reason that decided it.</summary>
public sealed class ClassifierTests
{
    private static ModeClassification Classify(string pql, Func<string, AudienceReference?>? audiences = null) =>
        EvaluationModeClassifier.Classify(pql, audiences);

    private static void AssertMode(EvaluationMode mode, string reason, string pql, Func<string, AudienceReference?>? audiences = null)
    {
        var result = Classify(pql, audiences);
        Assert.True(mode == result.Mode, $"{pql}: expected {mode}, got {result.Mode}: {string.Join("; ", result.Reasons)}");
        Assert.Contains(reason, result.Reasons[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("homeAddress.country = \"US\"")]
    [InlineData("person.birthday occurs = 3 days before today")]
    [InlineData("$1.homeAddress.stateProvince = $1.workAddress.stateProvince")]
    [InlineData("(Profile) => Profile.homeAddress.stateProvince = Profile.workAddress.stateProvince")]
    [InlineData("orders.topN(price, 5).head()")]
    [InlineData("true")]
    public void Profile_attributes_only_is_edge(string pql) =>
        AssertMode(EvaluationMode.Edge, "profile attributes only: edge", pql);

    [Theory]
    [InlineData("CHAIN(xEvent, timestamp, [C0: WHAT(eventType = \"x\") WHEN(today)])", "WHEN(today)")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(< 24 hours before now)])", "WHEN(< 24 hours before now)")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(<= 24 hours before now)])", "WHEN(<= 24 hours before now)")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(this day)])", "WHEN(this day)")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(< 3 hours before now)])", "WHEN(< 3 hours before now)")]
    [InlineData("xEvent[eventType = \"x\" and timestamp occurs < 2 hours before now]", "timestamp occurs < 2 hours before now")]
    [InlineData("xEvent[timestamp > today()]", "timestamp > today()")]
    [InlineData("exists X from xEvent where X.eventType = \"x\" and X.timestamp occurs today", "X.timestamp occurs on today")]
    [InlineData("select X from xEvent where X.timestamp occurs this hour", "X.timestamp occurs this hour")]
    [InlineData("age > 18 and xEvent[timestamp occurs on date(2026, 11, 28)]", "timestamp occurs on date(2026, 11, 28)")]
    public void One_event_within_24_hours_is_edge(string pql, string window) =>
        AssertMode(EvaluationMode.Edge, $"one event within 24 hours ({window}", pql);

    [Fact]
    public void Profile_attributes_beside_one_event_stay_edge()
    {
        var result = Classify("workAddress.country = \"US\" and CHAIN(xEvent, timestamp, [C0: WHAT(eventType = \"x\") WHEN(today)])");
        Assert.Equal(EvaluationMode.Edge, result.Mode);
        Assert.Contains(result.Reasons, r => r.StartsWith("profile attributes beside", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(today), B: WHAT(eventType = \"y\") WHEN(today)])", "2 events in strict time order within 24 hours")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(today)]) and xEvent[eventType = \"y\" and timestamp occurs today]", "2 event conditions (the edge takes one)")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(< 24 hours before now) COUNT(5)])", "COUNT(5) events within 24 hours")]
    [InlineData("count(xEvent[eventType = \"x\" and timestamp occurs today]) >= 3", "a value computed from events within 24 hours")]
    [InlineData("xEvent[eventType = \"x\" and timestamp occurs today].count() >= 3", "a value computed from events within 24 hours")]
    [InlineData("(count X over X from xEvent where X.timestamp occurs < 24 hours before now) > 2", "a count of events within 24 hours")]
    [InlineData("let S = (sum X.price over X from xEvent where X.timestamp occurs today) in (S > 100 and S < 1000)", "a value computed from events within 24 hours")]
    [InlineData("age > 18 and not(chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(today)]))", "a negated event within 24 hours")]
    public void What_the_streaming_engine_maintains_is_streaming(string pql, string reason) =>
        AssertMode(EvaluationMode.Streaming, reason, pql);

    [Theory]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\")])", "one event with no time window")]
    [InlineData("xEvent[eventType = \"x\"]", "one event with no time window")]
    [InlineData("exists X from xEvent where X.eventType = \"x\"", "one event with no time window")]
    [InlineData("xEvent.count() > 3", "a value computed from events with no time window")]
    [InlineData("let S = (sum X.commerce.order.priceTotal over X from xEvent where X.commerce.order.currencyCode = \"USD\") in (S > 100 and S < 1000)", "a value computed from events with no time window")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\"), B: WHAT(eventType = \"y\") WHEN(today)])", "no bound on the events' age (step A with no WHEN)")]
    [InlineData("xEvent[timestamp occurs before today]", "no bound on the events' age")]
    [InlineData("xEvent[timestamp occurs > 2 hours before now]", "no bound on the events' age")]
    [InlineData("xEvent[timestamp occurs < 2 hours before now or eventType = \"x\"]", "with no time window")]
    [InlineData("xEvent[not(timestamp occurs today)]", "with no time window")]
    public void An_event_condition_without_a_bounded_window_is_batch(string pql, string reason) =>
        AssertMode(EvaluationMode.Batch, reason, pql);

    [Theory]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(<= 3 days before now)])", "event window of 3 days")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(< 8 days before now)])", "event window of 8 days")]
    [InlineData("xEvent[timestamp occurs last week]", "event window of 14 days")]
    [InlineData("xEvent[timestamp occurs last day]", "event window of 48 hours")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(yesterday)])", "event window of 48 hours")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(= 24 hours before now)])", "event window of 25 hours")]
    [InlineData("xEvent[timestamp occurs between date(2015, 1, 8) and date(2017, 7, 1)]", "longer than 24 hours")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(today), B: WHAT(eventType = \"y\") WHEN(< 2 days before now)])", "event window of 48 hours")]
    public void An_event_window_longer_than_24_hours_is_batch(string pql, string reason) =>
        AssertMode(EvaluationMode.Batch, reason, pql);

    [Theory]
    [InlineData("not(chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") WHEN(today)]))")]
    [InlineData("not(xEvent[timestamp occurs today]) and not(xEvent[eventType = \"y\" and timestamp occurs today])")]
    public void Only_negated_events_is_batch(string pql) =>
        AssertMode(EvaluationMode.Batch, "only negated event conditions", pql);

    [Fact]
    public void Forall_over_events_is_batch() =>
        AssertMode(EvaluationMode.Batch, "forall over events", "age > 1 and (forall X from xEvent where X.timestamp occurs today)");

    [Fact]
    public void Nested_filters_climbing_to_the_profile_read_the_events_of_the_outer_filter()
    {
        // ^^ climbs from the product list through the event to the profile: a profile attribute inside the event condition.
        AssertMode(EvaluationMode.Batch, "one event with no time window", "xEvent[productListItems[SKU = \"PS\" or ^^.person.gender = \"female\"]]");
        AssertMode(EvaluationMode.Edge, "one event within 24 hours",
            "xEvent[timestamp occurs today and productListItems[SKU = \"PS\" or ^^.person.gender = \"female\"]]");
        // ^ from the events' filter reaches the profile, and ^.xEvent is the events again: a second read.
        AssertMode(EvaluationMode.Batch, "with no time window", "xEvent[timestamp occurs today and ^.xEvent[eventType = \"x\"]]");
    }

    [Fact]
    public void A_lambda_named_profile_reaches_the_events_through_its_name()
    {
        AssertMode(EvaluationMode.Edge, "one event within 24 hours", "(Profile) => Profile.xEvent[timestamp occurs today]");
        AssertMode(EvaluationMode.Batch, "no time window", "(P) => P.age > 3 and P.xEvent[eventType = \"x\"]");
        AssertMode(EvaluationMode.Edge, "one event within 24 hours", "$1.xEvent[timestamp occurs < 1 hours before now]");
    }

    [Fact]
    public void Events_of_another_variable_are_not_the_profiles_events()
    {
        // The quantifier's X is an event; X.xEvent is a field of it, not the profile's events.
        AssertMode(EvaluationMode.Edge, "one event within 24 hours", "exists X from xEvent where X.timestamp occurs today and X.xEvent.size > 1");
    }

    private static readonly Func<string, AudienceReference?> Audiences = id => id switch
    {
        "batch-profile" => new(EvaluationMode.Batch, ProfileOnly: true),
        "batch-events" => new(EvaluationMode.Batch, ProfileOnly: false),
        "edge-events" => new(EvaluationMode.Edge, ProfileOnly: false),
        "streaming-events" => new(EvaluationMode.Streaming, ProfileOnly: false),
        _ => null,
    };

    private const string OneEvent = "CHAIN(xEvent, timestamp, [C0: WHAT(eventType = \"x\") WHEN(today)])";

    [Theory]
    [InlineData("inSegment(\"batch-events\") and inSegment(\"edge-events\")", EvaluationMode.Edge, "refers to a batch audience")]
    [InlineData("age > 3 and inSegment(\"batch-profile\")", EvaluationMode.Edge, "refers to a batch audience")]
    [InlineData("inSegment(\"batch-events\") and inSegment(\"streaming-events\")", EvaluationMode.Streaming, "refers to a streaming audience")]
    [InlineData("inSegment(\"unknown\")", EvaluationMode.Streaming, "audience not known")]
    [InlineData("inSegment(\"batch-profile\") and " + OneEvent, EvaluationMode.Edge, "one event within 24 hours")]
    [InlineData("inSegment(\"batch-events\") and " + OneEvent, EvaluationMode.Batch, "combined with an event condition")]
    [InlineData("inSegment(\"streaming-events\") and " + OneEvent, EvaluationMode.Batch, "combined with an event condition")]
    [InlineData("inSegment(\"unknown\") and " + OneEvent, EvaluationMode.Batch, "(not known) combined with an event condition")]
    public void InSegment_follows_what_is_known_of_the_audience(string pql, EvaluationMode mode, string reason) =>
        AssertMode(mode, reason, pql, Audiences);

    [Fact]
    public void Without_a_resolver_every_audience_is_unknown()
    {
        AssertMode(EvaluationMode.Streaming, "audience not known", "inSegment(\"batch-profile\")");
        AssertMode(EvaluationMode.Batch, "combined with an event condition", "inSegment(\"batch-profile\") and " + OneEvent);
        AssertMode(EvaluationMode.Streaming, "inSegment with a computed id", "inSegment(name)", Audiences);
    }

    [Fact]
    public void Reasons_put_the_deciding_rule_first_and_keep_the_others()
    {
        var result = Classify("age > 1 and " + OneEvent + " and xEvent[timestamp occurs last week]");
        Assert.Equal(EvaluationMode.Batch, result.Mode);
        Assert.EndsWith(": batch", result.Reasons[0], StringComparison.Ordinal);
        Assert.Contains(result.Reasons, r => r.EndsWith(": edge", StringComparison.Ordinal));
        Assert.Contains(result.Reasons, r => r.EndsWith(": streaming", StringComparison.Ordinal));
    }
}

using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;
using Tessera.Segmentation.Engines;

namespace Tessera.Segmentation.Tests.Engines;

/// <summary>What the dependency index learns from an audience: which events may change it.</summary>
public sealed class EventReadsTests
{
    private static EventReads Of(string pql) => EventReads.Of(Parser.Parse(pql));

    private static PqlValue Event(string page) => PqlProfile.Convert(System.Text.Json.Nodes.JsonNode.Parse($$"""{"page": "{{page}}", "eventType": "web"}"""), TimeZoneInfo.Utc);

    [Theory]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])", "cart")]
    [InlineData("count(xEvent[page = \"cart\" and timestamp occurs < 24 hours before now]) >= 2", "cart")]
    [InlineData("tier = \"gold\" and not chain(xEvent, timestamp, [A: WHAT(\"cart\" = page) WHEN(< 24 hours before now)])", "cart")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(page = \"home\"), B: WHAT(page in [\"cart\", \"x\"])])", "home", "cart", "x")]
    public void A_guarded_audience_is_changed_only_by_events_passing_a_guard(string pql, params string[] passing)
    {
        var reads = Of(pql);
        Assert.True(reads.ReadsEvents);
        Assert.NotNull(reads.Guards);
        foreach (var page in passing)
        {
            Assert.Contains(reads.Guards!, guard => guard.MayPass(Event(page)));
        }
        Assert.DoesNotContain(reads.Guards!, guard => guard.MayPass(Event("product")));
    }

    [Theory]
    [InlineData("sum(xEvent.price) > 100")]
    [InlineData("count(xEvent[timestamp occurs < 24 hours before now and page = \"cart\"]) > 0")] // the guard is not the leftmost operand
    [InlineData("chain(xEvent, timestamp, [A: WHAT(page = \"home\"), B: WHEN(< 1 hours before now)])")] // a step without WHAT
    [InlineData("exists X from xEvent where X.page = \"cart\"")]
    [InlineData("xEvent[page = \"2026-01-01\"]")] // a text that is a date compares as a date
    [InlineData("count(xEvent[page != \"cart\"]) > 0")]
    public void Other_reads_of_events_make_every_event_relevant(string pql)
    {
        var reads = Of(pql);
        Assert.True(reads.ReadsEvents);
        Assert.Null(reads.Guards);
    }

    [Fact]
    public void Attributes_only_read_no_events_and_segments_are_named()
    {
        var reads = Of("tier = \"gold\" and inSegment(\"vip\")");
        Assert.False(reads.ReadsEvents);
        Assert.Equal(["vip"], reads.Segments!);
    }
}

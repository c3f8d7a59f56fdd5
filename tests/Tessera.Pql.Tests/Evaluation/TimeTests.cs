using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>The date-time examples' documented meanings, with a fake clock (Wednesday 10 June 2026, 12:00 UTC).</summary>
public sealed class TimeTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 6, 10, 12, 0, 0, TimeSpan.Zero));

    private static bool Holds(string pql, string profile, TimeZoneInfo? zone = null) =>
        BothEngines.Evaluate(Parser.Parse(pql), JsonNode.Parse(profile)!.AsObject(), Clock, zone) is true;

    [Theory]
    [InlineData("product.saleDate occurs last week", "2026-06-03T10:00:00Z", true)]
    [InlineData("product.saleDate occurs last week", "2026-06-09T10:00:00Z", false)]
    [InlineData("product.saleDate occurs this month", "2026-06-01T00:00:00Z", true)]
    [InlineData("product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)", "2017-07-01T23:00:00Z", true)]
    [InlineData("product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)", "2017-07-02T00:00:00Z", false)]
    [InlineData("product.saleDate occurs = 3 hours before now", "2026-06-10T09:30:00Z", true)]
    [InlineData("product.saleDate occurs = 3 hours before now", "2026-06-10T10:01:00Z", false)]
    [InlineData("product.saleDate occurs = 3 days before today", "2026-06-07T20:00:00Z", true)]
    [InlineData("product.saleDate occurs <= 3 days before now", "2026-06-07T01:00:00Z", true)]
    [InlineData("product.saleDate occurs <= 3 days before now", "2026-06-06T23:00:00Z", false)]
    [InlineData("product.saleDate occurs < 24 hours before now", "2026-06-09T12:30:00Z", true)]
    [InlineData("product.saleDate occurs < 24 hours before now", "2026-06-09T11:30:00Z", false)]
    [InlineData("product.saleDate occurs before today", "2026-06-09T23:59:59Z", true)]
    [InlineData("product.saleDate occurs on date(2019, 12, 31)", "2019-12-31T18:00:00Z", true)]
    [InlineData("product.saleDate occurs date(2019, 12, 31)", "2019-12-31T18:00:00Z", true)]
    [InlineData("product.saleDate occurs date(2019, 12, 31)", "2020-01-01T00:00:00Z", false)]
    [InlineData("product.saleDate.getMonth() = 6 and product.saleDate.getYear() = currentYear()", "2026-06-01T00:00:00Z", true)]
    public void Documented_time_conditions_hold(string pql, string saleDate, bool expected)
    {
        Assert.Equal(expected, Holds(pql, "{\"product\":{\"saleDate\":\"" + saleDate + "\"}}"));
    }

    [Fact]
    public void Days_are_read_in_the_configured_time_zone()
    {
        var plusTwo = TimeZoneInfo.CreateCustomTimeZone("UTC+2", TimeSpan.FromHours(2), "UTC+2", "UTC+2");
        const string late = """{"product":{"saleDate":"2026-06-10T23:30:00Z"}}""";
        Assert.True(Holds("product.saleDate occurs on date(2026, 6, 10)", late));
        Assert.False(Holds("product.saleDate occurs on date(2026, 6, 10)", late, plusTwo)); // 01:30 on the 11th there.
        Assert.True(Holds("product.saleDate occurs on date(2026, 6, 11)", late, plusTwo));
    }

    [Fact]
    public void Event_windows_work_inside_quantifiers()
    {
        const string profile = """{"xEvent":[{"eventType":"addToCart","timestamp":"2026-06-10T09:30:00Z"},{"eventType":"addToCart","timestamp":"2026-06-01T09:00:00Z"}]}""";
        Assert.True(Holds("exists X from xEvent where X.eventType = \"addToCart\" and X.timestamp occurs < 3 hours before now", profile));
        Assert.False(Holds("forall X from xEvent where X.timestamp occurs < 3 hours before now", profile));
        Assert.Equal(1L, BothEngines.Evaluate(Parser.Parse("count(xEvent[timestamp occurs < 8 days before now])"), JsonNode.Parse(profile)!.AsObject(), Clock));
    }
}

public sealed class ChainTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 6, 10, 12, 0, 0, TimeSpan.Zero));

    private const string Events = """
        {"homeAddress":{"countryCode":"US"},"xEvent":[
          {"eventType":"homePageView","timestamp":"2026-06-10T08:00:00Z"},
          {"eventType":"addToCart","timestamp":"2026-06-10T09:00:00Z"},
          {"eventType":"homePageView","timestamp":"2026-06-10T10:00:00Z"},
          {"eventType":"commerce.checkouts","timestamp":"2026-06-01T10:00:00Z"}]}
        """;

    private static object? Eval(string pql) => BothEngines.Evaluate(Parser.Parse(pql), JsonNode.Parse(Events)!.AsObject(), Clock);

    [Theory]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\")])", true)]
    [InlineData("homeAddress.countryCode = \"US\" and chain(xEvent, timestamp, [X: WHAT(eventType = \"homePageView\") WHEN(< 24 hours before now)])", true)]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"homePageView\"), B: WHAT(eventType = \"addToCart\"), C: WHAT(eventType = \"homePageView\")])", true)]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\"), B: WHAT(eventType = \"commerce.checkouts\")])", false)]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"homePageView\") COUNT(2)])", true)]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"homePageView\") WHEN(< 24 hours before now) COUNT(5)])", false)]
    [InlineData("not(chain(xEvent, timestamp, [A: WHAT(eventType = \"homePageView\")]))", false)]
    [InlineData("CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals(\"commerce.checkouts\", false)) WHEN(today)])", false)]
    [InlineData("CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals(\"ADDTOCART\", false)) WHEN(today)])", true)]
    public void Steps_match_events_in_time_order(string pql, bool expected)
    {
        Assert.Equal(expected, Eval(pql));
    }

    [Theory]
    [InlineData("2026-06-10T09:00:00Z", "2026-06-10T09:00:00Z", false)]
    [InlineData("2026-06-10T09:00:00Z", "2026-06-10T09:00:01Z", true)]
    [InlineData("2026-06-10T09:00:01Z", "2026-06-10T09:00:00Z", false)]
    public void Steps_need_strictly_later_events(string first, string second, bool expected)
    {
        var profile = JsonNode.Parse($$"""{"xEvent":[{"eventType":"a","timestamp":"{{first}}"},{"eventType":"b","timestamp":"{{second}}"}]}""")!.AsObject();
        Assert.Equal(expected, BothEngines.Evaluate(Parser.Parse("chain(xEvent, timestamp, [A: WHAT(eventType = \"a\"), B: WHAT(eventType = \"b\")])"), profile, Clock));
    }
}

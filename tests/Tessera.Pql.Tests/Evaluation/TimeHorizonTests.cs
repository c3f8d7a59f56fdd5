using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>When the clock alone changes an audience's answer (Wednesday 10 June 2026, 12:00 UTC unless said).</summary>
public sealed class TimeHorizonTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeZoneInfo PlusTwo = TimeZoneInfo.CreateCustomTimeZone("UTC+2", TimeSpan.FromHours(2), "UTC+2", "UTC+2");

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static JsonObject Events(params string[] addToCartTimes) => new()
    {
        ["xEvent"] = new JsonArray([.. addToCartTimes.Select(time => (JsonNode)new JsonObject { ["eventType"] = "addToCart", ["timestamp"] = time })]),
    };

    private static object? ValueAt(string pql, JsonObject profile, DateTimeOffset instant, TimeZoneInfo? zone = null) =>
        Interpreter.Evaluate(Parser.Parse(pql), profile, new FakeTimeProvider(instant), zone);

    /// <summary>The horizon, checked to be a real flip: the value a tick before it is the value at now, at it another.</summary>
    private static DateTimeOffset? Flip(string pql, JsonObject profile, DateTimeOffset now, TimeZoneInfo? zone = null)
    {
        var horizon = TimeHorizon.NextChange(Parser.Parse(pql), profile, now, zone);
        if (horizon is { } at)
        {
            Assert.Equal(ValueAt(pql, profile, now, zone), ValueAt(pql, profile, at.AddTicks(-1), zone));
            Assert.NotEqual(ValueAt(pql, profile, now, zone), ValueAt(pql, profile, at, zone));
        }
        return horizon;
    }

    [Theory]
    [InlineData("exists X from xEvent where X.eventType = \"addToCart\" and X.timestamp occurs < 3 hours before now")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(< 3 hours before now)])")]
    [InlineData("xEvent.exists(eventType = \"addToCart\" and timestamp occurs < 3 hours before now)")]
    public void Added_to_cart_in_the_last_3_hours_exits_3_hours_after_the_event_to_the_tick(string pql)
    {
        var profile = Events("2026-06-10T10:15:30.1234567Z");
        Assert.Equal(true, ValueAt(pql, profile, Now));
        Assert.Equal(At("2026-06-10T13:15:30.1234567Z"), Flip(pql, profile, Now));
        Assert.Equal(At("2026-06-10T13:15:30.1234567Z"), Flip($"not ({pql})", profile, Now)); // Negation flips with it.
    }

    [Fact]
    public void An_event_today_leaves_at_the_next_local_midnight()
    {
        const string pql = "chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(today)])";
        var profile = Events("2026-06-10T09:00:00Z");
        Assert.Equal(At("2026-06-11T00:00:00Z"), Flip(pql, profile, Now));
        Assert.Equal(At("2026-06-10T22:00:00Z"), Flip(pql, profile, Now, PlusTwo));
        Assert.Equal(At("2026-06-10T22:00:00Z"), Flip(pql, profile, Now, CompilerProperties.Zones[2])); // Summer time, UTC+2.
    }

    [Fact]
    public void Calendar_windows_move_at_unit_boundaries()
    {
        JsonObject Sale(string time) => new() { ["product"] = new JsonObject { ["saleDate"] = time } };
        Assert.Equal(At("2026-06-11T00:00:00Z"), Flip("product.saleDate occurs = 3 days before today", Sale("2026-06-07T20:00:00Z"), Now));
        Assert.Equal(At("2026-06-15T00:00:00Z"), Flip("product.saleDate occurs last week", Sale("2026-06-03T10:00:00Z"), Now)); // Next Monday.
        // Before the window, it opens at the start of the day three days after the sale.
        Assert.Equal(At("2026-06-12T00:00:00Z"), Flip("product.saleDate occurs = 3 days before today", Sale("2026-06-09T20:00:00Z"), Now));
    }

    [Theory]
    [InlineData("2016-03-01T00:00:00Z")]
    [InlineData("2026-06-01T00:00:00Z")]
    public void Fixed_dates_never_change(string saleDate)
    {
        var profile = new JsonObject { ["product"] = new JsonObject { ["saleDate"] = saleDate } };
        Assert.Null(Flip("product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)", profile, Now));
        Assert.Null(Flip("product.saleDate occurs on date(2026, 6, 1)", profile, Now));
    }

    [Fact]
    public void Five_events_within_24_hours_flip_when_the_fifth_newest_leaves()
    {
        const string pql = "chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(< 24 hours before now) COUNT(5)])";
        var profile = Events("2026-06-09T13:00:00Z", "2026-06-09T14:00:00Z", "2026-06-09T15:00:00Z", "2026-06-09T16:00:00Z", "2026-06-09T17:00:00Z", "2026-06-09T18:00:00Z");
        // The oldest leaves first (13:00), which still leaves five: the answer changes when the 14:00 one leaves.
        Assert.Equal(At("2026-06-10T13:00:00Z"), TimeHorizon.NextPossibleChange(Parser.Parse(pql), profile, Now));
        Assert.Equal(At("2026-06-10T14:00:00Z"), Flip(pql, profile, Now));
    }

    [Fact]
    public void Attributes_alone_never_change()
    {
        var profile = new JsonObject { ["age"] = 30, ["homeAddress"] = new JsonObject { ["country"] = "US" }, ["person"] = new JsonObject { ["birthday"] = "1990-06-10" } };
        Assert.Null(Flip("homeAddress.country = \"US\" and age > 20 and person.birthday.getMonth() = 6", profile, Now));
    }

    [Fact]
    public void Current_date_functions_change_at_their_unit()
    {
        var profile = new JsonObject();
        Assert.Equal(At("2026-07-01T00:00:00Z"), Flip("currentMonth() = 6", profile, Now));
        Assert.Equal(At("2027-01-01T00:00:00Z"), Flip("currentYear() = 2026", profile, Now));
        Assert.Equal(At("2026-06-11T00:00:00Z"), Flip("currentDayOfMonth() = 10", profile, Now));
    }

    [Fact]
    public void Now_compared_with_a_field_flips_at_the_field()
    {
        var profile = new JsonObject { ["person"] = new JsonObject { ["renewal"] = "2026-06-10T18:00:00Z" } };
        Assert.Equal(At("2026-06-10T18:00:00Z"), Flip("person.renewal > now()", profile, Now));
        Assert.Equal(At("2026-06-10T18:00:00.0000001Z"), Flip("now() <= person.renewal", profile, At("2026-06-10T18:00:00Z")));
    }

    [Fact]
    public void A_month_window_reopens_where_the_month_end_clamps()
    {
        // Now − 1 month is 28 February for every day from 28 to 31 March: the window's start jumps back at midnight.
        const string pql = "person.birthday occurs < 1 months before now";
        var profile = new JsonObject { ["person"] = new JsonObject { ["birthday"] = "2026-02-28T12:00:00Z" } };
        Assert.Equal(At("2026-03-29T12:00:00Z"), Flip(pql, profile, At("2026-03-29T06:00:00Z")));
        Assert.Equal(At("2026-03-30T00:00:00Z"), Flip(pql, profile, At("2026-03-29T12:30:00Z")));
    }

    [Fact]
    public void A_day_window_across_a_daylight_saving_change_moves_with_the_wall_clock()
    {
        // At 01:00 UTC the wall clock jumps from 02:00 to 03:00, and now − 1 day from 01:59:59 to 03:00 on Saturday.
        const string pql = "person.birthday occurs < 1 days before now";
        var profile = new JsonObject { ["person"] = new JsonObject { ["birthday"] = "2026-03-28T01:30:00Z" } };
        Assert.Equal(At("2026-03-29T01:00:00Z"), Flip(pql, profile, At("2026-03-29T00:30:00Z"), CompilerProperties.Zones[2]));
    }

    [Fact]
    public void A_value_that_is_the_clock_changes_at_every_tick()
    {
        var profile = new JsonObject { ["age"] = 30 };
        Assert.Equal(Now.AddTicks(1), TimeHorizon.NextPossibleChange(Parser.Parse("if(age > 3, now(), today())"), profile, Now));
    }

    [Fact]
    public void Edges_of_the_calendar_and_units_the_interpreter_rejects_are_no_failure()
    {
        var profile = new JsonObject { ["person"] = new JsonObject { ["birthday"] = "2026-06-11T00:00:00Z" } };
        Assert.Null(Flip("person.birthday occurs < 3 centuries before now", profile, Now)); // Fails at every instant.
        Assert.Null(Flip("person.birthday occurs < 3 days before now", profile, DateTimeOffset.MaxValue.AddTicks(-1)));
        Assert.Equal(At("2026-06-11T00:00:00Z"), Flip("person.birthday occurs < 3 days before now", profile, Now, CompilerProperties.Zones[2]));
    }
}

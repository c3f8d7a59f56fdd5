using System.Globalization;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// Calendar arithmetic for <c>occurs</c> and the date-time functions, in one time zone: the start of
/// the unit an instant falls in (weeks start on Monday), and moving by whole units. Instants are UTC
/// <see cref="DateTimeOffset"/>s; units are read in <see cref="Zone"/>.
/// </summary>
internal sealed class TimeWindow(TimeZoneInfo zone)
{
    public TimeZoneInfo Zone { get; } = zone;

    public DateTimeOffset Local(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Zone);

    /// <summary>The first instant of the <paramref name="unit"/> that <paramref name="instant"/> falls in.</summary>
    public DateTimeOffset StartOf(DateTimeOffset instant, string unit)
    {
        var local = Local(instant).DateTime;
        var start = Singular(unit) switch
        {
            "second" => new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, local.Second),
            "minute" => new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0),
            "hour" => new DateTime(local.Year, local.Month, local.Day, local.Hour, 0, 0),
            "day" => local.Date,
            "week" => local.Date.AddDays(-(((int)local.DayOfWeek + 6) % 7)),
            "month" => new DateTime(local.Year, local.Month, 1),
            "year" => new DateTime(local.Year, 1, 1),
            var other => throw new ArgumentException($"unknown unit '{other}'", nameof(unit)),
        };
        return new DateTimeOffset(start, Zone.GetUtcOffset(start)).ToUniversalTime();
    }

    /// <summary><paramref name="instant"/> moved by <paramref name="count"/> whole units (calendar months and years).</summary>
    public DateTimeOffset Add(DateTimeOffset instant, long count, string unit)
    {
        var local = Local(instant);
        var moved = Singular(unit) switch
        {
            "second" => local.AddSeconds(count),
            "minute" => local.AddMinutes(count),
            "hour" => local.AddHours(count),
            "day" => local.AddDays(count),
            "week" => local.AddDays(7 * count),
            "month" => local.AddMonths((int)count),
            "year" => local.AddYears((int)count),
            var other => throw new ArgumentException($"unknown unit '{other}'", nameof(unit)),
        };
        return moved.ToUniversalTime();
    }

    public static string Singular(string unit) => unit.EndsWith('s') ? unit[..^1] : unit;

    /// <summary>Reads a stored date or date-time (ISO-8601; a date without time is its day's start in the zone).</summary>
    public DateTimeOffset? Read(object? value) => value switch
    {
        DateTimeOffset instant => instant,
        string text when text.Length == 10 && DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            => new DateTimeOffset(day, Zone.GetUtcOffset(day)).ToUniversalTime(),
        string text when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant) => instant.ToUniversalTime(),
        _ => null,
    };
}

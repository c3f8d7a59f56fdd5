using System.Globalization;
using Tessera.Pql.Syntax;

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
        if (instant == DateTimeOffset.MinValue || instant == DateTimeOffset.MaxValue)
        {
            return instant; // A clamped point (occurs < 100000 years before now) stays where it is.
        }
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
        return FromLocal(start);
    }

    /// <summary>
    /// <paramref name="instant"/> moved by <paramref name="count"/> whole units: seconds, minutes and
    /// hours are elapsed time; days and longer move the wall clock in the zone (a day across a daylight
    /// saving change is 23 or 25 hours). Clamped to the representable range.
    /// </summary>
    public DateTimeOffset Add(DateTimeOffset instant, long count, string unit)
    {
        try
        {
            return Singular(unit) switch
            {
                "second" => instant.AddSeconds(count),
                "minute" => instant.AddMinutes(count),
                "hour" => instant.AddHours(count),
                "day" => FromLocal(Local(instant).DateTime.AddDays(count)),
                "week" => FromLocal(Local(instant).DateTime.AddDays(7 * (double)count)),
                "month" => FromLocal(Local(instant).DateTime.AddMonths(checked((int)count))),
                "year" => FromLocal(Local(instant).DateTime.AddYears(checked((int)count))),
                var other => throw new ArgumentException($"unknown unit '{other}'", nameof(unit)),
            };
        }
        catch (Exception error) when (error is ArgumentOutOfRangeException or OverflowException)
        {
            return count < 0 ? DateTimeOffset.MinValue : DateTimeOffset.MaxValue;
        }
    }

    private DateTimeOffset FromLocal(DateTime local)
    {
        var offset = Zone.GetUtcOffset(local);
        var ticks = local.Ticks - offset.Ticks;
        return ticks < DateTime.MinValue.Ticks ? DateTimeOffset.MinValue
            : ticks > DateTime.MaxValue.Ticks ? DateTimeOffset.MaxValue
            : new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    public static string Singular(string unit) => unit.EndsWith('s') ? unit[..^1] : unit;

    /// <summary>
    /// Reads a stored date or date-time: ISO-8601 only (<c>yyyy-MM-dd</c>, which is its day's start in
    /// the zone, or <c>yyyy-MM-ddTHH:mm...</c> with an optional offset, UTC when none). Anything else is
    /// not a time, so nothing depends on the machine's culture or today's year.
    /// </summary>
    public DateTimeOffset? Read(object? value) => value switch
    {
        DateTimeOffset instant => instant,
        string text => Read(text),
        _ => null,
    };

    public DateTimeOffset? Read(string text)
    {
        if (text.Length < 10 || text[4] != '-' || text[7] != '-' || !char.IsAsciiDigit(text[0]))
        {
            return null;
        }
        if (text.Length == 10)
        {
            return DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? FromLocal(day) : null;
        }
        if (text[10] is not ('T' or 't' or ' '))
        {
            return null;
        }
        if (TryReadCommonInstant(text, out var ticks))
        {
            return new DateTimeOffset(ticks, TimeSpan.Zero);
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant) ? instant.ToUniversalTime() : null;
    }

    /// <summary>
    /// The UTC ticks of the date-times events nearly always carry, <c>yyyy-MM-ddTHH:mm:ss</c> with an optional
    /// fraction of 1 to 7 digits and an optional <c>Z</c> or <c>±HH:mm</c> (none: UTC), read directly: the
    /// general parser took several times longer and every stored event's timestamp goes through here.
    /// False for anything else (leap seconds, hour 24, other layouts, out-of-range results), which the
    /// general parser then decides, so the two always agree.
    /// </summary>
    internal static bool TryReadCommonInstant(ReadOnlySpan<char> text, out long utcTicks)
    {
        utcTicks = 0;
        if (text.Length < 19 || text[4] != '-' || text[7] != '-' || text[10] is not ('T' or 't' or ' ') || text[13] != ':' || text[16] != ':'
            || !TryDigits(text[..4], out var year) || !TryDigits(text.Slice(5, 2), out var month) || !TryDigits(text.Slice(8, 2), out var day)
            || !TryDigits(text.Slice(11, 2), out var hour) || !TryDigits(text.Slice(14, 2), out var minute) || !TryDigits(text.Slice(17, 2), out var second)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }
        var ticks = new DateTime(year, month, day, hour, minute, second).Ticks;
        var at = 19;
        if (at < text.Length && text[at] == '.')
        {
            var digits = 0;
            var fraction = 0L;
            while (++at < text.Length && char.IsAsciiDigit(text[at]))
            {
                if (++digits > 7)
                {
                    return false;
                }
                fraction = (fraction * 10) + (text[at] - '0');
            }
            if (digits == 0)
            {
                return false;
            }
            for (var i = digits; i < 7; i++)
            {
                fraction *= 10;
            }
            ticks += fraction;
        }
        var rest = text[at..];
        if (rest.Length == 6 && rest[0] is '+' or '-' && rest[3] == ':' && TryDigits(rest.Slice(1, 2), out var offsetHours)
            && TryDigits(rest.Slice(4, 2), out var offsetMinutes) && offsetHours <= 13 && offsetMinutes <= 59)
        {
            var offset = ((offsetHours * 60) + offsetMinutes) * TimeSpan.TicksPerMinute;
            ticks -= rest[0] == '+' ? offset : -offset;
        }
        else if (!rest.IsEmpty && rest is not "Z")
        {
            return false;
        }
        if (ticks < 0 || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }
        utcTicks = ticks;
        return true;

        static bool TryDigits(ReadOnlySpan<char> digits, out int value)
        {
            value = 0;
            foreach (var c in digits)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
                value = (value * 10) + (c - '0');
            }
            return true;
        }
    }

    /// <summary>
    /// The instants an <c>occurs</c> condition accepts, as one interval (docs/pql.md): the anchor, the
    /// end of a <c>between</c> and the amount already evaluated. Null when a needed part is missing.
    /// </summary>
    public TimeInterval? Interval(Occurs occurs, DateTimeOffset now, DateTimeOffset? anchor, DateTimeOffset? until, object? amountValue)
    {
        switch (occurs.Relation)
        {
            case "last" or "this" or "next":
                {
                    var current = StartOf(now, occurs.Unit!);
                    var start = Add(current, occurs.Relation switch { "last" => -1, "this" => 0, _ => 1 }, occurs.Unit!);
                    return TimeInterval.From(start, Add(start, 1, occurs.Unit!));
                }
            case "on":
                return anchor is { } day ? TimeInterval.From(StartOf(day, "day"), Add(StartOf(day, "day"), 1, "day")) : null;
            case "between":
                return anchor is { } from && until is { } to ? TimeInterval.From(StartOf(from, "day"), Add(StartOf(to, "day"), 1, "day")) : null;
        }
        if (anchor is not { } at)
        {
            return null;
        }
        var before = occurs.Relation == "before";
        if (occurs.Amount is null)
        {
            return before ? new TimeInterval(long.MinValue, at.UtcTicks) : new TimeInterval(at.UtcTicks, long.MaxValue, LowInclusive: false, HighInclusive: true);
        }
        if (amountValue is not long amount)
        {
            return null;
        }
        var unit = occurs.Unit!;
        var point = Add(at, before ? -amount : amount, unit);
        var pointUnit = StartOf(point, unit);
        var afterPointUnit = Add(pointUnit, 1, unit);
        return (occurs.Comparison ?? "=", before) switch
        {
            ("=", _) => TimeInterval.From(pointUnit, afterPointUnit),
            ("<", true) => new TimeInterval(point.UtcTicks, at.UtcTicks, LowInclusive: false, HighInclusive: true),
            ("<=", true) => new TimeInterval(pointUnit.UtcTicks, at.UtcTicks, HighInclusive: true),
            (">", true) => new TimeInterval(long.MinValue, pointUnit.UtcTicks),
            (">=", true) => new TimeInterval(long.MinValue, afterPointUnit.UtcTicks),
            ("<", false) => TimeInterval.From(at, point),
            ("<=", false) => TimeInterval.From(at, afterPointUnit),
            (">", false) => new TimeInterval(afterPointUnit.UtcTicks, long.MaxValue, HighInclusive: true),
            _ => new TimeInterval(pointUnit.UtcTicks, long.MaxValue, HighInclusive: true),
        };
    }
}

/// <summary>A span of instants in UTC ticks; the low end is included unless said otherwise, the high end excluded.</summary>
internal readonly record struct TimeInterval(long Low, long High, bool LowInclusive = true, bool HighInclusive = false)
{
    public static TimeInterval From(DateTimeOffset low, DateTimeOffset high) => new(low.UtcTicks, high.UtcTicks);

    public bool Contains(long ticks) => !Before(ticks) && !After(ticks);

    /// <summary>Whether <paramref name="ticks"/> comes before the interval (below its low end).</summary>
    public bool Before(long ticks) => LowInclusive ? ticks < Low : ticks <= Low;

    /// <summary>Whether <paramref name="ticks"/> comes after the interval (past its high end).</summary>
    public bool After(long ticks) => HighInclusive ? ticks > High : ticks >= High;
}

using System.Globalization;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Classification;

/// <summary>
/// How far an event condition reaches: <see cref="Length"/> is the oldest an event can be (relative to
/// now) and still satisfy a window anchored at now/today/yesterday/tomorrow, or the span of a window
/// between fixed dates; null when nothing bounds it. <see cref="Text"/> is the condition as written.
/// </summary>
internal sealed record EventWindow(TimeSpan? Length, string Text)
{
    public static readonly TimeSpan Day = TimeSpan.FromHours(24);

    public static EventWindow Unbounded(string text) => new(null, text);

    public bool FitsInADay => Length is { } length && length <= Day;

    /// <summary>Both conditions must hold: the tighter window.</summary>
    public static EventWindow? Both(EventWindow? a, EventWindow? b) =>
        a is null ? b : b is null ? a : a.Length is null ? b : b.Length is null ? a : a.Length <= b.Length ? a : b;

    /// <summary>Either may hold: the wider window (unbounded when either is).</summary>
    public static EventWindow? Either(EventWindow? a, EventWindow? b) =>
        a is null || b is null ? null : a.Length is null ? a : b.Length is null ? b : a.Length >= b.Length ? a : b;

    public string Describe() => Length switch
    {
        null => "no bound",
        { } length when length.TotalHours <= 48 => $"{length.TotalHours:0.##} hours",
        { } length => $"{length.TotalDays:0.##} days",
    };

    /// <summary>
    /// The window of a time condition on an event's time (<paramref name="text"/> names it in reasons).
    /// Amounts are read nominally: <c>&lt;= 24 hours before now</c> reaches 24 hours back, not to the start
    /// of the hour 24 hours ago, as the pages call it a 24-hour window.
    /// </summary>
    public static EventWindow Of(Occurs occurs, string text)
    {
        var anchor = Anchor.Of(occurs.Anchor);
        switch (occurs.Relation)
        {
            case "last" or "this" or "next" when UnitLength(occurs.Unit) is { } unit:
                return new(occurs.Relation switch { "last" => 2 * unit, "this" => unit, _ => TimeSpan.Zero }, text);
            case "on":
                return anchor switch
                {
                    { Relative: true } => new(anchor.DayStartAgo, text),
                    { Fixed: not null } => new(Day, text),
                    _ => Unbounded(text),
                };
            case "between":
                var until = Anchor.Of(occurs.Until);
                if (anchor.Relative)
                {
                    return new(anchor.DayStartAgo, text);
                }
                return anchor.Fixed is { } from && until.Fixed is { } to && to >= from
                    ? new(to.Date.AddDays(1) - from.Date, text)
                    : Unbounded(text);
            case "before" or "after":
                break;
            default:
                return Unbounded(text);
        }
        var before = occurs.Relation == "before";
        if (occurs.Amount is null)
        {
            // before A: every earlier event; after A: since A, bounded only when A moves with now.
            return !before && anchor.Relative ? new(Positive(anchor.LatestAgo), text) : Unbounded(text);
        }
        if (Amount(occurs.Amount) is not { } amount || UnitLength(occurs.Unit) is not { } length)
        {
            return Unbounded(text);
        }
        var comparison = occurs.Comparison ?? "=";
        if (!before)
        {
            if (anchor.Relative)
            {
                return new(Positive(anchor.LatestAgo), text);
            }
            return anchor.Fixed is not null && comparison is "<" or "<=" or "=" ? new(comparison == "=" ? length : Times(amount, length), text) : Unbounded(text);
        }
        if (comparison is ">" or ">=")
        {
            return Unbounded(text); // more than N units ago: all older history.
        }
        var reach = Times(comparison == "=" ? amount + 1 : amount, length);
        return anchor switch
        {
            { Relative: true } => new(anchor.LatestAgo + reach, text),
            { Fixed: not null } => new(comparison == "=" ? length : Times(amount, length), text),
            _ => Unbounded(text),
        };
    }

    /// <summary><c>timestamp &gt; now</c>-style comparisons: after a moving anchor is bounded; anything else is not.</summary>
    public static EventWindow OfComparison(string op, PqlNode other, bool eventTimeOnLeft, string text)
    {
        var anchor = Anchor.Of(other);
        var after = eventTimeOnLeft ? op is ">" or ">=" : op is "<" or "<=";
        return after && anchor.Relative ? new(Positive(anchor.LatestAgo), text) : Unbounded(text);
    }

    private static TimeSpan Positive(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;

    private static double? Amount(PqlNode node) => node switch
    {
        Literal { Kind: LiteralKind.Integer, Value: long value } when value >= 0 => value,
        Literal { Kind: LiteralKind.Double, Value: double value } when value >= 0 && double.IsFinite(value) => value,
        _ => null,
    };

    /// <summary>Calendar units at their longest (a month 31 days, a year 366), so a window is never under-counted.</summary>
    private static TimeSpan? UnitLength(string? unit) => unit switch
    {
        "second" or "seconds" => TimeSpan.FromSeconds(1),
        "minute" or "minutes" => TimeSpan.FromMinutes(1),
        "hour" or "hours" => TimeSpan.FromHours(1),
        "day" or "days" => Day,
        "week" or "weeks" => 7 * Day,
        "month" or "months" => 31 * Day,
        "year" or "years" => 366 * Day,
        "century" or "centuries" => 36600 * Day,
        "millennium" or "millennia" => 366000 * Day,
        _ => null,
    };

    /// <summary>Clamped far below <see cref="TimeSpan.MaxValue"/>: a hostile amount must not overflow.</summary>
    private static TimeSpan Times(double amount, TimeSpan unit) => TimeSpan.FromTicks((long)Math.Min(amount * unit.Ticks, TimeSpan.MaxValue.Ticks / 4.0));

    /// <summary>
    /// An anchor that moves with the clock (now, today, yesterday, tomorrow: <see cref="LatestAgo"/> is
    /// the most it can lie in the past, <see cref="DayStartAgo"/> the start of its day), or a fixed date.
    /// </summary>
    private readonly record struct Anchor(bool Relative, TimeSpan LatestAgo, TimeSpan DayStartAgo, DateTime? Fixed)
    {
        public static Anchor Of(PqlNode? node) => node switch
        {
            FunctionCall { Receiver: null, Arguments.Count: 0, Function: "now" } => new(true, TimeSpan.Zero, Day, null),
            FunctionCall { Receiver: null, Arguments.Count: 0, Function: "today" } => new(true, Day, Day, null),
            FunctionCall { Receiver: null, Arguments.Count: 0, Function: "yesterday" } => new(true, 2 * Day, 2 * Day, null),
            FunctionCall { Receiver: null, Arguments.Count: 0, Function: "tomorrow" } => new(true, TimeSpan.Zero, TimeSpan.Zero, null),
            FunctionCall { Receiver: null, Function: "date", Arguments: var parts } when FixedDate(parts) is { } date => new(false, default, default, date),
            Literal { Kind: LiteralKind.String, Value: string text } when DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var date)
                => new(false, default, default, date),
            _ => default,
        };

        private static DateTime? FixedDate(IReadOnlyList<PqlNode> parts)
        {
            if (parts.Count < 3 || parts.Any(p => p is not Literal { Kind: LiteralKind.Integer }))
            {
                return null;
            }
            var numbers = parts.Select(p => (long)((Literal)p).Value!).ToArray();
            return numbers[0] is >= 1 and <= 9999 && numbers[1] is >= 1 and <= 12 && numbers[2] >= 1 && numbers[2] <= DateTime.DaysInMonth((int)numbers[0], (int)numbers[1])
                ? new DateTime((int)numbers[0], (int)numbers[1], (int)numbers[2], 0, 0, 0, DateTimeKind.Utc)
                : null;
        }
    }
}

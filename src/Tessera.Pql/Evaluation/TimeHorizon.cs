using System.Text.Json.Nodes;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// When an expression's value can change by the passage of time alone: the streaming engine's durable
/// timer (a profile leaves "added to cart in the last 3 hours" three hours after the event, with no
/// new event). See docs/pql.md, "Time horizon".
/// </summary>
/// <remarks>
/// The interpreter reads the clock in four places only: the value of <c>now</c>; the start of the
/// day (<c>today</c>, <c>yesterday</c>, <c>tomorrow</c>); the local date (<c>currentMonth()</c> and
/// its kin); and the calendar unit of <c>last</c>/<c>this</c>/<c>next</c>. All but the first are step
/// functions of the clock, constant until the next boundary of their unit. <c>now</c> itself moves
/// continuously, but what is observed of it only changes when it (or an <c>occurs</c> window end
/// computed from it) crosses another instant: one stored in the profile or written in the
/// expression, or a day start (<c>date(...)</c>, <c>today</c>). Every observation of the clock being
/// the same until the earliest such crossing, the evaluation is the same too.
/// </remarks>
public static class TimeHorizon
{
    private const long TicksPerMinute = TimeSpan.TicksPerMinute;

    /// <summary>How many candidate instants <see cref="NextChange(PqlNode, JsonObject, DateTimeOffset, TimeZoneInfo?, Func{string, bool}?)"/> checks before settling for the last one.</summary>
    private const int MostSteps = 64;

    /// <summary>
    /// The earliest instant after <paramref name="now"/> at which <paramref name="expression"/> could
    /// give a different value for <paramref name="profile"/> if only the clock moved; null when it
    /// never can. Safe: at every instant in [now, result) the interpreter gives the value it gives at
    /// <paramref name="now"/>. Candidate instants where the value turns out the same are passed over
    /// (each step is safe from where it starts, so their chain is too); after
    /// <see cref="MostSteps"/> of them, the last is returned, early but safe.
    /// </summary>
    /// <param name="inSegment">The profile's memberships as the caller evaluated them (read as constant: a membership changes at its own audience's next change).</param>
    public static DateTimeOffset? NextChange(PqlNode expression, JsonObject profile, DateTimeOffset now, TimeZoneInfo? zone = null, Func<string, bool>? inSegment = null)
    {
        object? ValueAt(DateTimeOffset instant)
        {
            try
            {
                return Interpreter.Evaluate(expression, profile, new FixedClock(instant), zone, inSegment);
            }
            catch (Exception error)
            {
                return error.GetType(); // A failure is a value too: the same failure is no change.
            }
        }
        now = now.ToUniversalTime();
        var readings = Readings.Of(expression, profile, zone);
        var atNow = ValueAt(now);
        var candidate = readings.NextPossibleChange(now);
        for (var step = 1; step < MostSteps && candidate is { } at && ValueSame(atNow, ValueAt(at)); step++)
        {
            candidate = readings.NextPossibleChange(at);
        }
        return candidate;
    }

    /// <summary>
    /// The same answer as <see cref="NextChange(PqlNode, JsonObject, DateTimeOffset, TimeZoneInfo?, Func{string, bool}?)"/>,
    /// computed with the compiled evaluator on a converted profile: the clock analysis of the tree is
    /// done once (<paramref name="clock"/>), the profile's instants are read once per converted profile
    /// (<see cref="PqlProfile"/> keeps them), and each candidate instant costs one compiled evaluation.
    /// An expression that reads no clock gets null without any evaluation.
    /// </summary>
    public static DateTimeOffset? NextChange(ClockReading clock, CompiledExpression compiled, PqlProfile profile, DateTimeOffset now, Func<string, bool>? inSegment = null)
    {
        if (!clock.ReadsClock)
        {
            return null;
        }
        if (!ReferenceEquals(clock.Time.Zone, compiled.Zone) && !clock.Time.Zone.Equals(compiled.Zone))
        {
            throw new ArgumentException($"the clock reading is for zone {clock.Time.Zone.Id}, the expression compiled for {compiled.Zone.Id}", nameof(clock));
        }
        (PqlValue Value, Type? Failure) ValueAt(DateTimeOffset instant)
        {
            try
            {
                return (compiled.Evaluate(profile, instant, inSegment), null);
            }
            catch (Exception error)
            {
                return (default, error.GetType()); // A failure is a value too: the same failure is no change.
            }
        }
        now = now.ToUniversalTime();
        var readings = new Readings(clock.Time, clock.Uses, clock.Uses.RawNow ? profile.Instants : []);
        var candidate = readings.NextPossibleChange(now);
        if (candidate is null)
        {
            return null; // No observation of the clock can change: no need to know the value.
        }
        var atNow = ValueAt(now);
        for (var step = 1; step < MostSteps && candidate is { } at && Same(atNow, ValueAt(at)); step++)
        {
            candidate = readings.NextPossibleChange(at);
        }
        return candidate;
    }

    private static bool Same((PqlValue Value, Type? Failure) a, (PqlValue Value, Type? Failure) b) =>
        a.Failure is not null || b.Failure is not null ? a.Failure == b.Failure : ValueSame(a.Value, b.Value);

    /// <summary>Structural equality of compiled values, as <see cref="ValueSame(object?, object?)"/> compares the interpreter's.</summary>
    internal static bool ValueSame(PqlValue a, PqlValue b)
    {
        if (a.Kind != b.Kind)
        {
            return false;
        }
        switch (a.Kind)
        {
            case PqlKind.Null:
                return true;
            case PqlKind.Boolean or PqlKind.Integer or PqlKind.Time:
                return a.Integer == b.Integer;
            case PqlKind.Double:
                return a.Double.Equals(b.Double);
            case PqlKind.String:
                return string.Equals(a.String, b.String, StringComparison.Ordinal);
            case PqlKind.Array:
                {
                    var (x, y) = (a.Array, b.Array);
                    if (x.Length != y.Length)
                    {
                        return false;
                    }
                    for (var i = 0; i < x.Length; i++)
                    {
                        if (!ValueSame(x[i], y[i]))
                        {
                            return false;
                        }
                    }
                    return true;
                }
            default:
                {
                    // Records compare as maps: the same names with the same values, in any order.
                    var (x, y) = (a.Record, b.Record);
                    if (x.Count != y.Count)
                    {
                        return false;
                    }
                    for (var i = 0; i < x.Count; i++)
                    {
                        var found = false;
                        for (var j = 0; j < y.Count && !found; j++)
                        {
                            if (string.Equals(x.NameAt(i), y.NameAt(j), StringComparison.Ordinal))
                            {
                                if (!ValueSame(x.ValueAt(i), y.ValueAt(j)))
                                {
                                    return false;
                                }
                                found = true;
                            }
                        }
                        if (!found)
                        {
                            return false;
                        }
                    }
                    return true;
                }
        }
    }

    /// <summary>
    /// What an expression reads of the clock, found once from its tree for one zone; with a compiled
    /// expression of the same tree and zone it answers <see cref="NextChange(ClockReading, CompiledExpression, PqlProfile, DateTimeOffset, Func{string, bool}?)"/>.
    /// Safe to share between threads.
    /// </summary>
    public sealed class ClockReading
    {
        private ClockReading(TimeWindow time, ClockUses uses)
        {
            Time = time;
            Uses = uses;
        }

        internal TimeWindow Time { get; }

        internal ClockUses Uses { get; }

        /// <summary>Whether the expression's value can change with the clock at all (false: its next change is never).</summary>
        public bool ReadsClock => Uses.Unknown || Uses.StepUnits.Count > 0 || Uses.Shifts.Count > 0;

        public static ClockReading Of(PqlNode expression, TimeZoneInfo? zone = null)
        {
            var time = new TimeWindow(zone ?? TimeZoneInfo.Utc);
            return new ClockReading(time, ClockUses.Of(expression, time));
        }
    }

    /// <summary>A clock that reads one instant.</summary>
    private sealed class FixedClock(DateTimeOffset instant) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => instant;
    }

    /// <summary>Structural equality of interpreter values (arrays and maps item by item; failures by type).</summary>
    private static bool ValueSame(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(pair => ValueSame(pair.First, pair.Second)),
        (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
            x.Count == y.Count && x.All(entry => y.TryGetValue(entry.Key, out var other) && ValueSame(entry.Value, other)),
        (double x, double y) => x.Equals(y),
        _ => Equals(a, b),
    };

    /// <summary>
    /// One step of <see cref="NextChange(PqlNode, JsonObject, DateTimeOffset, TimeZoneInfo?, Func{string, bool}?)"/>: the earliest instant after <paramref name="now"/> where any
    /// observation of the clock can change, from the tree and the profile's instants alone; safe, and
    /// often early (a window boundary that moves no event across).
    /// </summary>
    internal static DateTimeOffset? NextPossibleChange(PqlNode expression, JsonObject profile, DateTimeOffset now, TimeZoneInfo? zone = null) =>
        Readings.Of(expression, profile, zone).NextPossibleChange(now);

    /// <summary>What an expression reads of the clock and which instants a profile holds: found once, asked at many instants.</summary>
    /// <remarks><paramref name="Instants"/> are the profile's; the expression's own literal instants are in <see cref="ClockUses.LiteralInstants"/>.</remarks>
    private sealed record Readings(TimeWindow Time, ClockUses Uses, long[] Instants)
    {
        public static Readings Of(PqlNode expression, JsonObject profile, TimeZoneInfo? zone)
        {
            var time = new TimeWindow(zone ?? TimeZoneInfo.Utc);
            var uses = ClockUses.Of(expression, time);
            var instants = new HashSet<long>();
            if (uses.RawNow)
            {
                CollectInstants(profile, time, instants);
            }
            return new Readings(time, uses, [.. instants]);
        }

        public DateTimeOffset? NextPossibleChange(DateTimeOffset now)
        {
            now = now.ToUniversalTime();
            var (time, uses) = (Time, Uses);
            if (uses.Unknown)
            {
                return now == DateTimeOffset.MaxValue ? null : now.AddTicks(1);
            }
            var horizon = new Candidates(now);
            foreach (var unit in uses.StepUnits)
            {
                horizon.Add(NextBoundary(time, now, unit));
            }
            foreach (var shift in uses.Shifts)
            {
                CrossingsOf(time, now, shift.Amount, shift.Unit, uses.LiteralInstants, Instants, uses.DayValues, horizon);
            }
            if (time.Zone.SupportsDaylightSavingTime && (uses.RawNow || uses.StepUnits.Count > 0))
            {
                // A change of offset moves wall-clock arithmetic; re-asking after it is cheap and safe.
                horizon.Add(NextTransition(time.Zone, now, horizon.Best ?? Moved(now, TimeSpan.FromDays(400))));
            }
            return horizon.Best;
        }
    }

    /// <summary>The earliest of the instants added that lie strictly after now.</summary>
    private sealed class Candidates(DateTimeOffset now)
    {
        public DateTimeOffset? Best { get; private set; }

        public void Add(DateTimeOffset? candidate)
        {
            if (candidate is { } instant && instant > now && (Best is null || instant < Best))
            {
                Best = instant;
            }
        }

        public void AddTicks(long ticks)
        {
            if (ticks > now.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks)
            {
                Add(new DateTimeOffset(ticks, TimeSpan.Zero));
            }
        }
    }

    /// <summary>
    /// Where a window end <c>now + amount units</c> (amount 0: <c>now</c> itself) crosses one of the
    /// instants: within the current stretch where that end advances with the clock tick for tick, the
    /// crossing is solved exactly (at it, and one tick later, for inclusive and exclusive ends); the
    /// stretch's end is a candidate too, after which the question is asked again.
    /// </summary>
    private static void CrossingsOf(TimeWindow time, DateTimeOffset now, long amount, string unit, List<long> literals, long[] instants, bool dayValues, Candidates horizon)
    {
        var end = time.Add(now, amount, unit);
        if (end == DateTimeOffset.MinValue || end == DateTimeOffset.MaxValue)
        {
            return; // Clamped: the end stays put.
        }
        var stretchEnd = amount == 0 || IsElapsed(unit) ? (DateTimeOffset?)null : StretchEnd(time, now, amount, unit);
        horizon.Add(stretchEnd);
        void Cross(long target)
        {
            var reached = now.UtcTicks + (target - end.UtcTicks);
            if (target >= end.UtcTicks && (stretchEnd is null || reached < stretchEnd.Value.UtcTicks))
            {
                horizon.AddTicks(reached);
                horizon.AddTicks(reached + 1);
            }
        }
        foreach (var instant in literals)
        {
            Cross(instant);
        }
        foreach (var instant in instants)
        {
            Cross(instant);
        }
        if (dayValues)
        {
            // date(...), today and date-only texts are day starts: the two around the moving end.
            var dayStart = time.StartOf(end, "day");
            Cross(dayStart.UtcTicks);
            Cross(time.Add(dayStart, 1, "day").UtcTicks);
        }
    }

    /// <summary>
    /// How long <c>now + amount units</c> (wall-clock units) keeps moving tick for tick with the clock:
    /// until a month or year end clamps the day of month (Jan 31 + 1 month is Feb 28, so the end
    /// jumps at midnight) or a daylight-saving change on either side shifts the wall clock.
    /// </summary>
    private static DateTimeOffset? StretchEnd(TimeWindow time, DateTimeOffset now, long amount, string unit)
    {
        DateTimeOffset? stretchEnd = null;
        void Consider(DateTimeOffset? candidate)
        {
            if (candidate is { } instant && instant > now && (stretchEnd is null || instant < stretchEnd))
            {
                stretchEnd = instant;
            }
        }
        bool Continuous(DateTimeOffset at) => at.UtcTicks - 1 < DateTimeOffset.MinValue.UtcTicks
            || time.Add(at, amount, unit).UtcTicks == time.Add(at.AddTicks(-1), amount, unit).UtcTicks + 1;
        if (TimeWindow.Singular(unit) is "month" or "year")
        {
            var midnight = NextBoundary(time, now, "day");
            for (var day = 0; day < 32 && midnight is { } at && stretchEnd is null; day++)
            {
                if (!Continuous(at) || day == 31)
                {
                    Consider(at);
                }
                midnight = NextBoundary(time, at, "day");
            }
        }
        if (time.Zone.SupportsDaylightSavingTime)
        {
            // Offset changes are looked for a month ahead; the stretch ends there at the latest.
            var reach = TimeSpan.FromDays(32);
            Consider(Moved(now, reach));
            var delta = LargestDaylightDelta(time.Zone);
            Consider(NextTransition(time.Zone, now, Moved(now, reach)));
            // The far side: where the end comes within two daylight deltas of a change of offset.
            var end = time.Add(now, amount, unit);
            if (NextTransition(time.Zone, Moved(end, -2 * delta), Moved(end, reach)) is { } change)
            {
                var approach = Moved(now, change - 2 * delta - end);
                if (approach > now)
                {
                    Consider(approach);
                }
                else
                {
                    // Already near it: find the first jump minute by minute (offsets change on whole minutes).
                    var minute = new DateTimeOffset(now.UtcTicks / TicksPerMinute * TicksPerMinute, TimeSpan.Zero).AddMinutes(1);
                    var last = Moved(now, 4 * delta + TimeSpan.FromMinutes(1));
                    for (; minute <= last && !stretchEnd.HasValue; minute = minute.AddMinutes(1))
                    {
                        if (!Continuous(minute))
                        {
                            Consider(minute);
                        }
                    }
                    Consider(last);
                }
            }
        }
        return stretchEnd;
    }

    /// <summary>An instant moved by a span, held within the representable range.</summary>
    private static DateTimeOffset Moved(DateTimeOffset instant, TimeSpan span) =>
        span > TimeSpan.Zero && instant > DateTimeOffset.MaxValue - span ? DateTimeOffset.MaxValue
        : span < TimeSpan.Zero && instant < DateTimeOffset.MinValue - span ? DateTimeOffset.MinValue
        : instant + span;

    private static bool IsKnownUnit(string? unit) => unit is not null && TimeWindow.Singular(unit) is "second" or "minute" or "hour" or "day" or "week" or "month" or "year";

    private static bool IsElapsed(string unit) => TimeWindow.Singular(unit) is "second" or "minute" or "hour";

    /// <summary>
    /// The next instant after <paramref name="now"/> where the <paramref name="unit"/> an instant falls
    /// in changes. Seconds, minutes and hours start on whole local units under any offset the zone
    /// uses (so a window end shifted into another offset's period is covered); days and longer at
    /// the next local start. Null for a unit the interpreter rejects (it then fails at every instant).
    /// </summary>
    private static DateTimeOffset? NextBoundary(TimeWindow time, DateTimeOffset now, string unit)
    {
        var length = TimeWindow.Singular(unit) switch
        {
            "second" => TimeSpan.TicksPerSecond,
            "minute" => TimeSpan.TicksPerMinute,
            "hour" => TimeSpan.TicksPerHour,
            _ => 0L,
        };
        if (length > 0)
        {
            long? best = null;
            foreach (var offset in Offsets(time.Zone))
            {
                var local = now.UtcTicks + offset.Ticks;
                var (cells, rest) = Math.DivRem(local, length);
                var next = (rest < 0 ? cells : cells + 1) * length - offset.Ticks;
                if (next > now.UtcTicks && (best is null || next < best))
                {
                    best = next;
                }
            }
            return best is { } ticks && ticks <= DateTimeOffset.MaxValue.UtcTicks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        }
        try
        {
            var next = time.Add(time.StartOf(now, unit), 1, unit);
            // Never later than a real change: a start that does not advance is asked again a tick on.
            return next > now ? next : now.AddTicks(1);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static IEnumerable<TimeSpan> Offsets(TimeZoneInfo zone)
    {
        yield return zone.BaseUtcOffset;
        foreach (var rule in zone.GetAdjustmentRules())
        {
            yield return zone.BaseUtcOffset + rule.BaseUtcOffsetDelta;
            yield return zone.BaseUtcOffset + rule.BaseUtcOffsetDelta + rule.DaylightDelta;
        }
    }

    private static TimeSpan LargestDaylightDelta(TimeZoneInfo zone)
    {
        var largest = TimeSpan.FromHours(1);
        foreach (var rule in zone.GetAdjustmentRules())
        {
            largest = TimeSpan.FromTicks(Math.Max(largest.Ticks, Math.Abs(rule.DaylightDelta.Ticks) + Math.Abs(rule.BaseUtcOffsetDelta.Ticks)));
        }
        return largest;
    }

    /// <summary>The first instant after <paramref name="from"/> (up to <paramref name="until"/>) where the zone's offset changes.</summary>
    internal static DateTimeOffset? NextTransition(TimeZoneInfo zone, DateTimeOffset from, DateTimeOffset until)
    {
        if (!zone.SupportsDaylightSavingTime)
        {
            return null;
        }
        var offset = zone.GetUtcOffset(from);
        var step = TimeSpan.FromDays(1); // No zone changes its offset twice within a day.
        for (var probe = from; probe < until && probe < DateTimeOffset.MaxValue - step;)
        {
            var next = probe + step;
            if (zone.GetUtcOffset(next) != offset)
            {
                // The first tick with the new offset, between probe (old) and next (new).
                long low = probe.UtcTicks, high = next.UtcTicks;
                while (high - low > 1)
                {
                    var middle = low + (high - low) / 2;
                    if (zone.GetUtcOffset(new DateTimeOffset(middle, TimeSpan.Zero)) == offset)
                    {
                        low = middle;
                    }
                    else
                    {
                        high = middle;
                    }
                }
                return new DateTimeOffset(high, TimeSpan.Zero);
            }
            probe = next;
        }
        return null;
    }

    /// <summary>Every instant the profile's texts (values and names) denote, as the interpreter reads them.</summary>
    private static void CollectInstants(JsonNode? node, TimeWindow time, HashSet<long> instants)
    {
        switch (node)
        {
            case JsonObject fields:
                foreach (var (name, value) in fields)
                {
                    if (time.Read(name) is { } named)
                    {
                        instants.Add(named.UtcTicks); // keys() gives names as values.
                    }
                    CollectInstants(value, time, instants);
                }
                break;
            case JsonArray items:
                foreach (var item in items)
                {
                    CollectInstants(item, time, instants);
                }
                break;
            case JsonValue value when value.TryGetValue<string>(out var text) && time.Read(text) is { } instant:
                instants.Add(instant.UtcTicks);
                break;
        }
    }

    /// <summary>A window end that moves with the clock: <c>now + Amount Unit</c> (Amount 0: now).</summary>
    internal readonly record struct Shift(long Amount, string Unit);

    /// <summary>
    /// How an expression reads the clock, found from its tree: the units whose boundaries change a
    /// step function, whether <c>now</c>'s own value is observed (and through which window ends), and
    /// whether it may be observed in a way this analysis does not follow (then: ask again a tick later).
    /// </summary>
    internal sealed class ClockUses
    {
        private static readonly HashSet<string> NotInstants = new(StringComparer.Ordinal)
        {
            // Functions whose result can never be the value of now (booleans, numbers, texts, day starts).
            "and", "or", "not", "=", "!=", "<", "<=", ">", ">=", "in", "notIn", "+", "-", "*", "/", "%", "neg", "like",
            "startsWith", "doesNotStartWith", "endsWith", "doesNotEndWith", "contains", "doesNotContain", "equals", "notEqualTo",
            "matches", "regexGroup", "includes", "intersects", "subsetOf", "supersetOf", "isNull", "isNotNull",
            "count", "sum", "average", "min", "max", "date", "today", "yesterday", "tomorrow", "currentMonth", "currentYear",
            "currentDayOfMonth", "getMonth", "getYear", "getDayOfMonth", "inSegment", "exists", "forall", "keys",
        };

        /// <summary>Functions that evaluate their argument with each item of the first as the implicit item.</summary>
        private static readonly HashSet<string> PerItem = new(StringComparer.Ordinal)
        {
            "filter", "map", "groupBy", "topN", "bottomN", "exists", "forall", "count", "sum", "average", "min", "max",
        };

        private readonly TimeWindow _time;
        private bool _bindingsCarryNow;

        private ClockUses(TimeWindow time) => _time = time;

        public HashSet<string> StepUnits { get; } = new(StringComparer.Ordinal);
        public List<Shift> Shifts { get; } = [];
        public List<long> LiteralInstants { get; } = [];
        public bool RawNow { get; private set; }
        public bool DayValues { get; private set; }
        public bool Unknown { get; private set; }

        public static ClockUses Of(PqlNode expression, TimeWindow time)
        {
            var uses = new ClockUses(time);
            // A variable or item bound to a value that may be now carries it wherever it is read.
            uses._bindingsCarryNow = PqlTree.Nodes(expression).Any(node => Bindings(node).Any(uses.CarriesNow));
            foreach (var node in PqlTree.Nodes(expression))
            {
                uses.Visit(node);
            }
            if (uses.CarriesNow(expression))
            {
                uses.Unknown = true; // The value itself may be the clock.
            }
            return uses;
        }

        private void Visit(PqlNode node)
        {
            switch (node)
            {
                case Literal { Value: string text } when _time.Read(text) is { } instant:
                    LiteralInstants.Add(instant.UtcTicks);
                    break;
                case FunctionCall call:
                    VisitCall(call);
                    break;
                case Occurs occurs:
                    VisitOccurs(occurs);
                    break;
                case Chain chain when CarriesNow(chain.TimeField):
                    Unknown = true;
                    break;
            }
        }

        private void VisitCall(FunctionCall call)
        {
            var arguments = call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments];
            switch (call.Function)
            {
                case "now":
                    RawNow = true;
                    Shifts.Add(new Shift(0, "second")); // now compared with an instant.
                    break;
                case "today" or "yesterday" or "tomorrow":
                    DayValues = true;
                    StepUnits.Add("day");
                    break;
                case "date":
                    DayValues = true;
                    break;
                case "currentDayOfMonth":
                    StepUnits.Add("day");
                    break;
                case "currentMonth":
                    StepUnits.Add("month");
                    break;
                case "currentYear":
                    StepUnits.Add("year");
                    break;
                case "getDayOfMonth" or "getMonth" or "getYear" when arguments.Count > 0 && CarriesNow(arguments[0]):
                    StepUnits.Add(call.Function switch { "getDayOfMonth" => "day", "getMonth" => "month", _ => "year" });
                    break;
                case "groupBy" or "mapEntry" when arguments.Skip(call.Function == "groupBy" ? 1 : 0).Take(1).Any(CarriesNow):
                    Unknown = true; // The clock's instant as a map key's text.
                    break;
            }
        }

        private void VisitOccurs(Occurs occurs)
        {
            if (occurs.Unit is not null && !IsKnownUnit(occurs.Unit))
            {
                return; // The interpreter fails on it wherever it is reached: no window to follow.
            }
            if (occurs.Relation is "last" or "this" or "next")
            {
                StepUnits.Add(occurs.Unit!);
                return;
            }
            if (occurs.Subject is { } subject && CarriesNow(subject))
            {
                Unknown = true;
                return;
            }
            var anchors = new[] { occurs.Anchor, occurs.Until }.OfType<PqlNode>().Where(CarriesNow).ToList();
            if (anchors.Count == 0)
            {
                return; // Fixed or step-valued anchors: their own calls say when they move.
            }
            if (anchors.Any(anchor => anchor is not FunctionCall { Function: "now" }))
            {
                Unknown = true;
                return;
            }
            if (occurs.Relation is "on" or "between")
            {
                StepUnits.Add("day");
                return;
            }
            if (occurs.Amount is null)
            {
                return; // before/after now: now crossing an instant, already counted.
            }
            var comparison = occurs.Comparison ?? "=";
            if (comparison != "<")
            {
                StepUnits.Add(occurs.Unit!); // The unit containing now ± N units: a step of now's unit.
                return;
            }
            if (occurs.Amount is Literal { Value: long amount })
            {
                // `< N units before now` starts at now − N units; `after`, ends at now + N units.
                Shifts.Add(new Shift(occurs.Relation == "before" ? -amount : amount, occurs.Unit!));
            }
            else
            {
                Unknown = true;
            }
        }

        /// <summary>Whether the node's value may be the clock's instant (or hold it, in an array or map).</summary>
        private bool CarriesNow(PqlNode node) => node switch
        {
            FunctionCall { Function: "now" } => true,
            FunctionCall call when NotInstants.Contains(call.Function) => false,
            Literal or Occurs or Chain or Aggregation => false,
            Quantifier { Kind: not QuantifierKind.Select } => false,
            Parameter => _bindingsCarryNow,
            FieldLookup { Target: null } => _bindingsCarryNow,
            Let let => CarriesNow(let.Body),
            _ => PqlTree.Children(node).Any(CarriesNow),
        };

        /// <summary>The values a node binds to a variable or the implicit item.</summary>
        private static IEnumerable<PqlNode> Bindings(PqlNode node) => node switch
        {
            Let let => let.Bindings.Select(binding => binding.Value),
            Filter filter => [filter.Source],
            Quantifier quantifier => quantifier.Clauses.Select(clause => clause.Source),
            Aggregation aggregation => [aggregation.Source],
            Chain chain => [chain.Source],
            FunctionCall call when PerItem.Contains(call.Function) => (call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments]).Take(1),
            _ => [],
        };
    }
}

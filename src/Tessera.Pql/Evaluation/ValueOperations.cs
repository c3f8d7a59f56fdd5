using System.Text.RegularExpressions;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// The interpreter's meanings over <see cref="PqlValue"/>s, for compiled expressions: comparison,
/// arithmetic, aggregation and the set functions. Each mirrors its counterpart in
/// <see cref="Interpreter"/>; a property test holds them to it.
/// </summary>
internal static class ValueOperations
{
    /// <summary>What <see cref="Compare"/> gives when two values cannot be ordered (a null, or different kinds).</summary>
    public const int Incomparable = int.MinValue;

    public static int Compare(in PqlValue a, in PqlValue b, TimeWindow time)
    {
        switch (a.Kind, b.Kind)
        {
            case (PqlKind.Null, _) or (_, PqlKind.Null):
                return Incomparable;
            case (PqlKind.Integer, PqlKind.Integer):
                return a.Integer.CompareTo(b.Integer);
            case (PqlKind.Integer or PqlKind.Double, PqlKind.Integer or PqlKind.Double):
                return AsDouble(a).CompareTo(AsDouble(b));
            case (PqlKind.String, PqlKind.String):
                return Math.Sign(string.CompareOrdinal(a.String, b.String));
            case (PqlKind.Boolean, PqlKind.Boolean):
                return a.IsTrue.CompareTo(b.IsTrue);
            case (PqlKind.Time, PqlKind.Time):
                return a.Ticks.CompareTo(b.Ticks);
            case (PqlKind.Time, PqlKind.String):
                return b.TryTime(time, out var right) ? a.Ticks.CompareTo(right) : Incomparable;
            case (PqlKind.String, PqlKind.Time):
                return a.TryTime(time, out var left) ? left.CompareTo(b.Ticks) : Incomparable;
            case (PqlKind.Array, PqlKind.Array):
                {
                    var (x, y) = (a.Array, b.Array);
                    if (x.Length != y.Length)
                    {
                        return Incomparable;
                    }
                    for (var i = 0; i < x.Length; i++)
                    {
                        if (Compare(x[i], y[i], time) != 0)
                        {
                            return Incomparable;
                        }
                    }
                    return 0;
                }
            default:
                return Incomparable;
        }
    }

    public static bool Same(in PqlValue a, in PqlValue b, TimeWindow time) => (a.IsNull && b.IsNull) || Compare(a, b, time) == 0;

    public static double AsDouble(in PqlValue value) => value.Kind == PqlKind.Integer ? value.Integer : value.Double;

    public static bool IsNumber(in PqlValue value) => value.Kind is PqlKind.Integer or PqlKind.Double;

    /// <summary>Holds as a condition: true, or an array that is not empty (a nested filter).</summary>
    public static bool Holds(in PqlValue value) => value.IsTrue || (value.Kind == PqlKind.Array && value.Array.Length > 0);

    public static PqlValue Arithmetic(string op, in PqlValue a, in PqlValue b)
    {
        if (a.Kind == PqlKind.Integer && b.Kind == PqlKind.Integer && op != "/")
        {
            var (x, y) = (a.Integer, b.Integer);
            return op switch
            {
                "+" => PqlValue.Of(x + y),
                "-" => PqlValue.Of(x - y),
                "*" => PqlValue.Of(x * y),
                _ => y == 0 ? PqlValue.Null : PqlValue.Of(x % y),
            };
        }
        if (!IsNumber(a) || !IsNumber(b))
        {
            return PqlValue.Null;
        }
        var (l, r) = (AsDouble(a), AsDouble(b));
        return op switch
        {
            "+" => PqlValue.Of(l + r),
            "-" => PqlValue.Of(l - r),
            "*" => PqlValue.Of(l * r),
            "/" => r == 0 ? PqlValue.Null : PqlValue.Of(l / r),
            _ => r == 0 ? PqlValue.Null : PqlValue.Of(l % r),
        };
    }

    /// <summary>count, sum, average, min or max of an array (count of a single value is 1, of null 0).</summary>
    public static PqlValue Aggregate(string function, in PqlValue value)
    {
        if (function == "count")
        {
            return PqlValue.Of(value.Kind == PqlKind.Array ? value.Array.Length : value.IsNull ? 0L : 1L);
        }
        if (value.Kind != PqlKind.Array)
        {
            return PqlValue.Null;
        }
        var items = value.Array;
        var count = 0;
        var sum = 0.0;
        var min = double.NaN;
        var max = double.NaN;
        var allIntegers = true;
        var sawNaN = false;
        foreach (var item in items)
        {
            allIntegers &= item.Kind is PqlKind.Integer or PqlKind.Null;
            if (!IsNumber(item))
            {
                continue;
            }
            var number = AsDouble(item);
            sum += number;
            sawNaN |= double.IsNaN(number);
            // As Enumerable.Min/Max order doubles: NaN below everything.
            min = count == 0 || number < min ? number : min;
            max = count == 0 || number > max || double.IsNaN(max) ? number : max;
            count++;
        }
        switch (function)
        {
            case "sum":
                return Narrow(sum, allIntegers);
            case "average":
                return count == 0 ? PqlValue.Null : PqlValue.Of(sum / count);
            case "min":
                return count == 0 ? PqlValue.Null : Narrow(sawNaN ? double.NaN : min, allIntegers);
            default:
                return count == 0 ? PqlValue.Null : Narrow(max, allIntegers);
        }
    }

    /// <summary>A sum, min or max of integers is an integer.</summary>
    private static PqlValue Narrow(double value, bool integers) => integers ? PqlValue.Of((long)value) : PqlValue.Of(value);

    public static bool Contains(PqlValue[] items, in PqlValue value, TimeWindow time)
    {
        foreach (var item in items)
        {
            if (Compare(item, value, time) == 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The items in order, each kept unless an earlier kept one is the same.</summary>
    public static PqlValue[] Distinct(IEnumerable<PqlValue> items, TimeWindow time)
    {
        var kept = new List<PqlValue>();
        foreach (var item in items)
        {
            var seen = false;
            foreach (var k in kept)
            {
                if (Same(k, item, time))
                {
                    seen = true;
                    break;
                }
            }
            if (!seen)
            {
                kept.Add(item);
            }
        }
        return [.. kept];
    }

    public static PqlValue Text(in PqlValue value, in PqlValue pattern, in PqlValue caseFlag, Func<string, string, StringComparison, bool> test) =>
        PqlValue.Of(value.Kind == PqlKind.String && pattern.Kind == PqlKind.String
            && test(value.String, pattern.String, caseFlag.Kind != PqlKind.Boolean || caseFlag.IsTrue ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase));

    /// <summary>Members per the profile's <c>segmentMembership</c> (as the interpreter's inSegment).</summary>
    public static bool InSegment(in PqlValue profile, string id)
    {
        if (profile.Kind != PqlKind.Record || profile.Record.Get("segmentMembership") is not { Kind: PqlKind.Record } namespaces)
        {
            return false;
        }
        for (var i = 0; i < namespaces.Record.Count; i++)
        {
            var audiences = namespaces.Record.ValueAt(i);
            if (audiences.Kind == PqlKind.Record && audiences.Record.Get(id) is { Kind: PqlKind.Record } membership
                && membership.Record.Get("status") is { Kind: PqlKind.String } status && status.String is "realized" or "existing")
            {
                return true;
            }
        }
        return false;
    }

    public static Regex Like(string pattern) => Interpreter.Like(pattern);

    /// <summary>How long one match of <c>matches</c> or <c>regexGroup</c> may run (a backtracking pattern can take exponential time on a value).</summary>
    public static readonly TimeSpan MatchBudget = TimeSpan.FromSeconds(1);

    public static Regex Pattern(string pattern) => new(pattern, RegexOptions.CultureInvariant, MatchBudget);

    /// <summary>The regular expression of <paramref name="pattern"/>, or null when it is not one (a pattern read from data).</summary>
    public static Regex? TryPattern(string pattern)
    {
        try
        {
            return Pattern(pattern);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether <paramref name="input"/> matches: a pattern that is not a regular expression (null here; a literal one is
    /// refused by the checker, but a pattern may come from data) or a match that outruns <see cref="MatchBudget"/> does not
    /// match, in every engine, rather than failing the evaluation of every profile and audience beside it.
    /// </summary>
    public static bool IsMatch(Regex? regex, string input) => Match(regex, input) is { Success: true };

    /// <summary>The match of <paramref name="input"/>, or null as <see cref="IsMatch"/> says.</summary>
    public static Match? Match(Regex? regex, string input)
    {
        if (regex is null)
        {
            return null;
        }
        try
        {
            return regex.Match(input);
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    /// <summary>Why <paramref name="pattern"/> is not a regular expression, or null when it is one.</summary>
    public static string? PatternError(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant);
            return null;
        }
        catch (ArgumentException error)
        {
            return error.Message;
        }
    }
}

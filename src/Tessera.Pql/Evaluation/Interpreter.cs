using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// The reference interpreter: the plain meaning of each construct, written for
/// obviousness, not speed; the oracle faster engines are checked against. Values are null, bool,
/// long, double, string, <see cref="List{T}"/> of values and <see cref="Dictionary{TKey, TValue}"/>
/// of fields. Null semantics (docs/pql.md): a missing field is null; a comparison, <c>like</c>,
/// <c>in</c> or string test with a null operand is false (so is <c>notIn</c>: its non-null rule);
/// only <c>true</c> counts as true in <c>and</c>, <c>or</c>, <c>not</c> and filters; arithmetic with a null is null.
/// </summary>
public sealed class Interpreter
{
    private readonly List<object?> _implicit = [];
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _now;
    private readonly TimeWindow _time;
    private object? _profile;
    private Func<string, bool>? _inSegment;

    private Interpreter(DateTimeOffset now, TimeZoneInfo zone)
    {
        _now = now;
        _time = new TimeWindow(zone);
    }

    /// <summary>
    /// Evaluates <paramref name="expression"/> against a profile given as JSON (attributes, and events
    /// under <c>xEvent</c>) at the instant <paramref name="clock"/> gives, reading calendar units in
    /// <paramref name="zone"/> (UTC when null).
    /// </summary>
    /// <param name="inSegment">Membership of the profile in an audience, when the caller knows it better than the profile's <c>segmentMembership</c> (an engine evaluating dependent audiences in one pass).</param>
    public static object? Evaluate(PqlNode expression, JsonObject profile, TimeProvider? clock = null, TimeZoneInfo? zone = null, Func<string, bool>? inSegment = null)
    {
        var interpreter = new Interpreter((clock ?? TimeProvider.System).GetUtcNow(), zone ?? TimeZoneInfo.Utc) { _inSegment = inSegment };
        interpreter._profile = FromJson(profile);
        interpreter._implicit.Add(interpreter._profile);
        if (expression is Lambda { Parameters.Count: > 0 } root)
        {
            interpreter._variables[root.Parameters[0]] = interpreter._profile;
            return interpreter.Eval(root.Body);
        }
        return interpreter.Eval(expression);
    }

    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => obj.ToDictionary(p => p.Key, p => FromJson(p.Value), StringComparer.Ordinal),
        JsonArray array => array.Select(FromJson).ToList(),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => Number(value),
            _ => null,
        },
        _ => null,
    };

    /// <summary>A JSON number as a long when it is integral, else a double (parsed or built in memory alike).</summary>
    internal static object Number(JsonValue value)
    {
        if (value.TryGetValue<long>(out var integer))
        {
            return integer;
        }
        if (value.TryGetValue<int>(out var small))
        {
            return (long)small;
        }
        if (value.TryGetValue<double>(out var real))
        {
            return real;
        }
        var text = value.ToJsonString();
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out integer) ? integer : double.Parse(text, CultureInfo.InvariantCulture);
    }

    private object? Eval(PqlNode node) => DeepTrees.StackIsLow ? DeepTrees.OnFreshStack(() => Eval(node)) : node switch
    {
        Literal literal => literal.Value,
        ArrayLiteral array => array.Items.Select(Eval).ToList(),
        Parameter { Up: > 0 } up => up.Up < _implicit.Count ? _implicit[^(up.Up + 1)] : null,
        Parameter { Name: { } name } => _variables.GetValueOrDefault(name),
        Parameter => _profile,
        FieldLookup field => Field(field.Target is null ? _implicit[^1] : Eval(field.Target), field.Field),
        // A condition that gives an array (a nested filter) holds when the array is not empty.
        Filter filter => Eval(filter.Source) is List<object?> items ? items.Where(item => _implicit.Within(item, () => Holds(Eval(filter.Condition)))).ToList() : null,
        Aggregation aggregation => Aggregate(aggregation),
        Occurs { Subject: { } subject } occurs => _time.Read(Eval(subject)) is { } instant && Occurs(instant, occurs),
        Chain chain => Chain(chain),
        FunctionCall call => Call(call),
        Quantifier quantifier => Quantify(quantifier, 0),
        Let let => Bind(let),
        _ => throw new PqlException($"the interpreter does not evaluate {node.GetType().Name} yet", node.Position),
    };

    /// <summary>
    /// A field of an object; of an array, the field of each item (<c>person.orders.storeId</c>): the
    /// values in order, an array value spread into the result, missing values left out.
    /// </summary>
    private static object? Field(object? owner, string name)
    {
        switch (owner)
        {
            case Dictionary<string, object?> fields:
                return fields.GetValueOrDefault(name);
            case List<object?> items:
                var values = new List<object?>();
                foreach (var item in items)
                {
                    switch (Field(item, name))
                    {
                        case List<object?> inner:
                            values.AddRange(inner);
                            break;
                        case { } value:
                            values.Add(value);
                            break;
                    }
                }
                return values;
            default:
                return null;
        }
    }

    private object? Quantify(Quantifier quantifier, int clause)
    {
        var current = quantifier.Clauses[clause];
        var items = Eval(current.Source) as List<object?> ?? [];
        bool Matches(object? item) => WithVariable(current.Variable, item, () =>
            (current.Condition is null || IsTrue(Eval(current.Condition)))
            // With several sources, an item counts when the rest of the clauses hold for it.
            && (clause + 1 == quantifier.Clauses.Count || IsTrue(Quantify(quantifier, clause + 1))));
        return quantifier.Kind switch
        {
            QuantifierKind.Exists => items.Any(Matches),
            QuantifierKind.ForAll => items.All(Matches),
            _ => items.Where(Matches).ToList(),
        };
    }

    /// <summary>Each binding sees the ones before it; the body sees them all.</summary>
    private object? Bind(Let let, int binding = 0) => binding == let.Bindings.Count
        ? Eval(let.Body)
        : WithVariable(let.Bindings[binding].Key, Eval(let.Bindings[binding].Value), () => Bind(let, binding + 1));

    private object? Call(FunctionCall call)
    {
        // Method-style and plain calls mean the same: the receiver is the first argument.
        var arguments = call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments];
        object? Lazy(int i) => i < arguments.Count ? Eval(arguments[i]) : null; // A missing argument is null.
        switch (call.Function)
        {
            case "and":
                return IsTrue(Lazy(0)) && IsTrue(Lazy(1));
            case "or":
                return IsTrue(Lazy(0)) || IsTrue(Lazy(1));
            case "not":
                return !IsTrue(Lazy(0));
            case "if":
                return IsTrue(Lazy(0)) ? Lazy(1) : Lazy(2);
            case "isNull":
                return Lazy(0) is null;
            case "isNotNull":
                return Lazy(0) is not null;
            case "topN" or "bottomN" or "filter" or "map" or "groupBy" or "exists" or "forall":
                return PerItem(call.Function, arguments);
            case "count" when arguments.Count > 1:
                // orders.count(price > 10): the items for which the condition holds.
                return PerItem("filter", arguments) is List<object?> matching ? (long)matching.Count : 0L;
            case "sum" or "average" or "min" or "max" when arguments.Count > 1:
                // orders.sum(price): the function over each item's value.
                return AggregateOf(call.Function, PerItem("map", arguments));
        }
        var values = arguments.Select(Eval).ToList();
        object? A(int i) => i < values.Count ? values[i] : null;
        bool CaseSensitive(int i) => A(i) is not bool flag || flag;
        return call.Function switch
        {
            "=" => Compare(A(0), A(1)) == 0,
            "!=" => Compare(A(0), A(1)) is { } c && c != 0,
            "<" => Compare(A(0), A(1)) < 0,
            "<=" => Compare(A(0), A(1)) <= 0,
            ">" => Compare(A(0), A(1)) > 0,
            ">=" => Compare(A(0), A(1)) >= 0,
            "in" => A(0) is not null && A(1) is List<object?> set && set.Any(v => Compare(A(0), v) == 0),
            "notIn" => A(0) is not null && A(1) is List<object?> set && !set.Any(v => Compare(A(0), v) == 0),
            "+" or "-" or "*" or "/" or "%" => Arithmetic(call.Function, A(0), A(1)),
            "neg" => A(0) switch { long l => -l, double d => -d, _ => null },
            "like" => A(0) is string s && A(1) is string pattern && Like(pattern).IsMatch(s),
            "startsWith" => Text(A(0), A(1), (s, p, c) => s.StartsWith(p, c), CaseSensitive(2)),
            "doesNotStartWith" => Text(A(0), A(1), (s, p, c) => !s.StartsWith(p, c), CaseSensitive(2)),
            "endsWith" => Text(A(0), A(1), (s, p, c) => s.EndsWith(p, c), CaseSensitive(2)),
            "doesNotEndWith" => Text(A(0), A(1), (s, p, c) => !s.EndsWith(p, c), CaseSensitive(2)),
            "contains" => Text(A(0), A(1), (s, p, c) => s.Contains(p, c), CaseSensitive(2)),
            "doesNotContain" => Text(A(0), A(1), (s, p, c) => !s.Contains(p, c), CaseSensitive(2)),
            "equals" => Text(A(0), A(1), (s, p, c) => string.Equals(s, p, c), CaseSensitive(2)),
            "notEqualTo" => Text(A(0), A(1), (s, p, c) => !string.Equals(s, p, c), CaseSensitive(2)),
            "matches" => A(0) is string s && A(1) is string pattern && ValueOperations.IsMatch(ValueOperations.TryPattern(pattern), s),
            "regexGroup" => A(0) is string s && A(1) is string pattern && ValueOperations.Match(ValueOperations.TryPattern(pattern), s) is { Success: true } m
                && A(2) is long group && group < m.Groups.Count ? m.Groups[(int)group].Value : null,
            "includes" => A(0) is List<object?> list && list.Any(v => Compare(v, A(1)) == 0),
            "intersects" => A(0) is List<object?> a && A(1) is List<object?> b && a.Any(x => b.Any(y => Compare(x, y) == 0)),
            "intersection" => A(0) is List<object?> a && A(1) is List<object?> b ? Distinct(a.Where(x => b.Any(y => Compare(x, y) == 0))) : null,
            "subsetOf" => A(0) is List<object?> a && A(1) is List<object?> b && a.All(x => b.Any(y => Compare(x, y) == 0)),
            "supersetOf" => A(0) is List<object?> a && A(1) is List<object?> b && b.All(y => a.Any(x => Compare(x, y) == 0)),
            "distinct" => A(0) is List<object?> list ? Distinct(list) : null,
            "head" => A(0) is List<object?> { Count: > 0 } list ? list[0] : null,
            "get" => A(0) is Dictionary<string, object?> map && A(1) is string key ? map.GetValueOrDefault(key) : null,
            "keys" => A(0) is Dictionary<string, object?> map ? map.Keys.Order(StringComparer.Ordinal).Select(k => (object?)k).ToList() : null,
            "values" => A(0) is Dictionary<string, object?> map ? map.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Value).ToList() : null,
            "count" or "sum" or "average" or "min" or "max" => AggregateOf(call.Function, A(0)),
            "date" => A(0) is long y && A(1) is long mo && A(2) is long d ? Date(_time, y, mo, d) : null,
            "now" => _now,
            "today" => _time.StartOf(_now, "day"),
            "yesterday" => _time.Add(_time.StartOf(_now, "day"), -1, "day"),
            "tomorrow" => _time.Add(_time.StartOf(_now, "day"), 1, "day"),
            "currentMonth" => (long)_time.Local(_now).Month,
            "currentYear" => (long)_time.Local(_now).Year,
            "currentDayOfMonth" => (long)_time.Local(_now).Day,
            "getMonth" => _time.Read(A(0)) is { } t ? (long)_time.Local(t).Month : null,
            "getYear" => _time.Read(A(0)) is { } t ? (long)_time.Local(t).Year : null,
            "getDayOfMonth" => _time.Read(A(0)) is { } t ? (long)_time.Local(t).Day : null,
            "inSegment" => A(0) is string id && InSegment(id),
            "mapEntry" => new Dictionary<string, object?>(StringComparer.Ordinal) { [KeyText(A(0))] = A(1) },
            _ => throw new PqlException($"the interpreter does not evaluate '{call.Function}' yet", call.Position),
        };
    }

    private static bool IsTrue(object? value) => value is true;

    /// <summary>
    /// Membership as the profile carries it (XDM's <c>segmentMembership</c>: namespace → audience id →
    /// <c>status</c>): a member is <c>realized</c> or <c>existing</c>; <c>exited</c> or absent is not.
    /// </summary>
    private bool InSegment(string id) => _inSegment is { } known ? known(id) :
        Field(_profile, "segmentMembership") is Dictionary<string, object?> namespaces
        && namespaces.Values.Any(audiences => Field(Field(audiences, id), "status") is "realized" or "existing");

    /// <summary>Functions whose argument is evaluated for each item (as the implicit parameter, or a lambda's).</summary>
    private object? PerItem(string function, IReadOnlyList<PqlNode> arguments)
    {
        if (arguments.Count < 2)
        {
            return null;
        }
        var source = Eval(arguments[0]);
        if (function == "map" && source is Dictionary<string, object?> map)
        {
            return MapEntries(map, arguments[1]);
        }
        if (source is not List<object?> items)
        {
            return null;
        }
        object? For(object? item) => _implicit.Within(item, () => arguments[1] is Lambda { Parameters.Count: > 0 } lambda
            ? WithVariable(lambda.Parameters[0], item, () => Eval(lambda.Body))
            : Eval(arguments[1]));
        switch (function)
        {
            case "filter":
                return items.Where(item => Holds(For(item))).ToList();
            case "exists":
                return items.Any(item => Holds(For(item)));
            case "forall":
                return items.All(item => Holds(For(item)));
            case "map":
                return items.Select(For).ToList();
            case "groupBy":
                {
                    // Grouped by the key's text, in the order keys first appear.
                    var groups = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var item in items)
                    {
                        var key = KeyText(For(item));
                        if (!groups.TryGetValue(key, out var group))
                        {
                            groups[key] = group = new List<object?>();
                        }
                        ((List<object?>)group!).Add(item);
                    }
                    return groups;
                }
            default:
                var count = arguments.Count > 2 && Eval(arguments[2]) is long n ? (int)Math.Max(0, n) : 1;
                var keyed = items.Select(item => (Item: item, Key: For(item))).Where(e => e.Key is not null).ToList();
                // Stable: among equal keys, items keep their order.
                var ordered = function == "topN"
                    ? keyed.OrderByDescending(e => e.Key, Comparer<object?>.Create((a, b) => Compare(a, b) ?? 0))
                    : keyed.OrderBy(e => e.Key, Comparer<object?>.Create((a, b) => Compare(a, b) ?? 0));
                return ordered.Take(count).Select(e => e.Item).ToList();
        }
    }

    /// <summary>
    /// <c>map</c> over a map: a map again. For each entry (in order) the argument is evaluated with the
    /// value as the item, a lambda's first parameter bound to the key and its second to the value
    /// (<c>(K, G) => G.count()</c>; a one-parameter lambda gets the value). The result is the entry's
    /// new value, unless the argument is itself <c>mapEntry(key, value)</c>, which gives the new key too.
    /// </summary>
    private Dictionary<string, object?> MapEntries(Dictionary<string, object?> map, PqlNode argument)
    {
        var lambda = argument as Lambda;
        var body = lambda?.Body ?? argument;
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in map)
        {
            result = _implicit.Within(value, () => lambda switch
            {
                { Parameters.Count: > 1 } => WithVariable(lambda.Parameters[0], key, () => WithVariable(lambda.Parameters[1], value, () => Entry(key, body, result))),
                { Parameters.Count: 1 } => WithVariable(lambda.Parameters[0], value, () => Entry(key, body, result)),
                _ => Entry(key, body, result),
            });
        }
        return result;
    }

    private Dictionary<string, object?> Entry(string key, PqlNode body, Dictionary<string, object?> into)
    {
        if (body is FunctionCall { Function: "mapEntry", Receiver: null, Arguments: [var newKey, var newValue] })
        {
            into[KeyText(Eval(newKey))] = Eval(newValue);
        }
        else
        {
            into[key] = Eval(body);
        }
        return into;
    }

    private T WithVariable<T>(string name, object? value, Func<T> body)
    {
        var had = _variables.TryGetValue(name, out var previous);
        _variables[name] = value;
        try
        {
            return body();
        }
        finally
        {
            if (had)
            {
                _variables[name] = previous;
            }
            else
            {
                _variables.Remove(name);
            }
        }
    }

    /// <summary>
    /// Whether the events, in time order, contain the steps one after the other: each step's WHAT, WHERE
    /// and WHEN hold for an event strictly later than the previous step's last; COUNT(n) asks for n such
    /// events before the next step. Matching each step as early as possible finds a sequence whenever one exists.
    /// </summary>
    private bool Chain(Chain chain)
    {
        if (Eval(chain.Source) is not List<object?> items)
        {
            return false;
        }
        var timed = items.Select(item => (Item: item, Time: _time.Read(_implicit.Within(item, () => Eval(chain.TimeField)))))
            .Where(e => e.Time is not null).OrderBy(e => e.Time).ToList();
        var position = 0;
        DateTimeOffset? last = null;
        foreach (var step in chain.Steps)
        {
            var needed = step.Count is { } count ? Eval(count) as long? ?? 1 : 1;
            var found = 0L;
            while (found < needed && position < timed.Count)
            {
                var (item, time) = timed[position++];
                if (last is { } previous && time <= previous)
                {
                    continue; // Strict time order between steps.
                }
                var matches = _implicit.Within(item, () =>
                    (step.What is null || IsTrue(Eval(step.What)))
                    && (step.Where is null || IsTrue(Eval(step.Where)))
                    && (step.When is not Occurs when || Occurs(time!.Value, when)));
                if (matches)
                {
                    found++;
                    if (found == needed)
                    {
                        last = time;
                    }
                }
            }
            if (found < needed)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The time conditions, as the interval of instants each accepts (TimeWindow.Interval, docs/pql.md).</summary>
    private bool Occurs(DateTimeOffset instant, Occurs occurs)
    {
        DateTimeOffset? Anchor(PqlNode? node) => node is null ? null : _time.Read(Eval(node));
        var amount = occurs.Amount is null || occurs.Relation is "last" or "this" or "next" or "on" or "between" ? null : Eval(occurs.Amount);
        return _time.Interval(occurs, _now, Anchor(occurs.Anchor), Anchor(occurs.Until), amount) is { } interval && interval.Contains(instant.UtcTicks);
    }

    private static bool Holds(object? value) => value is true || value is List<object?> { Count: > 0 };

    /// <summary><c>sum X.price over X from orders where ...</c>: the function over the values of the matching items.</summary>
    private object? Aggregate(Aggregation aggregation)
    {
        var items = Eval(aggregation.Source) as List<object?> ?? [];
        var values = new List<object?>();
        foreach (var item in items)
        {
            WithVariable(aggregation.Variable, item, () =>
            {
                if (aggregation.Condition is null || IsTrue(Eval(aggregation.Condition)))
                {
                    values.Add(Eval(aggregation.Value));
                }
                return true;
            });
        }
        return AggregateOf(aggregation.Function, values);
    }

    private static object? AggregateOf(string function, object? value) => function switch
    {
        "count" => value is List<object?> list ? (long)list.Count : value is null ? 0L : 1L,
        "sum" => Numbers(value) is { } numbers ? Narrow(numbers.Sum(), value) : null,
        "average" => Numbers(value) is { Count: > 0 } numbers ? numbers.Average() : null,
        "min" => Numbers(value) is { Count: > 0 } numbers ? Narrow(numbers.Min(), value) : null,
        _ => Numbers(value) is { Count: > 0 } numbers ? Narrow(numbers.Max(), value) : null,
    };

    private static bool Text(object? value, object? pattern, Func<string, string, StringComparison, bool> test, bool caseSensitive) =>
        value is string s && pattern is string p && test(s, p, caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    /// <summary>SQL-like pattern: % any run of characters, _ exactly one; case-sensitive.</summary>
    internal static Regex Like(string pattern) =>
        new("^" + string.Concat(pattern.Select(c => c switch { '%' => ".*", '_' => ".", _ => Regex.Escape(c.ToString()) })) + "$",
            // Only literals, '.' and '.*': the non-backtracking engine matches it in linear time (backtracking takes
            // polynomial time in the value's length for every '%', with no budget).
            RegexOptions.Singleline | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>Orders two values of one kind (numbers across long and double); null when either is null or they cannot be compared.</summary>
    private int? Compare(object? a, object? b) => (a, b) switch
    {
        (null, _) or (_, null) => null,
        (long x, long y) => x.CompareTo(y),
        (long or double, long or double) => Convert.ToDouble(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, CultureInfo.InvariantCulture)),
        (string x, string y) => string.CompareOrdinal(x, y) is var c ? Math.Sign(c) : 0,
        (bool x, bool y) => x.CompareTo(y),
        (DateTimeOffset x, DateTimeOffset y) => x.CompareTo(y),
        (DateTimeOffset x, string y) => _time.Read(y) is { } t ? x.CompareTo(t) : null,
        (string x, DateTimeOffset y) => _time.Read(x) is { } t ? t.CompareTo(y) : null,
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Compare(p.First, p.Second) == 0) ? 0 : null,
        _ => null,
    };

    private static object? Arithmetic(string op, object? a, object? b)
    {
        if (a is long x && b is long y && op != "/")
        {
            return op switch { "+" => x + y, "-" => x - y, "*" => x * y, _ => y == 0 ? null : x % y };
        }
        if (a is not (long or double) || b is not (long or double))
        {
            return null;
        }
        var (l, r) = (Convert.ToDouble(a, CultureInfo.InvariantCulture), Convert.ToDouble(b, CultureInfo.InvariantCulture));
        return op switch { "+" => l + r, "-" => l - r, "*" => l * r, "/" => r == 0 ? null : l / r, _ => r == 0 ? null : l % r };
    }

    private static List<double>? Numbers(object? value) =>
        value is List<object?> list ? [.. list.Where(v => v is long or double).Select(v => Convert.ToDouble(v, CultureInfo.InvariantCulture))] : null;

    /// <summary>A sum, min or max of integers is an integer.</summary>
    private static object Narrow(double value, object? source) =>
        source is List<object?> list && list.All(v => v is long or null) ? (object)(long)value : value;

    /// <summary>The items in order, each kept unless an earlier kept one equals it.</summary>
    private List<object?> Distinct(IEnumerable<object?> items)
    {
        var kept = new List<object?>();
        foreach (var item in items)
        {
            if (!kept.Any(k => (k is null && item is null) || Compare(k, item) == 0))
            {
                kept.Add(item);
            }
        }
        return kept;
    }

    /// <summary><c>date(y, m, d)</c>: the start of that day in the zone; null when there is no such day.</summary>
    internal static DateTimeOffset? Date(TimeWindow time, long year, long month, long day) =>
        year is >= 1 and <= 9999 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth((int)year, (int)month)
            ? time.Read($"{year:D4}-{month:D2}-{day:D2}")
            : null;

    /// <summary>A <c>groupBy</c> key as map text: strings as they are, numbers invariant, times ISO-8601, arrays and maps as JSON-like text.</summary>
    internal static string KeyText(object? value) => value switch
    {
        null => "null",
        string text => text,
        bool flag => flag ? "true" : "false",
        long integer => integer.ToString(CultureInfo.InvariantCulture),
        double real => real.ToString("R", CultureInfo.InvariantCulture),
        DateTimeOffset instant => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        List<object?> list => "[" + string.Join(",", list.Select(KeyText)) + "]",
        Dictionary<string, object?> map => "{" + string.Join(",", map.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Key + ":" + KeyText(e.Value))) + "}",
        _ => value.ToString() ?? "",
    };
}

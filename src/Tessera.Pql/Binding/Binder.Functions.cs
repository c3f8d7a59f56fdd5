using Tessera.Pql.Syntax;

namespace Tessera.Pql.Binding;

/// <summary>The types of every function and operator the parser produces, and the checks of their arguments.</summary>
public sealed partial class Binder
{
    /// <summary>What an argument must be; <see cref="PqlType.Unknown"/> and null satisfy every expectation.</summary>
    private sealed record Expectation(string Description, Func<PqlType, bool> Accepts);

    /// <summary>A literal pattern of <c>matches</c> or <c>regexGroup</c> must be a regular expression: refused here, not when it is run.</summary>
    private void RequirePattern(PqlNode pattern)
    {
        if (pattern is Literal { Value: string text } && Evaluation.ValueOperations.PatternError(text) is { } error)
        {
            Report($"\"{text}\" is not a regular expression: {error}", pattern.Position);
        }
    }

    private static readonly Expectation Boolean = new("a boolean", t => t == PqlType.Boolean);
    /// <summary>A filter's condition: a boolean, or an array (a nested filter holds when it is not empty).</summary>
    private static readonly Expectation Condition = new("a boolean", t => t == PqlType.Boolean || t is ArrayType);
    private static readonly Expectation Number = new("a number", t => t.IsNumber);
    private static readonly Expectation Integer = new("an integer", t => t.IsInteger);
    private static readonly Expectation Text = new("a string", t => t == PqlType.String);
    /// <summary>A point in time; ISO text is read as one.</summary>
    private static readonly Expectation Time = new("a date or date-time", t => t.IsTemporal || t == PqlType.String);
    private static readonly Expectation Array = new("an array", t => t is ArrayType);
    /// <summary>A map; an open object is a free-form bag and is read as one.</summary>
    private static readonly Expectation Map = new("a map", t => t is MapType or ObjectType { Open: true });
    private static readonly Expectation Orderable = new("a number, string, date or date-time", t => t.IsNumber || t.IsTemporal || t == PqlType.String);

    private static readonly string[] StringTests =
        ["startsWith", "doesNotStartWith", "endsWith", "doesNotEndWith", "contains", "doesNotContain", "equals", "notEqualTo"];

    /// <summary>Every function by name with its least and greatest argument count (a method call's receiver is the first argument).</summary>
    private static readonly Dictionary<string, (int Min, int Max)> Arity = BuildArity();

    /// <summary>The names of the functions the checker knows (operators included).</summary>
    public static IReadOnlyCollection<string> KnownFunctions => Arity.Keys;

    private static Dictionary<string, (int Min, int Max)> BuildArity()
    {
        var arity = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        void Add((int, int) count, params string[] names)
        {
            foreach (var name in names)
            {
                arity[name] = count;
            }
        }
        Add((2, 2), "and", "or", "=", "!=", "<", "<=", ">", ">=", "in", "notIn", "like", "+", "-", "*", "/", "%", "matches",
            "includes", "intersects", "intersection", "subsetOf", "supersetOf", "filter", "map", "groupBy", "exists", "forall", "get", "mapEntry");
        Add((1, 1), "not", "neg", "distinct", "head", "keys", "values", "isNull", "isNotNull", "getMonth", "getYear", "getDayOfMonth", "inSegment");
        Add((2, 3), StringTests);
        Add((2, 3), "topN", "bottomN");
        Add((3, 3), "regexGroup", "if", "date");
        // The pages write both orders.count() and orders.sum(order.price): an optional per-item value.
        Add((1, 2), "count", "sum", "average", "min", "max");
        Add((0, 0), "now", "today", "yesterday", "tomorrow", "currentMonth", "currentYear", "currentDayOfMonth");
        return arity;
    }

    private PqlType Call(FunctionCall call)
    {
        // Method-style and plain calls mean the same: the receiver is the first argument.
        IReadOnlyList<PqlNode> args = call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments];
        var name = call.Function;
        var user = $"'{name}'";
        if (!Arity.TryGetValue(name, out var arity))
        {
            TypeAll(args);
            var nearest = Nearest(name, Arity.Keys.Where(k => char.IsLetter(k[0])));
            return Report($"unknown function '{name}'" + (nearest is null ? "" : $"; did you mean '{nearest}'?"), call.Position);
        }
        if (args.Count < arity.Min || args.Count > arity.Max)
        {
            TypeAll(args);
            var skip = call.Receiver is null ? 0 : 1;
            var (min, max, found) = (arity.Min - skip, arity.Max - skip, args.Count - skip);
            var expected = min == max ? $"{min}" : $"{min} to {max}";
            var noun = max == 1 ? "argument" : "arguments";
            var after = call.Receiver is null ? "" : " after the value it is called on";
            return Report($"{user} takes {expected} {noun}{after}, found {found}", call.Position);
        }
        PqlType Arg(int i, Expectation expectation)
        {
            var type = TypeOf(args[i]);
            Expect(type, expectation, user, args[i]);
            return type;
        }
        switch (name)
        {
            case "and" or "or" or "not":
                foreach (var i in Enumerable.Range(0, args.Count))
                {
                    Arg(i, Boolean);
                }
                return PqlType.Boolean;
            case "=" or "!=":
                {
                    var left = TypeOf(args[0]);
                    var right = TypeOf(args[1]);
                    if (!Comparable(left, right))
                    {
                        Mismatch(user, $"a value comparable with {left}", right, args[1]);
                    }
                    return PqlType.Boolean;
                }
            case "<" or "<=" or ">" or ">=":
                {
                    var left = Arg(0, Orderable);
                    var right = Arg(1, Orderable);
                    if (Orderable.Accepts(left) && Orderable.Accepts(right) && !Comparable(left, right))
                    {
                        Mismatch(user, $"a value comparable with {left}", right, args[1]);
                    }
                    return PqlType.Boolean;
                }
            case "in" or "notIn":
                {
                    var value = TypeOf(args[0]);
                    var set = Arg(1, Array);
                    if (set is ArrayType array && !Comparable(value, array.Item))
                    {
                        Mismatch(user, $"an array of values comparable with {value}", set, args[1]);
                    }
                    return PqlType.Boolean;
                }
            case "like" or "matches":
                Arg(0, Text);
                Arg(1, Text);
                if (name == "matches")
                {
                    RequirePattern(args[1]);
                }
                return PqlType.Boolean;
            case "+" or "-" or "*" or "/" or "%":
                {
                    var left = Arg(0, Number);
                    var right = Arg(1, Number);
                    return name == "/" ? PqlType.Double
                        : left.IsInteger && right.IsInteger ? PqlType.Long
                        : left.IsNumber && right.IsNumber ? PqlType.Double
                        : PqlType.Unknown;
                }
            case "neg":
                {
                    var value = Arg(0, Number);
                    return value.IsInteger ? PqlType.Long : value.IsNumber ? value : PqlType.Unknown;
                }
            case "regexGroup":
                Arg(0, Text);
                Arg(1, Text);
                RequirePattern(args[1]);
                Arg(2, Integer);
                return PqlType.String;
            case var _ when StringTests.Contains(name):
                Arg(0, Text);
                Arg(1, Text);
                if (args.Count > 2)
                {
                    Arg(2, Boolean); // case-sensitive
                }
                return PqlType.Boolean;
            case "includes":
                {
                    var list = Arg(0, Array);
                    var value = TypeOf(args[1]);
                    if (list is ArrayType array && !Comparable(array.Item, value))
                    {
                        Mismatch(user, $"a value comparable with {array.Item}", value, args[1]);
                    }
                    return PqlType.Boolean;
                }
            case "intersects" or "intersection" or "subsetOf" or "supersetOf":
                {
                    var left = Arg(0, Array);
                    var right = Arg(1, Array);
                    if (left is ArrayType a && right is ArrayType b && !Comparable(a.Item, b.Item))
                    {
                        Mismatch(user, $"an array of values comparable with {a.Item}", right, args[1]);
                    }
                    return name != "intersection" ? PqlType.Boolean : left is ArrayType ? left : new ArrayType(PqlType.Unknown);
                }
            case "distinct":
                {
                    var list = Arg(0, Array);
                    return list is ArrayType ? list : new ArrayType(PqlType.Unknown);
                }
            case "head":
                return Arg(0, Array) is ArrayType { Item: var first } ? first : PqlType.Unknown;
            case "filter" or "exists" or "forall":
                {
                    var source = TypeOf(args[0]);
                    var item = ItemOf(source, user, args[0]);
                    Expect(PerItem(args[1], item), name == "filter" ? Condition : Boolean, user, args[1]);
                    return name != "filter" ? PqlType.Boolean : source is ArrayType ? source : new ArrayType(item);
                }
            case "map":
                {
                    var source = TypeOf(args[0]);
                    if (source is MapType map)
                    {
                        return new MapType(MapEntries(args[1], map.Value));
                    }
                    var item = ItemOf(source, user, args[0]);
                    return new ArrayType(PerItem(args[1], item));
                }
            case "mapEntry":
                TypeOf(args[0]);
                return new MapType(TypeOf(args[1]));
            case "groupBy":
                {
                    var item = ItemOf(TypeOf(args[0]), user, args[0]);
                    PerItem(args[1], item);
                    return new MapType(new ArrayType(item)); // keyed by the key's text
                }
            case "topN" or "bottomN":
                {
                    var source = TypeOf(args[0]);
                    var item = ItemOf(source, user, args[0]);
                    Expect(PerItem(args[1], item), Orderable, user, args[1]);
                    if (args.Count > 2)
                    {
                        Arg(2, Integer);
                    }
                    return source is ArrayType ? source : new ArrayType(item);
                }
            case "get":
                {
                    var map = Arg(0, Map);
                    Arg(1, Text);
                    return map is MapType { Value: var value } ? value : PqlType.Unknown;
                }
            case "keys":
                Arg(0, Map);
                return new ArrayType(PqlType.String);
            case "values":
                return new ArrayType(Arg(0, Map) is MapType { Value: var each } ? each : PqlType.Unknown);
            case "isNull" or "isNotNull":
                TypeOf(args[0]);
                return PqlType.Boolean;
            case "if":
                Arg(0, Boolean);
                return Join(TypeOf(args[1]), TypeOf(args[2]));
            case "count" or "sum" or "average" or "min" or "max":
                return AggregateCall(name, args);
            case "date":
                Arg(0, Integer);
                Arg(1, Integer);
                Arg(2, Integer);
                return PqlType.Date;
            case "now" or "today" or "yesterday" or "tomorrow":
                return PqlType.DateTime;
            case "currentMonth" or "currentYear" or "currentDayOfMonth":
                return PqlType.Int;
            case "getMonth" or "getYear" or "getDayOfMonth":
                Arg(0, Time);
                return PqlType.Int;
            case "inSegment":
                if (args[0] is not Literal { Kind: LiteralKind.String })
                {
                    var found = TypeOf(args[0]);
                    Report($"{user} expects an audience id as a string literal, found {(found == PqlType.String ? "a string that is not a literal" : found.ToString())}", args[0].Position);
                }
                return PqlType.Boolean;
            default:
                TypeAll(args);
                return PqlType.Unknown;
        }
    }

    /// <summary><c>orders.count()</c>, <c>orders.sum()</c> of numbers, or <c>orders.sum(price)</c> with a value per item.</summary>
    private PqlType AggregateCall(string name, IReadOnlyList<PqlNode> args)
    {
        var user = $"'{name}'";
        var source = TypeOf(args[0]);
        if (args.Count == 2)
        {
            var value = PerItem(args[1], ItemOf(source, user, args[0]));
            // count(condition) counts the items it holds for; the others aggregate each item's value.
            Expect(value, name == "count" ? Condition : Number, user, args[1]);
            return AggregateResult(name, value);
        }
        if (name == "count")
        {
            return PqlType.Long; // of an array its length; of anything else 0 or 1
        }
        var item = ItemOf(source, user, args[0]);
        if (!item.IsUnknown && !item.IsNumber)
        {
            Mismatch(user, "an array of numbers", source, args[0]);
        }
        return AggregateResult(name, item);
    }

    private void TypeAll(IEnumerable<PqlNode> nodes)
    {
        foreach (var node in nodes)
        {
            TypeOf(node);
        }
    }

    private bool Expect(PqlType found, Expectation expectation, string user, PqlNode node)
    {
        if (found.IsUnknown || expectation.Accepts(found))
        {
            return true;
        }
        Mismatch(user, expectation.Description, found, node);
        return false;
    }

    private void Mismatch(string user, string expected, PqlType found, PqlNode node) =>
        Report($"{user} expects {expected}, found {found}{Origin(node)}", node.Position);

    /// <summary>What the offending value is, when it has a name: <c> (field 'person.age')</c>, <c> (variable 'X')</c>.</summary>
    private static string Origin(PqlNode node) => node switch
    {
        FieldLookup field => $" (field '{Path(field)}')",
        Parameter { Name: { } name } => $" (variable '{name}')",
        _ => "",
    };

    private static string Path(PqlNode node) => node switch
    {
        FieldLookup { Target: null } field => field.Field,
        FieldLookup { Target: { } target } field when target is FieldLookup or Parameter { Name: not null } => $"{Path(target)}.{field.Field}",
        FieldLookup field => field.Field,
        Parameter { Name: { } name } => name,
        _ => "",
    };

    /// <summary>Whether two values can be compared: numbers with numbers, dates and date-times with each other and ISO text, like with like.</summary>
    internal static bool Comparable(PqlType a, PqlType b) => (a, b) switch
    {
        _ when a.IsUnknown || b.IsUnknown => true,
        _ when a.IsNumber && b.IsNumber => true,
        _ when (a.IsTemporal || a == PqlType.String) && (b.IsTemporal || b == PqlType.String) => true,
        (ArrayType x, ArrayType y) => Comparable(x.Item, y.Item),
        (ScalarType x, ScalarType y) => x.Name == y.Name,
        (ObjectType, ObjectType) or (MapType, MapType) => true,
        _ => false,
    };

    /// <summary>
    /// One type for values of two types (an if's branches, an array's items, a sample's values): numbers
    /// widen, dates widen to date-times, objects merge field by field; anything else conflicting is unknown.
    /// </summary>
    internal static PqlType Join(PqlType a, PqlType b)
    {
        if (a == PqlType.Null || a.Equals(b))
        {
            return b;
        }
        if (b == PqlType.Null)
        {
            return a;
        }
        if (a.IsNumber && b.IsNumber)
        {
            return a.IsInteger && b.IsInteger ? PqlType.Long : PqlType.Double;
        }
        if (a.IsTemporal && b.IsTemporal)
        {
            return PqlType.DateTime;
        }
        switch (a, b)
        {
            case (ArrayType x, ArrayType y):
                return new ArrayType(Join(x.Item, y.Item));
            case (MapType x, MapType y):
                return new MapType(Join(x.Value, y.Value));
            case (ObjectType x, ObjectType y):
                var fields = new Dictionary<string, PqlType>(x.Fields, StringComparer.Ordinal);
                foreach (var (name, type) in y.Fields)
                {
                    fields[name] = fields.TryGetValue(name, out var existing) ? Join(existing, type) : type;
                }
                return new ObjectType(fields, x.Open || y.Open);
            default:
                return PqlType.Unknown;
        }
    }
}

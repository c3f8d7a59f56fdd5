using Tessera.Pql.Syntax;

namespace Tessera.Pql.Binding;

/// <summary>A problem found in an expression, with where it is.</summary>
public sealed record PqlDiagnostic(string Message, SourcePosition Position);

/// <summary>
/// Resolves every field path of an expression against the shapes it reads: the profile (the implicit
/// first parameter) and its events (<c>xEvent</c>). Inside a filter or a quantifier the implicit
/// parameter (or the named variable) is the item; <c>^</c> climbs back out. An unknown field is
/// reported with its position and the nearest known field of the same object.
/// </summary>
public sealed class Binder
{
    private readonly List<PqlDiagnostic> _diagnostics = [];
    private readonly List<PqlType> _implicit = [];
    private readonly Dictionary<string, PqlType> _variables = new(StringComparer.Ordinal);
    private readonly ObjectType _profile;

    private Binder(ObjectType profile) => _profile = profile;

    /// <summary>Binds <paramref name="expression"/> over <paramref name="profile"/>, whose <c>xEvent</c> field (when given) holds the events.</summary>
    public static IReadOnlyList<PqlDiagnostic> Bind(PqlNode expression, ObjectType profile)
    {
        var binder = new Binder(profile);
        binder._implicit.Add(profile);
        if (expression is Lambda { Parameters.Count: > 0 } root)
        {
            // (Profile) => ...: the whole expression's first parameter is the profile.
            binder._variables[root.Parameters[0]] = profile;
            binder.TypeOf(root.Body);
        }
        else
        {
            binder.TypeOf(expression);
        }
        return binder._diagnostics;
    }

    private PqlType TypeOf(PqlNode node)
    {
        switch (node)
        {
            case Literal literal:
                return new ScalarType(literal.Kind.ToString().ToLowerInvariant());
            case ArrayLiteral array:
                foreach (var item in array.Items)
                {
                    TypeOf(item);
                }
                return PqlType.Unknown;
            case Parameter { Up: > 0 } up:
                return up.Up < _implicit.Count ? _implicit[^(up.Up + 1)] : Report($"'^' climbs {up.Up} levels out of {_implicit.Count - 1} enclosing filters", up.Position);
            case Parameter { Name: { } name } named:
                return _variables.TryGetValue(name, out var bound) ? bound : Report($"unknown variable '{name}'", named.Position);
            case Parameter:
                return _profile; // $1: the profile; $2 and later are not typed yet.
            case FieldLookup field:
                return Field(field.Target is null ? _implicit[^1] : TypeOf(field.Target), field);
            case Filter filter:
                {
                    var source = TypeOf(filter.Source);
                    var item = source is ArrayType array ? array.Item : PqlType.Unknown;
                    _implicit.Add(item);
                    TypeOf(filter.Condition);
                    _implicit.RemoveAt(_implicit.Count - 1);
                    return source;
                }
            case Quantifier quantifier:
                {
                    var added = new List<(string, PqlType?)>();
                    foreach (var clause in quantifier.Clauses)
                    {
                        var source = TypeOf(clause.Source);
                        added.Add((clause.Variable, _variables.GetValueOrDefault(clause.Variable)));
                        _variables[clause.Variable] = source is ArrayType array ? array.Item : PqlType.Unknown;
                        if (clause.Condition is { } condition)
                        {
                            TypeOf(condition);
                        }
                    }
                    Restore(added);
                    return quantifier.Kind == QuantifierKind.Select ? PqlType.Unknown : new ScalarType("boolean");
                }
            case Aggregation aggregation:
                {
                    var source = TypeOf(aggregation.Source);
                    var previous = _variables.GetValueOrDefault(aggregation.Variable);
                    _variables[aggregation.Variable] = source is ArrayType array ? array.Item : PqlType.Unknown;
                    TypeOf(aggregation.Value);
                    if (aggregation.Condition is { } condition)
                    {
                        TypeOf(condition);
                    }
                    Restore([(aggregation.Variable, previous)]);
                    return PqlType.Unknown;
                }
            case Let let:
                {
                    var added = new List<(string, PqlType?)>();
                    foreach (var (name, value) in let.Bindings)
                    {
                        var type = TypeOf(value);
                        added.Add((name, _variables.GetValueOrDefault(name)));
                        _variables[name] = type;
                    }
                    var body = TypeOf(let.Body);
                    Restore(added);
                    return body;
                }
            case Lambda lambda:
                {
                    // A lambda passed to a function (map, groupBy): its parameters are not typed yet.
                    var added = lambda.Parameters.Select(p => (p, _variables.GetValueOrDefault(p))).ToList();
                    foreach (var parameter in lambda.Parameters)
                    {
                        _variables[parameter] = PqlType.Unknown;
                    }
                    var body = TypeOf(lambda.Body);
                    Restore(added);
                    return body;
                }
            case FunctionCall call:
                if (call.Receiver is { } receiver)
                {
                    TypeOf(receiver);
                }
                foreach (var argument in call.Arguments)
                {
                    TypeOf(argument);
                }
                return PqlType.Unknown;
            case Occurs occurs:
                foreach (var part in new[] { occurs.Subject, occurs.Amount, occurs.Anchor, occurs.Until })
                {
                    if (part is not null)
                    {
                        TypeOf(part);
                    }
                }
                return new ScalarType("boolean");
            case Chain chain:
                {
                    var source = TypeOf(chain.Source);
                    _implicit.Add(source is ArrayType array ? array.Item : PqlType.Unknown);
                    TypeOf(chain.TimeField);
                    foreach (var step in chain.Steps)
                    {
                        foreach (var part in new[] { step.What, step.Where, step.When, step.Count })
                        {
                            if (part is not null)
                            {
                                TypeOf(part);
                            }
                        }
                    }
                    _implicit.RemoveAt(_implicit.Count - 1);
                    return new ScalarType("boolean");
                }
            default:
                return PqlType.Unknown;
        }
    }

    private PqlType Field(PqlType owner, FieldLookup field)
    {
        switch (owner)
        {
            case ObjectType { Open: true }:
                return PqlType.Unknown;
            case ObjectType obj when obj.Fields.TryGetValue(field.Field, out var type):
                return type;
            case ObjectType obj:
                var nearest = Nearest(field.Field, obj.Fields.Keys);
                return Report($"unknown field '{field.Field}'" + (nearest is null ? "" : $"; did you mean '{nearest}'?"), field.Position);
            case MapType map:
                return map.Value;
            case ScalarType { Name: "unknown" }:
                return PqlType.Unknown;
            default:
                return Report($"'{field.Field}' is looked up on a value that has no fields ({Describe(owner)})", field.Position);
        }
    }

    private static string Describe(PqlType type) => type switch
    {
        ArrayType => "an array: filter it, or use a function such as count()",
        ScalarType scalar => $"a {scalar.Name}",
        _ => type.GetType().Name,
    };

    private void Restore(IEnumerable<(string Name, PqlType? Previous)> added)
    {
        foreach (var (name, previous) in added.Reverse())
        {
            if (previous is null)
            {
                _variables.Remove(name);
            }
            else
            {
                _variables[name] = previous;
            }
        }
    }

    private PqlType Report(string message, SourcePosition position)
    {
        _diagnostics.Add(new PqlDiagnostic(message, position));
        return PqlType.Unknown;
    }

    /// <summary>The known name closest to <paramref name="name"/> by edit distance (case-insensitive), if close enough to be a typo.</summary>
    internal static string? Nearest(string name, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance || (distance == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best is not null && bestDistance <= Math.Max(2, name.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

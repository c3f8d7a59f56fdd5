using Tessera.Pql.Syntax;

namespace Tessera.Pql.Binding;

/// <summary>A problem found in an expression, with where it is.</summary>
public sealed record PqlDiagnostic(string Message, SourcePosition Position);

/// <summary>What checking an expression found: the type of its value and every error, in source order of discovery.</summary>
public sealed record CheckResult(PqlType ResultType, IReadOnlyList<PqlDiagnostic> Errors)
{
    public bool Succeeded => Errors.Count == 0;
}

/// <summary>
/// Resolves every field path of an expression against the shapes it reads and type-checks every
/// function and operator. The profile is the implicit first parameter (and <c>$1</c>), its <c>xEvent</c>
/// field the events. Inside a filter, a chain, a quantifier or a per-item function the item is the implicit
/// parameter (or the named variable); <c>^</c> climbs back out. Errors are reported, never thrown:
/// unknown fields (with the nearest known one), unknown functions, argument counts and argument types.
/// <see cref="PqlType.Unknown"/> (and the literal null) is compatible with everything, so nothing below it is checked.
/// </summary>
public sealed partial class Binder
{
    private readonly List<PqlDiagnostic> _diagnostics = [];
    private readonly List<PqlType> _implicit = [];
    private readonly Dictionary<string, PqlType> _variables = new(StringComparer.Ordinal);
    private readonly ObjectType _profile;

    private Binder(ObjectType profile) => _profile = profile;

    /// <summary>Checks <paramref name="expression"/> over <paramref name="profile"/> (use <see cref="ObjectType.OpenProfile"/> with no schema).</summary>
    public static CheckResult Check(PqlNode expression, ObjectType profile)
    {
        var binder = new Binder(profile);
        binder._implicit.Add(profile);
        PqlType result;
        if (expression is Lambda { Parameters.Count: > 0 } root)
        {
            // (Profile) => ...: the whole expression's first parameter is the profile.
            binder._variables[root.Parameters[0]] = profile;
            result = binder.TypeOf(root.Body);
        }
        else
        {
            result = binder.TypeOf(expression);
        }
        return new CheckResult(result, binder._diagnostics);
    }

    /// <summary>The errors of <see cref="Check"/>, for callers that need only those.</summary>
    public static IReadOnlyList<PqlDiagnostic> Bind(PqlNode expression, ObjectType profile) => Check(expression, profile).Errors;

    private PqlType TypeOf(PqlNode node)
    {
        if (DeepTrees.StackIsLow)
        {
            return DeepTrees.OnFreshStack(() => TypeOf(node));
        }
        switch (node)
        {
            case Literal literal:
                return literal.Kind switch
                {
                    LiteralKind.String => PqlType.String,
                    LiteralKind.Integer => PqlType.Long,
                    LiteralKind.Double => PqlType.Double,
                    LiteralKind.Boolean => PqlType.Boolean,
                    _ => PqlType.Null,
                };
            case ArrayLiteral array:
                {
                    var items = array.Items.Select(TypeOf).Aggregate((PqlType)PqlType.Null, Join);
                    return new ArrayType(items == PqlType.Null ? PqlType.Unknown : items);
                }
            case Parameter { Up: > 0 } up:
                return up.Up < _implicit.Count ? _implicit[^(up.Up + 1)] : Report($"'^' climbs {up.Up} levels out of {_implicit.Count - 1} enclosing filters", up.Position);
            case Parameter { Name: { } name } named:
                return _variables.TryGetValue(name, out var bound) ? bound : Report($"unknown variable '{name}'", named.Position);
            case Parameter { Index: <= 1 }:
                return _profile;
            case Parameter:
                return PqlType.Unknown; // $2 and later: nothing documents what they hold.
            case FieldLookup field:
                return Field(field.Target is null ? _implicit[^1] : TypeOf(field.Target), field);
            case Filter filter:
                {
                    var source = TypeOf(filter.Source);
                    var filtered = ItemOf(source, "a filter", filter.Source);
                    _implicit.Within(filtered, () => Expect(TypeOf(filter.Condition), Condition, "a filter", filter.Condition));
                    return source is ArrayType ? source : new ArrayType(filtered);
                }
            case Quantifier quantifier:
                return Quantify(quantifier);
            case Aggregation aggregation:
                return Aggregate(aggregation);
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
                // A lambda where no function gives it items: its parameters are unknown.
                return LambdaBody(lambda, PqlType.Unknown);
            case FunctionCall call:
                return Call(call);
            case Occurs occurs:
                CheckOccurs(occurs);
                return PqlType.Boolean;
            case Chain chain:
                {
                    var source = TypeOf(chain.Source);
                    var events = ItemOf(source, "a chain", chain.Source);
                    _implicit.Within(events, () =>
                    {
                        Expect(TypeOf(chain.TimeField), Time, "a chain's time field", chain.TimeField);
                        foreach (var step in chain.Steps)
                        {
                            if (step.What is { } what)
                            {
                                Expect(TypeOf(what), Boolean, "WHAT", what);
                            }
                            if (step.Where is { } where)
                            {
                                Expect(TypeOf(where), Boolean, "WHERE", where);
                            }
                            if (step.When is { } when)
                            {
                                TypeOf(when);
                            }
                            if (step.Count is { } count)
                            {
                                Expect(TypeOf(count), Integer, "COUNT", count);
                            }
                        }
                        return true;
                    });
                    return PqlType.Boolean;
                }
            default:
                return PqlType.Unknown;
        }
    }

    private PqlType Quantify(Quantifier quantifier)
    {
        var added = new List<(string, PqlType?)>();
        PqlType? first = null;
        var word = quantifier.Kind.ToString().ToLowerInvariant();
        foreach (var clause in quantifier.Clauses)
        {
            var item = ItemOf(TypeOf(clause.Source), $"'{word}'", clause.Source);
            first ??= item;
            added.Add((clause.Variable, _variables.GetValueOrDefault(clause.Variable)));
            _variables[clause.Variable] = item;
            if (clause.Condition is { } condition)
            {
                Expect(TypeOf(condition), Boolean, $"'{word}'", condition);
            }
        }
        Restore(added);
        return quantifier.Kind == QuantifierKind.Select ? new ArrayType(first ?? PqlType.Unknown) : PqlType.Boolean;
    }

    private PqlType Aggregate(Aggregation aggregation)
    {
        var item = ItemOf(TypeOf(aggregation.Source), $"'{aggregation.Function}'", aggregation.Source);
        var previous = _variables.GetValueOrDefault(aggregation.Variable);
        _variables[aggregation.Variable] = item;
        var value = TypeOf(aggregation.Value);
        if (aggregation.Function != "count")
        {
            Expect(value, Number, $"'{aggregation.Function}'", aggregation.Value);
        }
        if (aggregation.Condition is { } condition)
        {
            Expect(TypeOf(condition), Boolean, $"'{aggregation.Function}'", condition);
        }
        Restore([(aggregation.Variable, previous)]);
        return AggregateResult(aggregation.Function, value);
    }

    private static PqlType AggregateResult(string function, PqlType value) => function switch
    {
        "count" => PqlType.Long,
        "average" => PqlType.Double,
        _ when value.IsInteger => PqlType.Long,
        _ when value.IsNumber => PqlType.Double,
        _ => PqlType.Unknown,
    };

    private void CheckOccurs(Occurs occurs)
    {
        if (occurs.Subject is { } subject)
        {
            Expect(TypeOf(subject), Time, "'occurs'", subject);
        }
        if (occurs.Amount is { } amount)
        {
            Expect(TypeOf(amount), Integer, "'occurs'", amount);
        }
        foreach (var anchor in new[] { occurs.Anchor, occurs.Until })
        {
            if (anchor is not null)
            {
                Expect(TypeOf(anchor), Time, "'occurs'", anchor);
            }
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
            case { IsUnknown: true }:
                return PqlType.Unknown;
            case ArrayType array:
                // person.orders.storeId: the field of each item, arrays spread into one.
                return Field(array.Item, field) is var each && each is ArrayType ? each : new ArrayType(each);
            default:
                var article = "aeiou".Contains(owner.ToString()[0], StringComparison.Ordinal) ? "an" : "a";
                return Report($"'{field.Field}' is looked up on a value that has no fields ({article} {owner})", field.Position);
        }
    }

    /// <summary>The item type of what a filter, quantifier, chain or per-item function walks; an error when it is not an array.</summary>
    private PqlType ItemOf(PqlType source, string user, PqlNode node)
    {
        switch (source)
        {
            case ArrayType array:
                return array.Item;
            case { IsUnknown: true }:
                return PqlType.Unknown;
            default:
                Mismatch(user, "an array", source, node);
                return PqlType.Unknown;
        }
    }

    /// <summary>A per-item argument: the item is the implicit parameter, and a lambda's first parameter too.</summary>
    private PqlType PerItem(PqlNode argument, PqlType item) =>
        _implicit.Within(item, () => argument is Lambda lambda ? LambdaBody(lambda, item) : TypeOf(argument));

    /// <summary>
    /// The values' type of <c>map</c> over a map: the value is the item, a lambda's two parameters the
    /// key (a string) and the value; <c>mapEntry(key, value)</c> as the body gives the value's type.
    /// </summary>
    private PqlType MapEntries(PqlNode argument, PqlType value)
    {
        var lambda = argument as Lambda;
        var body = lambda?.Body ?? argument;
        var parameters = lambda?.Parameters ?? [];
        var added = parameters.Select(p => (p, _variables.GetValueOrDefault(p))).ToList();
        for (var i = 0; i < parameters.Count; i++)
        {
            _variables[parameters[i]] = parameters.Count > 1 && i == 0 ? PqlType.String : i <= 1 ? value : PqlType.Unknown;
        }
        var result = _implicit.Within(value, () =>
        {
            if (body is FunctionCall { Function: "mapEntry", Receiver: null, Arguments: [var key, var entryValue] })
            {
                TypeOf(key);
                return TypeOf(entryValue);
            }
            return TypeOf(body);
        });
        Restore(added);
        return result;
    }

    private PqlType LambdaBody(Lambda lambda, PqlType first)
    {
        var added = lambda.Parameters.Select(p => (p, _variables.GetValueOrDefault(p))).ToList();
        for (var i = 0; i < lambda.Parameters.Count; i++)
        {
            _variables[lambda.Parameters[i]] = i == 0 ? first : PqlType.Unknown;
        }
        var body = TypeOf(lambda.Body);
        Restore(added);
        return body;
    }

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
        var (bestDistance, bestPrefix) = (int.MaxValue, 0);
        var lower = name.ToLowerInvariant();
        foreach (var candidate in known)
        {
            var other = candidate.ToLowerInvariant();
            var distance = Distance(lower, other);
            // Among equally distant names, a typo more likely keeps the start of the word.
            var prefix = lower.Zip(other).TakeWhile(p => p.First == p.Second).Count();
            if (distance < bestDistance || (distance == bestDistance && (prefix > bestPrefix || (prefix == bestPrefix && string.CompareOrdinal(candidate, best) < 0))))
            {
                (best, bestDistance, bestPrefix) = (candidate, distance, prefix);
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

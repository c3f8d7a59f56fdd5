using FsCheck.Xunit;
using Tessera.Abstractions;
using Tessera.Pql.Binding;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Binding;

/// <summary>
/// Random expressions (printed and parsed back, so every node has its real position) checked against
/// random schema-built profile types: the checker never throws, and every error it reports has a line and column.
/// </summary>
public sealed class CheckerProperties
{
    private static readonly string[] Operators = ["and", "or", "=", "!=", "<", "<=", ">", ">=", "in", "notIn", "like", "+", "-", "*", "/", "%"];
    private static readonly string[] Named = [.. Binder.KnownFunctions.Where(f => char.IsLetter(f[0])).Order(StringComparer.Ordinal), "frobnicate", "startWith"];
    private static readonly FieldType[] Scalars = [FieldType.String, FieldType.Int, FieldType.Long, FieldType.Double, FieldType.Bool, FieldType.Date, FieldType.DateTime];

    [Property(Replay = "(20261129,21)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool Checking_never_throws_and_every_error_has_a_position(int seed)
    {
        var random = new Random(seed);
        var schemas = Enumerable.Range(0, random.Next(1, 4)).Select(i => RandomSchema(random, i)).ToList();
        var profile = PqlTypes.FromSchemas(schemas);
        var names = new List<string>();
        CollectNames(profile, names, 0);
        names.AddRange(["xEvent", "nope", "timestamp"]);
        var text = Printer.Print(Node(random, 0, [], names));
        PqlNode tree;
        try
        {
            tree = Parser.Parse(text);
        }
        catch (PqlException)
        {
            return true; // Not every random shape prints to parsable text (arity the grammar fixes); the parser's own properties cover that.
        }
        var result = Binder.Check(tree, profile);
        return result.ResultType is not null && result.Errors.All(e => e.Position.Line >= 1 && e.Position.Column >= 1 && e.Position.Offset <= text.Length);
    }

    private static SchemaDocument RandomSchema(Random random, int index) => new()
    {
        Name = $"s{index}",
        Class = random.Next(2) == 0 ? SchemaClass.Profile : SchemaClass.Event,
        FieldGroups = random.Next(2) == 0 ? null : [new FieldGroup { Name = "g", Fields = RandomFields(random, 0) }],
        Fields = RandomFields(random, 0),
    };

    private static Dictionary<string, FieldDefinition> RandomFields(Random random, int depth) =>
        Enumerable.Range(0, random.Next(1, 5)).ToDictionary(i => $"{"abcdef"[random.Next(6)]}{i}", _ => RandomField(random, depth + 1));

    private static FieldDefinition RandomField(Random random, int depth) => (depth > 3 ? 0 : random.Next(6)) switch
    {
        0 or 1 => new FieldDefinition { Type = Scalars[random.Next(Scalars.Length)] },
        2 => new FieldDefinition { Type = FieldType.Object, Fields = RandomFields(random, depth), Open = random.Next(5) == 0 },
        3 => new FieldDefinition { Type = FieldType.Array, Items = RandomField(random, depth + 1) },
        4 => new FieldDefinition { Type = FieldType.Map, Values = RandomField(random, depth + 1) },
        _ => new FieldDefinition { Type = FieldType.Array, Items = random.Next(4) == 0 ? null : new FieldDefinition { Type = FieldType.Object, Fields = RandomFields(random, depth) } },
    };

    private static void CollectNames(PqlType type, List<string> names, int depth)
    {
        switch (type)
        {
            case ObjectType obj when depth < 6:
                foreach (var (name, field) in obj.Fields)
                {
                    names.Add(name);
                    CollectNames(field, names, depth + 1);
                }
                break;
            case ArrayType array:
                CollectNames(array.Item, names, depth + 1);
                break;
            case MapType map:
                CollectNames(map.Value, names, depth + 1);
                break;
        }
    }

    private static PqlNode Node(Random random, int depth, List<string> bound, List<string> names)
    {
        PqlNode Next() => Node(random, depth + 1, bound, names);
        string Name() => names[random.Next(names.Count)] is var name && bound.Contains(name) ? "other" : names[random.Next(names.Count)];
        if (depth > 4 || random.Next(4) == 0)
        {
            return random.Next(8) switch
            {
                0 => new Literal(LiteralKind.String, random.Next(2) == 0 ? "2020-01-02" : "s"),
                1 => new Literal(LiteralKind.Integer, (long)random.Next(-5, 50)),
                2 => new Literal(LiteralKind.Double, 1.5),
                3 => new Literal(LiteralKind.Boolean, random.Next(2) == 0),
                4 => new Literal(LiteralKind.Null, null),
                5 when bound.Count > 0 => new Parameter(0, bound[random.Next(bound.Count)]),
                5 => new Parameter(random.Next(1, 3)),
                6 => new FieldLookup(new Parameter(0, null, random.Next(1, 4)), Name()),
                _ => new FieldLookup(null, Name()),
            };
        }
        switch (random.Next(13))
        {
            case 0 or 1:
                return new FunctionCall(Operators[random.Next(Operators.Length)], null, [Next(), Next()]);
            case 2:
                return new FunctionCall(random.Next(2) == 0 ? "not" : "neg", null, [Next()]);
            case 3 or 4:
                {
                    var function = Named[random.Next(Named.Length)];
                    var arguments = Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(4) == 0 ? Lambda(random, depth + 1, bound, names) : Next()).ToList();
                    return new FunctionCall(function, random.Next(2) == 0 ? null : Next(), arguments);
                }
            case 5:
                return new FieldLookup(Next(), Name());
            case 6:
                return new Filter(Next(), Next());
            case 7:
                return new ArrayLiteral([.. Enumerable.Range(0, random.Next(3)).Select(_ => Next())]);
            case 8:
                {
                    var variable = random.Next(2) == 0 ? "X" : "Y";
                    var inner = new List<string>(bound) { variable };
                    return new Quantifier((QuantifierKind)random.Next(3), [new QuantifierClause(variable, Next(), Node(random, depth + 1, inner, names))]);
                }
            case 9:
                {
                    var inner = new List<string>(bound) { "A" };
                    return new Let([new KeyValuePair<string, PqlNode>("A", Next())], Node(random, depth + 1, inner, names));
                }
            case 11:
                {
                    var inner = new List<string>(bound) { "V" };
                    var value = random.Next(2) == 0 ? new FieldLookup(new Parameter(0, "V"), Name()) : Node(random, depth + 1, inner, names);
                    return new Aggregation(new[] { "sum", "count", "average", "min", "max" }[random.Next(5)], value, "V", Next(),
                        random.Next(2) == 0 ? null : Node(random, depth + 1, inner, names));
                }
            case 10:
                return new Occurs(Next(), "<", new Literal(LiteralKind.Integer, 3L), "days", "before", new FunctionCall("now", null, []), null);
            default:
                return new Chain("chain", Next(), new FieldLookup(null, random.Next(2) == 0 ? "timestamp" : Name()),
                    [new ChainStep("A", Next(), random.Next(2) == 0 ? null : Next(), null, random.Next(3) == 0 ? Next() : null)]);
        }
    }

    private static Lambda Lambda(Random random, int depth, List<string> bound, List<string> names)
    {
        var parameters = new[] { "K", "G" }[..random.Next(1, 3)];
        return new Lambda(parameters, Node(random, depth, [.. bound, .. parameters], names));
    }
}

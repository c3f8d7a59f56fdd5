using FsCheck.Xunit;
using Tessera.Pql.Binding;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Syntax;

/// <summary>
/// Random trees of every node kind (from a seed FsCheck picks) print to text that parses back to
/// the same tree; random and mutated text never breaks the parser with anything but a positioned error.
/// </summary>
public sealed class SyntaxProperties
{
    private static readonly string[] Fields = ["age", "person", "xEvent", "homeAddress", "SKU", "eventType", "timestamp"];
    private static readonly string[] Functions = ["startsWith", "count", "sum", "occurs", "inSegment", "date", "now", "get", "if", "contains"];
    private static readonly string[] Operators = ["and", "or", "=", "!=", "<", "<=", ">", ">=", "in", "notIn", "+", "-", "*", "/", "%"];

    [Property(Replay = "(20261129,7)", MaxTest = 500, EndSize = 100_000_000)]
    public bool Printed_trees_parse_back_to_themselves(int seed)
    {
        var random = new Random(seed);
        var tree = Node(random, depth: 0, bound: []);
        var text = Printer.Print(tree);
        PqlNode parsed;
        try
        {
            parsed = Parser.Parse(text);
        }
        catch (PqlException error)
        {
            throw new InvalidOperationException($"{text} => {error.Message}", error);
        }
        if (!parsed.Equals(tree) || Printer.Print(parsed) != text)
        {
            throw new InvalidOperationException($"{text} => {Printer.Print(parsed)}");
        }
        _ = Binder.Bind(parsed, FuzzProfile); // Reports, never throws, on any tree.
        return true;
    }

    [Property(Replay = "(20261129,11)", MaxTest = 500, EndSize = 100_000_000)]
    public bool Trees_round_trip_through_the_json_form(int seed)
    {
        var tree = Node(new Random(seed), depth: 0, bound: []);
        var json = PqlJson.ToJson(tree).ToJsonString();
        return PqlJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse(json)).Equals(tree);
    }

    [Property(Replay = "(20261129,9)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool Random_and_mutated_text_fails_only_with_a_positioned_error(int seed)
    {
        var random = new Random(seed);
        var text = random.Next(3) == 0
            ? new string([.. Enumerable.Range(0, random.Next(40)).Select(_ => "ab$1^.,()[]\"'=<>!+-*/%:0 \n"[random.Next(26)])])
            : Mutate(Printer.Print(Node(random, 0, [])), random);
        try
        {
            // Whatever parses, the binder takes without failing (it reports, never throws).
            var tree = Parser.Parse(text);
            _ = Binder.Bind(tree, FuzzProfile);
            return true;
        }
        catch (PqlException error)
        {
            return error.Position.Line >= 1 && error.Position.Column >= 1 && error.Position.Offset <= text.Length;
        }
    }

    private static readonly ObjectType FuzzProfile = new(new Dictionary<string, PqlType>
    {
        ["age"] = new ScalarType("integer"),
        ["person"] = new ObjectType(new Dictionary<string, PqlType> { ["gender"] = new ScalarType("string") }),
        ["xEvent"] = new ArrayType(new ObjectType(new Dictionary<string, PqlType>
        {
            ["eventType"] = new ScalarType("string"),
            ["SKU"] = new ScalarType("string"),
        })),
    });

    private static string Mutate(string text, Random random)
    {
        var chars = text.ToList();
        for (var i = random.Next(1, 4); i > 0 && chars.Count > 0; i--)
        {
            var at = random.Next(chars.Count);
            switch (random.Next(3))
            {
                case 0: chars.RemoveAt(at); break;
                case 1: chars.Insert(at, "()[]\",.^=$!"[random.Next(11)]); break;
                default: chars[at] = "ab1 ()".ToCharArray()[random.Next(6)]; break;
            }
        }
        return new string([.. chars]);
    }

    internal static PqlNode Node(Random random, int depth, List<string> bound)
    {
        var leaf = depth > 4 || random.Next(4) == 0;
        if (leaf)
        {
            return random.Next(7) switch
            {
                0 => new Literal(LiteralKind.String, random.Next(3) == 0 ? "quote \" and \\ é" : $"s{random.Next(9)}"),
                1 => new Literal(LiteralKind.Integer, (long)random.Next(-1000, 1000)),
                2 => new Literal(LiteralKind.Double, Math.Round(random.NextDouble() * 2000 - 1000, 3)),
                3 => new Literal(LiteralKind.Boolean, random.Next(2) == 0),
                4 => new Literal(LiteralKind.Null, null),
                5 when bound.Count > 0 => new Parameter(0, bound[random.Next(bound.Count)]),
                5 => new Parameter(random.Next(1, 3)),
                _ => new FieldLookup(null, Field(random, bound)),
            };
        }
        var next = depth + 1;
        return random.Next(13) switch
        {
            12 => Aggregation(random, next, bound),
            10 => RandomOccurs(random, Node(random, next, bound), next, bound),
            11 => new Chain(random.Next(2) == 0 ? "chain" : "CHAIN", Node(random, next, bound), new FieldLookup(null, "timestamp"),
                [.. Enumerable.Range(0, random.Next(1, 3)).Select(i => new ChainStep($"S{i}",
                    random.Next(3) == 0 ? null : Node(random, next, bound),
                    random.Next(3) == 0 ? Node(random, next, bound) : null,
                    random.Next(2) == 0 ? RandomOccurs(random, null, next, bound) : null,
                    random.Next(3) == 0 ? new Literal(LiteralKind.Integer, (long)random.Next(1, 9)) : null))]),
            0 => new FunctionCall(Operators[random.Next(Operators.Length)], null, [Node(random, next, bound), Node(random, next, bound)]),
            1 => new FunctionCall(random.Next(2) == 0 ? "not" : "neg", null, [Node(random, next, bound)]),
            2 => new FunctionCall(Functions[random.Next(Functions.Length)], random.Next(2) == 0 ? null : Node(random, next, bound),
                [.. Enumerable.Range(0, random.Next(3)).Select(_ => Node(random, next, bound))]),
            3 => new FieldLookup(random.Next(4) == 0 ? new Parameter(0, null, random.Next(1, 3)) : Node(random, next, bound), Field(random, bound)),
            4 => new Filter(Node(random, next, bound), Node(random, next, bound)),
            5 => new ArrayLiteral([.. Enumerable.Range(0, random.Next(3)).Select(_ => Node(random, next, bound))]),
            6 => Scoped(random, next, bound, new[] { "K", "G" }[..random.Next(1, 3)], body => new Lambda(body.Names, body.Node)),
            7 => Quantifier(random, next, bound),
            8 => Let(random, next, bound),
            _ => new FunctionCall(Operators[random.Next(Operators.Length)], null, [Node(random, next, bound), Node(random, next, bound)]),
        };
    }

    private static readonly string[] Units = ["seconds", "hours", "days", "week", "month", "years"];
    private static readonly string[] Days = ["now", "today", "yesterday", "tomorrow"];

    private static Occurs RandomOccurs(Random random, PqlNode? subject, int depth, List<string> bound)
    {
        PqlNode Anchor() => random.Next(2) == 0
            ? new FunctionCall(Days[random.Next(Days.Length)], null, [])
            : new FunctionCall("date", null, [new Literal(LiteralKind.Integer, 2020L), new Literal(LiteralKind.Integer, (long)random.Next(1, 13)), new Literal(LiteralKind.Integer, 1L)]);
        return random.Next(5) switch
        {
            0 => new Occurs(subject, null, null, Units[random.Next(Units.Length)], new[] { "last", "this", "next" }[random.Next(3)], null, null),
            1 => new Occurs(subject, null, null, null, "on", Anchor(), null),
            2 => new Occurs(subject, null, null, null, "between", Anchor(), Anchor()),
            3 => new Occurs(subject, null, null, null, random.Next(2) == 0 ? "before" : "after", Anchor(), null),
            _ => new Occurs(subject, new[] { "=", "<", "<=", ">", ">=" }[random.Next(5)], new Literal(LiteralKind.Integer, (long)random.Next(1, 30)),
                Units[random.Next(Units.Length)], random.Next(2) == 0 ? "before" : "after", Anchor(), null),
        };
    }

    private static string Field(Random random, List<string> bound)
    {
        var field = Fields[random.Next(Fields.Length)];
        return bound.Contains(field) ? "other" : field;
    }

    private static PqlNode Scoped(Random random, int depth, List<string> bound, string[] names, Func<(string[] Names, PqlNode Node), PqlNode> make)
    {
        var inner = new List<string>(bound);
        inner.AddRange(names);
        return make((names, Node(random, depth, inner)));
    }

    private static PqlNode Quantifier(Random random, int depth, List<string> bound)
    {
        var kind = (QuantifierKind)random.Next(3);
        var clauses = new List<QuantifierClause>();
        var inner = new List<string>(bound);
        foreach (var variable in new[] { "X", "Y" }[..random.Next(1, 3)])
        {
            var source = Node(random, depth, inner);
            inner.Add(variable);
            var condition = kind == QuantifierKind.Select && random.Next(2) == 0 ? null : Node(random, depth, inner);
            clauses.Add(new QuantifierClause(variable, source, condition));
        }
        return new Quantifier(kind, clauses);
    }

    private static PqlNode Aggregation(Random random, int depth, List<string> bound)
    {
        var inner = new List<string>(bound) { "X" };
        var value = new FieldLookup(new Parameter(0, "X"), "price");
        return new Aggregation(new[] { "sum", "count", "average", "min", "max" }[random.Next(5)], value, "X", Node(random, depth, bound),
            random.Next(2) == 0 ? null : Node(random, depth, inner));
    }

    private static PqlNode Let(Random random, int depth, List<string> bound)
    {
        var bindings = new List<KeyValuePair<string, PqlNode>>();
        var inner = new List<string>(bound);
        foreach (var name in new[] { "A", "B" }[..random.Next(1, 3)])
        {
            bindings.Add(new KeyValuePair<string, PqlNode>(name, Node(random, depth, inner)));
            inner.Add(name);
        }
        return new Let(bindings, Node(random, depth, inner));
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Pql.Syntax;

/// <summary>
/// The <c>pql/json</c> form of a tree, both ways. Adobe documents <c>fnApply</c> (<c>fnName</c>,
/// <c>params</c>), <c>fieldLookup</c> (<c>fieldName</c>, <c>object</c>), <c>parameterReference</c>
/// (<c>position</c>) and <c>literal</c> (<c>literalType</c>, <c>value</c>); both documented spellings of a
/// field of the implicit parameter are read (no <c>object</c>, or <c>object</c> = parameter 1), and a
/// literal without <c>literalType</c> takes its JSON kind. Constructs the documentation shows no JSON
/// for are written with node types of Tessera's own (docs/pql.md): <c>array</c>, <c>filter</c>,
/// <c>lambda</c>, <c>quantifier</c>, <c>let</c>, <c>occurs</c>, <c>chain</c>, <c>aggregation</c>; a
/// method-style call is an <c>fnApply</c> whose first param is the receiver, marked <c>"method": true</c>.
/// </summary>
public static class PqlJson
{
    public static JsonObject ToJson(PqlNode node) => DeepTrees.StackIsLow ? DeepTrees.OnFreshStack(() => ToJson(node)) : node switch
    {
        Literal literal => Literal(literal),
        ArrayLiteral array => new JsonObject { ["nodeType"] = "array", ["items"] = List(array.Items) },
        Parameter { Up: > 0 } up => new JsonObject { ["nodeType"] = "parameterReference", ["up"] = up.Up },
        Parameter { Name: { } name } => new JsonObject { ["nodeType"] = "parameterReference", ["name"] = name },
        Parameter parameter => new JsonObject { ["nodeType"] = "parameterReference", ["position"] = parameter.Index },
        FieldLookup field => field.Target is null
            ? new JsonObject { ["nodeType"] = "fieldLookup", ["fieldName"] = field.Field }
            : new JsonObject { ["nodeType"] = "fieldLookup", ["fieldName"] = field.Field, ["object"] = ToJson(field.Target) },
        FunctionCall call => Call(call),
        Filter filter => new JsonObject { ["nodeType"] = "filter", ["source"] = ToJson(filter.Source), ["condition"] = ToJson(filter.Condition) },
        Lambda lambda => new JsonObject { ["nodeType"] = "lambda", ["params"] = new JsonArray([.. lambda.Parameters.Select(p => (JsonNode)p)]), ["body"] = ToJson(lambda.Body) },
        Quantifier quantifier => new JsonObject
        {
            ["nodeType"] = "quantifier",
            ["kind"] = quantifier.Kind.ToString().ToLowerInvariant(),
            ["clauses"] = new JsonArray([.. quantifier.Clauses.Select(c => (JsonNode)Optional(new JsonObject
            {
                ["variable"] = c.Variable,
                ["source"] = ToJson(c.Source),
            }, "condition", c.Condition))]),
        },
        Let let => new JsonObject
        {
            ["nodeType"] = "let",
            ["bindings"] = new JsonArray([.. let.Bindings.Select(b => (JsonNode)new JsonObject { ["name"] = b.Key, ["value"] = ToJson(b.Value) })]),
            ["body"] = ToJson(let.Body),
        },
        Occurs occurs => OccursJson(occurs),
        Chain chain => new JsonObject
        {
            ["nodeType"] = "chain",
            ["spelling"] = chain.Spelling,
            ["source"] = ToJson(chain.Source),
            ["timeField"] = ToJson(chain.TimeField),
            ["steps"] = new JsonArray([.. chain.Steps.Select(s => (JsonNode)Optional(Optional(Optional(Optional(
                new JsonObject { ["label"] = s.Label }, "what", s.What), "where", s.Where), "when", s.When), "count", s.Count))]),
        },
        Aggregation aggregation => Optional(new JsonObject
        {
            ["nodeType"] = "aggregation",
            ["fnName"] = aggregation.Function,
            ["value"] = ToJson(aggregation.Value),
            ["variable"] = aggregation.Variable,
            ["source"] = ToJson(aggregation.Source),
        }, "condition", aggregation.Condition),
        _ => throw new ArgumentException($"unknown node {node.GetType().Name}", nameof(node)),
    };

    public static PqlNode FromJson(JsonNode? json, string path = "$")
    {
        if (json is not JsonObject node)
        {
            throw Invalid(path, "expected a node object");
        }
        var type = Text(node, "nodeType", path);
        switch (type)
        {
            case "literal":
                return FromLiteral(node, path);
            case "array":
                return new ArrayLiteral(Nodes(node, "items", path));
            case "parameterReference":
                if (node["up"] is JsonValue up)
                {
                    return new Parameter(0, null, up.GetValue<int>());
                }
                if (node["name"] is JsonValue name)
                {
                    return new Parameter(0, name.GetValue<string>());
                }
                return new Parameter(node["position"] is JsonValue position ? position.GetValue<int>() : 1);
            case "fieldLookup":
                return new FieldLookup(node["object"] is null ? null : FromJson(node["object"], path + ".object"), Text(node, "fieldName", path));
            case "fnApply":
                {
                    var arguments = Nodes(node, "params", path);
                    var method = node["method"] is JsonValue flag && flag.GetValue<bool>();
                    if (method && arguments.Count == 0)
                    {
                        throw Invalid(path, "a method call needs its receiver as the first param");
                    }
                    return method
                        ? new FunctionCall(Text(node, "fnName", path), arguments[0], arguments[1..])
                        : new FunctionCall(Text(node, "fnName", path), null, arguments);
                }
            case "filter":
                return new Filter(FromJson(node["source"], path + ".source"), FromJson(node["condition"], path + ".condition"));
            case "lambda":
                return new Lambda([.. Array(node, "params", path).Select(p => p!.GetValue<string>())], FromJson(node["body"], path + ".body"));
            case "quantifier":
                return new Quantifier(Text(node, "kind", path) switch
                {
                    "exists" => QuantifierKind.Exists,
                    "forall" => QuantifierKind.ForAll,
                    "select" => QuantifierKind.Select,
                    var other => throw Invalid(path + ".kind", $"unknown quantifier '{other}'"),
                }, [.. Array(node, "clauses", path).Select((c, i) => new QuantifierClause(Text((JsonObject)c!, "variable", $"{path}.clauses[{i}]"),
                    FromJson(c!["source"], $"{path}.clauses[{i}].source"), OptionalNode(c, "condition", $"{path}.clauses[{i}]")))]);
            case "let":
                return new Let([.. Array(node, "bindings", path).Select((b, i) => new KeyValuePair<string, PqlNode>(Text((JsonObject)b!, "name", $"{path}.bindings[{i}]"),
                    FromJson(b!["value"], $"{path}.bindings[{i}].value")))], FromJson(node["body"], path + ".body"));
            case "occurs":
                return new Occurs(OptionalNode(node, "subject", path), node["comparison"]?.GetValue<string>(), OptionalNode(node, "amount", path),
                    node["unit"]?.GetValue<string>(), Text(node, "relation", path), OptionalNode(node, "anchor", path), OptionalNode(node, "until", path));
            case "chain":
                return new Chain(node["spelling"]?.GetValue<string>() ?? "chain", FromJson(node["source"], path + ".source"), FromJson(node["timeField"], path + ".timeField"),
                    [.. Array(node, "steps", path).Select((s, i) => new ChainStep(Text((JsonObject)s!, "label", $"{path}.steps[{i}]"),
                        OptionalNode(s, "what", path), OptionalNode(s, "where", path), OptionalNode(s, "when", path), OptionalNode(s, "count", path)))]);
            case "aggregation":
                return new Aggregation(Text(node, "fnName", path), FromJson(node["value"], path + ".value"), Text(node, "variable", path),
                    FromJson(node["source"], path + ".source"), OptionalNode(node, "condition", path));
            default:
                throw Invalid(path + ".nodeType", $"unknown node type '{type}'");
        }
    }

    private static JsonObject Literal(Literal literal) => new()
    {
        ["nodeType"] = "literal",
        ["literalType"] = literal.Kind.ToString(),
        ["value"] = literal.Value switch
        {
            null => null,
            string s => s,
            long l => l,
            double d => d,
            bool b => b,
            _ => throw new ArgumentException("unknown literal value"),
        },
    };

    private static PqlNode FromLiteral(JsonObject node, string path)
    {
        var value = node["value"];
        var kind = node["literalType"]?.GetValue<string>();
        if (kind is null)
        {
            kind = value?.GetValueKind() switch
            {
                null or JsonValueKind.Null => "Null",
                JsonValueKind.String => "String",
                JsonValueKind.True or JsonValueKind.False => "Boolean",
                JsonValueKind.Number => value.ToJsonString().Contains('.') || value.ToJsonString().Contains('e') || value.ToJsonString().Contains('E') ? "Double" : "Integer",
                _ => throw Invalid(path + ".value", "a literal without literalType must be a string, number, boolean or null"),
            };
        }
        try
        {
            return kind switch
            {
                "String" => new Literal(LiteralKind.String, value!.GetValue<string>()),
                "Integer" => new Literal(LiteralKind.Integer, value!.GetValue<long>()),
                "Double" => new Literal(LiteralKind.Double, value!.GetValue<double>()),
                "Boolean" => new Literal(LiteralKind.Boolean, value!.GetValue<bool>()),
                "Null" => new Literal(LiteralKind.Null, null),
                _ => throw Invalid(path + ".literalType", $"unknown literal type '{kind}'"),
            };
        }
        catch (Exception error) when (error is FormatException or InvalidOperationException or NullReferenceException)
        {
            throw Invalid(path + ".value", $"not a {kind} value");
        }
    }

    private static JsonObject Call(FunctionCall call)
    {
        var parameters = List(call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments]);
        var json = new JsonObject { ["nodeType"] = "fnApply", ["fnName"] = call.Function, ["params"] = parameters };
        if (call.Receiver is not null)
        {
            json["method"] = true;
        }
        return json;
    }

    private static JsonObject OccursJson(Occurs occurs)
    {
        var json = Optional(new JsonObject { ["nodeType"] = "occurs" }, "subject", occurs.Subject);
        if (occurs.Comparison is { } comparison)
        {
            json["comparison"] = comparison;
        }
        json = Optional(json, "amount", occurs.Amount);
        if (occurs.Unit is { } unit)
        {
            json["unit"] = unit;
        }
        json["relation"] = occurs.Relation;
        return Optional(Optional(json, "anchor", occurs.Anchor), "until", occurs.Until);
    }

    private static JsonObject Optional(JsonObject json, string name, PqlNode? node)
    {
        if (node is not null)
        {
            json[name] = ToJson(node);
        }
        return json;
    }

    private static PqlNode? OptionalNode(JsonNode? json, string name, string path) => json?[name] is { } value ? FromJson(value, $"{path}.{name}") : null;

    private static JsonArray List(IEnumerable<PqlNode> nodes) => new([.. nodes.Select(n => (JsonNode)ToJson(n))]);

    private static List<PqlNode> Nodes(JsonObject node, string name, string path) =>
        [.. Array(node, name, path).Select((item, i) => FromJson(item, $"{path}.{name}[{i}]"))];

    private static JsonArray Array(JsonObject node, string name, string path) =>
        node[name] as JsonArray ?? throw Invalid($"{path}.{name}", "expected an array");

    private static string Text(JsonObject node, string name, string path) =>
        node[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : throw Invalid($"{path}.{name}", "expected a string");

    private static PqlException Invalid(string path, string message) => new($"pql/json {path}: {message}", new SourcePosition(0, 1, 1));
}

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tessera.Pql.Syntax;

/// <summary>
/// The canonical text of a tree: one space around binary operators and after commas, double-quoted
/// strings, parentheses only where precedence needs them. Parsing the canonical text gives the same
/// tree back, and printing that gives the same text (text → tree → text is stable).
/// </summary>
public static class Printer
{
    // Precedence levels, loosest first: what a child needs to be printed without parentheses.
    private const int Binding = 0; // lambda, let, exists/forall/select
    private const int OrLevel = 1;
    private const int AndLevel = 2;
    private const int NotLevel = 3;
    private const int ComparisonLevel = 4;
    private const int AdditiveLevel = 5;
    private const int MultiplicativeLevel = 6;
    private const int UnaryLevel = 7;
    private const int PostfixLevel = 8;

    private static readonly HashSet<string> Comparisons = ["=", "!=", "<", "<=", ">", ">=", "in", "notIn", "like"];

    public static string Print(PqlNode node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return text.ToString();
    }

    private static int LevelOf(PqlNode node) => node switch
    {
        Lambda or Let or Quantifier or Aggregation => Binding,
        Occurs => ComparisonLevel,
        Literal { Kind: LiteralKind.Integer, Value: long n } when n < 0 => UnaryLevel,
        Literal { Kind: LiteralKind.Double, Value: double d } when d < 0 || double.IsNegative(d) => UnaryLevel,
        FunctionCall { Receiver: null, Arguments.Count: 2 } call when call.Function is "or" => OrLevel,
        FunctionCall { Receiver: null, Arguments.Count: 2 } call when call.Function is "and" => AndLevel,
        FunctionCall { Receiver: null, Arguments.Count: 1 } call when call.Function is "not" => NotLevel,
        FunctionCall { Receiver: null, Arguments.Count: 2 } call when Comparisons.Contains(call.Function) => ComparisonLevel,
        FunctionCall { Receiver: null, Arguments.Count: 2 } call when call.Function is "+" or "-" => AdditiveLevel,
        FunctionCall { Receiver: null, Arguments.Count: 2 } call when call.Function is "*" or "/" or "%" => MultiplicativeLevel,
        FunctionCall { Receiver: null, Arguments.Count: 1 } call when call.Function is "neg" => UnaryLevel,
        _ => PostfixLevel,
    };

    private static void Write(PqlNode node, StringBuilder text, int needed)
    {
        if (LevelOf(node) < needed)
        {
            text.Append('(');
            Write(node, text);
            text.Append(')');
        }
        else
        {
            Write(node, text);
        }
    }

    private static void Write(PqlNode node, StringBuilder text)
    {
        if (DeepTrees.StackIsLow)
        {
            DeepTrees.OnFreshStack(() => Write(node, text));
            return;
        }
        switch (node)
        {
            case Literal literal:
                WriteLiteral(literal, text);
                break;
            case ArrayLiteral array:
                text.Append('[');
                WriteList(array.Items, text);
                text.Append(']');
                break;
            case Parameter { Up: > 0 } up:
                text.Append('^', up.Up);
                break;
            case Parameter { Name: { } name }:
                text.Append(name);
                break;
            case Parameter parameter:
                text.Append('$').Append(parameter.Index.ToString(CultureInfo.InvariantCulture));
                break;
            case FieldLookup { Target: null } field:
                text.Append(field.Field);
                break;
            case FieldLookup { Target: Parameter { Up: > 0 } } field:
                Write(field.Target, text);
                text.Append('.').Append(field.Field);
                break;
            case FieldLookup field:
                Write(field.Target, text, PostfixLevel);
                text.Append('.').Append(field.Field);
                break;
            case Filter filter:
                Write(filter.Source, text, PostfixLevel);
                text.Append('[');
                Write(filter.Condition, text);
                text.Append(']');
                break;
            case Lambda lambda:
                text.Append('(').Append(string.Join(", ", lambda.Parameters)).Append(") => ");
                Write(lambda.Body, text);
                break;
            case Let let:
                text.Append("let ");
                for (var i = 0; i < let.Bindings.Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(", ");
                    }
                    text.Append(let.Bindings[i].Key).Append(" = ");
                    // A binding's 'in' would end the bindings: anything at comparison level or looser goes in parentheses.
                    Write(let.Bindings[i].Value, text, AdditiveLevel);
                }
                text.Append(" in ");
                Write(let.Body, text);
                break;
            case Quantifier quantifier:
                text.Append(quantifier.Kind switch { QuantifierKind.Exists => "exists ", QuantifierKind.ForAll => "forall ", _ => "select " });
                for (var i = 0; i < quantifier.Clauses.Count; i++)
                {
                    var clause = quantifier.Clauses[i];
                    text.Append(i > 0 ? ", " : "").Append(clause.Variable).Append(" from ");
                    Write(clause.Source, text, OrLevel);
                    if (clause.Condition is { } condition)
                    {
                        text.Append(" where ");
                        // A later source would be read as part of an earlier clause's condition otherwise.
                        Write(condition, text, i < quantifier.Clauses.Count - 1 ? OrLevel : Binding);
                    }
                }
                break;
            case Aggregation aggregation:
                text.Append(aggregation.Function).Append(' ');
                Write(aggregation.Value, text, AdditiveLevel);
                text.Append(" over ").Append(aggregation.Variable).Append(" from ");
                Write(aggregation.Source, text, OrLevel);
                if (aggregation.Condition is { } where)
                {
                    text.Append(" where ");
                    Write(where, text);
                }
                break;
            case FunctionCall call:
                WriteCall(call, text);
                break;
            case Occurs occurs:
                if (occurs.Subject is { } subject)
                {
                    Write(subject, text, AdditiveLevel);
                    text.Append(" occurs ");
                }
                WriteOccursTail(occurs, text);
                break;
            case Chain chain:
                text.Append(chain.Spelling).Append('(');
                Write(chain.Source, text);
                text.Append(", ");
                Write(chain.TimeField, text);
                text.Append(", [");
                for (var i = 0; i < chain.Steps.Count; i++)
                {
                    var step = chain.Steps[i];
                    text.Append(i > 0 ? ", " : "").Append(step.Label).Append(':');
                    foreach (var (clause, value) in new[] { ("WHAT", step.What), ("WHERE", step.Where), ("WHEN", step.When), ("COUNT", step.Count) })
                    {
                        if (value is null)
                        {
                            continue;
                        }
                        text.Append(' ').Append(clause).Append('(');
                        if (clause == "WHEN" && value is Occurs { Relation: "on", Anchor: FunctionCall { Arguments.Count: 0, Function: "now" or "today" or "yesterday" or "tomorrow" } day })
                        {
                            text.Append(day.Function); // WHEN(today), as the documentation writes it.
                        }
                        else if (clause == "WHEN" && value is Occurs when)
                        {
                            WriteOccursTail(when, text); // The step's own time: no subject.
                        }
                        else
                        {
                            Write(value, text);
                        }
                        text.Append(')');
                    }
                }
                text.Append("])");
                break;
            default:
                throw new ArgumentException($"unknown node {node.GetType().Name}", nameof(node));
        }
    }

    private static void WriteOccursTail(Occurs occurs, StringBuilder text)
    {
        switch (occurs.Relation)
        {
            case "last" or "this" or "next":
                text.Append(occurs.Relation).Append(' ').Append(occurs.Unit);
                return;
            case "on":
                text.Append("on ");
                WriteAnchor(occurs.Anchor!, text);
                return;
            case "between":
                text.Append("between ");
                WriteAnchor(occurs.Anchor!, text);
                text.Append(" and ");
                WriteAnchor(occurs.Until!, text);
                return;
        }
        if (occurs.Comparison is { } comparison)
        {
            text.Append(comparison).Append(' ');
        }
        if (occurs.Amount is { } amount)
        {
            Write(amount, text, MultiplicativeLevel);
            text.Append(' ').Append(occurs.Unit).Append(' ');
        }
        text.Append(occurs.Relation).Append(' ');
        WriteAnchor(occurs.Anchor!, text);
    }

    /// <summary>now, today, yesterday and tomorrow are written bare; any other point in time as a value.</summary>
    private static void WriteAnchor(PqlNode anchor, StringBuilder text)
    {
        if (anchor is FunctionCall { Receiver: null, Arguments.Count: 0, Function: "now" or "today" or "yesterday" or "tomorrow" } named)
        {
            text.Append(named.Function);
            return;
        }
        Write(anchor, text, AdditiveLevel);
    }

    private static void WriteCall(FunctionCall call, StringBuilder text)
    {
        var level = LevelOf(call);
        switch (level)
        {
            case OrLevel or AndLevel or AdditiveLevel or MultiplicativeLevel:
                // Left-associative: the left operand may be at the same level, the right one must bind tighter.
                Write(call.Arguments[0], text, level);
                text.Append(' ').Append(call.Function).Append(' ');
                Write(call.Arguments[1], text, level + 1);
                return;
            case ComparisonLevel:
                Write(call.Arguments[0], text, AdditiveLevel);
                text.Append(' ').Append(call.Function).Append(' ');
                Write(call.Arguments[1], text, AdditiveLevel);
                return;
            case NotLevel:
                text.Append("not ");
                Write(call.Arguments[0], text, NotLevel);
                return;
            case UnaryLevel:
                text.Append('-');
                // A number right after the minus would read back as a negative literal.
                Write(call.Arguments[0], text, call.Arguments[0] is Literal { Kind: LiteralKind.Integer or LiteralKind.Double } ? PostfixLevel + 1 : UnaryLevel);
                return;
        }
        if (call.Receiver is { } receiver)
        {
            Write(receiver, text, PostfixLevel);
            text.Append('.');
        }
        text.Append(call.Function).Append('(');
        WriteList(call.Arguments, text);
        text.Append(')');
    }

    private static void WriteList(IReadOnlyList<PqlNode> items, StringBuilder text)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }
            Write(items[i], text);
        }
    }

    private static void WriteLiteral(Literal literal, StringBuilder text)
    {
        switch (literal.Kind)
        {
            case LiteralKind.String:
                text.Append(JsonSerializer.Serialize((string)literal.Value!, PqlJsonContext.Default.String));
                break;
            case LiteralKind.Integer:
                text.Append(((long)literal.Value!).ToString(CultureInfo.InvariantCulture));
                break;
            case LiteralKind.Double:
                var number = ((double)literal.Value!).ToString("R", CultureInfo.InvariantCulture);
                // Always with a '.' or an exponent, so it reads back as a double.
                text.Append(number.Contains('.') || number.Contains('E') ? number : number + ".0");
                break;
            case LiteralKind.Boolean:
                text.Append((bool)literal.Value! ? "true" : "false");
                break;
            default:
                text.Append("null");
                break;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class PqlJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

using System.Globalization;

namespace Tessera.Pql.Syntax;

/// <summary>
/// Recursive-descent parser for PQL text (docs/pql.md has the grammar). Operators become
/// <see cref="FunctionCall"/>s named by the operator, so every tree has one shape whatever the
/// spelling. Errors are <see cref="PqlException"/>s with the position of the offending token.
/// </summary>
public sealed class Parser
{
    /// <summary>Deepest nesting accepted: deeper input is refused with an error rather than overflowing the stack.</summary>
    public const int MaxDepth = 200;

    /// <summary>
    /// Tallest tree accepted. A chain of operators (<c>a or b or c</c>, <c>a + b + c</c>, <c>a.b.c</c>) is parsed in a loop,
    /// not by recursion, but it builds one level of tree per operator, and every engine walks the tree recursively: a
    /// taller one is refused here rather than overflowing the stack (which ends the process) when it is checked or run.
    /// </summary>
    public const int MaxHeight = 500;

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "not", "true", "false", "null", "exists", "forall", "select", "from", "where", "let", "in", "notIn", "like", "occurs", "over",
    };

    private readonly List<Token> _tokens;
    private readonly List<string> _bound = [];
    private int _next;
    private int _depth;
    private bool _noIn;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static PqlNode Parse(string text)
    {
        var parser = new Parser(Lexer.Tokenize(text));
        var node = parser.Expression();
        if (parser.Peek.Kind != TokenKind.End)
        {
            throw new PqlException($"unexpected '{parser.Peek.Text}' after the end of the expression", parser.Peek.Position);
        }
        RequireHeight(node);
        return node;
    }

    /// <summary>Refuses a tree taller than <see cref="MaxHeight"/>, naming its deepest node; walks it without recursion.</summary>
    private static void RequireHeight(PqlNode root)
    {
        var pending = new Stack<(PqlNode Node, int Level)>();
        pending.Push((root, 1));
        while (pending.TryPop(out var item))
        {
            if (item.Level > MaxHeight)
            {
                throw new PqlException(
                    $"expression nested deeper than {MaxHeight} levels (each operator of a chain such as 'a or b or c' nests one level; use 'in [...]' for long lists of values)",
                    item.Node.Position);
            }
            foreach (var child in PqlTree.Children(item.Node))
            {
                pending.Push((child, item.Level + 1));
            }
        }
    }

    public static bool IsKeyword(string name) => Keywords.Contains(name);

    private Token Peek => _tokens[_next];

    private Token PeekAt(int ahead) => _tokens[Math.Min(_next + ahead, _tokens.Count - 1)];

    private Token Take() => _tokens[_next < _tokens.Count - 1 ? _next++ : _next];

    private bool IsWord(string word) => Peek.Kind == TokenKind.Identifier && Peek.Text == word;

    private Token Expect(TokenKind kind, string what)
    {
        if (Peek.Kind != kind)
        {
            throw new PqlException($"expected {what}, found {Describe(Peek)}", Peek.Position);
        }
        return Take();
    }

    private void ExpectWord(string word)
    {
        if (!IsWord(word))
        {
            throw new PqlException($"expected '{word}', found {Describe(Peek)}", Peek.Position);
        }
        Take();
    }

    private string Name(string what)
    {
        var token = Expect(TokenKind.Identifier, what);
        return Keywords.Contains(token.Text) ? throw new PqlException($"'{token.Text}' is a keyword, not {what}", token.Position) : token.Text;
    }

    private static string Describe(Token token) => token.Kind == TokenKind.End ? "the end of the expression" : $"'{token.Text}'";

    private PqlNode Expression()
    {
        if (DeepTrees.StackIsLow)
        {
            return DeepTrees.OnFreshStack(Expression);
        }
        if (++_depth > MaxDepth)
        {
            throw new PqlException($"expression nested deeper than {MaxDepth} levels", Peek.Position);
        }
        try
        {
            var at = Peek.Position;
            if (IsLambdaStart())
            {
                return Lambda(at);
            }
            if (IsWord("let"))
            {
                return Let(at);
            }
            if (IsWord("exists") || IsWord("forall") || IsWord("select"))
            {
                return Quantifier(at);
            }
            return Or();
        }
        finally
        {
            _depth--;
        }
    }

    private bool IsLambdaStart()
    {
        if (Peek.Kind == TokenKind.Identifier && PeekAt(1).Kind == TokenKind.Arrow)
        {
            return true;
        }
        if (Peek.Kind != TokenKind.LeftParen)
        {
            return false;
        }
        var i = 1;
        while (PeekAt(i).Kind == TokenKind.Identifier)
        {
            if (PeekAt(i + 1).Kind == TokenKind.RightParen)
            {
                return PeekAt(i + 2).Kind == TokenKind.Arrow;
            }
            if (PeekAt(i + 1).Kind != TokenKind.Comma)
            {
                return false;
            }
            i += 2;
        }
        return false;
    }

    private PqlNode Lambda(SourcePosition at)
    {
        var parameters = new List<string>();
        if (Peek.Kind == TokenKind.Identifier)
        {
            parameters.Add(Name("a parameter name"));
        }
        else
        {
            Take();
            do
            {
                parameters.Add(Name("a parameter name"));
            }
            while (Peek.Kind == TokenKind.Comma && Take().Kind == TokenKind.Comma);
            Expect(TokenKind.RightParen, "')'");
        }
        Expect(TokenKind.Arrow, "'=>'");
        var body = Bound(parameters, Expression);
        return new Lambda(parameters, body) { Position = at };
    }

    private PqlNode Let(SourcePosition at)
    {
        Take();
        var bindings = new List<KeyValuePair<string, PqlNode>>();
        var names = new List<string>();
        do
        {
            var name = Name("a variable name");
            Expect(TokenKind.Equal, "'='");
            // In a binding, 'in' ends the bindings: an 'in' comparison there needs parentheses.
            var wasNoIn = _noIn;
            _noIn = true;
            var value = Bound(names, Expression);
            _noIn = wasNoIn;
            bindings.Add(new KeyValuePair<string, PqlNode>(name, value));
            names.Add(name);
        }
        while (Peek.Kind == TokenKind.Comma && Take().Kind == TokenKind.Comma);
        ExpectWord("in");
        var body = Bound(names, Expression);
        return new Let(bindings, body) { Position = at };
    }

    private PqlNode Quantifier(SourcePosition at)
    {
        var kind = Take().Text switch
        {
            "exists" => QuantifierKind.Exists,
            "forall" => QuantifierKind.ForAll,
            _ => QuantifierKind.Select,
        };
        var clauses = new List<QuantifierClause>();
        var names = new List<string>();
        do
        {
            var variable = Name("a variable name");
            ExpectWord("from");
            var source = Bound(names, Or);
            names.Add(variable);
            PqlNode? condition = null;
            if (IsWord("where"))
            {
                Take();
                condition = Bound(names, Expression);
            }
            else if (kind != QuantifierKind.Select)
            {
                throw new PqlException($"expected 'where' after the source of '{(kind == QuantifierKind.Exists ? "exists" : "forall")}'", Peek.Position);
            }
            clauses.Add(new QuantifierClause(variable, source, condition));
        }
        // Another source: ", Y from ...".
        while (Peek.Kind == TokenKind.Comma && PeekAt(1).Kind == TokenKind.Identifier && PeekAt(2).Kind == TokenKind.Identifier
            && PeekAt(2).Text == "from" && Take().Kind == TokenKind.Comma);
        return new Quantifier(kind, clauses) { Position = at };
    }

    private static readonly HashSet<string> Aggregates = new(StringComparer.Ordinal) { "sum", "count", "average", "min", "max" };

    /// <summary><c>sum X.price over X from xEvent [where ...]</c>, after the function's name.</summary>
    private PqlNode Aggregation(string function, SourcePosition at)
    {
        // The value names the variable that 'over' declares after it: read as fields, then rebound.
        var value = Additive();
        ExpectWord("over");
        var variable = Name("a variable name");
        ExpectWord("from");
        var source = Or();
        PqlNode? condition = null;
        if (IsWord("where"))
        {
            Take();
            condition = Bound([variable], Expression);
        }
        return new Aggregation(function, Rebind(value, variable), variable, source, condition) { Position = at };
    }

    /// <summary>The value of an aggregation was read before its variable was declared: turn lookups of that name into the variable.</summary>
    private static PqlNode Rebind(PqlNode node, string variable) => node switch
    {
        FieldLookup { Target: null } field when field.Field == variable => new Parameter(0, variable) { Position = field.Position },
        FieldLookup field when field.Target is not null => field with { Target = Rebind(field.Target, variable) },
        FunctionCall call => call with { Receiver = call.Receiver is null ? null : Rebind(call.Receiver, variable), Arguments = [.. call.Arguments.Select(a => Rebind(a, variable))] },
        Filter filter => filter with { Source = Rebind(filter.Source, variable) },
        ArrayLiteral array => array with { Items = [.. array.Items.Select(i => Rebind(i, variable))] },
        _ => node,
    };

    private T Bound<T>(IReadOnlyList<string> names, Func<T> parse)
    {
        _bound.AddRange(names);
        try
        {
            return parse();
        }
        finally
        {
            _bound.RemoveRange(_bound.Count - names.Count, names.Count);
        }
    }

    private PqlNode Or()
    {
        var left = And();
        while (IsWord("or"))
        {
            var at = Take().Position;
            left = new FunctionCall("or", null, [left, And()]) { Position = at };
        }
        return left;
    }

    private PqlNode And()
    {
        var left = Not();
        while (IsWord("and"))
        {
            var at = Take().Position;
            left = new FunctionCall("and", null, [left, Not()]) { Position = at };
        }
        return left;
    }

    private PqlNode Not()
    {
        if (IsWord("not") || Peek.Kind == TokenKind.Bang)
        {
            var at = Take().Position;
            return new FunctionCall("not", null, [Nested(Not)]) { Position = at };
        }
        return Comparison();
    }

    private PqlNode Comparison()
    {
        var left = Additive();
        string? op = Peek.Kind switch
        {
            TokenKind.Equal => "=",
            TokenKind.NotEqual => "!=",
            TokenKind.Less => "<",
            TokenKind.LessEqual => "<=",
            TokenKind.Greater => ">",
            TokenKind.GreaterEqual => ">=",
            TokenKind.Identifier when Peek.Text == "in" && !_noIn => "in",
            TokenKind.Identifier when Peek.Text == "notIn" => "notIn",
            TokenKind.Identifier when Peek.Text == "like" => "like",
            _ => null,
        };
        if (IsWord("occurs"))
        {
            var occursAt = Take().Position;
            return OccursTail(left, occursAt);
        }
        if (op is null)
        {
            return left;
        }
        var at = Take().Position;
        return new FunctionCall(op, null, [left, Additive()]) { Position = at };
    }

    private PqlNode Additive()
    {
        var left = Multiplicative();
        while (Peek.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            var token = Take();
            left = new FunctionCall(token.Text, null, [left, Multiplicative()]) { Position = token.Position };
        }
        return left;
    }

    private PqlNode Multiplicative()
    {
        var left = Unary();
        while (Peek.Kind is TokenKind.Star or TokenKind.Slash or TokenKind.Percent)
        {
            var token = Take();
            left = new FunctionCall(token.Text, null, [left, Unary()]) { Position = token.Position };
        }
        return left;
    }

    private PqlNode Unary()
    {
        if (Peek.Kind != TokenKind.Minus)
        {
            return Postfix();
        }
        var at = Take().Position;
        // A minus written right before a number is part of the literal: -201 is a number, not a negation.
        if (Peek.Kind is TokenKind.Integer or TokenKind.Double && Peek.Position.Offset == at.Offset + 1
            && PeekAt(1).Kind is not (TokenKind.Dot or TokenKind.LeftBracket))
        {
            var number = Take();
            return NumberLiteral("-" + number.Text, at);
        }
        return new FunctionCall("neg", null, [Nested(Unary)]) { Position = at };
    }

    private PqlNode Postfix()
    {
        var node = Primary();
        while (true)
        {
            if (Peek.Kind == TokenKind.Dot)
            {
                Take();
                var token = Expect(TokenKind.Identifier, "a field or function name after '.'");
                if (Peek.Kind == TokenKind.LeftParen)
                {
                    node = new FunctionCall(token.Text, node, Arguments()) { Position = token.Position };
                }
                else
                {
                    node = new FieldLookup(node, token.Text) { Position = token.Position };
                }
            }
            else if (Peek.Kind == TokenKind.LeftBracket)
            {
                var at = Take().Position;
                var condition = Nested(Expression);
                Expect(TokenKind.RightBracket, "']' closing the filter");
                node = new Filter(node, condition) { Position = at };
            }
            else
            {
                return node;
            }
        }
    }

    private List<PqlNode> Arguments()
    {
        Expect(TokenKind.LeftParen, "'('");
        var arguments = new List<PqlNode>();
        if (Peek.Kind != TokenKind.RightParen)
        {
            do
            {
                arguments.Add(Nested(Expression));
            }
            while (Peek.Kind == TokenKind.Comma && Take().Kind == TokenKind.Comma);
        }
        Expect(TokenKind.RightParen, "')' or ','");
        return arguments;
    }

    /// <summary>Parses inside brackets or arguments, where 'in' is an operator again.</summary>
    private PqlNode Nested(Func<PqlNode> parse)
    {
        if (++_depth > MaxDepth)
        {
            throw new PqlException($"expression nested deeper than {MaxDepth} levels", Peek.Position);
        }
        var wasNoIn = _noIn;
        _noIn = false;
        try
        {
            return parse();
        }
        finally
        {
            _noIn = wasNoIn;
            _depth--;
        }
    }

    private PqlNode Primary()
    {
        var token = Peek;
        var at = token.Position;
        switch (token.Kind)
        {
            case TokenKind.String:
                Take();
                return new Literal(LiteralKind.String, token.Text) { Position = at };
            case TokenKind.Integer or TokenKind.Double:
                Take();
                return NumberLiteral(token.Text, at);
            case TokenKind.Parameter:
                Take();
                return new Parameter(int.Parse(token.Text, CultureInfo.InvariantCulture)) { Position = at };
            case TokenKind.LeftParen:
                {
                    Take();
                    var inner = Nested(Expression);
                    Expect(TokenKind.RightParen, "')'");
                    return inner;
                }
            case TokenKind.LeftBracket:
                {
                    Take();
                    var items = new List<PqlNode>();
                    if (Peek.Kind != TokenKind.RightBracket)
                    {
                        do
                        {
                            items.Add(Nested(Expression));
                        }
                        while (Peek.Kind == TokenKind.Comma && Take().Kind == TokenKind.Comma);
                    }
                    Expect(TokenKind.RightBracket, "']' or ','");
                    return new ArrayLiteral(items) { Position = at };
                }
            case TokenKind.Caret:
                {
                    var levels = 0;
                    while (Peek.Kind == TokenKind.Caret)
                    {
                        Take();
                        levels++;
                    }
                    if (Peek.Kind == TokenKind.Dot)
                    {
                        Take();
                    }
                    var field = Expect(TokenKind.Identifier, "a field after '^'");
                    return new FieldLookup(new Parameter(0, null, levels) { Position = at }, field.Text) { Position = field.Position };
                }
            case TokenKind.Identifier:
                return Identifier();
            default:
                throw new PqlException($"expected a value, a field or a function, found {Describe(token)}", at);
        }
    }

    private PqlNode Identifier()
    {
        var token = Take();
        var at = token.Position;
        switch (token.Text)
        {
            case "true":
                return new Literal(LiteralKind.Boolean, true) { Position = at };
            case "false":
                return new Literal(LiteralKind.Boolean, false) { Position = at };
            case "null":
                return new Literal(LiteralKind.Null, null) { Position = at };
        }
        if (Aggregates.Contains(token.Text) && Peek.Kind is TokenKind.Identifier or TokenKind.Parameter && !Keywords.Contains(Peek.Text))
        {
            return Aggregation(token.Text, at);
        }
        if (Peek.Kind == TokenKind.LeftParen && token.Text is "chain" or "CHAIN")
        {
            return Chain(token.Text, at);
        }
        if (Peek.Kind == TokenKind.LeftParen)
        {
            return new FunctionCall(token.Text, null, Arguments()) { Position = at };
        }
        if (Keywords.Contains(token.Text))
        {
            throw new PqlException($"unexpected '{token.Text}'", at);
        }
        return _bound.Contains(token.Text)
            ? new Parameter(0, token.Text) { Position = at }
            : new FieldLookup(null, token.Text) { Position = at };
    }

    private static readonly HashSet<string> Units = new(StringComparer.Ordinal)
    {
        "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years",
        "century", "centuries", "millennium", "millennia",
    };

    private static readonly HashSet<string> Anchors = new(StringComparer.Ordinal) { "now", "today", "yesterday", "tomorrow" };

    /// <summary>What follows 'occurs' (or fills a chain step's WHEN): the forms docs/pql.md lists.</summary>
    private Occurs OccursTail(PqlNode? subject, SourcePosition at)
    {
        string? comparison = Peek.Kind switch
        {
            TokenKind.Equal => "=",
            TokenKind.Less => "<",
            TokenKind.LessEqual => "<=",
            TokenKind.Greater => ">",
            TokenKind.GreaterEqual => ">=",
            _ => null,
        };
        if (comparison is not null)
        {
            Take();
        }
        if (comparison is null && Peek.Kind == TokenKind.Identifier && Peek.Text is "last" or "this" or "next")
        {
            var relation = Take().Text;
            return new Occurs(subject, null, null, Unit(), relation, null, null) { Position = at };
        }
        if (comparison is null && IsWord("on"))
        {
            Take();
            return new Occurs(subject, null, null, null, "on", Anchor(), null) { Position = at };
        }
        if (comparison is null && IsWord("between"))
        {
            Take();
            var from = Anchor();
            ExpectWord("and");
            return new Occurs(subject, null, null, null, "between", from, Anchor()) { Position = at };
        }
        PqlNode? amount = null;
        string? unit = null;
        if (!(Peek.Kind == TokenKind.Identifier && Peek.Text is "before" or "after"))
        {
            if (comparison is null && Peek.Kind == TokenKind.Identifier && Anchors.Contains(Peek.Text))
            {
                return new Occurs(subject, null, null, null, "on", Anchor(), null) { Position = at }; // WHEN(today)
            }
            amount = Nested(Multiplicative);
            if (comparison is null && !(Peek.Kind == TokenKind.Identifier && Units.Contains(Peek.Text)))
            {
                return new Occurs(subject, null, null, null, "on", amount, null) { Position = at }; // occurs date(2019, 12, 31)
            }
            unit = Unit();
        }
        if (!(Peek.Kind == TokenKind.Identifier && Peek.Text is "before" or "after"))
        {
            throw new PqlException($"expected 'before' or 'after', found {Describe(Peek)}", Peek.Position);
        }
        var direction = Take().Text;
        return new Occurs(subject, comparison, amount, unit, direction, Anchor(), null) { Position = at };
    }

    private string Unit()
    {
        var token = Expect(TokenKind.Identifier, "a time unit (seconds, minutes, hours, days, weeks, months, years)");
        return Units.Contains(token.Text) ? token.Text : throw new PqlException($"'{token.Text}' is not a time unit", token.Position);
    }

    /// <summary>A point in time: now, today, yesterday, tomorrow, or any value (date(...), a field).</summary>
    private PqlNode Anchor()
    {
        if (Peek.Kind == TokenKind.Identifier && Anchors.Contains(Peek.Text) && PeekAt(1).Kind != TokenKind.LeftParen)
        {
            var token = Take();
            return new FunctionCall(token.Text, null, []) { Position = token.Position };
        }
        return Nested(Additive);
    }

    private PqlNode Chain(string spelling, SourcePosition at)
    {
        Expect(TokenKind.LeftParen, "'('");
        var source = Nested(Expression);
        Expect(TokenKind.Comma, "',' after the chain's events");
        var time = Nested(Expression);
        Expect(TokenKind.Comma, "',' after the chain's time field");
        Expect(TokenKind.LeftBracket, "'[' opening the chain's steps");
        var steps = new List<ChainStep>();
        do
        {
            var label = Name("a step label");
            Expect(TokenKind.Colon, "':' after the step label");
            PqlNode? what = null, where = null, when = null, count = null;
            while (Peek.Kind == TokenKind.Identifier && Peek.Text is "WHAT" or "WHERE" or "WHEN" or "COUNT" && PeekAt(1).Kind == TokenKind.LeftParen)
            {
                var clause = Take();
                Take();
                switch (clause.Text)
                {
                    case "WHAT": what = Nested(Expression); break;
                    case "WHERE": where = Nested(Expression); break;
                    case "WHEN": when = OccursTail(null, Peek.Position); break;
                    default: count = Nested(Expression); break;
                }
                Expect(TokenKind.RightParen, $"')' closing {clause.Text}");
            }
            steps.Add(new ChainStep(label, what, where, when, count));
        }
        while (Peek.Kind == TokenKind.Comma && Take().Kind == TokenKind.Comma);
        Expect(TokenKind.RightBracket, "']' closing the chain's steps");
        Expect(TokenKind.RightParen, "')' closing the chain");
        return new Chain(spelling, source, time, steps) { Position = at };
    }

    private static Literal NumberLiteral(string text, SourcePosition at) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) && !text.Contains('.') && !text.Contains('e') && !text.Contains('E')
            ? new Literal(LiteralKind.Integer, integer) { Position = at }
            : new Literal(LiteralKind.Double, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)) { Position = at };
}

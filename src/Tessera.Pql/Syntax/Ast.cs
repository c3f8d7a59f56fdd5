namespace Tessera.Pql.Syntax;

/// <summary>Where a node starts in the source: 1-based line and column, 0-based offset.</summary>
public readonly record struct SourcePosition(int Offset, int Line, int Column)
{
    public override string ToString() => $"{Line}:{Column}";
}

/// <summary>
/// A node of a parsed PQL expression. Nodes are immutable; <see cref="Position"/> says where each
/// starts but takes no part in equality, so two parses of the same expression written differently
/// (spacing, parentheses) are equal trees.
/// </summary>
public abstract record PqlNode
{
    public SourcePosition Position { get; init; }

    public virtual bool Equals(PqlNode? other) => other is not null && other.GetType() == GetType();

    public override int GetHashCode() => GetType().GetHashCode();
}

public enum LiteralKind
{
    String,
    Integer,
    Double,
    Boolean,
    Null,
}

/// <summary>A literal: a string, a 64-bit integer, a double, a boolean or null.</summary>
public sealed record Literal(LiteralKind Kind, object? Value) : PqlNode
{
    public bool Equals(Literal? other) => other is not null && Kind == other.Kind && Equals(Value, other.Value);

    public override int GetHashCode() => HashCode.Combine(Kind, Value);
}

/// <summary>An array literal: <c>[1, 2, 3]</c>.</summary>
public sealed record ArrayLiteral(IReadOnlyList<PqlNode> Items) : PqlNode
{
    public bool Equals(ArrayLiteral? other) => other is not null && Items.SequenceEqual(other.Items);

    public override int GetHashCode() => Items.Count;
}

/// <summary>
/// A reference to an input parameter: <c>$1</c> (by position), a named lambda or quantifier
/// variable (<c>Profile</c>, <c>X</c>), or <c>^</c>s climbing out of enclosing filters (<see cref="Up"/> levels).
/// </summary>
public sealed record Parameter(int Index, string? Name = null, int Up = 0) : PqlNode
{
    public bool Equals(Parameter? other) => other is not null && Index == other.Index && Name == other.Name && Up == other.Up;

    public override int GetHashCode() => HashCode.Combine(Index, Name, Up);
}

/// <summary>A field of <see cref="Target"/>; a null target is the implicit first parameter (or the filter's item).</summary>
public sealed record FieldLookup(PqlNode? Target, string Field) : PqlNode
{
    public bool Equals(FieldLookup? other) => other is not null && Field == other.Field && Equals(Target, other.Target);

    public override int GetHashCode() => HashCode.Combine(Field, Target);
}

/// <summary>
/// A function applied to arguments. Operators are functions too (<c>and</c>, <c>=</c>, <c>+</c>, <c>in</c>,
/// <c>not</c>, <c>neg</c>); <see cref="Receiver"/> is what a method-style call is made on
/// (<c>name.startsWith("A")</c>), null for a plain call (<c>count(X)</c>, <c>now()</c>).
/// </summary>
public sealed record FunctionCall(string Function, PqlNode? Receiver, IReadOnlyList<PqlNode> Arguments) : PqlNode
{
    public bool Equals(FunctionCall? other) =>
        other is not null && Function == other.Function && Equals(Receiver, other.Receiver) && Arguments.SequenceEqual(other.Arguments);

    public override int GetHashCode() => HashCode.Combine(Function, Arguments.Count);
}

/// <summary>The items of <see cref="Source"/> for which <see cref="Condition"/> holds: <c>xEvent[eventType = "x"]</c>.</summary>
public sealed record Filter(PqlNode Source, PqlNode Condition) : PqlNode
{
    public bool Equals(Filter? other) => other is not null && Source.Equals(other.Source) && Condition.Equals(other.Condition);

    public override int GetHashCode() => HashCode.Combine(Source, Condition);
}

/// <summary>A lambda: <c>(Profile) =&gt; Profile.age &gt; 18</c>, <c>(K, G) =&gt; ...</c>.</summary>
public sealed record Lambda(IReadOnlyList<string> Parameters, PqlNode Body) : PqlNode
{
    public bool Equals(Lambda? other) => other is not null && Parameters.SequenceEqual(other.Parameters) && Body.Equals(other.Body);

    public override int GetHashCode() => HashCode.Combine(Parameters.Count, Body);
}

public enum QuantifierKind
{
    Exists,
    ForAll,
    Select,
}

/// <summary>One source of a quantifier: <c>X from xEvent where ...</c> (the condition optional for select).</summary>
public sealed record QuantifierClause(string Variable, PqlNode Source, PqlNode? Condition)
{
    public bool Equals(QuantifierClause? other) => other is not null && Variable == other.Variable && Source.Equals(other.Source) && Equals(Condition, other.Condition);

    public override int GetHashCode() => HashCode.Combine(Variable, Source);
}

/// <summary>
/// <c>exists X from xEvent where ...</c>, <c>forall ...</c>, <c>select X from ... where ...</c>; several sources
/// nest (<c>exists E from xEvent where ..., I from E.productListItems where ...</c>): each later clause sees the earlier variables.
/// </summary>
public sealed record Quantifier(QuantifierKind Kind, IReadOnlyList<QuantifierClause> Clauses) : PqlNode
{
    public bool Equals(Quantifier? other) => other is not null && Kind == other.Kind && Clauses.SequenceEqual(other.Clauses);

    public override int GetHashCode() => HashCode.Combine(Kind, Clauses.Count);
}

/// <summary><c>sum X.price over X from xEvent where ...</c>: an aggregate of <see cref="Value"/> over the matching items.</summary>
public sealed record Aggregation(string Function, PqlNode Value, string Variable, PqlNode Source, PqlNode? Condition) : PqlNode
{
    public bool Equals(Aggregation? other) => other is not null && Function == other.Function && Value.Equals(other.Value)
        && Variable == other.Variable && Source.Equals(other.Source) && Equals(Condition, other.Condition);

    public override int GetHashCode() => HashCode.Combine(Function, Variable, Source);
}

/// <summary><c>let X = expr, Y = expr in body</c>.</summary>
public sealed record Let(IReadOnlyList<KeyValuePair<string, PqlNode>> Bindings, PqlNode Body) : PqlNode
{
    public bool Equals(Let? other) => other is not null && Bindings.Count == other.Bindings.Count
        && Bindings.Zip(other.Bindings).All(p => p.First.Key == p.Second.Key && p.First.Value.Equals(p.Second.Value)) && Body.Equals(other.Body);

    public override int GetHashCode() => HashCode.Combine(Bindings.Count, Body);
}

/// <summary>
/// A time condition: <c>X occurs &lt;= 3 days before now</c>, <c>occurs on date(2019, 12, 31)</c>,
/// <c>occurs between A and B</c>, <c>occurs last week</c>, <c>occurs before today</c>. <see cref="Subject"/>
/// is null inside a chain step's <c>WHEN(...)</c>, which conditions the step's own time.
/// <see cref="Relation"/> is before, after, on, between, last, this or next; <see cref="Comparison"/>
/// (=, &lt;, &lt;=, &gt;, &gt;=) and <see cref="Amount"/> go with a <see cref="Unit"/> before or after an anchor.
/// </summary>
public sealed record Occurs(PqlNode? Subject, string? Comparison, PqlNode? Amount, string? Unit, string Relation, PqlNode? Anchor, PqlNode? Until) : PqlNode
{
    public bool Equals(Occurs? other) => other is not null && Equals(Subject, other.Subject) && Comparison == other.Comparison
        && Equals(Amount, other.Amount) && Unit == other.Unit && Relation == other.Relation && Equals(Anchor, other.Anchor) && Equals(Until, other.Until);

    public override int GetHashCode() => HashCode.Combine(Relation, Unit, Comparison);
}

/// <summary>One step of a chain: <c>A: WHAT(...) WHERE(...) WHEN(...) COUNT(n)</c>, each clause optional.</summary>
public sealed record ChainStep(string Label, PqlNode? What, PqlNode? Where, PqlNode? When, PqlNode? Count)
{
    public bool Equals(ChainStep? other) => other is not null && Label == other.Label && Equals(What, other.What)
        && Equals(Where, other.Where) && Equals(When, other.When) && Equals(Count, other.Count);

    public override int GetHashCode() => HashCode.Combine(Label, What);
}

/// <summary>
/// <c>chain(xEvent, timestamp, [A: WHAT(...) ..., B: ...])</c>: events of <see cref="Source"/> matching
/// the steps in order of <see cref="TimeField"/>. <see cref="Spelling"/> keeps <c>chain</c> or <c>CHAIN</c>.
/// </summary>
public sealed record Chain(string Spelling, PqlNode Source, PqlNode TimeField, IReadOnlyList<ChainStep> Steps) : PqlNode
{
    public bool Equals(Chain? other) => other is not null && Source.Equals(other.Source) && TimeField.Equals(other.TimeField) && Steps.SequenceEqual(other.Steps);

    public override int GetHashCode() => HashCode.Combine(Source, Steps.Count);
}

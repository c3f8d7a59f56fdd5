using System.Text;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// The fields of a profile's events (the items of <c>xEvent</c>) that a set of expressions can read, found
/// from their trees, so that the engines convert only those from a stored event (<see cref="PqlProfile.Convert(ReadOnlySpan{byte}, TimeZoneInfo, EventProjection?)"/>)
/// and keep only those in memory. A web event of 700 bytes holds a page, URLs, a user agent, an IP address
/// and an identity map; an audience reading its type and time needs two of its twenty values.
/// </summary>
/// <remarks>
/// <para>
/// A field is kept with everything below it (<c>web.webPageDetails.name</c> keeps that value whole, and every
/// item of an array on the way: a field of an array is the field of each item). <c>timestamp</c> is always kept.
/// </para>
/// <para>
/// The analysis follows where event values flow: from <c>xEvent</c> (or <c>Profile.xEvent</c>) through filters,
/// field lookups, quantifier, aggregation and chain variables, <c>let</c> bindings, the implicit item of a filter,
/// a chain or a per-item function (<c>^</c> included), and records a path where a value is read: compared, passed
/// to a function, returned. Only the events array itself may be read without its fields (its count, its emptiness,
/// as a filter's or a chain's source): dropping fields never drops an event. Anything it does not follow — the
/// whole profile or a whole event passed on, a node it does not know — means every field (no projection).
/// It over-approximates, never under: a property test evaluates random expressions over projected and whole
/// events and requires the same answers.
/// </para>
/// </remarks>
public sealed class EventProjection
{
    private EventProjection(Field[] fields)
    {
        Fields = fields;
        Key = string.Join(',', fields.Select(f => f.Child is null ? f.Name : $"{f.Name}{{{f.Child.Key}}}"));
    }

    /// <summary>The fields kept at this level, by name; a null child keeps the field whole.</summary>
    internal Field[] Fields { get; }

    /// <summary>The projection written out (<c>eventType,timestamp,web{webPageDetails{name}}</c>): equal keys, equal projections.</summary>
    public string Key { get; }

    public override string ToString() => Key;

    /// <summary>Whether two projections (either null: every field) keep the same fields.</summary>
    public static bool Same(EventProjection? a, EventProjection? b) => a is null ? b is null : b is not null && a.Key == b.Key;

    /// <summary>
    /// The event fields <paramref name="expressions"/> can read, evaluated as conditions (as audiences are: only whether
    /// each value holds is read of it, so a bare <c>xEvent[...]</c> needs none of the fields it does not test; every
    /// change of whether it holds is a change of its value on projected events too, so next changes are found alike);
    /// null when it may be any of them.
    /// </summary>
    public static EventProjection? Of(IEnumerable<PqlNode> expressions) => Of(expressions, values: false);

    /// <param name="expressions">The expressions.</param>
    /// <param name="values">Whether their whole values are read (every field of an event they return), not only whether they hold.</param>
    internal static EventProjection? Of(IEnumerable<PqlNode> expressions, bool values)
    {
        var reads = new Reads(values);
        foreach (var expression in expressions)
        {
            reads.Root(expression);
            if (reads.Everything)
            {
                return null;
            }
        }
        reads.Record(["timestamp"]);
        return Build(reads.Kept);
    }

    private static EventProjection Build(PathNode node) =>
        new([.. node.Children.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => new Field(PqlNames.Intern(c.Key), Encoding.UTF8.GetBytes(c.Key), c.Value.Whole ? null : Build(c.Value)))]);

    internal sealed record Field(string Name, byte[] Utf8, EventProjection? Child);

    /// <summary>The field kept at this level whose name the reader (on a property name) stands on; null when none is.</summary>
    internal Field? Kept(ref System.Text.Json.Utf8JsonReader reader)
    {
        foreach (var field in Fields)
        {
            if (reader.ValueTextEquals(field.Utf8))
            {
                return field;
            }
        }
        return null;
    }

    private sealed class PathNode
    {
        public bool Whole;
        public readonly Dictionary<string, PathNode> Children = new(StringComparer.Ordinal);
    }

    /// <summary>What a value may be, as far as events go.</summary>
    private enum Kind
    {
        /// <summary>Nothing read from an event.</summary>
        Other,

        /// <summary>The profile's root record (it holds <c>xEvent</c>).</summary>
        Profile,

        /// <summary><c>xEvent</c>, or a filter of it: an array of whole events.</summary>
        EventArray,

        /// <summary>Values inside events at <see cref="Shape.Path"/> (an event itself when the path is empty).</summary>
        Events,
    }

    private readonly record struct Shape(Kind Kind, string[] Path)
    {
        public static readonly Shape Other = new(Kind.Other, []);
        public static readonly Shape Profile = new(Kind.Profile, []);
        public static readonly Shape EventArray = new(Kind.EventArray, []);

        public static Shape Events(string[] path) => new(Kind.Events, path);

        /// <summary>An item of this value when it is an array (the implicit item of a filter or a per-item function).</summary>
        public Shape Item => Kind switch
        {
            Kind.EventArray => Events([]),
            Kind.Events => this,
            _ => Other,
        };
    }

    private sealed class Reads(bool values)
    {
        private readonly List<Shape> _implicit = [];
        private readonly List<(string Name, Shape Shape)> _variables = [];

        public PathNode Kept { get; } = new();

        public bool Everything { get; private set; }

        public void Root(PqlNode expression)
        {
            _implicit.Clear();
            _variables.Clear();
            _implicit.Add(Shape.Profile);
            if (expression is Lambda { Parameters.Count: > 0 } lambda)
            {
                _variables.Add((lambda.Parameters[0], Shape.Profile));
                Answer(Eval(lambda.Body));
            }
            else
            {
                Answer(Eval(expression));
            }
        }

        public void Record(string[] path)
        {
            if (path.Length == 0)
            {
                Everything = true;
                return;
            }
            var node = Kept;
            foreach (var part in path)
            {
                if (node.Whole)
                {
                    return;
                }
                if (!node.Children.TryGetValue(part, out var child))
                {
                    node.Children[part] = child = new PathNode();
                }
                node = child;
            }
            node.Whole = true;
            node.Children.Clear();
        }

        private void Answer(Shape shape)
        {
            if (values)
            {
                Use(shape);
            }
            else
            {
                Truth(shape);
            }
        }

        /// <summary>The value is read as it is: every field in it counts.</summary>
        private void Use(Shape shape)
        {
            switch (shape.Kind)
            {
                case Kind.Profile or Kind.EventArray:
                    Everything = true;
                    break;
                case Kind.Events:
                    Record(shape.Path);
                    break;
            }
        }

        /// <summary>
        /// Only the value's truth, count or items are read (a condition, a count, a source): the events array's
        /// length and emptiness do not depend on the fields kept, nor is the profile record ever true.
        /// </summary>
        private void Truth(Shape shape)
        {
            if (shape.Kind == Kind.Events)
            {
                Record(shape.Path);
            }
        }

        private Shape Eval(PqlNode? node)
        {
            if (DeepTrees.StackIsLow)
            {
                return DeepTrees.OnFreshStack(() => Eval(node));
            }
            switch (node)
            {
                case null or Literal:
                    return Shape.Other;
                case ArrayLiteral array:
                    foreach (var item in array.Items)
                    {
                        Use(Eval(item));
                    }
                    return Shape.Other;
                case Parameter { Up: > 0 } up:
                    return up.Up < _implicit.Count ? _implicit[^(up.Up + 1)] : Shape.Other;
                case Parameter { Name: { } name }:
                    for (var i = _variables.Count - 1; i >= 0; i--)
                    {
                        if (_variables[i].Name == name)
                        {
                            return _variables[i].Shape;
                        }
                    }
                    return Shape.Other;
                case Parameter:
                    return Shape.Profile;
                case FieldLookup field:
                    var target = field.Target is null ? _implicit[^1] : Eval(field.Target);
                    return target.Kind switch
                    {
                        Kind.Profile => field.Field == "xEvent" ? Shape.EventArray : Shape.Other,
                        Kind.EventArray => Shape.Events([field.Field]),
                        Kind.Events => Shape.Events([.. target.Path, field.Field]),
                        _ => Shape.Other,
                    };
                case Filter filter:
                    {
                        var source = Source(Eval(filter.Source));
                        Inside(source.Item, () => Truth(Eval(filter.Condition)));
                        return source.Kind is Kind.EventArray or Kind.Events ? source : Shape.Other;
                    }
                case Aggregation aggregation:
                    {
                        var item = Source(Eval(aggregation.Source)).Item;
                        Bound([(aggregation.Variable, item)], () =>
                        {
                            Use(Eval(aggregation.Value));
                            Truth(Eval(aggregation.Condition));
                        });
                        return Shape.Other;
                    }
                case Quantifier quantifier:
                    {
                        var bound = 0;
                        foreach (var clause in quantifier.Clauses)
                        {
                            var item = Source(Eval(clause.Source)).Item;
                            _variables.Add((clause.Variable, item));
                            bound++;
                            Truth(Eval(clause.Condition));
                            if (quantifier.Kind == QuantifierKind.Select)
                            {
                                Use(item); // The items themselves are the answer.
                            }
                        }
                        _variables.RemoveRange(_variables.Count - bound, bound);
                        return Shape.Other;
                    }
                case Let let:
                    {
                        var bound = 0;
                        foreach (var (name, value) in let.Bindings)
                        {
                            _variables.Add((name, Eval(value)));
                            bound++;
                        }
                        var body = Eval(let.Body);
                        _variables.RemoveRange(_variables.Count - bound, bound);
                        return body;
                    }
                case Occurs occurs:
                    Use(Eval(occurs.Subject));
                    Use(Eval(occurs.Amount));
                    Use(Eval(occurs.Anchor));
                    Use(Eval(occurs.Until));
                    return Shape.Other;
                case Chain chain:
                    {
                        var item = Source(Eval(chain.Source)).Item;
                        Inside(item, () =>
                        {
                            Use(Eval(chain.TimeField));
                            foreach (var step in chain.Steps)
                            {
                                Use(Eval(step.What));
                                Use(Eval(step.Where));
                                Use(Eval(step.When));
                            }
                        });
                        foreach (var step in chain.Steps)
                        {
                            Use(Eval(step.Count)); // Read outside the step's item.
                        }
                        return Shape.Other;
                    }
                case FunctionCall call:
                    return Call(call);
                case Lambda lambda:
                    // A lambda passed where this analysis does not bind it: its parameters may be anything read so far.
                    Bound([.. lambda.Parameters.Select(p => (p, Shape.Other))], () => Use(Eval(lambda.Body)));
                    return Shape.Other;
                default:
                    Everything = true;
                    return Shape.Other;
            }
        }

        /// <summary>A filter's, quantifier's or chain's source: the events array is read for its items only; anything else whole.</summary>
        private Shape Source(Shape source)
        {
            if (source.Kind != Kind.EventArray)
            {
                Use(source);
            }
            return source;
        }

        private Shape Call(FunctionCall call)
        {
            IReadOnlyList<PqlNode> arguments = call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments];
            if (arguments.Count == 0)
            {
                return Shape.Other;
            }
            var first = Eval(arguments[0]);
            switch (call.Function)
            {
                case "and" or "or" or "not" or "isNull" or "isNotNull":
                    // Only truth and nullness are read (the events array is never null or true).
                    Truth(first);
                    for (var i = 1; i < arguments.Count; i++)
                    {
                        Truth(Eval(arguments[i]));
                    }
                    return Shape.Other;
                case "count" when arguments.Count == 1:
                    Truth(first); // A count of the events array is the number of events, whatever fields they keep.
                    return Shape.Other;
                case "filter" or "exists" or "forall" or "count" when arguments.Count == 2:
                    Truth(first);
                    PerItem(first, arguments[1], Truth);
                    return call.Function == "filter" && first.Kind is Kind.EventArray or Kind.Events ? first : Shape.Other;
                case "map" or "sum" or "average" or "min" or "max" when arguments.Count == 2:
                    Truth(first); // The items are not the answer: what the second argument reads of each is.
                    PerItem(first, arguments[1], Use);
                    return Shape.Other;
            }
            // Anything else reads its arguments whole; those that evaluate their second per item of the first (the
            // compiler's per-item functions) read it within an item, the rest as written.
            Use(first);
            var perItem = call.Function is "topN" or "bottomN" or "groupBy" or "map" or "filter" or "exists" or "forall"
                || (call.Function is "count" or "sum" or "average" or "min" or "max" && arguments.Count > 1);
            for (var i = 1; i < arguments.Count; i++)
            {
                if (perItem && i == 1)
                {
                    PerItem(first, arguments[i], Use);
                }
                else
                {
                    Use(Eval(arguments[i]));
                }
            }
            return Shape.Other;
        }

        /// <summary>Follows <paramref name="argument"/> as evaluated for each item of <paramref name="source"/>: the implicit item, and a lambda's parameters.</summary>
        private void PerItem(Shape source, PqlNode argument, Action<Shape> read)
        {
            var item = source.Item;
            Inside(item, () =>
            {
                if (argument is Lambda lambda)
                {
                    // One parameter is the item; two are a map entry's key and value (bound both ways: it only reads more).
                    Bound([.. lambda.Parameters.Select(p => (p, item))], () => read(Eval(lambda.Body)));
                }
                else
                {
                    read(Eval(argument));
                }
            });
        }

        /// <summary>Follows <paramref name="body"/> with <paramref name="item"/> as the implicit item (<c>^</c> climbs out of it).</summary>
        private void Inside(Shape item, Action body)
        {
            _implicit.Add(item);
            try
            {
                body();
            }
            finally
            {
                _implicit.RemoveAt(_implicit.Count - 1);
            }
        }

        private void Bound((string Name, Shape Shape)[] variables, Action body)
        {
            _variables.AddRange(variables);
            try
            {
                body();
            }
            finally
            {
                _variables.RemoveRange(_variables.Count - variables.Length, variables.Length);
            }
        }
    }
}

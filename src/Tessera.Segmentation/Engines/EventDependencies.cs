using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Segmentation.Engines;

/// <summary>
/// What an audience reads that a new event can change (the streaming engine's dependency index,
/// docs/segmentation.md): nothing (attributes only), events behind a guard, or events without one.
/// </summary>
/// <remarks>
/// A guard is the first condition an event must pass before anything else of it is read: the
/// leftmost operand of the <c>and</c>s of a filter's condition (<c>xEvent[eventType = "x" and ...]</c>)
/// or of every step's <c>WHAT</c> of a chain over <c>xEvent</c>, comparing a field of the event with
/// literal texts (<c>=</c>, <c>in [...]</c>). An event whose field holds none of those texts is
/// dropped by the filter (the first operand is not true and <c>and</c> stops there) and passed over
/// by the chain (an event that matches no step changes no step's match), whatever the clock says:
/// the audience's answer at every instant is the one it had without it, so neither its answer nor its
/// next change needs computing again. Anything this analysis does not follow — a read of
/// <c>xEvent</c> elsewhere, a variable or parameter (which may hold the whole profile), a chain time
/// field that is not a plain field — makes every event a possible change.
/// </remarks>
internal sealed class EventReads
{
    private static readonly TimeWindow Utc = new(TimeZoneInfo.Utc);

    private EventReads(bool readsEvents, IReadOnlyList<EventGuard>? guards, HashSet<string>? segments)
    {
        ReadsEvents = readsEvents;
        Guards = guards;
        Segments = segments;
    }

    /// <summary>Whether a new event may change the answer at all.</summary>
    public bool ReadsEvents { get; }

    /// <summary>When every read of the events is guarded: the guards (an event passing none of them changes nothing); null when unguarded.</summary>
    public IReadOnlyList<EventGuard>? Guards { get; }

    /// <summary>The audiences whose answers it reads (<c>inSegment</c>): empty for none; null when one is computed (any may be).</summary>
    public HashSet<string>? Segments { get; }

    public static EventReads Of(PqlNode tree)
    {
        var guards = new List<EventGuard>();
        var unguarded = false;
        var readsEvents = false;
        HashSet<string>? segments = [];
        void Visit(PqlNode node, PqlNode? parent)
        {
            switch (node)
            {
                case Parameter:
                    readsEvents = true;
                    unguarded = true; // A variable or parameter may be the profile or its events.
                    break;
                case FieldLookup { Field: "xEvent" } field:
                    readsEvents = true;
                    if (field.Target is not null || GuardsOf(field, parent) is not { } found)
                    {
                        unguarded = true;
                    }
                    else
                    {
                        guards.AddRange(found);
                    }
                    break;
                case FunctionCall { Function: "inSegment" } call:
                    if ((call.Receiver ?? (call.Arguments.Count > 0 ? call.Arguments[0] : null)) is Literal { Value: string id })
                    {
                        segments?.Add(id);
                    }
                    else
                    {
                        segments = null;
                    }
                    break;
            }
            foreach (var child in PqlTree.Children(node))
            {
                Visit(child, node);
            }
        }
        Visit(tree, null);
        return new EventReads(readsEvents, unguarded ? null : guards, segments);
    }

    /// <summary>The guards of a read of <c>xEvent</c> that is the source of a filter or a chain, or null.</summary>
    private static List<EventGuard>? GuardsOf(FieldLookup source, PqlNode? parent)
    {
        switch (parent)
        {
            case Filter filter when ReferenceEquals(filter.Source, source):
                return GuardOf(filter.Condition) is { } guard ? [guard] : null;
            case Chain chain when ReferenceEquals(chain.Source, source) && PathOf(chain.TimeField) is not null && chain.Steps.Count > 0:
                var guards = new List<EventGuard>();
                foreach (var step in chain.Steps)
                {
                    if (step.What is null || GuardOf(step.What) is not { } stepGuard)
                    {
                        return null; // A step any event may match.
                    }
                    guards.Add(stepGuard);
                }
                return guards;
            default:
                return null;
        }
    }

    /// <summary>The leftmost operand of a condition's <c>and</c>s, when it compares an item field with literal texts.</summary>
    private static EventGuard? GuardOf(PqlNode condition)
    {
        while (condition is FunctionCall { Function: "and" } and)
        {
            var first = and.Receiver ?? (and.Arguments.Count > 0 ? and.Arguments[0] : null);
            if (first is null)
            {
                return null;
            }
            condition = first;
        }
        if (condition is not FunctionCall { Function: "=" or "in" } call)
        {
            return null;
        }
        var arguments = call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments];
        if (arguments.Count != 2)
        {
            return null;
        }
        if (call.Function == "=")
        {
            var (path, text) = PathOf(arguments[0]) is { } left ? (left, arguments[1]) : (PathOf(arguments[1]), arguments[0]);
            return path is not null && Text(text) is { } value ? new EventGuard(path, [value]) : null;
        }
        if (PathOf(arguments[0]) is { } field && arguments[1] is ArrayLiteral { Items.Count: > 0 } items)
        {
            var values = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in items.Items)
            {
                if (Text(item) is not { } value)
                {
                    return null;
                }
                values.Add(value);
            }
            return new EventGuard(field, values);
        }
        return null;
    }

    /// <summary>A literal text that is not a date or date-time (so it equals only the same text, ordinally).</summary>
    private static string? Text(PqlNode node) =>
        node is Literal { Kind: LiteralKind.String, Value: string text } && Utc.Read(text) is null ? text : null;

    /// <summary>The field path of a lookup on the implicit item (<c>a.b</c>: ["a", "b"]), or null.</summary>
    private static string[]? PathOf(PqlNode node)
    {
        var path = new List<string>();
        while (node is FieldLookup field)
        {
            path.Add(field.Field);
            if (field.Target is null)
            {
                path.Reverse();
                return [.. path];
            }
            node = field.Target;
        }
        return null;
    }
}

/// <summary>An event passes when the field at <see cref="Path"/> holds one of <see cref="Values"/>.</summary>
internal sealed record EventGuard(string[] Path, HashSet<string> Values)
{
    /// <summary>
    /// Whether the event (a converted record) may pass: its field is one of the texts, or something
    /// this check does not decide (an array, which a field read projects over). A missing field, a
    /// number, a boolean or another text cannot equal the texts.
    /// </summary>
    public bool MayPass(PqlValue item)
    {
        foreach (var name in Path)
        {
            switch (item.Kind)
            {
                case PqlKind.Record:
                    item = item.Record.Get(name);
                    break;
                case PqlKind.Null:
                    return false;
                case PqlKind.Array:
                    return true;
                default:
                    return false; // A field of a text, number or boolean is null.
            }
        }
        return item.Kind switch
        {
            PqlKind.String => Values.Contains(item.String),
            PqlKind.Null or PqlKind.Boolean or PqlKind.Integer or PqlKind.Double => false,
            _ => true,
        };
    }
}

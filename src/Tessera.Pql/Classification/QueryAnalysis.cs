using System.Collections.Immutable;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Classification;

/// <summary>How a query uses one read of the events (<c>xEvent</c>).</summary>
internal enum EventUse
{
    /// <summary>Some event matches: a one-step chain, a filter or <c>exists</c>/<c>select</c> used as a condition.</summary>
    Existence,

    /// <summary>A chain of several steps in strict time order.</summary>
    Sequence,

    /// <summary>A chain step with <c>COUNT(n)</c>, or a <c>count ... over</c> aggregation.</summary>
    Count,

    /// <summary>Any other value computed from the events: <c>sum ... over</c>, <c>xEvent[...].count()</c>, ...</summary>
    Computed,

    /// <summary><c>forall</c> over the events: true for a profile with none.</summary>
    Universal,
}

/// <summary>
/// One place the query reads events: how it uses them, its time window (null: no time condition at
/// all), whether an odd number of <c>not</c>s surround it, and how it is written (for reasons).
/// </summary>
internal sealed record EventRead(EventUse Use, EventWindow? Window, bool Negated, string Text, int Steps, string? Count);

/// <summary>
/// What a query reads: the event reads, the audiences named in <c>inSegment</c> (null when the id is
/// not a string literal), and whether it reads profile attributes outside event conditions.
/// </summary>
internal sealed class QueryAnalysis
{
    private enum Kind
    {
        Profile,
        Event,
        Other,
    }

    /// <summary>
    /// Where the walk is: what the implicit parameter is in each enclosing filter (innermost last, for
    /// <c>^</c>), what each named variable is, the parity of <c>not</c>s, whether the value is used as a
    /// condition (so that a bare event filter means "some event matches"), and whether inside an event condition.
    /// </summary>
    private sealed record Context(ImmutableList<Kind> Implicit, ImmutableDictionary<string, Kind> Variables, bool Negated, bool AsCondition, bool InEvent, bool AtRoot)
    {
        public Context Value => this with { AsCondition = false, AtRoot = false };

        public Context Within(Kind item) => this with { Implicit = Implicit.Add(item), AsCondition = false, AtRoot = false, InEvent = InEvent || item == Kind.Event };

        public Context With(string variable, Kind kind) => this with
        {
            Variables = Variables.SetItem(variable, kind),
            AsCondition = false,
            AtRoot = false,
            InEvent = InEvent || kind == Kind.Event,
        };
    }

    private static readonly HashSet<string> SameEvents = new(StringComparer.Ordinal) { "filter", "topN", "bottomN", "distinct", "head" };

    public List<EventRead> Events { get; } = [];

    public List<string?> Segments { get; } = [];

    public bool ReadsProfile { get; private set; }

    public static QueryAnalysis Of(PqlNode expression)
    {
        var analysis = new QueryAnalysis();
        analysis.Visit(expression, new Context([Kind.Profile], ImmutableDictionary<string, Kind>.Empty.WithComparers(StringComparer.Ordinal), false, true, false, true));
        return analysis;
    }

    private void Visit(PqlNode node, Context context)
    {
        if (DeepTrees.StackIsLow)
        {
            DeepTrees.OnFreshStack(() => Visit(node, context));
            return;
        }
        if (EventSource(node, context, out var window))
        {
            Events.Add(new EventRead(context.AsCondition ? EventUse.Existence : EventUse.Computed, window, context.Negated, Short(node), 1, null));
            return;
        }
        switch (node)
        {
            case Literal:
                break;
            case ArrayLiteral array:
                array.Items.ToList().ForEach(item => Visit(item, context.Value));
                break;
            case Parameter parameter:
                NoteProfile(KindOf(parameter, context), context);
                break;
            case FieldLookup field:
                if (field.Target is null or Parameter)
                {
                    NoteProfile(KindOf(field.Target, context), context);
                }
                else
                {
                    Visit(field.Target, context.Value);
                }
                break;
            case FunctionCall { Function: "not", Receiver: null, Arguments.Count: 1 } not:
                Visit(not.Arguments[0], context with { Negated = !context.Negated, AtRoot = false });
                break;
            case FunctionCall { Function: "and" or "or", Receiver: null } logic:
                logic.Arguments.ToList().ForEach(argument => Visit(argument, context with { AtRoot = false }));
                break;
            case FunctionCall { Function: "inSegment", Receiver: null } segment:
                Segments.Add(segment.Arguments is [Literal { Kind: LiteralKind.String, Value: string id }] ? id : null);
                segment.Arguments.ToList().ForEach(argument => Visit(argument, context.Value));
                break;
            case FunctionCall call:
                if (call.Receiver is { } receiver)
                {
                    Visit(receiver, context.Value);
                }
                call.Arguments.ToList().ForEach(argument => Visit(argument, context.Value));
                break;
            case Filter filter:
                Visit(filter.Source, context.Value);
                Visit(filter.Condition, context.Within(Kind.Other));
                break;
            case Lambda lambda:
                // A query written as a lambda names the profile: (Profile) => Profile.xEvent[...].
                var inner = context with { AtRoot = false };
                for (var i = 0; i < lambda.Parameters.Count; i++)
                {
                    inner = inner with { Variables = inner.Variables.SetItem(lambda.Parameters[i], context.AtRoot && i == 0 ? Kind.Profile : Kind.Other) };
                }
                Visit(lambda.Body, inner);
                break;
            case Let let:
                var scope = context;
                foreach (var (name, value) in let.Bindings)
                {
                    Visit(value, scope.Value);
                    scope = scope with { Variables = scope.Variables.SetItem(name, Kind.Other) };
                }
                Visit(let.Body, scope with { AtRoot = false });
                break;
            case Quantifier quantifier:
                VisitQuantifier(quantifier, context);
                break;
            case Aggregation aggregation:
                VisitAggregation(aggregation, context);
                break;
            case Occurs occurs:
                foreach (var part in new[] { occurs.Subject, occurs.Amount, occurs.Anchor, occurs.Until })
                {
                    if (part is not null)
                    {
                        Visit(part, context.Value);
                    }
                }
                break;
            case Chain chain:
                VisitChain(chain, context);
                break;
        }
    }

    private void NoteProfile(Kind kind, Context context)
    {
        if (kind == Kind.Profile && !context.InEvent)
        {
            ReadsProfile = true;
        }
    }

    /// <summary>What a parameter (or the implicit one, for null) stands for here.</summary>
    private static Kind KindOf(PqlNode? target, Context context) => target switch
    {
        null => context.Implicit[^1],
        Parameter { Name: { } name } => context.Variables.GetValueOrDefault(name, Kind.Other),
        Parameter { Up: > 0 and var up } => up < context.Implicit.Count ? context.Implicit[context.Implicit.Count - 1 - up] : Kind.Other,
        Parameter => Kind.Profile, // $1, $2 ...: the query's parameters; the first is the profile, the rest are read as profile data.
        _ => Kind.Other,
    };

    /// <summary>
    /// Whether <paramref name="node"/> is the profile's events or a subset of them (filtered, ordered);
    /// if so, visits the conditions inside and gives the window they put on the events' time (null: none).
    /// </summary>
    private bool EventSource(PqlNode node, Context context, out EventWindow? window)
    {
        if (DeepTrees.StackIsLow)
        {
            (var found, window) = DeepTrees.OnFreshStack(() => (EventSource(node, context, out var inner), inner));
            return found;
        }
        window = null;
        switch (node)
        {
            case FieldLookup { Field: "xEvent" } field when field.Target is null or Parameter && KindOf(field.Target, context) == Kind.Profile:
                return true;
            case Filter filter when EventSource(filter.Source, context, out var outer):
                var inside = context.Within(Kind.Event);
                Visit(filter.Condition, inside);
                window = EventWindow.Both(outer, WindowOf(filter.Condition, time => IsItemTime(time, null)));
                return true;
            case FunctionCall { Receiver: { } receiver } call when SameEvents.Contains(call.Function) && EventSource(receiver, context, out var source):
                window = source;
                foreach (var argument in call.Arguments)
                {
                    if (call.Function == "filter" && argument is Lambda { Parameters.Count: > 0 } lambda)
                    {
                        Visit(lambda.Body, context.With(lambda.Parameters[0], Kind.Event));
                        window = EventWindow.Both(window, WindowOf(lambda.Body, time => IsItemTime(time, lambda.Parameters[0])));
                    }
                    else if (call.Function == "filter")
                    {
                        Visit(argument, context.Within(Kind.Event));
                        window = EventWindow.Both(window, WindowOf(argument, time => IsItemTime(time, null)));
                    }
                    else
                    {
                        Visit(argument, context.Within(Kind.Event));
                    }
                }
                return true;
            default:
                return false;
        }
    }

    private static bool IsItemTime(PqlNode node, string? variable, string timeField = "timestamp") => node switch
    {
        FieldLookup { Target: null } field when variable is null => field.Field == timeField,
        FieldLookup { Target: Parameter { Name: { } name, Up: 0 } } field when variable is not null => name == variable && field.Field == timeField,
        _ => false,
    };

    private static readonly HashSet<string> Comparisons = new(StringComparer.Ordinal) { "=", "<", "<=", ">", ">=" };

    /// <summary>
    /// The window a condition puts on the event's time: <c>occurs</c> on it, or a comparison of it with
    /// now/today; <c>and</c> takes the tighter, <c>or</c> the wider; anything else puts none (null).
    /// </summary>
    private static EventWindow? WindowOf(PqlNode condition, Func<PqlNode, bool> isEventTime) => condition switch
    {
        Occurs { Subject: { } subject } occurs when isEventTime(subject) => EventWindow.Of(occurs, Short(occurs)),
        FunctionCall { Function: "and", Receiver: null } and => and.Arguments.Select(a => WindowOf(a, isEventTime)).Aggregate((EventWindow?)null, EventWindow.Both),
        FunctionCall { Function: "or", Receiver: null, Arguments.Count: > 0 } or => or.Arguments.Select(a => WindowOf(a, isEventTime)).Aggregate(EventWindow.Either),
        FunctionCall { Receiver: null, Arguments: [var left, var right] } compare when Comparisons.Contains(compare.Function) && isEventTime(left)
            => EventWindow.OfComparison(compare.Function, right, true, Short(compare)),
        FunctionCall { Receiver: null, Arguments: [var left, var right] } compare when Comparisons.Contains(compare.Function) && isEventTime(right)
            => EventWindow.OfComparison(compare.Function, left, false, Short(compare)),
        _ => null,
    };

    private void VisitChain(Chain chain, Context context)
    {
        if (!EventSource(chain.Source, context, out var sourceWindow))
        {
            // A chain over something other than the events orders profile data: no event condition.
            Visit(chain.Source, context.Value);
            chain.Steps.ToList().ForEach(step => VisitStep(step, context.Within(Kind.Other)));
            return;
        }
        var timeField = chain.TimeField is FieldLookup { Target: null } time ? time.Field : "timestamp";
        EventWindow? steps = null;
        var first = true;
        var timed = false;
        foreach (var step in chain.Steps)
        {
            VisitStep(step, context.Within(Kind.Event));
            var stepWindow = step.When is Occurs when ? EventWindow.Of(when, $"WHEN({(when is { Relation: "on", Anchor: FunctionCall { Arguments.Count: 0 } day } ? day.Function : Short(when))})") : null;
            foreach (var clause in new[] { step.What, step.Where })
            {
                if (clause is not null)
                {
                    stepWindow = EventWindow.Both(stepWindow, WindowOf(clause, node => IsItemTime(node, null, timeField)));
                }
            }
            timed |= stepWindow is not null;
            // Every step must be bounded for the chain to be: an unbounded earlier step reaches into all history.
            stepWindow ??= EventWindow.Unbounded($"step {step.Label} with no WHEN");
            steps = first ? stepWindow : EventWindow.Either(steps, stepWindow);
            first = false;
        }
        var counted = chain.Steps.FirstOrDefault(step => step.Count is not null and not Literal { Kind: LiteralKind.Integer, Value: 1L });
        var use = chain.Steps.Count > 1 ? EventUse.Sequence : counted is not null ? EventUse.Count : context.AsCondition ? EventUse.Existence : EventUse.Computed;
        var window = EventWindow.Both(sourceWindow, steps);
        if (!timed && sourceWindow is null)
        {
            window = null; // no time condition anywhere: the May 2025 "no time window" case.
        }
        var countText = counted?.Count is { } count ? $"COUNT({Short(count)})" : null;
        Events.Add(new EventRead(use, window, context.Negated, Short(chain), chain.Steps.Count, countText));
    }

    private void VisitStep(ChainStep step, Context context)
    {
        foreach (var clause in new[] { step.What, step.Where, step.Count })
        {
            if (clause is not null)
            {
                Visit(clause, context);
            }
        }
    }

    private void VisitQuantifier(Quantifier quantifier, Context context)
    {
        var scope = context;
        var reads = false;
        EventWindow? window = null;
        var variables = new List<string>();
        foreach (var clause in quantifier.Clauses)
        {
            var isEvents = EventSource(clause.Source, scope, out var sourceWindow);
            if (!isEvents)
            {
                Visit(clause.Source, scope.Value);
            }
            scope = scope.With(clause.Variable, isEvents ? Kind.Event : Kind.Other);
            if (isEvents)
            {
                reads = true;
                window = EventWindow.Both(window, sourceWindow);
            }
            if (isEvents || reads)
            {
                variables.Add(clause.Variable);
            }
            if (clause.Condition is { } condition)
            {
                Visit(condition, scope);
                foreach (var variable in variables)
                {
                    window = EventWindow.Both(window, WindowOf(condition, node => IsItemTime(node, variable)));
                }
            }
        }
        if (reads)
        {
            var use = quantifier.Kind == QuantifierKind.ForAll ? EventUse.Universal : context.AsCondition ? EventUse.Existence : EventUse.Computed;
            Events.Add(new EventRead(use, window, context.Negated, Short(quantifier), 1, null));
        }
    }

    private void VisitAggregation(Aggregation aggregation, Context context)
    {
        var isEvents = EventSource(aggregation.Source, context, out var window);
        if (!isEvents)
        {
            Visit(aggregation.Source, context.Value);
        }
        var scope = context.With(aggregation.Variable, isEvents ? Kind.Event : Kind.Other);
        Visit(aggregation.Value, scope);
        if (aggregation.Condition is { } condition)
        {
            Visit(condition, scope);
            if (isEvents)
            {
                window = EventWindow.Both(window, WindowOf(condition, node => IsItemTime(node, aggregation.Variable)));
            }
        }
        if (isEvents)
        {
            var use = aggregation.Function == "count" ? EventUse.Count : EventUse.Computed;
            Events.Add(new EventRead(use, window, context.Negated, Short(aggregation), 1, null));
        }
    }

    /// <summary>The node as written canonically, cut to a length that reads in one line of a reason.</summary>
    internal static string Short(PqlNode node)
    {
        var text = Printer.Print(node);
        return text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");
    }
}

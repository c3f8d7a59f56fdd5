using System.Text.RegularExpressions;
using Tessera.Pql.Syntax;
using static Tessera.Pql.Evaluation.ValueOperations;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// Compiles an expression to closures over <see cref="PqlValue"/>s with the interpreter's meaning
/// (a property test holds them equal): names resolve to frame slots when compiling, literal strings
/// and regular expressions are prepared once, and time windows that depend only on the clock are
/// computed once per clock reading instead of per event. A construct the interpreter refuses at run
/// time is refused at the same point here, so the two agree on errors too.
/// </summary>
public sealed class PqlCompiler
{
    private readonly TimeWindow _time;
    private readonly List<int> _implicit = [0];
    private readonly List<(string Name, int Slot)> _variables = [];
    private int _slots = 1;
    private int _windows;
    private int _refusals; // constructs refused at run time so far: a chain reads its step out of order only without one
    private int _depth;

    /// <summary>Levels of compiled code between two checks of the stack at run time.</summary>
    private const int GuardEvery = 16;

    private PqlCompiler(TimeZoneInfo zone) => _time = new TimeWindow(zone);

    /// <summary>Compiles <paramref name="expression"/> for evaluation in <paramref name="zone"/> (UTC when null).</summary>
    public static CompiledExpression Compile(PqlNode expression, TimeZoneInfo? zone = null)
    {
        var compiler = new PqlCompiler(zone ?? TimeZoneInfo.Utc);
        Code root;
        if (expression is Lambda { Parameters.Count: > 0 } lambda)
        {
            // (Profile) => ...: the first parameter is the profile (slot 0).
            compiler._variables.Add((lambda.Parameters[0], 0));
            root = compiler.Compile(lambda.Body);
        }
        else
        {
            root = compiler.Compile(expression);
        }
        return new CompiledExpression(root, compiler._slots, compiler._windows, compiler._time);
    }

    private int NewSlot() => _slots++;

    private Code Compile(PqlNode node)
    {
        if (DeepTrees.StackIsLow)
        {
            return DeepTrees.OnFreshStack(() => Compile(node));
        }
        _depth++;
        try
        {
            // Evaluation recurses as deep as compilation did: every so many levels, a code that moves on to a fresh stack
            // when this one runs low (an audience of ordinary height never meets one).
            var code = CompileNode(node);
            return _depth % GuardEvery == 0 ? Guarded(code) : code;
        }
        finally
        {
            _depth--;
        }
    }

    private static Code Guarded(Code code) => frame => DeepTrees.StackIsLow ? DeepTrees.OnFreshStack(() => code(frame)) : code(frame);

    private Code CompileNode(PqlNode node) => node switch
    {
        Literal literal => Constant(LiteralValue(literal)),
        ArrayLiteral array => CompileArray(array),
        Parameter { Up: > 0 } up => up.Up < _implicit.Count ? ReadSlot(_implicit[^(up.Up + 1)]) : Constant(PqlValue.Null),
        Parameter { Name: { } name } => Variable(name) is { } slot ? ReadSlot(slot) : Constant(PqlValue.Null),
        Parameter => ReadSlot(0),
        FieldLookup field => CompileField(field),
        Filter filter => CompileFilter(filter),
        Aggregation aggregation => CompileAggregation(aggregation),
        Occurs { Subject: { } subject } occurs => CompileOccurs(Compile(subject), occurs),
        Chain chain => CompileChain(chain),
        FunctionCall call => CompileCall(call),
        Quantifier quantifier => CompileQuantifier(quantifier),
        Let let => CompileLet(let, 0),
        ExternalValue external => frame => frame.External![frame.ExternalOffset + external.Index],
        _ => Refuse($"the interpreter does not evaluate {node.GetType().Name} yet", node.Position),
    };

    private static Code Constant(PqlValue value) => _ => value;

    private static Code ReadSlot(int slot) => frame => frame.Slots[slot];

    private Code Refuse(string message, SourcePosition position)
    {
        _refusals++;
        return _ => throw new PqlException(message, position);
    }

    private PqlValue LiteralValue(Literal literal) => literal.Value switch
    {
        null => PqlValue.Null,
        bool flag => PqlValue.Of(flag),
        long integer => PqlValue.Of(integer),
        double real => PqlValue.Of(real),
        string text => PqlValue.Of(text, _time),
        _ => PqlValue.Null,
    };

    private int? Variable(string name)
    {
        for (var i = _variables.Count - 1; i >= 0; i--)
        {
            if (_variables[i].Name == name)
            {
                return _variables[i].Slot;
            }
        }
        return null;
    }

    /// <summary>Compiles <paramref name="body"/> with <paramref name="name"/> bound to a new slot.</summary>
    private T WithVariable<T>(string name, int slot, Func<T> body)
    {
        _variables.Add((name, slot));
        try
        {
            return body();
        }
        finally
        {
            _variables.RemoveAt(_variables.Count - 1);
        }
    }

    private Code CompileArray(ArrayLiteral array)
    {
        if (array.Items.All(item => item is Literal))
        {
            // Arrays are never changed once made, so a constant one is made once.
            var items = array.Items.Select(item => LiteralValue((Literal)item)).ToArray();
            return Constant(PqlValue.Of(items));
        }
        var codes = array.Items.Select(Compile).ToArray();
        return frame =>
        {
            var items = new PqlValue[codes.Length];
            for (var i = 0; i < codes.Length; i++)
            {
                items[i] = codes[i](frame);
            }
            return PqlValue.Of(items);
        };
    }

    /// <summary>A field read, remembering where the name was found last (records of one schema keep their order).</summary>
    private sealed class FieldSite(string name)
    {
        public readonly string Name = PqlNames.Intern(name);
        public int Hint;

        public PqlValue Read(in PqlValue owner) => owner.Kind switch
        {
            PqlKind.Record => owner.Record.Get(Name, ref Hint),
            PqlKind.Array => Project(owner.Array),
            _ => PqlValue.Null,
        };

        /// <summary>The field of each item, array values spread, missing ones left out (as the interpreter's Field).</summary>
        private PqlValue Project(PqlValue[] items)
        {
            var values = new List<PqlValue>();
            foreach (var item in items)
            {
                var value = Read(item);
                if (value.Kind == PqlKind.Array)
                {
                    values.AddRange(value.Array);
                }
                else if (!value.IsNull)
                {
                    values.Add(value);
                }
            }
            return PqlValue.Of(values.ToArray());
        }
    }

    /// <summary>A field of the current item (<c>eventType</c> inside <c>xEvent[...]</c>): read in place by the closures that use it, one call fewer per item.</summary>
    private (FieldSite Site, int Slot)? ItemField(PqlNode node) =>
        node is FieldLookup { Target: null } field ? (new FieldSite(field.Field), _implicit[^1]) : null;

    private Code CompileField(FieldLookup field)
    {
        var site = new FieldSite(field.Field);
        if (field.Target is null)
        {
            var slot = _implicit[^1];
            return frame => site.Read(frame.Slots[slot]);
        }
        var target = Compile(field.Target);
        return frame => site.Read(target(frame));
    }

    private Code CompileFilter(Filter filter)
    {
        var source = Compile(filter.Source);
        var slot = NewSlot();
        var (condition, window) = CompileItemCondition(filter.Condition, slot);
        return frame =>
        {
            if (source(frame) is not { Kind: PqlKind.Array } items)
            {
                return PqlValue.Null;
            }
            // Arrays are never changed once made: when every item is kept, the source is the answer.
            var all = items.Array;
            var (from, to) = Covered(items, window, frame);
            var kept = System.Buffers.ArrayPool<PqlValue>.Shared.Rent(to - from);
            var count = 0;
            try
            {
                foreach (var item in all.AsSpan(from, to - from))
                {
                    frame.Slots[slot] = item;
                    if (Holds(condition(frame)))
                    {
                        kept[count++] = item;
                    }
                }
                return count == all.Length ? items : PqlValue.Of(count == 0 ? [] : kept.AsSpan(0, count).ToArray());
            }
            finally
            {
                // Only what was written holds references (the rest of a rented array is another caller's past).
                kept.AsSpan(0, count).Clear();
                System.Buffers.ArrayPool<PqlValue>.Shared.Return(kept);
            }
        };
    }

    private Code CompileAggregation(Aggregation aggregation)
    {
        var source = Compile(aggregation.Source);
        var slot = NewSlot();
        var (value, condition) = WithVariable(aggregation.Variable, slot, () =>
            (Compile(aggregation.Value), aggregation.Condition is null ? null : Compile(aggregation.Condition)));
        var function = aggregation.Function;
        return frame =>
        {
            var items = source(frame) is { Kind: PqlKind.Array } array ? array.Array : [];
            var values = new List<PqlValue>(items.Length);
            foreach (var item in items)
            {
                frame.Slots[slot] = item;
                if (condition is null || condition(frame).IsTrue)
                {
                    values.Add(value(frame));
                }
            }
            return Aggregate(function, PqlValue.Of(values.ToArray()));
        };
    }

    private Code CompileLet(Let let, int binding)
    {
        if (binding == let.Bindings.Count)
        {
            return Compile(let.Body);
        }
        var value = Compile(let.Bindings[binding].Value);
        var slot = NewSlot();
        var rest = WithVariable(let.Bindings[binding].Key, slot, () => CompileLet(let, binding + 1));
        return frame =>
        {
            frame.Slots[slot] = value(frame);
            return rest(frame);
        };
    }

    private Code CompileQuantifier(Quantifier quantifier)
    {
        var clauses = new List<(Code Source, int Slot, Code? Condition)>();
        var bound = 0;
        try
        {
            foreach (var clause in quantifier.Clauses)
            {
                var source = Compile(clause.Source);
                var slot = NewSlot();
                _variables.Add((clause.Variable, slot));
                bound++;
                clauses.Add((source, slot, clause.Condition is null ? null : Compile(clause.Condition)));
            }
        }
        finally
        {
            _variables.RemoveRange(_variables.Count - bound, bound);
        }
        var kind = quantifier.Kind;
        PqlValue Quantify(Frame frame, int index)
        {
            var (source, slot, condition) = clauses[index];
            var items = source(frame) is { Kind: PqlKind.Array } array ? array.Array : [];
            bool Matches(PqlValue item)
            {
                frame.Slots[slot] = item;
                // With several sources, an item counts when the rest of the clauses hold for it.
                return (condition is null || condition(frame).IsTrue)
                    && (index + 1 == clauses.Count || Quantify(frame, index + 1).IsTrue);
            }
            return kind switch
            {
                QuantifierKind.Exists => PqlValue.Of(items.Any(Matches)),
                QuantifierKind.ForAll => PqlValue.Of(items.All(Matches)),
                _ => PqlValue.Of(items.Where(Matches).ToArray()),
            };
        }
        return frame => Quantify(frame, 0);
    }

    /// <summary>
    /// An <c>occurs</c> condition's window: when its anchor, end and amount depend only on the clock
    /// (now, today, date(...), literals), computed once per clock reading and kept in the frame.
    /// </summary>
    private Func<Frame, TimeInterval?> CompileWindow(Occurs occurs)
    {
        var usesAmount = occurs.Amount is not null && occurs.Relation is not ("last" or "this" or "next" or "on" or "between");
        var amount = usesAmount ? Compile(occurs.Amount!) : null;
        var anchor = occurs.Anchor is null ? null : Compile(occurs.Anchor);
        var until = occurs.Until is null ? null : Compile(occurs.Until);
        TimeInterval? Window(Frame frame)
        {
            var amountValue = amount is null ? null : amount(frame).ToObject();
            return frame.Time.Interval(occurs, frame.Now, Instant(anchor, frame), Instant(until, frame), amountValue);
        }
        if (!ClockOnly(occurs))
        {
            return Window;
        }
        var index = _windows++;
        return frame =>
        {
            if (frame.WindowClock[index] != frame.Now.UtcTicks)
            {
                frame.Windows[index] = Window(frame);
                frame.WindowClock[index] = frame.Now.UtcTicks;
            }
            return frame.Windows[index];
        };
    }

    /// <summary>
    /// The window of <paramref name="occurs"/> as a function of the clock, computed as a compiled expression computes it;
    /// null when its anchor, end or amount depend on anything but the clock (then it has no single window per instant).
    /// </summary>
    internal static Func<DateTimeOffset, TimeInterval?>? ClockWindow(Occurs occurs, TimeZoneInfo zone)
    {
        if (!ClockOnly(occurs))
        {
            return null;
        }
        var compiler = new PqlCompiler(zone);
        var window = compiler.CompileWindow(occurs);
        return now => window(new Frame(compiler._slots, compiler._windows, compiler._time) { Now = now.ToUniversalTime() });
    }

    private static DateTimeOffset? Instant(Code? code, Frame frame) =>
        code is not null && code(frame).TryTime(frame.Time, out var ticks) ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Whether a window's bounds depend on nothing but the clock.</summary>
    private static bool ClockOnly(Occurs occurs) => ClockOnly(occurs.Amount) && ClockOnly(occurs.Anchor) && ClockOnly(occurs.Until);

    /// <summary>Whether a node's value depends on nothing but the clock.</summary>
    private static bool ClockOnly(PqlNode? node) => node switch
    {
        null or Literal => true,
        FunctionCall { Receiver: null, Arguments.Count: 0, Function: "now" or "today" or "yesterday" or "tomorrow" } => true,
        FunctionCall { Receiver: null, Function: "date" } date => date.Arguments.All(a => a is Literal),
        _ => false,
    };

    private Code CompileOccurs(Code subject, Occurs occurs)
    {
        var window = CompileWindow(occurs);
        if (ItemField(occurs.Subject!) is var (site, slot))
        {
            return frame => PqlValue.Of(site.Read(frame.Slots[slot]).TryTime(frame.Time, out var ticks) && window(frame) is { } interval && interval.Contains(ticks));
        }
        return frame => PqlValue.Of(subject(frame).TryTime(frame.Time, out var ticks) && window(frame) is { } interval && interval.Contains(ticks));
    }

    private Code CompileChain(Chain chain)
    {
        var source = Compile(chain.Source);
        var slot = NewSlot();
        var refusals = _refusals;
        var (timeField, steps) = _implicit.Within(slot, () => (Compile(chain.TimeField), chain.Steps.Select(step => (
            What: step.What is null ? null : Compile(step.What),
            Where: step.Where is null ? null : Compile(step.Where),
            When: step.When is Occurs when ? CompileWindow(when) : null)).ToArray()));
        // COUNT(n) is read outside the step's item, as the interpreter reads it.
        var counts = chain.Steps.Select(step => step.Count is null ? null : Compile(step.Count)).ToArray();
        // Read on `timestamp`, a chain meets an array in time order as it is, and a step's clock-only window narrows it to
        // the part the window covers (not when a construct may be refused: the interpreter reads every timed item).
        var onTimestamp = chain.TimeField is FieldLookup { Target: null, Field: "timestamp" };
        var narrows = chain.Steps.Select(step => onTimestamp && _refusals == refusals && step.When is Occurs when && ClockOnly(when)).ToArray();
        // One step is read in array order, its what and where before its time; the interpreter reads timed items in
        // time order. That differs only when the step can fail (a construct refused at run time): such a step is read
        // the interpreter's way.
        if (steps.Length == 1 && _refusals == refusals)
        {
            return CompileSingleStep(source, slot, timeField, steps[0], counts[0], narrows[0]);
        }
        return frame =>
        {
            if (source(frame) is not { Kind: PqlKind.Array } array)
            {
                return PqlValue.False;
            }
            var items = array.Array;
            // The timed items in time order (by time, then position): the array itself when it is a timeline.
            (long Ticks, int Index)[]? timed = null;
            var n = items.Length;
            if (!onTimestamp || !array.TimeOrdered)
            {
                timed = new (long Ticks, int Index)[items.Length];
                n = 0;
                var ordered = true;
                for (var i = 0; i < items.Length; i++)
                {
                    frame.Slots[slot] = items[i];
                    if (timeField(frame).TryTime(frame.Time, out var time))
                    {
                        ordered &= n == 0 || timed[n - 1].Ticks <= time;
                        timed[n++] = (time, i);
                    }
                }
                if (!ordered)
                {
                    Array.Sort(timed, 0, n, Comparer<(long Ticks, int Index)>.Default); // stable: positions break ties
                }
            }
            var position = 0;
            var hint = 0;
            long? last = null;
            for (var s = 0; s < steps.Length; s++)
            {
                var (what, where, when) = steps[s];
                var needed = counts[s] is { } count ? count(frame) is { Kind: PqlKind.Integer } c ? c.Integer : 1 : 1;
                var found = 0L;
                var (from, to) = timed is null && narrows[s] && needed > 0 ? Covered(array, when, frame) : (0, n);
                position = Math.Max(position, from); // A step of COUNT(0) reads nothing: the next one starts where it did.
                while (found < needed && position < to)
                {
                    long ticks;
                    int index;
                    if (timed is null)
                    {
                        index = position++;
                        PqlValue.TryEventTime(items[index], ref hint, out ticks);
                    }
                    else
                    {
                        (ticks, index) = timed[position++];
                    }
                    if (last is { } previous && ticks <= previous)
                    {
                        continue; // Strict time order between steps.
                    }
                    frame.Slots[slot] = items[index];
                    var matches = (what is null || what(frame).IsTrue)
                        && (where is null || where(frame).IsTrue)
                        && (when is null || (when(frame) is { } window && window.Contains(ticks)));
                    if (matches && ++found == needed)
                    {
                        last = ticks;
                    }
                }
                if (found < needed)
                {
                    return PqlValue.False;
                }
            }
            return PqlValue.True;
        };
    }

    /// <summary>
    /// A chain of one step needs no ordering: it holds when COUNT(n) of the events that have a time
    /// match (n = 1 by default), which one pass counts without sorting or copying anything.
    /// </summary>
    private static Code CompileSingleStep(Code source, int slot, Code timeField,
        (Code? What, Code? Where, Func<Frame, TimeInterval?>? When) step, Code? count, bool narrows) => frame =>
        {
            if (source(frame) is not { Kind: PqlKind.Array } array)
            {
                return PqlValue.False;
            }
            var needed = count is null ? 1 : count(frame) is { Kind: PqlKind.Integer } c ? c.Integer : 1;
            var found = 0L;
            var (what, where, when) = step;
            var (from, to) = Covered(array, narrows ? when : null, frame);
            foreach (var item in array.Array.AsSpan(from, to - from))
            {
                if (found >= needed)
                {
                    break;
                }
                frame.Slots[slot] = item;
                // What and where first: most events fail them, and then their time need not be read.
                if ((what is null || what(frame).IsTrue)
                    && (where is null || where(frame).IsTrue)
                    && timeField(frame).TryTime(frame.Time, out var ticks)
                    && (when is null || (when(frame) is { } window && window.Contains(ticks))))
                {
                    found++;
                }
            }
            return PqlValue.Of(found >= needed);
        };

    /// <summary><c>count(xEvent[...])</c> counts the matching items without making the filtered array.</summary>
    private Code CompileCountOfFilter(Filter filter)
    {
        var source = Compile(filter.Source);
        var slot = NewSlot();
        var (condition, window) = CompileItemCondition(filter.Condition, slot);
        return frame =>
        {
            if (source(frame) is not { Kind: PqlKind.Array } items)
            {
                return PqlValue.Of(0L);
            }
            var count = 0L;
            var (from, to) = Covered(items, window, frame);
            foreach (var item in items.Array.AsSpan(from, to - from))
            {
                frame.Slots[slot] = item;
                count += Holds(condition(frame)) ? 1 : 0;
            }
            return PqlValue.Of(count);
        };
    }

    /// <summary>
    /// A filter's condition compiled in its item's scope, with the window of time it requires of the item's
    /// <c>timestamp</c> (<see cref="RequiredWindow"/>) when it has one and nothing in it is refused at run time (the
    /// items outside the window are then not read at all, and the interpreter reads them).
    /// </summary>
    private (Code Condition, Func<Frame, TimeInterval?>? Window) CompileItemCondition(PqlNode condition, int slot)
    {
        var refusals = _refusals;
        return _implicit.Within(slot, () =>
        {
            var code = Compile(condition);
            return (code, _refusals == refusals ? RequiredWindow(condition) : null);
        });
    }

    /// <summary>
    /// The window of a <c>timestamp occurs ...</c> that depends on the clock alone and that <paramref name="condition"/>
    /// requires of the current item (the condition itself, or a side of its <c>and</c>s); null when there is none.
    /// </summary>
    private Func<Frame, TimeInterval?>? RequiredWindow(PqlNode condition) => condition switch
    {
        Occurs { Subject: FieldLookup { Target: null, Field: "timestamp" } } occurs
            when ClockOnly(occurs) => CompileWindow(occurs),
        FunctionCall { Function: "and", Receiver: null, Arguments: [var left, var right] } => RequiredWindow(left) ?? RequiredWindow(right),
        _ => null,
    };

    /// <summary>
    /// The part of <paramref name="items"/> to read for a condition that requires <paramref name="window"/> of each
    /// item's <c>timestamp</c>: of an array in time order, the items whose time is in the window (two binary
    /// searches); otherwise all of it.
    /// </summary>
    private static (int From, int To) Covered(in PqlValue items, Func<Frame, TimeInterval?>? window, Frame frame)
    {
        var all = items.Array;
        if (window is null || !items.TimeOrdered)
        {
            return (0, all.Length);
        }
        if (window(frame) is not { } interval)
        {
            return (0, 0);
        }
        var from = First(all, 0, interval, past: false);
        return (from, First(all, from, interval, past: true));
    }

    /// <summary>
    /// The first index from <paramref name="start"/> on of an array in time order whose time is not before
    /// <paramref name="interval"/> (or, <paramref name="past"/>, is after it).
    /// </summary>
    private static int First(PqlValue[] items, int start, in TimeInterval interval, bool past)
    {
        var (low, high, hint) = (start, items.Length, 0);
        while (low < high)
        {
            var middle = (int)((uint)(low + high) >> 1);
            PqlValue.TryEventTime(items[middle], ref hint, out var ticks);
            if (past ? interval.After(ticks) : !interval.Before(ticks))
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }
        return low;
    }

    private Code CompileCall(FunctionCall call)
    {
        // Method-style and plain calls mean the same: the receiver is the first argument.
        IReadOnlyList<PqlNode> arguments = call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments];
        Code Lazy(int i) => i < arguments.Count ? Compile(arguments[i]) : Constant(PqlValue.Null);
        switch (call.Function)
        {
            case "and":
                {
                    var (a, b) = (Lazy(0), Lazy(1));
                    return frame => PqlValue.Of(a(frame).IsTrue && b(frame).IsTrue);
                }
            case "or":
                {
                    var (a, b) = (Lazy(0), Lazy(1));
                    return frame => PqlValue.Of(a(frame).IsTrue || b(frame).IsTrue);
                }
            case "not":
                {
                    var a = Lazy(0);
                    return frame => PqlValue.Of(!a(frame).IsTrue);
                }
            case "if":
                {
                    var (condition, then, otherwise) = (Lazy(0), Lazy(1), Lazy(2));
                    return frame => condition(frame).IsTrue ? then(frame) : otherwise(frame);
                }
            case "isNull":
                {
                    var a = Lazy(0);
                    return frame => PqlValue.Of(a(frame).IsNull);
                }
            case "isNotNull":
                {
                    var a = Lazy(0);
                    return frame => PqlValue.Of(!a(frame).IsNull);
                }
            case "topN" or "bottomN" or "filter" or "map" or "groupBy" or "exists" or "forall":
                return CompilePerItem(call.Function, arguments);
            case "count" when arguments is [Filter filter]:
                return CompileCountOfFilter(filter);
            case "count" when arguments.Count > 1:
                {
                    var matching = CompilePerItem("filter", arguments);
                    return frame => matching(frame) is { Kind: PqlKind.Array } items ? PqlValue.Of((long)items.Array.Length) : PqlValue.Of(0L);
                }
            case "sum" or "average" or "min" or "max" when arguments.Count > 1:
                {
                    var (values, aggregate) = (CompilePerItem("map", arguments), call.Function);
                    return frame => Aggregate(aggregate, values(frame));
                }
        }
        if (arguments.Count == 2 && call.Function is "=" or "!=" or "<" or "<=" or ">" or ">=" or "in")
        {
            return Comparison(call.Function, arguments);
        }
        var codes = arguments.Select(Compile).ToArray();
        var function = Function(call, arguments);
        var (c0, c1, c2) = (At(codes, 0), At(codes, 1), At(codes, 2));
        // Every argument is evaluated, in order, before the function applies (as the interpreter does).
        return codes.Length switch
        {
            0 => frame => function(PqlValue.Null, PqlValue.Null, PqlValue.Null, frame),
            1 => frame => function(c0(frame), PqlValue.Null, PqlValue.Null, frame),
            2 => frame => function(c0(frame), c1(frame), PqlValue.Null, frame),
            3 => frame => function(c0(frame), c1(frame), c2(frame), frame),
            _ => frame =>
            {
                var (a, b, c) = (c0(frame), c1(frame), c2(frame));
                for (var i = 3; i < codes.Length; i++)
                {
                    codes[i](frame);
                }
                return function(a, b, c, frame);
            }
            ,
        };
    }

    /// <summary>
    /// Comparisons and <c>in</c> as one closure each (the hot shapes of audiences), with a literal
    /// string's equality tested directly: for two strings Compare's 0 is ordinal equality.
    /// </summary>
    private Code Comparison(string function, IReadOnlyList<PqlNode> arguments)
    {
        var (left, right) = (Compile(arguments[0]), Compile(arguments[1]));
        if (function is "=" or "!=" && arguments[1] is Literal { Value: string text })
        {
            var constant = LiteralValue((Literal)arguments[1]);
            var equal = function == "=";
            PqlValue Test(in PqlValue value, Frame frame) => value.Kind == PqlKind.String
                ? PqlValue.Of(string.Equals(value.String, text, StringComparison.Ordinal) == equal)
                : PqlValue.Of(Compare(value, constant, frame.Time) is var c && (equal ? c == 0 : c is not (0 or Incomparable)));
            if (ItemField(arguments[0]) is var (site, slot))
            {
                return frame => Test(site.Read(frame.Slots[slot]), frame);
            }
            return frame => Test(left(frame), frame);
        }
        return function switch
        {
            "=" => frame => PqlValue.Of(Compare(left(frame), right(frame), frame.Time) == 0),
            "!=" => frame => PqlValue.Of(Compare(left(frame), right(frame), frame.Time) is not (0 or Incomparable)),
            "<" => frame => PqlValue.Of(Compare(left(frame), right(frame), frame.Time) is < 0 and not Incomparable),
            "<=" => frame => PqlValue.Of(Compare(left(frame), right(frame), frame.Time) is <= 0 and not Incomparable),
            ">" => frame => PqlValue.Of(Compare(left(frame), right(frame), frame.Time) > 0),
            ">=" => frame => PqlValue.Of(Compare(left(frame), right(frame), frame.Time) >= 0),
            _ => frame =>
            {
                var (value, set) = (left(frame), right(frame));
                return PqlValue.Of(!value.IsNull && set.Kind == PqlKind.Array && Contains(set.Array, value, frame.Time));
            }
            ,
        };
    }

    private static Code At(Code[] codes, int index) => index < codes.Length ? codes[index] : Constant(PqlValue.Null);

    private delegate PqlValue Applied(PqlValue a, PqlValue b, PqlValue c, Frame frame);

    private Applied Function(FunctionCall call, IReadOnlyList<PqlNode> arguments)
    {
        static Applied Text(Func<string, string, StringComparison, bool> test) => (a, b, c, _) => ValueOperations.Text(a, b, c, test);
        switch (call.Function)
        {
            case "=":
                return (a, b, _, f) => PqlValue.Of(Compare(a, b, f.Time) == 0);
            case "!=":
                return (a, b, _, f) => PqlValue.Of(Compare(a, b, f.Time) is not (0 or Incomparable));
            case "<":
                return (a, b, _, f) => PqlValue.Of(Compare(a, b, f.Time) is < 0 and not Incomparable);
            case "<=":
                return (a, b, _, f) => PqlValue.Of(Compare(a, b, f.Time) is <= 0 and not Incomparable);
            case ">":
                return (a, b, _, f) => PqlValue.Of(Compare(a, b, f.Time) > 0);
            case ">=":
                return (a, b, _, f) => PqlValue.Of(Compare(a, b, f.Time) >= 0);
            case "in":
                return (a, b, _, f) => PqlValue.Of(!a.IsNull && b.Kind == PqlKind.Array && Contains(b.Array, a, f.Time));
            case "notIn":
                return (a, b, _, f) => PqlValue.Of(!a.IsNull && b.Kind == PqlKind.Array && !Contains(b.Array, a, f.Time));
            case "+" or "-" or "*" or "/" or "%":
                {
                    var op = call.Function;
                    return (a, b, _, _) => Arithmetic(op, a, b);
                }
            case "neg":
                return (a, _, _, _) => a.Kind switch
                {
                    PqlKind.Integer => PqlValue.Of(-a.Integer),
                    PqlKind.Double => PqlValue.Of(-a.Double),
                    _ => PqlValue.Null,
                };
            case "like":
                {
                    var regex = Prepared(arguments, 1, ValueOperations.Like);
                    return (a, b, _, _) => PqlValue.Of(a.Kind == PqlKind.String && b.Kind == PqlKind.String
                        && (regex is not null && regex.Pattern == b.String ? regex.Regex : ValueOperations.Like(b.String)).IsMatch(a.String));
                }
            case "startsWith":
                return Text((s, p, c) => s.StartsWith(p, c));
            case "doesNotStartWith":
                return Text((s, p, c) => !s.StartsWith(p, c));
            case "endsWith":
                return Text((s, p, c) => s.EndsWith(p, c));
            case "doesNotEndWith":
                return Text((s, p, c) => !s.EndsWith(p, c));
            case "contains":
                return Text((s, p, c) => s.Contains(p, c));
            case "doesNotContain":
                return Text((s, p, c) => !s.Contains(p, c));
            case "equals":
                return Text((s, p, c) => string.Equals(s, p, c));
            case "notEqualTo":
                return Text((s, p, c) => !string.Equals(s, p, c));
            case "matches":
                {
                    var regex = Prepared(arguments, 1, Pattern);
                    return (a, b, _, _) => PqlValue.Of(a.Kind == PqlKind.String && b.Kind == PqlKind.String
                        && IsMatch(regex is not null && regex.Pattern == b.String ? regex.Regex : TryPattern(b.String), a.String));
                }
            case "regexGroup":
                {
                    var regex = Prepared(arguments, 1, Pattern);
                    return (a, b, c, _) =>
                    {
                        if (a.Kind != PqlKind.String || b.Kind != PqlKind.String)
                        {
                            return PqlValue.Null;
                        }
                        var match = Match(regex is not null && regex.Pattern == b.String ? regex.Regex : TryPattern(b.String), a.String);
                        return match is { Success: true } && c.Kind == PqlKind.Integer && c.Integer < match.Groups.Count
                            ? PqlValue.Of(match.Groups[(int)c.Integer].Value)
                            : PqlValue.Null;
                    };
                }
            case "includes":
                return (a, b, _, f) => PqlValue.Of(a.Kind == PqlKind.Array && Contains(a.Array, b, f.Time));
            case "intersects":
                return (a, b, _, f) => PqlValue.Of(a.Kind == PqlKind.Array && b.Kind == PqlKind.Array && a.Array.Any(x => Contains(b.Array, x, f.Time)));
            case "intersection":
                return (a, b, _, f) => a.Kind == PqlKind.Array && b.Kind == PqlKind.Array
                    ? PqlValue.Of(Distinct(a.Array.Where(x => Contains(b.Array, x, f.Time)), f.Time))
                    : PqlValue.Null;
            case "subsetOf":
                return (a, b, _, f) => PqlValue.Of(a.Kind == PqlKind.Array && b.Kind == PqlKind.Array && a.Array.All(x => Contains(b.Array, x, f.Time)));
            case "supersetOf":
                return (a, b, _, f) => PqlValue.Of(a.Kind == PqlKind.Array && b.Kind == PqlKind.Array && b.Array.All(y => Contains(a.Array, y, f.Time)));
            case "distinct":
                return (a, _, _, f) => a.Kind == PqlKind.Array ? PqlValue.Of(Distinct(a.Array, f.Time)) : PqlValue.Null;
            case "head":
                return (a, _, _, _) => a.Kind == PqlKind.Array && a.Array.Length > 0 ? a.Array[0] : PqlValue.Null;
            case "get":
                return (a, b, _, _) => a.Kind == PqlKind.Record && b.Kind == PqlKind.String ? a.Record.Get(b.String) : PqlValue.Null;
            case "keys":
                return (a, _, _, _) => a.Kind == PqlKind.Record
                    ? PqlValue.Of(Enumerable.Range(0, a.Record.Count).Select(a.Record.NameAt).Order(StringComparer.Ordinal).Select(PqlValue.Of).ToArray())
                    : PqlValue.Null;
            case "values":
                return (a, _, _, _) => a.Kind == PqlKind.Record
                    ? PqlValue.Of(Enumerable.Range(0, a.Record.Count).OrderBy(a.Record.NameAt, StringComparer.Ordinal).Select(a.Record.ValueAt).ToArray())
                    : PqlValue.Null;
            case "count" or "sum" or "average" or "min" or "max":
                {
                    var name = call.Function;
                    return (a, _, _, _) => Aggregate(name, a);
                }
            case "date":
                return (a, b, c, f) => a.Kind == PqlKind.Integer && b.Kind == PqlKind.Integer && c.Kind == PqlKind.Integer
                    && Interpreter.Date(f.Time, a.Integer, b.Integer, c.Integer) is { } day ? PqlValue.OfTime(day) : PqlValue.Null;
            case "now":
                return (_, _, _, f) => PqlValue.OfTime(f.Now);
            case "today":
                return (_, _, _, f) => PqlValue.OfTime(f.Time.StartOf(f.Now, "day"));
            case "yesterday":
                return (_, _, _, f) => PqlValue.OfTime(f.Time.Add(f.Time.StartOf(f.Now, "day"), -1, "day"));
            case "tomorrow":
                return (_, _, _, f) => PqlValue.OfTime(f.Time.Add(f.Time.StartOf(f.Now, "day"), 1, "day"));
            case "currentMonth":
                return (_, _, _, f) => PqlValue.Of((long)f.Time.Local(f.Now).Month);
            case "currentYear":
                return (_, _, _, f) => PqlValue.Of((long)f.Time.Local(f.Now).Year);
            case "currentDayOfMonth":
                return (_, _, _, f) => PqlValue.Of((long)f.Time.Local(f.Now).Day);
            case "getMonth":
                return (a, _, _, f) => a.TryTime(f.Time, out var t) ? PqlValue.Of((long)f.Time.Local(new DateTimeOffset(t, TimeSpan.Zero)).Month) : PqlValue.Null;
            case "getYear":
                return (a, _, _, f) => a.TryTime(f.Time, out var t) ? PqlValue.Of((long)f.Time.Local(new DateTimeOffset(t, TimeSpan.Zero)).Year) : PqlValue.Null;
            case "getDayOfMonth":
                return (a, _, _, f) => a.TryTime(f.Time, out var t) ? PqlValue.Of((long)f.Time.Local(new DateTimeOffset(t, TimeSpan.Zero)).Day) : PqlValue.Null;
            case "inSegment":
                return (a, _, _, f) => PqlValue.Of(a.Kind == PqlKind.String && (f.InSegment is { } known ? known(a.String) : InSegment(f.Profile, a.String)));
            case "mapEntry":
                return (a, b, _, _) => PqlValue.Of(new PqlRecord([Interpreter.KeyText(a.ToObject())], [b]));
            default:
                {
                    var (function, position) = (call.Function, call.Position);
                    _refusals++;
                    return (_, _, _, _) => throw new PqlException($"the interpreter does not evaluate '{function}' yet", position);
                }
        }
    }

    private sealed record PreparedRegex(string Pattern, Regex Regex);

    /// <summary>A literal pattern made into a regular expression once; null when it is not a literal (or not valid, which then fails when used, as in the interpreter).</summary>
    private static PreparedRegex? Prepared(IReadOnlyList<PqlNode> arguments, int index, Func<string, Regex> make)
    {
        if (index >= arguments.Count || arguments[index] is not Literal { Value: string pattern })
        {
            return null;
        }
        try
        {
            return new PreparedRegex(pattern, make(pattern));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>map</c>: over an array, the argument per item; over a map, a map again (the interpreter's
    /// MapEntries: key and value bound to a lambda's two parameters, <c>mapEntry(k, v)</c> renaming the key).
    /// </summary>
    private Code CompileMap(Code source, PqlNode argument, Func<Frame, PqlValue, PqlValue> forItem)
    {
        var (keySlot, valueSlot) = (NewSlot(), NewSlot());
        var lambda = argument as Lambda;
        var body = lambda?.Body ?? argument;
        var (newKey, newValue, value) = _implicit.Within(valueSlot, () =>
        {
            var bound = lambda switch
            {
                { Parameters.Count: > 1 } => new[] { (lambda.Parameters[0], keySlot), (lambda.Parameters[1], valueSlot) },
                { Parameters.Count: 1 } => [(lambda.Parameters[0], valueSlot)],
                _ => [],
            };
            _variables.AddRange(bound);
            try
            {
                return body is FunctionCall { Function: "mapEntry", Receiver: null, Arguments: [var k, var v] }
                    ? (Compile(k), Compile(v), (Code?)null)
                    : ((Code?)null, (Code?)null, Compile(body));
            }
            finally
            {
                _variables.RemoveRange(_variables.Count - bound.Length, bound.Length);
            }
        });
        return frame =>
        {
            var from = source(frame);
            if (from.Kind == PqlKind.Array)
            {
                return PqlValue.Of(from.Array.Select(item => forItem(frame, item)).ToArray());
            }
            if (from.Kind != PqlKind.Record)
            {
                return PqlValue.Null;
            }
            var record = from.Record;
            var keys = new List<string>();
            var values = new Dictionary<string, PqlValue>(StringComparer.Ordinal);
            for (var i = 0; i < record.Count; i++)
            {
                frame.Slots[keySlot] = PqlValue.Of(record.NameAt(i));
                frame.Slots[valueSlot] = record.ValueAt(i);
                var key = newKey is null ? record.NameAt(i) : Interpreter.KeyText(newKey(frame).ToObject());
                if (!values.ContainsKey(key))
                {
                    keys.Add(key);
                }
                values[key] = value is null ? newValue!(frame) : value(frame);
            }
            return PqlValue.Of(new PqlRecord([.. keys], [.. keys.Select(k => values[k])]));
        };
    }

    /// <summary>Functions whose argument is evaluated for each item (as the implicit parameter, and a lambda's first parameter).</summary>
    private Code CompilePerItem(string function, IReadOnlyList<PqlNode> arguments)
    {
        if (arguments.Count < 2)
        {
            return Constant(PqlValue.Null);
        }
        var source = Compile(arguments[0]);
        var slot = NewSlot();
        var body = _implicit.Within(slot, () => arguments[1] is Lambda { Parameters.Count: > 0 } lambda
            ? WithVariable(lambda.Parameters[0], slot, () => Compile(lambda.Body))
            : Compile(arguments[1]));
        var count = function is "topN" or "bottomN" && arguments.Count > 2 ? Compile(arguments[2]) : null;
        PqlValue For(Frame frame, PqlValue item)
        {
            frame.Slots[slot] = item;
            return body(frame);
        }
        return function switch
        {
            "filter" => frame => source(frame) is { Kind: PqlKind.Array } items
                ? PqlValue.Of(items.Array.Where(item => Holds(For(frame, item))).ToArray())
                : PqlValue.Null,
            "exists" => frame => source(frame) is { Kind: PqlKind.Array } items
                ? PqlValue.Of(items.Array.Any(item => Holds(For(frame, item))))
                : PqlValue.Null,
            "forall" => frame => source(frame) is { Kind: PqlKind.Array } items
                ? PqlValue.Of(items.Array.All(item => Holds(For(frame, item))))
                : PqlValue.Null,
            "map" => CompileMap(source, arguments[1], For),
            "groupBy" => frame =>
            {
                if (source(frame) is not { Kind: PqlKind.Array } items)
                {
                    return PqlValue.Null;
                }
                // Grouped by the key's text, in the order keys first appear.
                var groups = new Dictionary<string, List<PqlValue>>(StringComparer.Ordinal);
                var order = new List<string>();
                foreach (var item in items.Array)
                {
                    var key = Interpreter.KeyText(For(frame, item).ToObject());
                    if (!groups.TryGetValue(key, out var group))
                    {
                        groups[key] = group = [];
                        order.Add(key);
                    }
                    group.Add(item);
                }
                return PqlValue.Of(new PqlRecord([.. order], [.. order.Select(key => PqlValue.Of(groups[key].ToArray()))]));
            }
            ,
            _ => frame =>
            {
                if (source(frame) is not { Kind: PqlKind.Array } items)
                {
                    return PqlValue.Null;
                }
                var take = count is not null && count(frame) is { Kind: PqlKind.Integer } n ? (int)Math.Max(0, n.Integer) : 1;
                var keyed = items.Array.Select(item => (Item: item, Key: For(frame, item))).Where(e => !e.Key.IsNull).ToList();
                var comparer = Comparer<PqlValue>.Create((a, b) => Compare(a, b, frame.Time) is var c && c == Incomparable ? 0 : c);
                // Stable: among equal keys, items keep their order.
                var ordered = function == "topN" ? keyed.OrderByDescending(e => e.Key, comparer) : keyed.OrderBy(e => e.Key, comparer);
                return PqlValue.Of(ordered.Take(take).Select(e => e.Item).ToArray());
            }
            ,
        };
    }
}

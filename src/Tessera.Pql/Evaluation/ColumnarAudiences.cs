using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// Audiences with their event conditions taken out, to be computed for many profiles at once over their events in
/// columns (<see cref="ColumnarEvents"/>), with each distinct condition tested once per distinct event value rather
/// than once per event and audience. What is taken out: <c>count(E)</c>, a bare <c>E</c> where only whether it holds is
/// read (a whole condition, an operand of <c>and</c>, <c>or</c>, <c>not</c>), <c>E.field</c> (sums, averages), and
/// <c>chain(E, timestamp, [...])</c>, where <c>E</c> is <c>xEvent</c> filtered by conditions that each are a test of
/// the event's own fields other than its time (<c>eventType = "order" and amount &gt;= 400</c>) or a window on its
/// <c>timestamp</c> that depends only on the clock (<c>timestamp occurs &lt; 7 days before now</c>). The rest of the
/// audience (its attributes, <c>inSegment</c>, the comparisons of those counts) is compiled as before and reads the
/// values computed for the profile.
/// </summary>
/// <remarks>
/// Exact by construction, not by a second implementation of PQL: a field test is evaluated by the compiled evaluator
/// on the event's fields (all but its time) once per distinct set of values of those fields (an event's
/// <em>shape</em>); a window is the compiled evaluator's own window for the run's instant, tested on the event's time
/// as the compiled evaluator reads it; counts and chains follow the compiled evaluator's loops (a chain's steps in
/// strict time order, the earliest match first). An audience with any other use of events is not columnar
/// (<see cref="IsColumnar"/>): the engine evaluates it on the converted profile as before. A property test holds the
/// two paths equal on random audiences and profiles.
/// </remarks>
public sealed class ColumnarAudiences
{
    private static readonly PqlValue[] NoItems = [];
    private static readonly PqlValue[] OneItem = [PqlValue.Null];

    private readonly CompiledExpression?[] _remainders;
    private readonly CompiledExpression[] _predicates;
    private readonly Func<DateTimeOffset, TimeInterval?>[] _windows;
    private readonly Condition[] _conditions;
    private readonly Site[] _sites;
    private readonly PqlProfile _empty;

    private ColumnarAudiences(TimeZoneInfo zone, CompiledExpression?[] remainders, Builder built)
    {
        Zone = zone;
        _remainders = remainders;
        _predicates = [.. built.Predicates.Select(p => PqlCompiler.Compile(p, zone))];
        _windows = [.. built.Windows];
        _conditions = [.. built.Conditions];
        _sites = [.. built.Sites];
        Words = Math.Max(1, (_predicates.Length + 63) / 64);
        _empty = PqlProfile.FromJson(new JsonObject(), zone);
        Shape = EventProjection.Of(built.ColumnarTrees);
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>The event fields an event's shape keeps (all but <c>timestamp</c> when null).</summary>
    internal EventProjection? Shape { get; }

    /// <summary>Words of 64 bits per shape: one bit per field test.</summary>
    internal int Words { get; }

    internal int SiteCount => _sites.Length;

    /// <summary>Distinct tests of an event's fields.</summary>
    internal int TestCount => _predicates.Length;

    internal int ConditionCount => _conditions.Length;

    /// <summary>Whether audience <paramref name="audience"/> (its position in the list compiled) is evaluated with columns.</summary>
    public bool IsColumnar(int audience) => _remainders[audience] is not null;

    /// <summary>How many of the audiences are.</summary>
    public int ColumnarCount => _remainders.Count(r => r is not null);

    /// <summary>Takes the event conditions out of <paramref name="audiences"/> (their parsed PQL) where it can.</summary>
    public static ColumnarAudiences Compile(IReadOnlyList<PqlNode> audiences, TimeZoneInfo zone)
    {
        var built = new Builder(zone);
        var remainders = new CompiledExpression?[audiences.Count];
        for (var i = 0; i < audiences.Count; i++)
        {
            var mark = built.Mark();
            if (audiences[i] is not Lambda && built.Rewrite(audiences[i], holds: true) is { } rest && !built.ReadsEvents(rest))
            {
                remainders[i] = PqlCompiler.Compile(rest, zone);
                built.ColumnarTrees.Add(audiences[i]);
            }
            else
            {
                built.Undo(mark);
            }
        }
        return new ColumnarAudiences(zone, remainders, built);
    }

    /// <summary>The conditions' windows and the shapes seen, for evaluations at <paramref name="now"/>.</summary>
    public ColumnarRun Start(DateTimeOffset now) => new(this, now, ColumnarRun.MaxShapes);

    /// <summary>As <see cref="Start(DateTimeOffset)"/>, keeping at most <paramref name="maxShapes"/> shapes (tests).</summary>
    internal ColumnarRun Start(DateTimeOffset now, int maxShapes) => new(this, now, maxShapes);

    internal TimeInterval?[] WindowsAt(DateTimeOffset now) => [.. _windows.Select(w => w(now))];

    /// <summary>Every field test's answer for an event of this shape (converted: its fields but the time), as bits.</summary>
    internal ulong[] Test(PqlValue shape, DateTimeOffset now)
    {
        var bits = new ulong[Words];
        var external = new[] { PqlValue.Of([shape]) };
        for (var p = 0; p < _predicates.Length; p++)
        {
            if (_predicates[p].Evaluate(_empty, now, null, external, 0) is { Kind: PqlKind.Array } kept && kept.Array.Length > 0)
            {
                bits[p >> 6] |= 1UL << (p & 63);
            }
        }
        return bits;
    }

    internal Condition ConditionAt(int condition) => _conditions[condition];

    /// <summary>The conditions whose field tests all hold of a shape with these test answers (their windows aside), as bits.</summary>
    internal ulong[] Held(ulong[] tests)
    {
        var held = new ulong[Math.Max(1, (_conditions.Length + 63) / 64)];
        for (var c = 0; c < _conditions.Length; c++)
        {
            var mask = _conditions[c].Mask;
            var holds = true;
            for (var w = 0; w < mask.Length && holds; w++)
            {
                holds = (tests[w] & mask[w]) == mask[w];
            }
            if (holds)
            {
                held[c >> 6] |= 1UL << (c & 63);
            }
        }
        return held;
    }

    internal Site SiteAt(int site) => _sites[site];

    internal PqlValue Evaluate(int audience, PqlProfile profile, DateTimeOffset now, Func<string, bool>? inSegment, PqlValue[] values, int offset) =>
        _remainders[audience]!.Evaluate(profile, now, inSegment, values, offset);

    internal static PqlValue HoldsValue(bool any) => PqlValue.Of(any ? OneItem : NoItems);

    /// <summary>One condition on a single event: every field test (bits of <see cref="Mask"/>) holds of its shape, and its time lies in every window.</summary>
    internal sealed record Condition(ulong[] Mask, int[] Windows);

    internal enum SiteKind
    {
        /// <summary><c>count(E)</c>: an integer.</summary>
        Count,

        /// <summary>A bare <c>E</c> read only as a condition: an array that is empty or not.</summary>
        Holds,

        /// <summary><c>E</c> whose items' fields are read: the matching events' shapes.</summary>
        Items,

        /// <summary><c>chain(E, timestamp, [...])</c>: a boolean.</summary>
        Chain,
    }

    /// <summary>A value computed per profile: its kind, the event set's condition, and a chain's steps (condition, COUNT).</summary>
    internal sealed record Site(SiteKind Kind, int Condition, (int Condition, long Needed)[] Steps);

    /// <summary>Collects the field tests, windows, conditions and sites of the audiences, shared where they are equal.</summary>
    private sealed class Builder(TimeZoneInfo zone)
    {
        public readonly List<PqlNode> Predicates = [];
        public readonly List<Func<DateTimeOffset, TimeInterval?>> Windows = [];
        public readonly List<Condition> Conditions = [];
        public readonly List<Site> Sites = [];
        public readonly List<PqlNode> ColumnarTrees = [];
        private readonly Dictionary<PqlNode, int> _predicateIds = [];
        private readonly Dictionary<Occurs, int> _windowIds = [];
        private readonly Dictionary<string, int> _conditionIds = new(StringComparer.Ordinal);
        private readonly Dictionary<(SiteKind, PqlNode), int> _siteIds = [];

        /// <summary>How much is collected, to forget what an audience that turns out not columnar added.</summary>
        public (int, int, int, int) Mark() => (Predicates.Count, Windows.Count, Conditions.Count, Sites.Count);

        public void Undo((int Predicates, int Windows, int Conditions, int Sites) mark)
        {
            Forget(Predicates, _predicateIds, mark.Predicates);
            Forget(Windows, _windowIds, mark.Windows);
            Forget(Conditions, _conditionIds, mark.Conditions);
            Forget(Sites, _siteIds, mark.Sites);

            static void Forget<TItem, TKey>(List<TItem> items, Dictionary<TKey, int> ids, int count) where TKey : notnull
            {
                items.RemoveRange(count, items.Count - count);
                foreach (var (key, id) in ids.ToList())
                {
                    if (id >= count)
                    {
                        ids.Remove(key);
                    }
                }
            }
        }

        /// <summary>
        /// <paramref name="node"/> (at the profile's level) with its event conditions replaced by the values computed for them;
        /// null when it uses events in a way that is not taken out. <paramref name="holds"/>: only whether its value holds is read.
        /// </summary>
        public PqlNode? Rewrite(PqlNode node, bool holds)
        {
            if (DeepTrees.StackIsLow)
            {
                return DeepTrees.OnFreshStack(() => Rewrite(node, holds));
            }
            if (TryEventSet(node) is { } whole)
            {
                return holds ? SiteValue(SiteKind.Holds, node, whole, []) : null;
            }
            switch (node)
            {
                case FunctionCall call:
                    {
                        IReadOnlyList<PqlNode> arguments = call.Receiver is null ? call.Arguments : [call.Receiver, .. call.Arguments];
                        if (call.Function == "count" && arguments is [var counted] && TryEventSet(counted) is { } set)
                        {
                            return SiteValue(SiteKind.Count, counted, set, []);
                        }
                        // Whether these read only whether an operand holds (IsTrue / not null): an array of the right emptiness answers alike.
                        var readsHolds = call.Function is "and" or "or" or "not" or "isNull" or "isNotNull";
                        var rewritten = new PqlNode[arguments.Count];
                        for (var i = 0; i < arguments.Count; i++)
                        {
                            if (Rewrite(arguments[i], readsHolds || (call.Function == "if" && i == 0)) is not { } argument)
                            {
                                return null;
                            }
                            rewritten[i] = argument;
                        }
                        return call.Receiver is null ? call with { Arguments = rewritten } : call with { Receiver = rewritten[0], Arguments = rewritten[1..] };
                    }
                case FieldLookup { Target: { } target, Field: var field } when field != "timestamp" && TryEventSet(target) is { } items:
                    return new FieldLookup(SiteValue(SiteKind.Items, target, items, []), field) { Position = node.Position };
                case FieldLookup { Target: { } target } lookup:
                    return Rewrite(target, holds: false) is { } inner ? lookup with { Target = inner } : null;
                case Chain chain:
                    return TryChain(chain);
                default:
                    return ReadsEvents(node) ? null : node;
            }
        }

        /// <summary>Whether <paramref name="node"/> may read events (or the whole profile) in a way the rewrite did not take out.</summary>
        public bool ReadsEvents(PqlNode node) => DeepTrees.StackIsLow ? DeepTrees.OnFreshStack(() => ReadsEvents(node)) : node switch
        {
            ExternalValue or Literal => false,
            FieldLookup { Field: "xEvent" } or Parameter or Lambda => true,
            FieldLookup lookup => lookup.Target is { } target && ReadsEvents(target),
            ArrayLiteral array => array.Items.Any(ReadsEvents),
            FunctionCall call => (call.Receiver is { } receiver && ReadsEvents(receiver)) || call.Arguments.Any(ReadsEvents),
            Filter filter => ReadsEvents(filter.Source) || ReadsEvents(filter.Condition),
            Occurs occurs => new[] { occurs.Subject, occurs.Amount, occurs.Anchor, occurs.Until }.Any(n => n is not null && ReadsEvents(n)),
            _ => true,
        };

        private ExternalValue SiteValue(SiteKind kind, PqlNode node, int condition, (int, long)[] steps)
        {
            if (!_siteIds.TryGetValue((kind, node), out var id))
            {
                id = Sites.Count;
                Sites.Add(new Site(kind, condition, steps));
                _siteIds[(kind, node)] = id;
            }
            return new ExternalValue(id) { Position = node.Position };
        }

        /// <summary><c>xEvent</c> or <c>xEvent[...]...[...]</c> with conditions taken out: its condition's id.</summary>
        private int? TryEventSet(PqlNode node)
        {
            var predicates = new List<int>();
            var windows = new List<int>();
            return Collect(node) ? ConditionOf(predicates, windows) : null;

            bool Collect(PqlNode set) => DeepTrees.StackIsLow ? DeepTrees.OnFreshStack(() => Collect(set)) : set switch
            {
                FieldLookup { Target: null, Field: "xEvent" } => true,
                Filter filter => Collect(filter.Source) && TryCondition(filter.Condition, holds: true, predicates, windows),
                _ => false,
            };
        }

        private ExternalValue? TryChain(Chain chain)
        {
            if (chain.TimeField is not FieldLookup { Target: null, Field: "timestamp" } || TryEventSet(chain.Source) is not { } source)
            {
                return null;
            }
            var steps = new (int, long)[chain.Steps.Count];
            for (var s = 0; s < steps.Length; s++)
            {
                var step = chain.Steps[s];
                var predicates = new List<int>();
                var windows = new List<int>();
                // WHAT and WHERE are read with IsTrue; COUNT outside the item, an integer literal or 1.
                if ((step.What is { } what && !TryCondition(what, holds: false, predicates, windows))
                    || (step.Where is { } where && !TryCondition(where, holds: false, predicates, windows)))
                {
                    return null;
                }
                if (step.When is { } when)
                {
                    if (when is not Occurs { Subject: null } occurs || PqlCompiler.ClockWindow(occurs, zone) is not { } window)
                    {
                        return null;
                    }
                    windows.Add(WindowId(occurs, window));
                }
                long needed;
                switch (step.Count)
                {
                    case null:
                        needed = 1;
                        break;
                    case Literal literal:
                        needed = literal.Value is long n ? n : 1;
                        break;
                    default:
                        return null;
                }
                steps[s] = (ConditionOf(predicates, windows), needed);
            }
            return SiteValue(SiteKind.Chain, chain, source, steps);
        }

        /// <summary>
        /// Takes <paramref name="condition"/> on one event apart: the operands of <c>and</c> (each read with IsTrue, as
        /// <c>and</c> reads them), windows on the event's time, and tests of its other fields.
        /// <paramref name="holds"/>: the whole condition is read as a filter reads it (Holds), not with IsTrue.
        /// </summary>
        private bool TryCondition(PqlNode condition, bool holds, List<int> predicates, List<int> windows)
        {
            if (DeepTrees.StackIsLow)
            {
                return DeepTrees.OnFreshStack(() => TryCondition(condition, holds, predicates, windows));
            }
            if (condition is FunctionCall { Function: "and", Receiver: null, Arguments: [var left, var right] })
            {
                return TryCondition(left, holds: false, predicates, windows) && TryCondition(right, holds: false, predicates, windows);
            }
            if (condition is Occurs { Subject: FieldLookup { Target: null, Field: "timestamp" } } occurs)
            {
                if (PqlCompiler.ClockWindow(occurs, zone) is not { } window)
                {
                    return false;
                }
                windows.Add(WindowId(occurs, window));
                return true;
            }
            if (!OfTheEventOnly(condition))
            {
                return false;
            }
            // Evaluated on a one-item array of the shape: kept when it holds as a filter reads it; "and true" reads it with IsTrue.
            // A comparison, or, not and occurs give a boolean, which both read alike: one test wherever it stands.
            var boolean = condition is Occurs or FunctionCall { Function: "=" or "!=" or "<" or "<=" or ">" or ">=" or "in" or "notIn" or "or" or "not" };
            PqlNode test = new Filter(new ExternalValue(0), holds || boolean ? condition : new FunctionCall("and", null, [condition, new Literal(LiteralKind.Boolean, true)]));
            if (!_predicateIds.TryGetValue(test, out var id))
            {
                id = Predicates.Count;
                Predicates.Add(test);
                _predicateIds[test] = id;
            }
            predicates.Add(id);
            return true;
        }

        /// <summary>Whether <paramref name="node"/>, inside a filter over events, reads only the event's own fields other than its time.</summary>
        private static bool OfTheEventOnly(PqlNode node) => node switch
        {
            Literal => true,
            ArrayLiteral array => array.Items.All(OfTheEventOnly),
            FieldLookup { Target: null, Field: var field } => field != "timestamp",
            FieldLookup { Target: { } target } => OfTheEventOnly(target),
            FunctionCall call => call.Function != "inSegment" && (call.Receiver is null || OfTheEventOnly(call.Receiver)) && call.Arguments.All(OfTheEventOnly),
            Occurs { Subject: { } subject } occurs => OfTheEventOnly(subject)
                && new[] { occurs.Amount, occurs.Anchor, occurs.Until }.All(n => n is null || OfTheEventOnly(n)),
            _ => false,
        };

        private int WindowId(Occurs occurs, Func<DateTimeOffset, TimeInterval?> window)
        {
            if (!_windowIds.TryGetValue(occurs, out var id))
            {
                id = Windows.Count;
                Windows.Add(window);
                _windowIds[occurs] = id;
            }
            return id;
        }

        private int ConditionOf(List<int> predicates, List<int> windows)
        {
            var key = string.Join(',', predicates.Order()) + "|" + string.Join(',', windows.Order());
            if (!_conditionIds.TryGetValue(key, out var id))
            {
                var mask = new ulong[Math.Max(1, (Predicates.Count + 63) / 64)];
                foreach (var p in predicates)
                {
                    mask[p >> 6] |= 1UL << (p & 63);
                }
                id = Conditions.Count;
                Conditions.Add(new Condition(mask, [.. windows.Distinct()]));
                _conditionIds[key] = id;
            }
            return id;
        }
    }
}

/// <summary>
/// One instant's evaluation of <see cref="ColumnarAudiences"/>: the windows at that instant and every event shape met
/// so far with its field tests answered (shared by the threads of a run; a shape is tested once).
/// </summary>
public sealed class ColumnarRun
{
    /// <summary>
    /// Shapes kept at most: past it (fields of many distinct values, such as prices or URLs, among those the audiences
    /// read) a new shape is tested for its event alone and not kept, so memory stays bounded (about 200 bytes a shape).
    /// </summary>
    public const int MaxShapes = 1 << 20;

    private readonly ConcurrentDictionary<byte[], EventShape> _shapes = new(ShapeKeyComparer.Instance);
    private int _kept; // The dictionary's Count takes every lock.

    private readonly int _maxShapes;

    internal ColumnarRun(ColumnarAudiences program, DateTimeOffset now, int maxShapes)
    {
        _maxShapes = maxShapes;
        Program = program;
        Now = now;
        Windows = program.WindowsAt(now);
    }

    public ColumnarAudiences Program { get; }

    public DateTimeOffset Now { get; }

    internal TimeInterval?[] Windows { get; }

    /// <summary>Distinct event shapes kept so far.</summary>
    public int Shapes => Volatile.Read(ref _kept);

    /// <summary>A buffer for the events of some profiles (one per thread; reusable with <see cref="ColumnarEvents.Reset"/>).</summary>
    public ColumnarEvents NewEvents() => new(this);

    /// <summary>The shape whose key (the JSON object of the event's fields but its time) is <paramref name="key"/>.</summary>
    internal EventShape ShapeOf(ReadOnlySpan<byte> key)
    {
        var lookup = _shapes.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(key, out var known))
        {
            return known;
        }
        var value = PqlProfile.Convert(key, Program.Zone, Program.Shape);
        var tests = Program.Test(value, Now);
        var shape = new EventShape(value, tests, Program.Held(tests));
        if (Volatile.Read(ref _kept) >= _maxShapes)
        {
            return shape;
        }
        var kept = _shapes.GetOrAdd(key.ToArray(), shape);
        if (ReferenceEquals(kept, shape))
        {
            Interlocked.Increment(ref _kept);
        }
        return kept;
    }

    private sealed class ShapeKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static ShapeKeyComparer Instance { get; } = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] key) => GetHashCode((ReadOnlySpan<byte>)key);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        // Keys are tens of bytes, hashed once per event read: XxHash3 reads them in wide blocks (HashCode.AddBytes four bytes at a time).
        public int GetHashCode(ReadOnlySpan<byte> alternate) => (int)System.IO.Hashing.XxHash3.HashToUInt64(alternate);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}

/// <summary>
/// An event's fields but its time, converted, the answers of every field test on them, and the conditions those
/// answers satisfy (their windows aside: an event's time decides those), so that an event of a shape met before
/// only has its time tested.
/// </summary>
internal sealed record EventShape(PqlValue Value, ulong[] Bits, ulong[] Held);

using System.Runtime.InteropServices;

namespace Tessera.Identity.Normalization;

/// <summary>
/// A deterministic automaton over the digits 0-9 for up to 64 regular expressions at once, each tagged
/// by its position: one pass over a number says which of them match it whole, or match a prefix of it.
/// It reads the dialect of libphonenumber's metadata: digits, classes such as <c>[2-9]</c>, groups
/// <c>(?:…)</c> (or plain), alternation, and the bounded quantifiers <c>?</c>, <c>{n}</c> and <c>{n,m}</c>,
/// plus <c>\d</c>. Anything else is refused (<see cref="NotSupportedException"/>), so a change of dialect
/// in the library shows at once (its callers then ask the library) instead of answering wrongly.
/// </summary>
/// <remarks>
/// The patterns are built into one nondeterministic automaton (Thompson's construction, counted
/// repeats written out), which is then made deterministic up front. Without unbounded repeats every
/// pattern describes a finite set of short numbers, so the automata stay small.
/// </remarks>
internal sealed class DigitAutomaton
{
    private const int Dead = -1;

    /// <summary>
    /// Bounds on the automata a set of patterns may build: nested counted repeats multiply the states written
    /// out, and the subset construction can take exponentially many sets of them. The library's metadata stays
    /// below both (every calling code compiles: DigitAutomatonTests); past them the patterns are refused as outside
    /// the dialect, and the callers ask the library.
    /// </summary>
    internal const int MaxNfaStates = 1 << 20, MaxDfaStates = 1 << 16;

    private readonly int[] _next;
    private readonly ulong[] _accepts;

    private DigitAutomaton(int[] next, ulong[] accepts)
    {
        _next = next;
        _accepts = accepts;
    }

    /// <summary>Bit <c>i</c> set: pattern <c>i</c> matches the whole of <paramref name="digits"/>.</summary>
    public ulong MatchWhole(ReadOnlySpan<char> digits)
    {
        var state = 0;
        foreach (var c in digits)
        {
            var digit = (uint)(c - '0');
            if (digit > 9 || (state = _next[(state * 10) + (int)digit]) == Dead)
            {
                return 0;
            }
        }
        return _accepts[state];
    }

    /// <summary>Bit <c>i</c> set: pattern <c>i</c> matches some prefix of <paramref name="digits"/>, the empty one included.</summary>
    public ulong MatchPrefixes(ReadOnlySpan<char> digits)
    {
        var state = 0;
        var tags = _accepts[0];
        foreach (var c in digits)
        {
            var digit = (uint)(c - '0');
            if (digit > 9 || (state = _next[(state * 10) + (int)digit]) == Dead)
            {
                break;
            }
            tags |= _accepts[state];
        }
        return tags;
    }

    /// <summary>Builds the automaton of <paramref name="patterns"/> (at most 64), pattern <c>i</c> tagged by bit <c>i</c>.</summary>
    public static DigitAutomaton Compile(IReadOnlyList<string> patterns)
    {
        if (patterns.Count > 64)
        {
            throw new ArgumentException($"at most 64 patterns, not {patterns.Count}", nameof(patterns));
        }
        var nfa = new Nfa();
        var start = nfa.NewState();
        for (var i = 0; i < patterns.Count; i++)
        {
            var (first, last) = nfa.Build(new Parser(patterns[i]).ParseWhole());
            nfa.Epsilon(start, first);
            nfa.Tags[last] |= 1UL << i;
        }
        return nfa.Determinize(start);
    }

    private abstract record Node;

    private sealed record Digits(ushort Mask) : Node;

    private sealed record Sequence(List<Node> Items) : Node;

    private sealed record Choice(List<Node> Options) : Node;

    private sealed record Repeat(Node Item, int Min, int Max) : Node;

    /// <summary>Recursive descent over the metadata's dialect; positions in errors count from 0.</summary>
    private ref struct Parser(string pattern)
    {
        private const int MaxCount = 100; // far above any phone length; keeps a bad pattern from building millions of states
        private readonly string _pattern = pattern;
        private int _at;

        public Node ParseWhole()
        {
            var node = ParseChoice();
            return _at == _pattern.Length ? node : throw Unsupported($"unexpected '{_pattern[_at]}'");
        }

        private Node ParseChoice()
        {
            var options = new List<Node> { ParseSequence() };
            while (Peek() == '|')
            {
                _at++;
                options.Add(ParseSequence());
            }
            return options.Count == 1 ? options[0] : new Choice(options);
        }

        private Node ParseSequence()
        {
            var items = new List<Node>();
            while (Peek() is { } c && c != '|' && c != ')')
            {
                items.Add(ParseQuantified(ParseAtom()));
            }
            return items.Count == 1 ? items[0] : new Sequence(items);
        }

        private Node ParseAtom()
        {
            var c = _pattern[_at++];
            switch (c)
            {
                case >= '0' and <= '9':
                    return new Digits((ushort)(1 << (c - '0')));
                case '\\' when Peek() == 'd':
                    _at++;
                    return new Digits(0x3FF);
                case '[':
                    return ParseClass();
                case '(':
                    if (Peek() == '?')
                    {
                        _at++;
                        if (Peek() != ':')
                        {
                            throw Unsupported("only non-capturing groups '(?:' are read");
                        }
                        _at++;
                    }
                    var inner = ParseChoice();
                    if (Peek() != ')')
                    {
                        throw Unsupported("a group is not closed");
                    }
                    _at++;
                    return inner;
                default:
                    _at--;
                    throw Unsupported($"'{c}' is not read");
            }
        }

        private Digits ParseClass()
        {
            ushort mask = 0;
            while (Peek() is { } c && c != ']')
            {
                _at++;
                if (c is < '0' or > '9')
                {
                    _at--;
                    throw Unsupported($"'{c}' in a class is not read");
                }
                var last = c;
                if (Peek() == '-' && _at + 1 < _pattern.Length && _pattern[_at + 1] != ']')
                {
                    last = _pattern[_at + 1];
                    if (last is < '0' or > '9' || last < c)
                    {
                        throw Unsupported("a class range must run from one digit up to another");
                    }
                    _at += 2;
                }
                for (var d = c; d <= last; d++)
                {
                    mask |= (ushort)(1 << (d - '0'));
                }
            }
            if (Peek() != ']')
            {
                throw Unsupported("a class is not closed");
            }
            _at++;
            return new Digits(mask);
        }

        private Node ParseQuantified(Node item)
        {
            while (true)
            {
                switch (Peek())
                {
                    case '?':
                        _at++;
                        item = new Repeat(item, 0, 1);
                        break;
                    case '{':
                        _at++;
                        var min = ParseCount();
                        var max = min;
                        if (Peek() == ',')
                        {
                            _at++;
                            max = ParseCount();
                        }
                        if (Peek() != '}' || max < min)
                        {
                            throw Unsupported("a count must be {n} or {n,m} with n <= m");
                        }
                        _at++;
                        item = new Repeat(item, min, max);
                        break;
                    default:
                        return item;
                }
            }
        }

        private int ParseCount()
        {
            var start = _at;
            var value = 0;
            while (Peek() is >= '0' and <= '9' && value <= MaxCount)
            {
                value = (value * 10) + (_pattern[_at++] - '0');
            }
            return _at == start || value > MaxCount ? throw Unsupported($"a count must be a number up to {MaxCount}") : value;
        }

        private readonly char? Peek() => _at < _pattern.Length ? _pattern[_at] : null;

        private readonly NotSupportedException Unsupported(string problem) =>
            new($"phone pattern '{_pattern}', at {_at}: {problem}");
    }

    /// <summary>Thompson's construction: each state has one transition on a set of digits, or empty moves.</summary>
    private sealed class Nfa
    {
        private readonly List<ushort> _masks = [];
        private readonly List<int> _targets = [];
        private readonly List<List<int>?> _epsilons = [];

        private readonly HashSet<int> _seen = [];
        private readonly Stack<int> _pending = new();
        private readonly List<int> _kept = [];

        public List<ulong> Tags { get; } = [];

        public int NewState()
        {
            if (_masks.Count == MaxNfaStates)
            {
                throw new NotSupportedException($"phone patterns that write out more than {MaxNfaStates} states");
            }
            _masks.Add(0);
            _targets.Add(Dead);
            _epsilons.Add(null);
            Tags.Add(0);
            return _masks.Count - 1;
        }

        public void Epsilon(int from, int to) => (_epsilons[from] ??= []).Add(to);

        /// <summary>The fragment of <paramref name="node"/>: its entry, and its exit (which has no moves yet).</summary>
        public (int First, int Last) Build(Node node)
        {
            switch (node)
            {
                case Digits digits:
                    {
                        var first = NewState();
                        var last = NewState();
                        _masks[first] = digits.Mask;
                        _targets[first] = last;
                        return (first, last);
                    }
                case Sequence sequence:
                    {
                        var first = NewState();
                        var last = first;
                        foreach (var item in sequence.Items)
                        {
                            var (a, b) = Build(item);
                            Epsilon(last, a);
                            last = b;
                        }
                        return (first, last);
                    }
                case Choice choice:
                    {
                        var first = NewState();
                        var last = NewState();
                        foreach (var option in choice.Options)
                        {
                            var (a, b) = Build(option);
                            Epsilon(first, a);
                            Epsilon(b, last);
                        }
                        return (first, last);
                    }
                case Repeat repeat:
                    {
                        var first = NewState();
                        var current = first;
                        for (var i = 0; i < repeat.Min; i++)
                        {
                            var (a, b) = Build(repeat.Item);
                            Epsilon(current, a);
                            current = b;
                        }
                        var last = NewState();
                        for (var i = repeat.Min; i < repeat.Max; i++)
                        {
                            var (a, b) = Build(repeat.Item);
                            Epsilon(current, last);
                            Epsilon(current, a);
                            current = b;
                        }
                        Epsilon(current, last);
                        return (first, last);
                    }
                default:
                    throw new InvalidOperationException($"unknown node {node}");
            }
        }

        /// <summary>The subset construction: a deterministic state per set of states reachable together.</summary>
        public DigitAutomaton Determinize(int start)
        {
            var ids = new Dictionary<int[], int>(StateSetComparer.Instance);
            var sets = new List<int[]>();
            var next = new List<int>();
            var accepts = new List<ulong>();

            int StateOf(int[] set)
            {
                if (ids.TryGetValue(set, out var id))
                {
                    return id;
                }
                id = sets.Count;
                if (id == MaxDfaStates)
                {
                    throw new NotSupportedException($"phone patterns whose deterministic automaton has more than {MaxDfaStates} states");
                }
                ids.Add(set, id);
                sets.Add(set);
                for (var digit = 0; digit < 10; digit++)
                {
                    next.Add(Dead);
                }
                var tags = 0UL;
                foreach (var state in set)
                {
                    tags |= Tags[state];
                }
                accepts.Add(tags);
                return id;
            }

            StateOf(Closure([start]));
            var moved = new List<int>();
            for (var id = 0; id < sets.Count; id++)
            {
                for (var digit = 0; digit < 10; digit++)
                {
                    moved.Clear();
                    foreach (var state in sets[id])
                    {
                        if ((_masks[state] >> digit & 1) != 0)
                        {
                            moved.Add(_targets[state]);
                        }
                    }
                    if (moved.Count > 0)
                    {
                        next[(id * 10) + digit] = StateOf(Closure(moved));
                    }
                }
            }
            return new DigitAutomaton([.. next], [.. accepts]);
        }

        /// <summary>Every state reachable by empty moves, keeping those that matter (a digit move or a tag), sorted.</summary>
        private int[] Closure(List<int> from)
        {
            _seen.Clear();
            _kept.Clear();
            _pending.Clear();
            foreach (var state in from)
            {
                _pending.Push(state);
            }
            while (_pending.TryPop(out var state))
            {
                if (!_seen.Add(state))
                {
                    continue;
                }
                if (_masks[state] != 0 || Tags[state] != 0)
                {
                    _kept.Add(state);
                }
                if (_epsilons[state] is { } epsilons)
                {
                    foreach (var to in epsilons)
                    {
                        _pending.Push(to);
                    }
                }
            }
            _kept.Sort();
            return [.. _kept];
        }
    }

    private sealed class StateSetComparer : IEqualityComparer<int[]>
    {
        public static readonly StateSetComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] set)
        {
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(set.AsSpan()));
            return hash.ToHashCode();
        }
    }
}

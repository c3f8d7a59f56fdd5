using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Tessera.Pql.Evaluation;

/// <summary>
/// The events of a few hundred profiles in columns (time, shape) for <see cref="ColumnarAudiences"/>: filled with each
/// stored event's record (<see cref="Add"/>), then <see cref="Compute"/> answers every distinct event condition once per
/// event and computes each profile's counts, sets and chains, which <see cref="Evaluate"/> hands to the audiences.
/// Not thread-safe: one per thread, reused from range to range.
/// </summary>
public sealed class ColumnarEvents
{
    private readonly ColumnarRun _run;
    private readonly ColumnarAudiences _program;
    private readonly ArrayBufferWriter<byte> _key = new(256);
    private readonly TimeWindow _time;
    private int[] _starts = new int[257];
    private EventShape?[] _shapes = new EventShape?[4096];
    private long[] _ticks = new long[4096];
    private bool[] _timed = new bool[4096];
    private ulong[] _matches;
    private PqlValue[] _values = [];
    private (long Ticks, int Index)[] _order = new (long, int)[64];
    private int _profiles;

    internal ColumnarEvents(ColumnarRun run)
    {
        _run = run;
        _program = run.Program;
        _time = new TimeWindow(_program.Zone);
        _matches = new ulong[_shapes.Length * Words];
    }

    /// <summary>
    /// Makes room for <paramref name="eventCounts"/>.Length profiles with at most that many events each (their timelines'
    /// lengths), none read yet.
    /// </summary>
    public void Reset(ReadOnlySpan<int> eventCounts)
    {
        _profiles = eventCounts.Length;
        if (_starts.Length < _profiles + 1)
        {
            _starts = new int[_profiles + 1];
        }
        var total = 0;
        for (var i = 0; i < _profiles; i++)
        {
            _starts[i] = total;
            total += eventCounts[i];
        }
        _starts[_profiles] = total;
        if (_shapes.Length < total)
        {
            var size = Math.Max(total, _shapes.Length * 2);
            _shapes = new EventShape?[size];
            _ticks = new long[size];
            _timed = new bool[size];
            _matches = new ulong[size * Words];
        }
        else
        {
            Array.Clear(_shapes, 0, total);
        }
        var values = _profiles * _program.SiteCount;
        if (_values.Length < values)
        {
            _values = new PqlValue[Math.Max(values, _values.Length * 2)];
        }
    }

    /// <summary>Words of 64 bits per event: one bit per condition.</summary>
    private int Words => Math.Max(1, (_program.ConditionCount + 63) / 64);

    /// <summary>
    /// The stored record (UTF-8 JSON) of event <paramref name="index"/> (its position in the profile's timeline, oldest
    /// first) of profile <paramref name="profile"/>. An event never added is not stored, and left out.
    /// </summary>
    public void Add(int profile, int index, ReadOnlySpan<byte> record)
    {
        var at = _starts[profile] + index;
        if ((uint)index >= (uint)(_starts[profile + 1] - _starts[profile]))
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"profile {profile} has room for {_starts[profile + 1] - _starts[profile]} events");
        }
        _key.ResetWrittenCount();
        var timed = false;
        long ticks = 0;
        var reader = new Utf8JsonReader(record);
        if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            var shape = _program.Shape;
            var kept = 0;
            var sawTime = false;
            Append("{"u8);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var start = (int)reader.TokenStartIndex;
                if (!sawTime && reader.ValueTextEquals("timestamp"u8))
                {
                    // The first one, as a field lookup finds it; read as a converted string's time is.
                    sawTime = true;
                    reader.Read();
                    timed = reader.TokenType == JsonTokenType.String && TryTime(ref reader, out ticks);
                    reader.Skip();
                    continue;
                }
                var keep = shape is null || shape.Kept(ref reader) is not null;
                reader.Read();
                reader.Skip();
                if (keep)
                {
                    // The property as written ("name": value): the key is a JSON object that converts as the event's fields do.
                    Append(kept++ == 0 ? default : ","u8);
                    Append(record[start..(int)reader.BytesConsumed]);
                }
            }
            Append("}"u8);
        }
        else
        {
            // Not an object: no fields, no time; kept whole, as conversion keeps it.
            Append(record);
        }
        _shapes[at] = _run.ShapeOf(_key.WrittenSpan);
        _ticks[at] = ticks;
        _timed[at] = timed;
    }

    private void Append(ReadOnlySpan<byte> bytes) => _key.Write(bytes);

    /// <summary>The instant of the string the reader stands on, as <see cref="TimeWindow.Read(string)"/> reads it.</summary>
    private bool TryTime(ref Utf8JsonReader reader, out long ticks)
    {
        Span<char> chars = stackalloc char[40];
        if (!reader.ValueIsEscaped && reader.ValueSpan.Length <= chars.Length)
        {
            var length = Encoding.UTF8.GetChars(reader.ValueSpan, chars);
            // What Read(string) would ask of it before the common layout; that layout read, it is what Read returns.
            if (TimeWindow.TryReadCommonInstant(chars[..length], out ticks))
            {
                return true;
            }
        }
        var time = _time.Read(reader.GetString()!);
        ticks = time?.UtcTicks ?? 0;
        return time is not null;
    }

    /// <summary>Answers every condition on every event added, then every profile's values.</summary>
    public void Compute()
    {
        var words = Words;
        var windows = _run.Windows;
        var total = _starts[_profiles];
        for (var e = 0; e < total; e++)
        {
            var matches = _matches.AsSpan(e * words, words);
            matches.Clear();
            if (_shapes[e] is not { } shape)
            {
                continue;
            }
            // Only the conditions the shape's fields satisfy remain, and of them only their windows to test.
            var held = shape.Held;
            for (var w = 0; w < held.Length; w++)
            {
                for (var bits = held[w]; bits != 0; bits &= bits - 1)
                {
                    var bit = System.Numerics.BitOperations.TrailingZeroCount(bits);
                    if (InWindows(_program.ConditionAt((w << 6) + bit), _timed[e], _ticks[e], windows))
                    {
                        matches[w] |= 1UL << bit;
                    }
                }
            }
        }
        var sites = _program.SiteCount;
        for (var p = 0; p < _profiles; p++)
        {
            for (var s = 0; s < sites; s++)
            {
                _values[(p * sites) + s] = Value(_program.SiteAt(s), _starts[p], _starts[p + 1], words);
            }
        }
    }

    /// <summary>Whether an event at <paramref name="ticks"/> lies in every window of <paramref name="condition"/>.</summary>
    private static bool InWindows(ColumnarAudiences.Condition condition, bool timed, long ticks, TimeInterval?[] windows)
    {
        foreach (var window in condition.Windows)
        {
            if (!timed || windows[window] is not { } interval || !interval.Contains(ticks))
            {
                return false;
            }
        }
        return true;
    }

    private bool Matches(int e, int condition, int words) => (_matches[(e * words) + (condition >> 6)] & (1UL << (condition & 63))) != 0;

    private PqlValue Value(ColumnarAudiences.Site site, int from, int to, int words)
    {
        switch (site.Kind)
        {
            case ColumnarAudiences.SiteKind.Count:
            case ColumnarAudiences.SiteKind.Holds:
                {
                    var count = 0L;
                    for (var e = from; e < to; e++)
                    {
                        if (_shapes[e] is not null && Matches(e, site.Condition, words))
                        {
                            count++;
                            if (site.Kind == ColumnarAudiences.SiteKind.Holds)
                            {
                                break;
                            }
                        }
                    }
                    return site.Kind == ColumnarAudiences.SiteKind.Count ? PqlValue.Of(count) : ColumnarAudiences.HoldsValue(count > 0);
                }
            case ColumnarAudiences.SiteKind.Items:
                {
                    var items = new List<PqlValue>();
                    for (var e = from; e < to; e++)
                    {
                        if (_shapes[e] is { } shape && Matches(e, site.Condition, words))
                        {
                            items.Add(shape.Value);
                        }
                    }
                    return PqlValue.Of(items.ToArray());
                }
            default:
                return PqlValue.Of(Chain(site, from, to, words));
        }
    }

    /// <summary>A chain over the profile's events that match its source, as the compiled evaluator runs it.</summary>
    private bool Chain(ColumnarAudiences.Site site, int from, int to, int words)
    {
        var steps = site.Steps;
        if (steps.Length == 1)
        {
            // One step: COUNT(n) of the events with a time that match, in any order.
            var (condition, needed) = steps[0];
            var found = 0L;
            for (var e = from; e < to && found < needed; e++)
            {
                if (_shapes[e] is not null && Matches(e, site.Condition, words) && _timed[e] && Matches(e, condition, words))
                {
                    found++;
                }
            }
            return found >= needed;
        }
        // The source's events with a time, by time then position (events are added in timeline order: nearly always sorted).
        var n = 0;
        var ordered = true;
        for (var e = from; e < to; e++)
        {
            if (_shapes[e] is not null && Matches(e, site.Condition, words) && _timed[e])
            {
                if (n == _order.Length)
                {
                    Array.Resize(ref _order, n * 2);
                }
                ordered &= n == 0 || _order[n - 1].Ticks <= _ticks[e];
                _order[n++] = (_ticks[e], e);
            }
        }
        if (!ordered)
        {
            Array.Sort(_order, 0, n);
        }
        var position = 0;
        long? last = null;
        foreach (var (condition, needed) in steps)
        {
            var found = 0L;
            while (found < needed && position < n)
            {
                var (ticks, e) = _order[position++];
                if (last is { } previous && ticks <= previous)
                {
                    continue; // Strict time order between steps.
                }
                if (Matches(e, condition, words) && ++found == needed)
                {
                    last = ticks;
                }
            }
            if (found < needed)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Audience <paramref name="audience"/> (columnar: <see cref="ColumnarAudiences.IsColumnar"/>) for profile
    /// <paramref name="profile"/> of this buffer, whose attributes are <paramref name="attributes"/> (its events are not read).
    /// </summary>
    public PqlValue Evaluate(int audience, int profile, PqlProfile attributes, Func<string, bool>? inSegment) =>
        _program.Evaluate(audience, attributes, _run.Now, inSegment, _values, profile * _program.SiteCount);
}

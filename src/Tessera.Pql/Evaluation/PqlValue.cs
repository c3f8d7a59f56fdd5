using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Pql.Evaluation;

public enum PqlKind : byte
{
    Null,
    Boolean,
    Integer,
    Double,
    String,
    Time,
    Array,
    Record,
}

/// <summary>
/// A value as compiled expressions read it: a 16-byte struct, no boxing for numbers and booleans. A
/// string keeps the instant it denotes (read once, when the profile is converted or the literal
/// compiled) so time conditions over many events parse nothing while evaluating.
/// </summary>
public readonly struct PqlValue
{
    /// <summary>A string's time, not yet read (strings made while evaluating, such as <c>regexGroup</c>'s).</summary>
    internal const long Unread = long.MinValue;

    /// <summary>A string that is not an ISO-8601 date or date-time.</summary>
    internal const long NotATime = long.MinValue + 1;

    private readonly object? _reference;
    private readonly long _bits;

    private PqlValue(PqlKind kind, long bits, object? reference)
    {
        Kind = kind;
        _bits = bits;
        _reference = reference;
    }

    public PqlKind Kind { get; }

    public static PqlValue Null => default;

    public static PqlValue True { get; } = new(PqlKind.Boolean, 1, null);

    public static PqlValue False { get; } = new(PqlKind.Boolean, 0, null);

    public bool IsNull => Kind == PqlKind.Null;

    /// <summary>Only <c>true</c> is true (docs/pql.md, nulls).</summary>
    public bool IsTrue => Kind == PqlKind.Boolean && _bits != 0;

    public long Integer => _bits;

    public double Double => BitConverter.Int64BitsToDouble(_bits);

    public string String => (string)_reference!;

    /// <summary>A time's UTC ticks; for a string, the ticks it denotes or <see cref="Unread"/>/<see cref="NotATime"/>.</summary>
    internal long Ticks => _bits;

    public PqlValue[] Array => (PqlValue[])_reference!;

    public PqlRecord Record => new((PqlValue[])_reference!);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PqlValue Of(bool value) => value ? True : False;

    public static PqlValue Of(long value) => new(PqlKind.Integer, value, null);

    public static PqlValue Of(double value) => new(PqlKind.Double, BitConverter.DoubleToInt64Bits(value), null);

    public static PqlValue Of(PqlValue[] items) => new(PqlKind.Array, 0, items);

    /// <summary>
    /// Events (a profile's <c>xEvent</c>), marked <see cref="TimeOrdered"/> when every one is a record whose
    /// <c>timestamp</c> is a time and those times never decrease (a timeline, oldest first).
    /// </summary>
    internal static PqlValue OfEvents(PqlValue[] events) => new(PqlKind.Array, InTimeOrder(events) ? TimeOrderedMark : 0, events);

    private const long TimeOrderedMark = 1;

    /// <summary>
    /// An array of events in time order (<see cref="OfEvents"/>): a condition that holds only within a window of
    /// their <c>timestamp</c> need read no event outside the part of the array the window covers.
    /// </summary>
    internal bool TimeOrdered => Kind == PqlKind.Array && _bits == TimeOrderedMark;

    internal static readonly string Timestamp = PqlNames.Intern("timestamp");

    /// <summary>The UTC ticks of <paramref name="item"/>'s <c>timestamp</c>, when it is a record with a time there.</summary>
    internal static bool TryEventTime(in PqlValue item, ref int hint, out long ticks)
    {
        if (item.Kind == PqlKind.Record && item.Record.Get(Timestamp, ref hint) is var time
            && (time.Kind == PqlKind.Time || (time.Kind == PqlKind.String && time._bits > NotATime)))
        {
            ticks = time._bits;
            return true;
        }
        ticks = 0;
        return false;
    }

    private static bool InTimeOrder(PqlValue[] events)
    {
        var hint = 0;
        var last = long.MinValue;
        foreach (var item in events)
        {
            if (!TryEventTime(item, ref hint, out var ticks) || ticks < last)
            {
                return false;
            }
            last = ticks;
        }
        return true;
    }

    public static PqlValue Of(PqlRecord record) => new(PqlKind.Record, 0, record.Slots);

    /// <summary>A record's first slot: its names (never seen as a value).</summary>
    internal static PqlValue NamesOf(string[] names) => new(PqlKind.Null, 0, names);

    internal object? Reference => _reference;

    public static PqlValue OfTime(DateTimeOffset instant) => new(PqlKind.Time, instant.UtcTicks, null);

    /// <summary>A string made while evaluating: its time is read when asked for.</summary>
    public static PqlValue Of(string text) => new(PqlKind.String, Unread, text);

    /// <summary>A string whose time (if any) is read now, in <paramref name="time"/>'s zone.</summary>
    internal static PqlValue Of(string text, TimeWindow time) =>
        new(PqlKind.String, time.Read(text) is { } instant ? instant.UtcTicks : NotATime, text);

    /// <summary>The instant a time or an ISO-8601 string denotes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryTime(TimeWindow time, out long ticks)
    {
        if (Kind == PqlKind.Time || (Kind == PqlKind.String && _bits > NotATime))
        {
            ticks = _bits;
            return true;
        }
        if (Kind == PqlKind.String && _bits == Unread && time.Read(String) is { } instant)
        {
            ticks = instant.UtcTicks;
            return true;
        }
        ticks = 0;
        return false;
    }

    /// <summary>Converts JSON (a profile's attributes, its events under <c>xEvent</c>) reading date-time strings in <paramref name="time"/>'s zone.</summary>
    internal static PqlValue FromJson(JsonNode? node, TimeWindow time)
    {
        switch (node)
        {
            case JsonObject obj:
                {
                    var names = new string[obj.Count];
                    var slots = new PqlValue[obj.Count + 1];
                    var i = 0;
                    foreach (var (name, value) in obj)
                    {
                        names[i++] = PqlNames.Intern(name);
                        slots[i] = FromJson(value, time);
                    }
                    slots[0] = NamesOf(PqlNames.Shared(names));
                    return Of(new PqlRecord(slots));
                }
            case JsonArray array:
                {
                    var items = new PqlValue[array.Count];
                    for (var i = 0; i < items.Length; i++)
                    {
                        items[i] = FromJson(array[i], time);
                    }
                    return Of(items);
                }
            case JsonValue value:
                return value.GetValueKind() switch
                {
                    JsonValueKind.String => Of(value.GetValue<string>(), time),
                    JsonValueKind.True => True,
                    JsonValueKind.False => False,
                    JsonValueKind.Number => Interpreter.Number(value) is long integer ? Of(integer) : Of((double)Interpreter.Number(value)),
                    _ => Null,
                };
            default:
                return Null;
        }
    }

    /// <summary>
    /// Converts the JSON value <paramref name="reader"/> stands on (UTF-8, as stored) exactly as
    /// <see cref="FromJson(JsonNode?, TimeWindow)"/> converts it once parsed, without building the
    /// nodes: a stored event becomes a value with one pass over its bytes. Leaves the reader on the
    /// value's last token. With a <paramref name="projection"/>, only the fields it names are kept (at every
    /// level it describes; an array's items each as the array): the others are skipped unread.
    /// </summary>
    internal static PqlValue FromJson(ref Utf8JsonReader reader, TimeWindow time, EventProjection? projection = null)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                {
                    var names = System.Buffers.ArrayPool<string>.Shared.Rent(16);
                    var values = System.Buffers.ArrayPool<PqlValue>.Shared.Rent(16);
                    var count = 0;
                    try
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            string name;
                            EventProjection? below = null; // Null: the field whole.
                            if (projection is null)
                            {
                                name = PqlNames.Intern(ref reader);
                            }
                            else if (projection.Kept(ref reader) is { } field)
                            {
                                (name, below) = (field.Name, field.Child);
                            }
                            else
                            {
                                reader.Read();
                                reader.Skip();
                                continue;
                            }
                            if (count == names.Length)
                            {
                                Grow(ref names, count);
                                Grow(ref values, count);
                            }
                            names[count] = name;
                            reader.Read();
                            values[count++] = FromJson(ref reader, time, below);
                        }
                        var slots = new PqlValue[count + 1];
                        slots[0] = NamesOf(PqlNames.Shared(names.AsSpan(0, count)));
                        values.AsSpan(0, count).CopyTo(slots.AsSpan(1));
                        return Of(new PqlRecord(slots));
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<string>.Shared.Return(names, clearArray: true);
                        System.Buffers.ArrayPool<PqlValue>.Shared.Return(values, clearArray: true);
                    }
                }
            case JsonTokenType.StartArray:
                {
                    var items = System.Buffers.ArrayPool<PqlValue>.Shared.Rent(16);
                    var count = 0;
                    try
                    {
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            if (count == items.Length)
                            {
                                Grow(ref items, count);
                            }
                            items[count++] = FromJson(ref reader, time, projection);
                        }
                        return Of(items.AsSpan(0, count).ToArray());
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<PqlValue>.Shared.Return(items, clearArray: true);
                    }
                }
            case JsonTokenType.String:
                return Of(reader.GetString()!, time);
            case JsonTokenType.True:
                return True;
            case JsonTokenType.False:
                return False;
            case JsonTokenType.Number:
                // As Interpreter.Number: a whole number that fits a long is an integer, anything else a double.
                return reader.TryGetInt64(out var integer) ? Of(integer)
                    : reader.TryGetDouble(out var real) ? Of(real)
                    : Of(double.Parse(System.Text.Encoding.UTF8.GetString(reader.ValueSpan), CultureInfo.InvariantCulture));
            default:
                return Null;
        }
    }

    private static void Grow<T>(ref T[] rented, int count)
    {
        var bigger = System.Buffers.ArrayPool<T>.Shared.Rent(rented.Length * 2);
        rented.AsSpan(0, count).CopyTo(bigger);
        System.Buffers.ArrayPool<T>.Shared.Return(rented, clearArray: true);
        rented = bigger;
    }

    /// <summary>The value in the reference interpreter's shapes (long, double, string, bool, UTC <see cref="DateTimeOffset"/>, lists, dictionaries).</summary>
    public object? ToObject() => Kind switch
    {
        PqlKind.Boolean => IsTrue,
        PqlKind.Integer => Integer,
        PqlKind.Double => Double,
        PqlKind.String => String,
        PqlKind.Time => new DateTimeOffset(_bits, TimeSpan.Zero),
        PqlKind.Array => Array.Select(item => item.ToObject()).ToList(),
        PqlKind.Record => Record.ToDictionary(),
        _ => null,
    };

    /// <summary>The value as JSON; a time is its ISO-8601 text in UTC.</summary>
    public JsonNode? ToJson() => Kind switch
    {
        PqlKind.Boolean => JsonValue.Create(IsTrue),
        PqlKind.Integer => JsonValue.Create(Integer),
        PqlKind.Double => double.IsFinite(Double) ? JsonValue.Create(Double) : JsonValue.Create(Double.ToString("R", CultureInfo.InvariantCulture)),
        PqlKind.String => JsonValue.Create(String),
        PqlKind.Time => JsonValue.Create(Interpreter.KeyText(ToObject())),
        PqlKind.Array => new JsonArray([.. Array.Select(item => item.ToJson())]),
        PqlKind.Record => Record.ToJson(),
        _ => null,
    };

    public override string ToString() => Kind switch
    {
        PqlKind.String => String,
        PqlKind.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        PqlKind.Double => Double.ToString("R", CultureInfo.InvariantCulture),
        _ => Interpreter.KeyText(ToObject()),
    };
}

/// <summary>
/// An object or map: one array whose first slot holds the names (one array per shape of record,
/// shared) and the rest the values, so reading a field touches one object of the record's own.
/// </summary>
public readonly struct PqlRecord
{
    private readonly PqlValue[] _slots;

    internal PqlRecord(PqlValue[] slots) => _slots = slots;

    public PqlRecord(string[] names, PqlValue[] values)
    {
        _slots = new PqlValue[values.Length + 1];
        _slots[0] = PqlValue.NamesOf(names);
        values.CopyTo(_slots, 1);
    }

    internal PqlValue[] Slots => _slots;

    public int Count => _slots.Length - 1;

    private string[] Names => (string[])_slots[0].Reference!;

    public string NameAt(int index) => Names[index];

    public PqlValue ValueAt(int index) => _slots[index + 1];

    /// <summary>
    /// The field called <paramref name="name"/>, or null. <paramref name="hint"/> is where the caller
    /// found it last time: records of one schema keep their order, so the scan usually starts on it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PqlValue Get(string name, ref int hint)
    {
        var slots = _slots;
        var names = (string[])slots[0].Reference!;
        var at = hint;
        if ((uint)at < (uint)names.Length && ReferenceEquals(names[at], name))
        {
            return slots[at + 1];
        }
        return Find(name, ref hint);
    }

    private PqlValue Find(string name, ref int hint)
    {
        var names = Names;
        for (var i = 0; i < names.Length; i++)
        {
            if (ReferenceEquals(names[i], name) || names[i] == name)
            {
                hint = i;
                return _slots[i + 1];
            }
        }
        return PqlValue.Null;
    }

    public PqlValue Get(string name)
    {
        var hint = 0;
        return Get(name, ref hint);
    }

    internal JsonObject ToJson()
    {
        var result = new JsonObject();
        for (var i = 0; i < Count; i++)
        {
            result[NameAt(i)] = ValueAt(i).ToJson();
        }
        return result;
    }

    internal Dictionary<string, object?> ToDictionary()
    {
        var result = new Dictionary<string, object?>(Count, StringComparer.Ordinal);
        for (var i = 0; i < Count; i++)
        {
            result[NameAt(i)] = ValueAt(i).ToObject();
        }
        return result;
    }
}

/// <summary>
/// A profile converted once for compiled evaluation (attributes, events under <c>xEvent</c>), with
/// its date-time strings read in the zone the expressions that evaluate it were compiled for.
/// </summary>
public sealed class PqlProfile
{
    private PqlProfile(PqlValue root, TimeZoneInfo zone)
    {
        Root = root;
        Zone = zone;
    }

    public PqlValue Root { get; }

    public TimeZoneInfo Zone { get; }

    private long[]? _instants;

    /// <summary>
    /// Every instant the profile's texts denote (values, and names: <c>keys()</c> gives names as
    /// values), distinct, as the time horizon reads them; found on first use and kept.
    /// </summary>
    internal long[] Instants => _instants ??= CollectInstants();

    private long[] CollectInstants()
    {
        var time = new TimeWindow(Zone);
        var instants = new HashSet<long>();
        Collect(Root, time, instants);
        return [.. instants];

        static void Collect(PqlValue value, TimeWindow time, HashSet<long> instants)
        {
            switch (value.Kind)
            {
                case PqlKind.String or PqlKind.Time:
                    if (value.TryTime(time, out var ticks))
                    {
                        instants.Add(ticks);
                    }
                    break;
                case PqlKind.Array:
                    foreach (var item in value.Array)
                    {
                        Collect(item, time, instants);
                    }
                    break;
                case PqlKind.Record:
                    var record = value.Record;
                    for (var i = 0; i < record.Count; i++)
                    {
                        var name = record.NameAt(i);
                        if (name.Length >= 10 && char.IsAsciiDigit(name[0]) && time.Read(name) is { } named)
                        {
                            instants.Add(named.UtcTicks);
                        }
                        Collect(record.ValueAt(i), time, instants);
                    }
                    break;
            }
        }
    }

    /// <summary>One value (an event's record) converted as <see cref="FromJson"/> converts the profile's parts, in <paramref name="zone"/>.</summary>
    public static PqlValue Convert(JsonNode? value, TimeZoneInfo zone) => PqlValue.FromJson(value, new TimeWindow(zone));

    /// <summary>
    /// As <see cref="Convert(JsonNode?, TimeZoneInfo)"/> of the same value written as UTF-8 JSON (a stored record), without
    /// parsing it into nodes. With a <paramref name="projection"/>, only the fields it keeps: for events read by expressions
    /// whose <see cref="EventProjection.Of(IEnumerable{Syntax.PqlNode})"/> it is, which answer on it as on the whole event.
    /// </summary>
    public static PqlValue Convert(ReadOnlySpan<byte> json, TimeZoneInfo zone, EventProjection? projection = null)
    {
        var reader = new Utf8JsonReader(json);
        return reader.Read() ? PqlValue.FromJson(ref reader, new TimeWindow(zone), projection) : PqlValue.Null;
    }

    /// <summary>
    /// The profile <see cref="FromJson"/> gives for <paramref name="attributes"/> with
    /// <c>xEvent</c> set to <paramref name="events"/> (each converted by <see cref="Convert(JsonNode?, TimeZoneInfo)"/> in the
    /// same zone), without converting the events again: the engines keep converted events and
    /// append new ones. <paramref name="attributes"/> is the converted record of the attributes alone.
    /// </summary>
    public static PqlProfile WithEvents(PqlValue attributes, PqlValue[] events, TimeZoneInfo zone)
    {
        if (attributes.Kind != PqlKind.Record)
        {
            throw new ArgumentException("the attributes must be a record", nameof(attributes));
        }
        var record = attributes.Record;
        var names = (string[])record.Slots[0].Reference!;
        var xEvent = PqlNames.Intern("xEvent");
        var at = Array.IndexOf(names, xEvent);
        PqlValue[] slots;
        if (at >= 0)
        {
            // As setting an existing JSON property: replaced where it stands.
            slots = (PqlValue[])record.Slots.Clone();
            slots[at + 1] = PqlValue.OfEvents(events);
        }
        else
        {
            slots = new PqlValue[record.Slots.Length + 1];
            record.Slots.AsSpan().CopyTo(slots);
            slots[^1] = PqlValue.OfEvents(events);
            slots[0] = PqlValue.NamesOf(PqlNames.Shared([.. names, xEvent]));
        }
        return new PqlProfile(PqlValue.Of(new PqlRecord(slots)), zone);
    }

    public static PqlProfile FromJson(JsonObject profile, TimeZoneInfo? zone = null)
    {
        zone ??= TimeZoneInfo.Utc;
        var root = PqlValue.FromJson(profile, new TimeWindow(zone));
        var slots = root.Record.Slots;
        var at = Array.IndexOf((string[])slots[0].Reference!, PqlNames.Intern("xEvent"));
        if (at >= 0 && slots[at + 1].Kind == PqlKind.Array)
        {
            slots[at + 1] = PqlValue.OfEvents(slots[at + 1].Array); // The record is new: nobody else holds it yet.
        }
        return new PqlProfile(root, zone);
    }
}

/// <summary>
/// Field names shared by every converted profile and compiled expression: one string instance per
/// name, so a field read compares references, and one names array per shape of record (all events
/// of a schema share theirs), so a million records do not keep a million copies. Bounded: past the
/// limits (free-form maps with ever new keys) names and arrays are kept as they come.
/// </summary>
internal static class PqlNames
{
    private const int MaxNames = 100_000;
    private const int MaxShapes = 10_000;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string[], string[]> Shapes = new(ShapeComparer.Instance);

    public static string Intern(string name) =>
        Names.TryGetValue(name, out var interned) ? interned
        : Names.Count < MaxNames ? Names.GetOrAdd(name, name)
        : name;

    /// <summary>The property name <paramref name="reader"/> stands on, interned; a name seen before costs no string.</summary>
    public static string Intern(ref Utf8JsonReader reader)
    {
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (length > 256)
        {
            return Intern(reader.GetString()!);
        }
        Span<char> text = stackalloc char[length]; // An escaped name only gets shorter when unescaped.
        var written = reader.CopyString(text);
        return Names.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(text[..written], out var interned) ? interned : Intern(text[..written].ToString());
    }

    public static string[] Shared(string[] names) =>
        Shapes.TryGetValue(names, out var shared) ? shared
        : Shapes.Count < MaxShapes ? Shapes.GetOrAdd(names, names)
        : names;

    /// <summary>As <see cref="Shared(string[])"/>; names of a known shape cost no array.</summary>
    public static string[] Shared(ReadOnlySpan<string> names) =>
        Shapes.GetAlternateLookup<ReadOnlySpan<string>>().TryGetValue(names, out var shared) ? shared : Shared(names.ToArray());

    private sealed class ShapeComparer : IEqualityComparer<string[]>, IAlternateEqualityComparer<ReadOnlySpan<string>, string[]>
    {
        public static ShapeComparer Instance { get; } = new();

        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] names) => GetHashCode((ReadOnlySpan<string>)names);

        public bool Equals(ReadOnlySpan<string> alternate, string[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<string> names)
        {
            var hash = new HashCode();
            foreach (var name in names)
            {
                hash.Add(name);
            }
            return hash.ToHashCode();
        }

        public string[] Create(ReadOnlySpan<string> alternate) => alternate.ToArray();
    }
}

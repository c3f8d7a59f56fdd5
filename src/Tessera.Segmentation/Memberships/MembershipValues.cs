using System.Buffers.Binary;
using System.Text;

namespace Tessera.Segmentation.Memberships;

/// <summary>
/// Values of the membership space, little-endian, each starting with a format version:
/// <code>
/// membership   version status lastQualifiedTicks changedTicks identities
/// feed page    2 count (status atTicks audience profile identities)*count
/// profile rows version count (audience status lastQualifiedTicks changedTicks)*
/// </code>
/// A string is its UTF-8 length (4 bytes) and bytes; identities are a count (4 bytes) and strings.
/// Times are UTC ticks. The fixed head of a membership is read without decoding its strings.
/// A feed page holds consecutive changes and is keyed by the last one's sequence; earlier builds wrote
/// one change a key (version 1, no count), which reads as a page of one.
/// </summary>
internal static class MembershipValues
{
    public const byte Version = 1;
    public const int RowHeadBytes = 1 + StateBytes;

    /// <summary>A row's status and times, as the head of a membership and in a profile's rows.</summary>
    private const int StateBytes = 1 + 8 + 8;

    /// <summary>Bytes enough for a value holding these strings and identities.</summary>
    public static int MaxBytes(IReadOnlyList<string> identities, string a = "", string b = "")
    {
        var total = 64 + Encoding.UTF8.GetMaxByteCount(a.Length) + Encoding.UTF8.GetMaxByteCount(b.Length);
        for (var i = 0; i < identities.Count; i++)
        {
            total += 4 + Encoding.UTF8.GetMaxByteCount(identities[i].Length);
        }
        return total;
    }

    public static int WriteRow(Span<byte> destination, in RowState row, IReadOnlyList<string> identities)
    {
        destination[0] = Version;
        WriteState(destination[1..], row);
        return RowHeadBytes + WriteList(destination[RowHeadBytes..], identities);
    }

    public static RowState ReadRowHead(ReadOnlySpan<byte> value)
    {
        if (value.Length < RowHeadBytes || value[0] != Version)
        {
            throw new InvalidDataException($"membership value of version {(value.Length > 0 ? value[0] : -1)} is not readable by this build");
        }
        return ReadState(value[1..]);
    }

    public static Membership ReadRow(ReadOnlySpan<byte> value, string audience, string profile)
    {
        var head = ReadRowHead(value);
        var at = RowHeadBytes;
        return new Membership(audience, profile, ReadList(value, ref at), head.Status,
            new DateTimeOffset(head.LastQualifiedTicks, TimeSpan.Zero), new DateTimeOffset(head.ChangedTicks, TimeSpan.Zero));
    }

    /// <summary>The version of a feed page; version 1 is a single change of earlier builds.</summary>
    public const byte PageVersion = 2;

    /// <summary>A feed page's head: its version and count (<see cref="EndPage"/> writes it after the page's changes).</summary>
    public const int PageHeadBytes = 5;

    /// <summary>One change of a feed page, after the page's head.</summary>
    public static int WriteChange(Span<byte> destination, MembershipStatus status, long atTicks, string audience, string profile, IReadOnlyList<string> identities)
    {
        destination[0] = (byte)status;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], atTicks);
        var length = 9;
        length += WriteText(destination[length..], audience);
        length += WriteText(destination[length..], profile);
        return length + WriteList(destination[length..], identities);
    }

    /// <summary>Writes the head of a page of <paramref name="count"/> changes written after it.</summary>
    public static void EndPage(Span<byte> page, int count)
    {
        page[0] = PageVersion;
        BinaryPrimitives.WriteInt32LittleEndian(page[1..], count);
    }

    /// <summary>How many changes a feed value holds, and where the first starts.</summary>
    public static (int Count, int Start) PageOf(ReadOnlySpan<byte> value, string sandbox, long lastSequence) => value.Length switch
    {
        >= 10 when value[0] == Version => (1, 1),
        >= PageHeadBytes when value[0] == PageVersion => (BinaryPrimitives.ReadInt32LittleEndian(value[1..]), PageHeadBytes),
        _ => throw new InvalidDataException($"membership feed page {lastSequence} of sandbox '{sandbox}' has a format this build cannot read"),
    };

    /// <summary>
    /// Adds to <paramref name="into"/> the changes of the feed page keyed <paramref name="lastSequence"/> with a sequence above
    /// <paramref name="afterSequence"/>, in order, until it holds <paramref name="max"/>.
    /// </summary>
    public static void ReadChanges(ReadOnlySpan<byte> value, string sandbox, long lastSequence, long afterSequence, List<MembershipChange> into, int max)
    {
        var (count, at) = PageOf(value, sandbox, lastSequence);
        for (var sequence = lastSequence - count + 1; sequence <= lastSequence && into.Count < max; sequence++)
        {
            if (sequence <= afterSequence)
            {
                at = SkipChange(value, at);
                continue;
            }
            var status = (MembershipStatus)value[at];
            var ticks = BinaryPrimitives.ReadInt64LittleEndian(value[(at + 1)..]);
            at += 9;
            var audience = ReadText(value, ref at);
            var profile = ReadText(value, ref at);
            into.Add(new MembershipChange(sequence, sandbox, audience, profile, ReadList(value, ref at), status, new DateTimeOffset(ticks, TimeSpan.Zero)));
        }
    }

    /// <summary>The time of a page's newest change, without decoding its strings (retention reads only that).</summary>
    public static long NewestTicks(ReadOnlySpan<byte> value, string sandbox, long lastSequence)
    {
        var (count, at) = PageOf(value, sandbox, lastSequence);
        var newest = long.MinValue;
        for (var i = 0; i < count; i++)
        {
            newest = Math.Max(newest, BinaryPrimitives.ReadInt64LittleEndian(value[(at + 1)..]));
            at = SkipChange(value, at);
        }
        return newest;
    }

    private static int SkipChange(ReadOnlySpan<byte> value, int at)
    {
        at += 9;
        at += 4 + BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        at += 4 + BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        var identities = BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        at += 4;
        for (var i = 0; i < identities; i++)
        {
            at += 4 + BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        }
        return at;
    }

    /// <summary>Bytes enough for a profile's rows in these audiences (<see cref="WriteProfileRows"/>).</summary>
    public static int MaxBytes(IEnumerable<string> audiences)
    {
        var total = 8;
        foreach (var audience in audiences)
        {
            total += 4 + Encoding.UTF8.GetMaxByteCount(audience.Length) + StateBytes;
        }
        return total;
    }

    /// <summary>The state of each row a profile has, by audience in ordinal order (so that equal rows are equal bytes).</summary>
    public static int WriteProfileRows(Span<byte> destination, IReadOnlyDictionary<string, RowState> rows)
    {
        destination[0] = Version;
        var ordered = rows.Keys.ToArray();
        Array.Sort(ordered, StringComparer.Ordinal);
        BinaryPrimitives.WriteInt32LittleEndian(destination[1..], ordered.Length);
        var length = 5;
        foreach (var audience in ordered)
        {
            length += WriteText(destination[length..], audience);
            WriteState(destination[length..], rows[audience]);
            length += StateBytes;
        }
        return length;
    }

    public static List<(string Audience, RowState Row)> ReadProfileRows(ReadOnlySpan<byte> value)
    {
        if (value.Length < 5 || value[0] != Version)
        {
            throw new InvalidDataException($"profile rows value of version {(value.Length > 0 ? value[0] : -1)} is not readable by this build");
        }
        var count = BinaryPrimitives.ReadInt32LittleEndian(value[1..]);
        var rows = new List<(string, RowState)>(count);
        var at = 5;
        for (var i = 0; i < count; i++)
        {
            var audience = ReadText(value, ref at);
            rows.Add((audience, ReadState(value[at..])));
            at += StateBytes;
        }
        return rows;
    }

    /// <summary>The audiences of a profile rows key of earlier builds (<see cref="MembershipKeys.LegacyProfileRowsTag"/>).</summary>
    public static string[] ReadLegacyAudiences(ReadOnlySpan<byte> value)
    {
        if (value.Length < 5 || value[0] != Version)
        {
            throw new InvalidDataException($"profile rows value of version {(value.Length > 0 ? value[0] : -1)} is not readable by this build");
        }
        var at = 1;
        return ReadList(value, ref at);
    }

    private static void WriteState(Span<byte> destination, in RowState row)
    {
        destination[0] = (byte)row.Status;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], row.LastQualifiedTicks);
        BinaryPrimitives.WriteInt64LittleEndian(destination[9..], row.ChangedTicks);
    }

    private static RowState ReadState(ReadOnlySpan<byte> value) =>
        new(true, (MembershipStatus)value[0], BinaryPrimitives.ReadInt64LittleEndian(value[1..]), BinaryPrimitives.ReadInt64LittleEndian(value[9..]));

    private static int WriteList(Span<byte> destination, IReadOnlyList<string> items)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, items.Count);
        var length = 4;
        for (var i = 0; i < items.Count; i++)
        {
            length += WriteText(destination[length..], items[i]);
        }
        return length;
    }

    private static string[] ReadList(ReadOnlySpan<byte> value, ref int at)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        at += 4;
        var items = new string[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = ReadText(value, ref at);
        }
        return items;
    }

    private static int WriteText(Span<byte> destination, string text)
    {
        var length = Encoding.UTF8.GetBytes(text, destination[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(destination, length);
        return 4 + length;
    }

    private static string ReadText(ReadOnlySpan<byte> value, ref int at)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        var text = Encoding.UTF8.GetString(value.Slice(at + 4, length));
        at += 4 + length;
        return text;
    }
}

/// <summary>The stored state of one (audience, profile) without its identities; <see cref="Exists"/> false when there is no row.</summary>
internal readonly record struct RowState(bool Exists, MembershipStatus Status, long LastQualifiedTicks, long ChangedTicks)
{
    public bool IsMember => Exists && Status != MembershipStatus.Exited;

    public static RowState Of(Membership membership) =>
        new(true, membership.Status, membership.LastQualifiedAt.UtcTicks, membership.ChangedAt.UtcTicks);

    /// <summary>
    /// The row as a full run that started at <paramref name="confirmedTicks"/> and completed left it: an
    /// existing member qualified then, unless the row was written since (such a run writes an existing
    /// member that stays in only through this).
    /// </summary>
    public RowState ConfirmedAt(long confirmedTicks) =>
        Exists && Status == MembershipStatus.Existing && LastQualifiedTicks < confirmedTicks ? this with { LastQualifiedTicks = confirmedTicks } : this;
}

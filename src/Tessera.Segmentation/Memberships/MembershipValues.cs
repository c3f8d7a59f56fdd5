using System.Buffers.Binary;
using System.Text;

namespace Tessera.Segmentation.Memberships;

/// <summary>
/// Values of the membership space, little-endian, each starting with a format version:
/// <code>
/// membership   version status lastQualifiedTicks changedTicks identities
/// change       version status atTicks audience profile identities
/// profile rows version count (audience status lastQualifiedTicks changedTicks)*
/// </code>
/// A string is its UTF-8 length (4 bytes) and bytes; identities are a count (4 bytes) and strings.
/// Times are UTC ticks. The fixed head of a membership is read without decoding its strings.
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

    public static int WriteChange(Span<byte> destination, MembershipStatus status, long atTicks, string audience, string profile, IReadOnlyList<string> identities)
    {
        destination[0] = Version;
        destination[1] = (byte)status;
        BinaryPrimitives.WriteInt64LittleEndian(destination[2..], atTicks);
        var length = 10;
        length += WriteText(destination[length..], audience);
        length += WriteText(destination[length..], profile);
        return length + WriteList(destination[length..], identities);
    }

    public static MembershipChange ReadChange(ReadOnlySpan<byte> value, string sandbox, long sequence)
    {
        if (value.Length < 10 || value[0] != Version)
        {
            throw new InvalidDataException($"membership change {sequence} of sandbox '{sandbox}' has a format this build cannot read");
        }
        var at = 10;
        var audience = ReadText(value, ref at);
        var profile = ReadText(value, ref at);
        return new MembershipChange(sequence, sandbox, audience, profile, ReadList(value, ref at), (MembershipStatus)value[1],
            new DateTimeOffset(BinaryPrimitives.ReadInt64LittleEndian(value[2..]), TimeSpan.Zero));
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

    /// <summary>The time of a change without decoding its strings (retention reads only that).</summary>
    public static long ChangeTicks(ReadOnlySpan<byte> value) => BinaryPrimitives.ReadInt64LittleEndian(value[2..]);

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

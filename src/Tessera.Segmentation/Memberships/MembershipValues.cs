using System.Buffers.Binary;
using System.Text;
using Tessera.Abstractions;

namespace Tessera.Segmentation.Memberships;

/// <summary>
/// Values of the membership space, little-endian, each starting with a format version:
/// <code>
/// profile rows 2 count (audience status lastQualifiedTicks changedTicks)* identities
/// feed page    2 count (status atTicks audience profile identities)*count
/// membership   1 status lastQualifiedTicks changedTicks identities      (earlier builds, read only to fold into profile rows)
/// </code>
/// A string is its UTF-8 length (4 bytes) and bytes; identities are a count (4 bytes) and strings.
/// Times are UTC ticks. A profile's identities are those of its latest written verdict; profile rows of
/// earlier builds (version 1) have none and end after the rows. A row's state is found without decoding
/// the strings of the other rows.
/// A feed page holds consecutive changes and is keyed by the last one's sequence; earlier builds wrote
/// one change a key (version 1, no count), which reads as a page of one.
/// </summary>
internal static class MembershipValues
{
    /// <summary>The version of a membership of earlier builds, of a profile rows value of earlier builds, and of a single change.</summary>
    public const byte Version = 1;

    /// <summary>The version of a profile rows value: its rows, then its identities.</summary>
    public const byte ProfileRowsVersion = 2;

    /// <summary>A row's status and times, in a profile's rows and as the head of a membership of earlier builds.</summary>
    private const int StateBytes = 1 + 8 + 8;
    private const int RowHeadBytes = 1 + StateBytes;

    /// <summary>Bytes enough for a value holding these strings and identities.</summary>
    public static int MaxBytes(IReadOnlyList<string> identities, string a, string b) =>
        64 + Encoding.UTF8.GetMaxByteCount(a.Length) + Encoding.UTF8.GetMaxByteCount(b.Length) + MaxBytes(identities);

    /// <summary>Bytes enough for these identities.</summary>
    public static int MaxBytes(IReadOnlyList<string> identities)
    {
        var total = 4;
        for (var i = 0; i < identities.Count; i++)
        {
            total += 4 + Encoding.UTF8.GetMaxByteCount(identities[i].Length);
        }
        return total;
    }

    /// <summary>The state of a membership of earlier builds (<see cref="MembershipKeys.LegacyMembershipTag"/>).</summary>
    public static RowState ReadLegacyRowHead(ReadOnlySpan<byte> value)
    {
        if (value.Length < RowHeadBytes || value[0] != Version)
        {
            throw new InvalidDataException($"membership value of version {(value.Length > 0 ? value[0] : -1)} is not readable by this build");
        }
        return ReadState(value[1..]);
    }

    /// <summary>The identities of a membership of earlier builds.</summary>
    public static string[] ReadLegacyRowIdentities(ReadOnlySpan<byte> value)
    {
        var at = RowHeadBytes;
        return ReadList(value, ref at);
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
            var audience = ReadAudience(value, ref at);
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

    /// <summary>Bytes enough for a profile's rows in these audiences and <paramref name="identityBytes"/> of identities (<see cref="WriteProfileRows"/>).</summary>
    public static int MaxBytes(IEnumerable<string> audiences, int identityBytes)
    {
        var total = 8 + identityBytes;
        foreach (var audience in audiences)
        {
            total += 4 + Encoding.UTF8.GetMaxByteCount(audience.Length) + StateBytes;
        }
        return total;
    }

    /// <summary>
    /// The state of each row a profile has, by audience in ordinal order (so that equal rows are equal bytes), then
    /// its identities: <paramref name="identities"/>, or when null the encoded list <paramref name="stored"/> as read.
    /// </summary>
    public static int WriteProfileRows(Span<byte> destination, IReadOnlyDictionary<string, RowState> rows, IReadOnlyList<string>? identities, ReadOnlySpan<byte> stored)
    {
        destination[0] = ProfileRowsVersion;
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
        if (identities is not null)
        {
            return length + WriteList(destination[length..], identities);
        }
        if (stored.IsEmpty)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[length..], 0);
            return length + 4;
        }
        stored.CopyTo(destination[length..]);
        return length + stored.Length;
    }

    /// <summary>The rows of a profile rows value, and where its identities start (its end in a value of version 1, which has none).</summary>
    public static List<(string Audience, RowState Row)> ReadProfileRows(ReadOnlySpan<byte> value, out int identitiesAt)
    {
        var count = ProfileRowsCount(value);
        var rows = new List<(string, RowState)>(count);
        var at = 5;
        for (var i = 0; i < count; i++)
        {
            var audience = ReadAudience(value, ref at);
            rows.Add((audience, ReadState(value[at..])));
            at += StateBytes;
        }
        identitiesAt = at;
        return rows;
    }

    /// <summary>
    /// The state of the profile's row in <paramref name="audience"/> (UTF-8), without decoding any string;
    /// false when it has none. <paramref name="identitiesAt"/>: as in <see cref="ReadProfileRows"/>.
    /// </summary>
    public static bool TryFindRow(ReadOnlySpan<byte> value, ReadOnlySpan<byte> audience, out RowState row, out int identitiesAt)
    {
        var count = ProfileRowsCount(value);
        row = default;
        var at = 5;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
            if (!row.Exists && value.Slice(at + 4, length).SequenceEqual(audience))
            {
                row = ReadState(value[(at + 4 + length)..]);
            }
            at += 4 + length + StateBytes;
        }
        identitiesAt = at;
        return row.Exists;
    }

    /// <summary>Whether the list encoded at the start of <paramref name="list"/> holds the same strings as <paramref name="strings"/>, in any order, without decoding it.</summary>
    public static bool ListEquals(ReadOnlySpan<byte> list, IReadOnlyList<string> strings)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(list);
        if (count != strings.Count)
        {
            return false;
        }
        Span<byte> encoded = stackalloc byte[256];
        var at = 4;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(list[at..]);
            var item = list.Slice(at + 4, length);
            at += 4 + length;
            var found = false;
            for (var j = 0; j < strings.Count && !found; j++)
            {
                var text = strings[j];
                if (Encoding.UTF8.GetMaxByteCount(text.Length) > encoded.Length)
                {
                    encoded = new byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
                }
                found = encoded[..Encoding.UTF8.GetBytes(text, encoded)].SequenceEqual(item);
            }
            if (!found)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The identities of a profile rows value, which start at <paramref name="at"/> (none in a value of version 1).</summary>
    public static string[] ReadIdentities(ReadOnlySpan<byte> value, int at) => at < value.Length ? ReadList(value, ref at) : [];

    private static int ProfileRowsCount(ReadOnlySpan<byte> value)
    {
        if (value.Length < 5 || value[0] is not (Version or ProfileRowsVersion))
        {
            throw new InvalidDataException($"profile rows value of version {(value.Length > 0 ? value[0] : -1)} is not readable by this build");
        }
        return BinaryPrimitives.ReadInt32LittleEndian(value[1..]);
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

    /// <summary>
    /// Audience ids as read from stored values, one string per distinct id: the streaming engine reads a profile's rows when it
    /// evaluates it and again when it commits the answers, a string per row each time.
    /// </summary>
    private static readonly InternedText AudienceIds = new(65_536);

    private static string ReadAudience(ReadOnlySpan<byte> value, ref int at) => ReadText(value, ref at, AudienceIds);

    /// <summary>Reads a string (from <paramref name="interned"/> when given) and moves past it.</summary>
    private static string ReadText(ReadOnlySpan<byte> value, ref int at, InternedText? interned = null)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        var bytes = value.Slice(at + 4, length);
        var text = interned is null ? Encoding.UTF8.GetString(bytes) : interned.Get(bytes);
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

using System.Buffers.Binary;
using System.Text;

namespace Tessera.Segmentation.Memberships;

/// <summary>
/// Keys of the <see cref="Storage.StoreSpace.Memberships"/> space and, for changes, of the
/// <see cref="Storage.StoreSpace.MembershipFeed"/> space (both unsharded, shard 0). Strings are
/// UTF-8 and never contain the separator byte 0; numbers are 8-byte big-endian so they sort as numbers:
/// <code>
/// profile rows     'a' 0 sandbox 0 profile                     per audience the profile has a row in: status, times; its identities
/// exits by time    'x' 0 sandbox 0 exitTicks audience 0 profile (empty)
/// change           'f' 0 sandbox 0 sequence                    status, time, audience, profile, identities
/// last sequence    's' 0 sandbox                               sequence
/// cursor           'c' 0 sandbox 0 consumer                    sequence
/// counts           'n' 0 sandbox 0 audience                    realized, existing, exited
/// confirmed        'k' 0 sandbox 0 audience                    the start of the last full run that completed
/// </code>
/// A profile's memberships are its one profile rows key (a point read, which the bloom filter answers for a
/// profile without rows), so a writer learns what a verdict changes, and writes what it changes, with one key
/// per profile. An audience's members are a scan of the sandbox's profile rows. Earlier builds kept a key per
/// membership as well, <c>'m' 0 sandbox 0 audience 0 profile</c> (status, times, identities), and before that
/// other by-profile indexes, <c>'p' 0 sandbox 0 profile 0 audience</c> then <c>'r' 0 sandbox 0 profile</c>;
/// <see cref="MembershipStore.UpgradeAsync"/> folds them all into profile rows. Purging exits walks the exit
/// index oldest first and stops at the cutoff.
/// The last sequence is its own key so that it survives a purge of the whole feed.
/// </summary>
internal static class MembershipKeys
{
    public const byte ProfileRowsTag = (byte)'a';

    /// <summary>A key per membership of earlier builds (read only to fold into profile rows).</summary>
    public const byte LegacyMembershipTag = (byte)'m';

    /// <summary>The by-profile index of earlier builds, a key per membership (read only to rewrite it).</summary>
    public const byte LegacyProfileTag = (byte)'p';

    /// <summary>The profile rows keys of earlier builds, audiences without their states (read only to rewrite them).</summary>
    public const byte LegacyProfileRowsTag = (byte)'r';
    public const byte ExitTag = (byte)'x';
    public const byte ChangeTag = (byte)'f';
    public const byte SequenceTag = (byte)'s';
    public const byte CursorTag = (byte)'c';
    public const byte CountsTag = (byte)'n';
    public const byte ConfirmedTag = (byte)'k';
    public const byte Separator = 0;
    public const int NumberBytes = 8;

    /// <summary>Bytes enough for a key of these strings and two numbers.</summary>
    public static int MaxBytes(string a, string b = "", string c = "") =>
        16 + NumberBytes * 2 + Encoding.UTF8.GetMaxByteCount(a.Length + b.Length + c.Length);

    /// <summary><c>tag 0 sandbox 0</c>: the head of every key but the last sequence.</summary>
    public static int Head(Span<byte> destination, byte tag, string sandbox)
    {
        destination[0] = tag;
        destination[1] = Separator;
        var length = 2 + Encoding.UTF8.GetBytes(sandbox, destination[2..]);
        destination[length++] = Separator;
        return length;
    }

    public static int LegacyMembership(Span<byte> destination, string sandbox, string audience, string profile) =>
        Pair(destination, LegacyMembershipTag, sandbox, audience, profile);

    public static int ProfileRows(Span<byte> destination, string sandbox, string profile)
    {
        var length = Head(destination, ProfileRowsTag, sandbox);
        return length + Encoding.UTF8.GetBytes(profile, destination[length..]);
    }

    public static int Exit(Span<byte> destination, string sandbox, long exitTicks, string audience, string profile)
    {
        var length = Head(destination, ExitTag, sandbox);
        BinaryPrimitives.WriteInt64BigEndian(destination[length..], exitTicks);
        length += NumberBytes;
        return length + Text(destination[length..], audience, profile);
    }

    public static int Change(Span<byte> destination, string sandbox, long sequence)
    {
        var length = Head(destination, ChangeTag, sandbox);
        BinaryPrimitives.WriteInt64BigEndian(destination[length..], sequence);
        return length + NumberBytes;
    }

    public static int LastSequence(Span<byte> destination, string sandbox) => Head(destination, SequenceTag, sandbox) - 1;

    public static int Cursor(Span<byte> destination, string sandbox, string consumer)
    {
        var length = Head(destination, CursorTag, sandbox);
        return length + Encoding.UTF8.GetBytes(consumer, destination[length..]);
    }

    public static int Counts(Span<byte> destination, string sandbox, string audience) => OfAudience(destination, CountsTag, sandbox, audience);

    public static int Confirmed(Span<byte> destination, string sandbox, string audience) => OfAudience(destination, ConfirmedTag, sandbox, audience);

    private static int OfAudience(Span<byte> destination, byte tag, string sandbox, string audience)
    {
        var length = Head(destination, tag, sandbox);
        return length + Encoding.UTF8.GetBytes(audience, destination[length..]);
    }

    /// <summary><c>tag 0 sandbox 0 first 0</c>: the prefix of everything under one audience or profile.</summary>
    public static byte[] Prefix(byte tag, string sandbox, string? first = null)
    {
        var buffer = new byte[MaxBytes(sandbox, first ?? "")];
        var length = Head(buffer, tag, sandbox);
        if (first is not null)
        {
            length += Encoding.UTF8.GetBytes(first, buffer.AsSpan(length));
            buffer[length++] = Separator;
        }
        return buffer[..length];
    }

    /// <summary>The first key after <paramref name="key"/>: where a scan that stopped at it resumes.</summary>
    public static byte[] After(ReadOnlySpan<byte> key) => [.. key, Separator];

    /// <summary>The string after the last separator of a key (the profile of an exit or profile rows key, the audience of an earlier by-profile key).</summary>
    public static string Last(ReadOnlySpan<byte> key) => Encoding.UTF8.GetString(key[(key.LastIndexOf(Separator) + 1)..]);

    /// <summary>The string starting at <paramref name="offset"/> up to the next separator (or the end).</summary>
    public static string TextAt(ReadOnlySpan<byte> key, int offset)
    {
        var rest = key[offset..];
        var end = rest.IndexOf(Separator);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }

    private static int Pair(Span<byte> destination, byte tag, string sandbox, string first, string second)
    {
        var length = Head(destination, tag, sandbox);
        return length + Text(destination[length..], first, second);
    }

    private static int Text(Span<byte> destination, string first, string second)
    {
        var length = Encoding.UTF8.GetBytes(first, destination);
        destination[length++] = Separator;
        return length + Encoding.UTF8.GetBytes(second, destination[length..]);
    }
}

using System.Buffers;
using System.Buffers.Text;

namespace Tessera.Activation.Hashing;

/// <summary>A 32-byte digest written as lower-case hex (64 characters) or Base64 (44), into spans.</summary>
public static class DigestText
{
    public const int HexLength = 64;
    public const int Base64Length = 44;

    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    /// <summary>Lower-case hex of <paramref name="digest"/> as UTF-8 bytes (two per byte of the digest).</summary>
    public static void WriteHexUtf8(ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        var digits = HexDigits;
        for (var i = 0; i < digest.Length; i++)
        {
            destination[2 * i] = digits[digest[i] >> 4];
            destination[(2 * i) + 1] = digits[digest[i] & 0xF];
        }
    }

    /// <summary>Base64 of <paramref name="digest"/> (the raw bytes, as UID2 asks) as UTF-8 bytes.</summary>
    public static int WriteBase64Utf8(ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        var status = Base64.EncodeToUtf8(digest, destination, out _, out var written);
        return status == OperationStatus.Done ? written : throw new ArgumentException("destination too small", nameof(destination));
    }

    public static string Hex(ReadOnlySpan<byte> digest) => Convert.ToHexStringLower(digest);

    public static string Base64String(ReadOnlySpan<byte> digest) => Convert.ToBase64String(digest);

    /// <summary>Whether <paramref name="value"/> is 64 hex digits (either case): a SHA-256 digest written in hex.</summary>
    public static bool IsSha256Hex(ReadOnlySpan<char> value)
    {
        if (value.Length != HexLength)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}

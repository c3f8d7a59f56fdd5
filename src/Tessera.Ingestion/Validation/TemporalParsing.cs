using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Tessera.Ingestion.Validation;

/// <summary>Date-time parsing and the one stored form (UTC, ISO 8601, millisecond precision).</summary>
public static class TemporalParsing
{
    /// <summary>
    /// ISO 8601 with an offset or Z; a value without an offset is taken as UTC. The value must start
    /// with <c>yyyy-MM-dd</c> (then <c>T</c> or a space and the time, or nothing), so that local forms
    /// such as <c>03/07/2024</c> (March or July?) are refused rather than guessed; a mapping's
    /// per-column format reads those.
    /// </summary>
    public static bool TryParseDateTime(ReadOnlySpan<char> text, out DateTimeOffset instant)
    {
        if (!StartsWithIsoDate(text))
        {
            instant = default;
            return false;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
    }

    private static bool StartsWithIsoDate(ReadOnlySpan<char> text) =>
        text.Length >= 10
        && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2]) && char.IsAsciiDigit(text[3])
        && text[4] == '-' && char.IsAsciiDigit(text[5]) && char.IsAsciiDigit(text[6])
        && text[7] == '-' && char.IsAsciiDigit(text[8]) && char.IsAsciiDigit(text[9])
        && (text.Length == 10 || text[10] is 'T' or 't' or ' ');

    public static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString(StoredFormat, CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="instant"/> in the stored form as a JSON string, without making the string.</summary>
    public static void Write(Utf8JsonWriter output, DateTimeOffset instant)
    {
        Span<byte> utf8 = stackalloc byte[StoredLength];
        var formatted = instant.UtcDateTime.TryFormat(utf8, out var written, StoredFormat, CultureInfo.InvariantCulture);
        Debug.Assert(formatted && written == StoredLength, "a DateTime's year has four digits");
        output.WriteStringValue(utf8[..written]);
    }

    private const int StoredLength = 24;
    private const string StoredFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
}

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
        return TryParseCommonForm(text, out instant)
            || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
    }

    /// <summary>
    /// <c>yyyy-MM-dd</c>, or <c>yyyy-MM-ddTHH:mm:ss</c> with up to seven digits of fraction and <c>Z</c>, an
    /// offset <c>±HH:mm</c> or nothing (UTC), read digit by digit: what nearly every event carries, and
    /// what the general parser took about a microsecond to tokenize. Anything else, or out of range,
    /// returns false and goes to the general parser, whose answer this must equal where it answers
    /// (a property test compares them).
    /// </summary>
    private static bool TryParseCommonForm(ReadOnlySpan<char> text, out DateTimeOffset instant)
    {
        instant = default;
        if (!TryDate(text, out var year, out var month, out var day) || year is 1 or 9999)
        {
            return false; // the first and last years can leave the range once converted to UTC: the general parser decides
        }
        if (text.Length == 10)
        {
            instant = new DateTimeOffset(year, month, day, 0, 0, 0, TimeSpan.Zero);
            return true;
        }
        if (text.Length < 19 || text[10] != 'T' || text[13] != ':' || text[16] != ':'
            || !TryDigits(text.Slice(11, 2), out var hour) || hour > 23
            || !TryDigits(text.Slice(14, 2), out var minute) || minute > 59
            || !TryDigits(text.Slice(17, 2), out var second) || second > 59)
        {
            return false;
        }
        var rest = text[19..];
        long fractionTicks = 0;
        if (rest.Length > 0 && rest[0] == '.')
        {
            var digits = 1;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }
            if (digits is 1 or > 8)
            {
                return false;
            }
            for (var i = 1; i < 8; i++)
            {
                fractionTicks = fractionTicks * 10 + (i < digits ? rest[i] - '0' : 0);
            }
            rest = rest[digits..];
        }
        var offset = TimeSpan.Zero;
        if (rest.Length == 1 && rest[0] == 'Z')
        {
            rest = [];
        }
        else if (rest.Length == 6 && rest[0] is '+' or '-' && rest[3] == ':'
            && TryDigits(rest.Slice(1, 2), out var offsetHours) && TryDigits(rest.Slice(4, 2), out var offsetMinutes)
            && offsetMinutes <= 59 && offsetHours * 60 + offsetMinutes <= 14 * 60)
        {
            offset = new TimeSpan(rest[0] == '-' ? -offsetHours : offsetHours, rest[0] == '-' ? -offsetMinutes : offsetMinutes, 0);
            rest = [];
        }
        if (rest.Length != 0)
        {
            return false;
        }
        instant = new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(fractionTicks).ToUniversalTime();
        return true;
    }

    /// <summary><c>yyyy-MM-dd</c> exactly, read digit by digit; a date of another form falls to <see cref="DateOnly.TryParseExact(ReadOnlySpan{char}, ReadOnlySpan{char}, IFormatProvider?, DateTimeStyles, out DateOnly)"/>.</summary>
    public static bool TryParseDate(ReadOnlySpan<char> text, out DateOnly date)
    {
        if (text.Length == 10 && TryDate(text, out var year, out var month, out var day))
        {
            date = new DateOnly(year, month, day);
            return true;
        }
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    /// <summary><c>yyyy-MM-dd</c> at the start of <paramref name="text"/>, a real date of years 1 to 9999.</summary>
    private static bool TryDate(ReadOnlySpan<char> text, out int year, out int month, out int day)
    {
        year = month = day = 0;
        if (text.Length < 10 || text[4] != '-' || text[7] != '-'
            || !TryDigits(text[..4], out year) || !TryDigits(text.Slice(5, 2), out month) || !TryDigits(text.Slice(8, 2), out day))
        {
            return false;
        }
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    private static bool TryDigits(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return true;
    }

    private static bool StartsWithIsoDate(ReadOnlySpan<char> text) =>
        text.Length >= 10
        && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2]) && char.IsAsciiDigit(text[3])
        && text[4] == '-' && char.IsAsciiDigit(text[5]) && char.IsAsciiDigit(text[6])
        && text[7] == '-' && char.IsAsciiDigit(text[8]) && char.IsAsciiDigit(text[9])
        && (text.Length == 10 || text[10] is 'T' or 't' or ' ');

    public static string Format(DateTimeOffset instant)
    {
        Span<byte> utf8 = stackalloc byte[StoredLength];
        WriteStored(utf8, instant);
        return System.Text.Encoding.ASCII.GetString(utf8);
    }

    /// <summary>Writes <paramref name="instant"/> in the stored form as a JSON string, without making the string.</summary>
    public static void Write(Utf8JsonWriter output, DateTimeOffset instant)
    {
        Span<byte> utf8 = stackalloc byte[StoredLength];
        WriteStored(utf8, instant);
        output.WriteStringValue(utf8);
    }

    /// <summary>
    /// <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> of the UTC time, digit by digit (the milliseconds cut, not rounded,
    /// as the format string <c>fff</c> does): a custom format string is parsed again on every call.
    /// </summary>
    private static void WriteStored(Span<byte> utf8, DateTimeOffset instant)
    {
        var time = instant.UtcDateTime;
        Digits(utf8[..4], time.Year);
        utf8[4] = (byte)'-';
        Digits(utf8.Slice(5, 2), time.Month);
        utf8[7] = (byte)'-';
        Digits(utf8.Slice(8, 2), time.Day);
        utf8[10] = (byte)'T';
        Digits(utf8.Slice(11, 2), time.Hour);
        utf8[13] = (byte)':';
        Digits(utf8.Slice(14, 2), time.Minute);
        utf8[16] = (byte)':';
        Digits(utf8.Slice(17, 2), time.Second);
        utf8[19] = (byte)'.';
        Digits(utf8.Slice(20, 3), time.Millisecond);
        utf8[23] = (byte)'Z';
        Debug.Assert(utf8.Length == StoredLength, "the stored form has a fixed length");
    }

    private static void Digits(Span<byte> target, int value)
    {
        for (var i = target.Length - 1; i >= 0; i--)
        {
            target[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    private const int StoredLength = 24;
}

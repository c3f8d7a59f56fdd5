using System.Globalization;
using FsCheck.Xunit;
using Tessera.Ingestion.Validation;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// The digit-by-digit readers and writer of dates and date-times give exactly what .NET's general
/// parser and format strings give: the same values, the same refusals. Inputs are built from random
/// parts, in and out of range, in the common form and around it. FsCheck draws whole numbers from
/// ±size, and the size grows only to EndSize: at its default of 100 every year was 0000-0100 and every
/// instant within 100 ticks of its first day, hence the larger EndSize and the numbers spread by multiplying.
/// </summary>
public sealed class TemporalParsingProperties
{
    private static readonly string[] Separators = ["T", "T", "T", "t", " "];
    private static readonly string[] Zones = ["Z", "Z", "", "+", "-", "z", "+0530", "+5:30"];

    [Property(Replay = "(20261130,7)", MaxTest = 3_000, EndSize = 100_000_000)]
    public bool A_date_time_reads_as_the_general_parser_reads_it(ushort year, byte month, byte day, byte hour, byte minute, byte second,
        uint fraction, byte fractionDigits, byte separator, byte zone, byte offsetHours, byte offsetMinutes)
    {
        var text = $"{year % 10_000:D4}-{month % 14:D2}-{day % 33:D2}";
        if (separator % 8 != 0)
        {
            text += $"{Separators[separator % Separators.Length]}{hour % 26:D2}:{minute % 62:D2}:{second % 62:D2}";
            var digits = fractionDigits % 10;
            if (digits > 0)
            {
                text += "." + (fraction * 2_654_435_761u % 1_000_000_000).ToString("D9", CultureInfo.InvariantCulture)[..digits];
            }
            var zoneText = Zones[zone % Zones.Length];
            text += zoneText is "+" or "-" ? $"{zoneText}{offsetHours % 16:D2}:{offsetMinutes % 61:D2}" : zoneText;
        }
        var parsed = TemporalParsing.TryParseDateTime(text, out var instant);
        var expected = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var reference);
        return parsed == expected && (!parsed || (instant.UtcTicks == reference.UtcTicks && instant.Offset == reference.Offset));
    }

    [Property(Replay = "(20261130,11)", MaxTest = 2_000, EndSize = 100_000_000)]
    public bool A_date_reads_as_the_exact_format_reads_it(ushort year, byte month, byte day, bool shorter)
    {
        var text = $"{year % 10_000:D4}-{month % 14:D2}-{day % 33:D2}";
        text = shorter ? text[..9] : text;
        var parsed = TemporalParsing.TryParseDate(text, out var date);
        var expected = DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var reference);
        return parsed == expected && date == reference;
    }

    [Property(Replay = "(20261130,9)", MaxTest = 2_000, EndSize = 100_000_000)]
    public bool An_instant_writes_as_the_format_string_writes_it(long ticks, short offsetMinutes)
    {
        // A day clear of either end, so that the local time of any offset exists.
        var utc = new DateTime(TimeSpan.TicksPerDay + (long)((ulong)ticks * 0x9E3779B97F4A7C15UL % (ulong)(DateTime.MaxValue.Ticks - 2 * TimeSpan.TicksPerDay)));
        var offset = TimeSpan.FromMinutes(offsetMinutes % (14 * 60));
        var instant = new DateTimeOffset(DateTime.SpecifyKind(utc + offset, DateTimeKind.Unspecified), offset);
        return TemporalParsing.Format(instant) == instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }
}

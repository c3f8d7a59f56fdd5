using System.Globalization;

namespace Tessera.Ingestion.Validation;

/// <summary>Date-time parsing and the one stored form (UTC, ISO 8601, millisecond precision).</summary>
public static class TemporalParsing
{
    /// <summary>ISO 8601 with an offset or Z; a value without an offset is taken as UTC.</summary>
    public static bool TryParseDateTime(string text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant)
        && text.Length >= 10 && char.IsAsciiDigit(text[0]);

    public static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

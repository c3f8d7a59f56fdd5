using System.Globalization;
using FsCheck.Xunit;
using Tessera.Pql.Evaluation;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>
/// Stored date-times are read by a direct path for the common ISO-8601 layouts and by the general
/// parser otherwise: on random strings near those layouts (valid and not: out-of-range fields, hour 24,
/// leap seconds, long fractions, odd offsets, other separators), the result is always the general
/// parser's.
/// </summary>
public sealed class InstantReadingProperties
{
    private static readonly TimeWindow Utc = new(TimeZoneInfo.Utc);

    [Property(Replay = "(20261130,11)", MaxTest = 5000, EndSize = 100_000_000)]
    public bool A_date_time_reads_as_the_general_parser_reads_it(int seed, int salt)
    {
        var random = new Random(unchecked((seed * 1_000_003) + salt));
        var text = NearIso(random);
        var expected = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            ? instant.ToUniversalTime() : (DateTimeOffset?)null;
        var direct = TimeWindow.TryReadCommonInstant(text, out var ticks);
        return Utc.Read(text) == expected && (!direct || (expected is { } e && e.UtcTicks == ticks));
    }

    [Fact]
    public void Common_layouts_are_read_directly()
    {
        Assert.True(TimeWindow.TryReadCommonInstant("2026-06-10T12:00:00Z", out var utc));
        Assert.Equal(new DateTimeOffset(2026, 6, 10, 12, 0, 0, TimeSpan.Zero).UtcTicks, utc);
        Assert.True(TimeWindow.TryReadCommonInstant("2026-06-10T12:00:00.5+02:00", out var offset));
        Assert.Equal(new DateTimeOffset(2026, 6, 10, 10, 0, 0, 500, TimeSpan.Zero).UtcTicks, offset);
        Assert.True(TimeWindow.TryReadCommonInstant("2026-06-10 12:00:00.1234567", out var fraction));
        Assert.Equal(new DateTimeOffset(2026, 6, 10, 12, 0, 0, TimeSpan.Zero).UtcTicks + 1_234_567, fraction);
        Assert.False(TimeWindow.TryReadCommonInstant("2026-06-10T24:00:00Z", out _));
        Assert.False(TimeWindow.TryReadCommonInstant("2026-02-29T12:00:00Z", out _));
    }

    private static string NearIso(Random random)
    {
        string Two(int max) => random.Next(max + 1).ToString("00", CultureInfo.InvariantCulture);
        var year = random.Next(8) switch
        {
            0 => random.Next(0, 10_000).ToString("0000", CultureInfo.InvariantCulture),
            1 => random.Next(2, 4) == 2 ? "0001" : "9999",
            _ => random.Next(1990, 2040).ToString(CultureInfo.InvariantCulture),
        };
        var month = random.Next(10) == 0 ? Two(99) : (random.Next(12) + 1).ToString("00", CultureInfo.InvariantCulture);
        var day = random.Next(10) == 0 ? Two(39) : (random.Next(31) + 1).ToString("00", CultureInfo.InvariantCulture);
        var separator = random.Next(12) switch { 0 => "t", 1 => " ", 2 => "_", _ => "T" };
        var hour = random.Next(10) == 0 ? Two(25) : Two(23);
        var minute = random.Next(12) == 0 ? Two(61) : Two(59);
        var second = random.Next(12) == 0 ? Two(61) : Two(59);
        var time = random.Next(15) == 0 ? $"{hour}:{minute}" : $"{hour}:{minute}:{second}";
        var fraction = random.Next(4) switch
        {
            0 => "",
            1 => "." + random.Next(1_000).ToString("000", CultureInfo.InvariantCulture),
            2 => "." + new string([.. Enumerable.Range(0, random.Next(0, 10)).Select(_ => (char)('0' + random.Next(10)))]),
            _ => "." + random.Next(10).ToString(CultureInfo.InvariantCulture),
        };
        var zone = random.Next(10) switch
        {
            0 or 1 or 2 => "Z",
            3 or 4 => "",
            5 => "z",
            6 => (random.Next(2) == 0 ? "+" : "-") + Two(15) + ":" + Two(60),
            7 => (random.Next(2) == 0 ? "+" : "-") + Two(14) + Two(59),
            8 => "+" + Two(13) + ":" + (random.Next(4) * 15).ToString("00", CultureInfo.InvariantCulture),
            _ => "-" + Two(12) + ":00",
        };
        return $"{year}-{month}-{day}{separator}{time}{fraction}{zone}";
    }
}

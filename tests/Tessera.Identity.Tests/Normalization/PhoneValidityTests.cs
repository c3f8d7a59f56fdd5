using FsCheck.Xunit;
using PhoneNumbers;
using Tessera.Identity.Normalization;

namespace Tessera.Identity.Tests.Normalization;

/// <summary>
/// <see cref="PhoneValidity"/> must say what libphonenumber's <c>IsValidNumber</c> says, for every
/// calling code: valid numbers come from the library's own examples (each type of each region),
/// and near misses from changing, dropping or adding their digits.
/// </summary>
public sealed class PhoneValidityTests
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();
    private static readonly PhoneNumberType[] Types = Enum.GetValues<PhoneNumberType>();
    private static readonly int[] CallingCodes = [.. Phones.GetSupportedCallingCodes().Order()];

    [Fact]
    public void Every_example_number_and_its_near_misses_get_the_library_answer()
    {
        var mismatches = new List<string>();
        int valid = 0, invalid = 0;
        foreach (var national in ExampleNationalNumbers().Distinct())
        {
            foreach (var variant in NearMisses(national.Number))
            {
                if (Parse(national.CallingCode, variant) is not { } number)
                {
                    continue;
                }
                var expected = Phones.IsValidNumber(number);
                _ = expected ? valid++ : invalid++;
                if (PhoneValidity.IsValid(number) != expected)
                {
                    mismatches.Add($"+{national.CallingCode} {variant}: the library says {(expected ? "valid" : "invalid")}");
                }
            }
        }
        Assert.Empty(mismatches);
        // Not vacuous: both answers occur many times over.
        Assert.True(valid > 20_000 && invalid > 1_500, $"{valid} valid, {invalid} invalid");
    }

    [Property(Replay = "(4242,17)", MaxTest = 2_000)]
    public bool Random_digits_under_any_calling_code_get_the_library_answer(int codeIndex, byte[]? digits)
    {
        // FsCheck draws codeIndex from ±100 (its size): with the digits' sum the draw reaches every calling code.
        var callingCode = CallingCodes[(int)(((uint)codeIndex * 31 + (uint)(digits ?? []).Sum(b => b)) % (uint)CallingCodes.Length)];
        var national = new string([.. (digits ?? []).Take(17).Select(b => (char)('0' + (b % 10)))]);
        return national.Length < 2 || Parse(callingCode, national) is not { } number
            || PhoneValidity.IsValid(number) == Phones.IsValidNumber(number);
    }

    /// <summary>
    /// What <see cref="PhoneValidity.TryReadInternational"/> reads without the parser is what the parser reads:
    /// the calling code, the national number as it stands (so the E.164 form is the text), the validity. Inputs:
    /// every example number in E.164 and its near misses, each also with a national prefix's first digits put
    /// after the calling code (which the parser may strip), and random digits after '+'.
    /// </summary>
    [Fact]
    public void Plus_and_digits_read_without_the_parser_are_read_as_the_parser_reads_them()
    {
        var random = new Random(20261130);
        var inputs = ExampleNationalNumbers().Distinct()
            .SelectMany(example => NearMisses(example.Number).SelectMany(national => new[]
            {
                $"+{example.CallingCode}{national}", $"+{example.CallingCode}0{national}", $"+{example.CallingCode}1{national}",
                $"+{example.CallingCode}8{national}",
            }))
            .Concat(Enumerable.Range(0, 20_000).Select(_ => "+" + string.Concat(Enumerable.Range(0, random.Next(1, 21)).Select(_ => (char)('0' + random.Next(10))))))
            .Distinct();
        var mismatches = new List<string>();
        int read = 0, left = 0, valid = 0;
        foreach (var input in inputs)
        {
            if (!PhoneValidity.TryReadInternational(input, out var callingCode, out var isValid))
            {
                left++;
                continue;
            }
            read++;
            _ = isValid ? valid++ : 0;
            PhoneNumber number;
            try
            {
                number = Phones.Parse(input, "ZZ");
            }
            catch (NumberParseException error)
            {
                mismatches.Add($"{input}: read without the parser, which refuses it ({error.ErrorType})");
                continue;
            }
            if (number.CountryCode != callingCode || Phones.Format(number, PhoneNumberFormat.E164) != input || Phones.IsValidNumber(number) != isValid)
            {
                mismatches.Add($"{input}: read as +{callingCode}, {(isValid ? "valid" : "invalid")}; the parser reads +{number.CountryCode} "
                    + $"{Phones.Format(number, PhoneNumberFormat.E164)}, {(Phones.IsValidNumber(number) ? "valid" : "invalid")}");
            }
        }
        Assert.Empty(mismatches.Take(20));
        // Not vacuous: most are read without the parser, many valid, and the national prefixes leave some to it.
        Assert.True(read > 60_000 && valid > 20_000 && left > 10_000, $"{read} read ({valid} valid), {left} left to the parser");
    }

    [Fact]
    public void An_unknown_calling_code_is_invalid() =>
        Assert.False(PhoneValidity.IsValid(new PhoneNumber.Builder().SetCountryCode(999).SetNationalNumber(12345678).Build()));

    [Theory]
    [InlineData("23456", true)] // general and fixed line, five digits
    [InlineData("234567", false)] // both patterns match, but the general description lists no length of six
    [InlineData("2345678", false)] // fixed line matches, but lists only five digits
    [InlineData("3456789", true)] // mobile, seven digits
    [InlineData("93456", false)] // general only: no type
    [InlineData("45678", false)] // the type with length -1 (the region does not have it) does not count
    [InlineData("2345", false)] // matches nothing
    [InlineData("81234", false)] // a type matches, the general pattern does not
    public void A_number_is_valid_when_the_general_pattern_and_a_type_match_at_lengths_they_list(string national, bool valid)
    {
        var region = PhoneMetadata.CreateBuilder().SetId("XX")
            .SetGeneralDesc(Description(@"[2-49]\d{4,6}", 5, 7))
            .SetFixedLine(Description(@"2\d{4,6}", 5))
            .SetMobile(Description(@"3\d{6}", 7))
            .SetTollFree(Description(@"4\d{4}", -1))
            .SetPager(Description(@"8\d{4}", 5))
            .Build();
        Assert.Equal(valid, PhoneValidity.IsValidIn(region, national));
    }

    [Theory]
    [InlineData("1234", 0)] // the leading digits of the first two both match: the first in order
    [InlineData("1299", 0)]
    [InlineData("1500", -1)]
    [InlineData("5123", 2)] // the region without leading digits has a type for it, before the next region's digits
    [InlineData("52", 3)] // no type there (too short), so the region after it
    [InlineData("6123", 4)] // a second run of leading digits, after the region without
    public void The_region_is_the_first_whose_leading_digits_match_or_that_has_a_type(string national, int expected)
    {
        var typed = PhoneMetadata.CreateBuilder().SetId("XC")
            .SetGeneralDesc(Description(@"5\d{3}")).SetFixedLine(Description(@"5\d{3}")).Build();
        List<PhoneMetadata> regions =
        [
            Leading("XA", "1[2-4]"), Leading("XB", "12"), typed, Leading("XD", "5"), Leading("XE", "6|12"),
        ];
        Assert.Equal(expected, PhoneValidity.RegionOf(regions, national));

        static PhoneMetadata Leading(string id, string digits) =>
            PhoneMetadata.CreateBuilder().SetId(id).SetLeadingDigits(digits).SetGeneralDesc(Description(@"\d{4}")).Build();
    }

    [Theory]
    [InlineData("12", false)]
    [InlineData("123", true)]
    [InlineData("12345678901234567", true)]
    public void A_region_without_patterns_takes_any_plausible_length(string national, bool valid) =>
        Assert.Equal(valid, PhoneValidity.IsValidIn(PhoneMetadata.CreateBuilder().SetId("XN").SetGeneralDesc(PhoneNumberDesc.CreateBuilder().Build()).Build(), national));

    private static PhoneNumberDesc Description(string pattern, params int[] lengths)
    {
        var builder = PhoneNumberDesc.CreateBuilder().SetNationalNumberPattern(pattern);
        foreach (var length in lengths)
        {
            builder.AddPossibleLength(length);
        }
        return builder.Build();
    }

    private static IEnumerable<(int CallingCode, string Number)> ExampleNationalNumbers()
    {
        foreach (var region in Phones.GetSupportedRegions().Order(StringComparer.Ordinal))
        {
            foreach (var type in Types)
            {
                if (Phones.GetExampleNumberForType(region, type) is { } example)
                {
                    yield return (example.CountryCode, Phones.GetNationalSignificantNumber(example));
                }
            }
        }
        foreach (var callingCode in Phones.GetSupportedGlobalNetworkCallingCodes().Order())
        {
            if (Phones.GetExampleNumberForNonGeoEntity(callingCode) is { } example)
            {
                yield return (example.CountryCode, Phones.GetNationalSignificantNumber(example));
            }
        }
    }

    /// <summary>The number, each of its last four digits replaced by every other digit, its last digit dropped, a digit added.</summary>
    private static IEnumerable<string> NearMisses(string national)
    {
        yield return national;
        for (var position = Math.Max(0, national.Length - 4); position < national.Length; position++)
        {
            for (var digit = '0'; digit <= '9'; digit++)
            {
                if (digit != national[position])
                {
                    yield return string.Concat(national.AsSpan(0, position), [digit], national.AsSpan(position + 1));
                }
            }
        }
        yield return national[..^1];
        yield return national + "5";
    }

    private static PhoneNumber? Parse(int callingCode, string national)
    {
        try
        {
            return Phones.Parse($"+{callingCode}{national}", "ZZ");
        }
        catch (NumberParseException)
        {
            return null;
        }
    }
}

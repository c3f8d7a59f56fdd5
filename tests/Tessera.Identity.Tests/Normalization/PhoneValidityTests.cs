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
        var callingCode = CallingCodes[(codeIndex & int.MaxValue) % CallingCodes.Length];
        var national = new string([.. (digits ?? []).Take(17).Select(b => (char)('0' + (b % 10)))]);
        return national.Length < 2 || Parse(callingCode, national) is not { } number
            || PhoneValidity.IsValid(number) == Phones.IsValidNumber(number);
    }

    [Fact]
    public void An_unknown_calling_code_is_invalid() =>
        Assert.False(PhoneValidity.IsValid(new PhoneNumber.Builder().SetCountryCode(999).SetNationalNumber(12345678).Build()));

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

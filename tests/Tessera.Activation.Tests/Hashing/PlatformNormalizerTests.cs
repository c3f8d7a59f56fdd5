using Tessera.Activation.Hashing;

namespace Tessera.Activation.Tests.Hashing;

public sealed class PlatformNormalizerTests
{
    private static readonly PlatformNormalizer Normalizer = PlatformNormalizer.Default;

    [Theory]
    [InlineData(HashPlatform.Meta, "J.Doe+x@Gmail.com", "j.doe+x@gmail.com")]
    [InlineData(HashPlatform.LinkedIn, " J.Doe+x@Gmail.com ", "j.doe+x@gmail.com")]
    [InlineData(HashPlatform.Google, "J.Doe+x@Gmail.com", "jdoe@gmail.com")]
    [InlineData(HashPlatform.Google, "J.Doe+x@googlemail.com", "jdoe@googlemail.com")]
    [InlineData(HashPlatform.Google, "j doe@example.com", "jdoe@example.com")]
    [InlineData(HashPlatform.TradeDesk, "J.Doe+x@Gmail.com", "jdoe@gmail.com")]
    [InlineData(HashPlatform.TradeDesk, "J.Doe+x@googlemail.com", "j.doe+x@googlemail.com")]
    [InlineData(HashPlatform.TikTok, "J.Doe+x@Example.com", "j.doe@example.com")]
    public void Email_rules_differ_by_platform(HashPlatform platform, string input, string expected)
    {
        var outcome = Normalizer.Normalize(platform, KeyKind.Email, input);
        Assert.Equal(KeyForm.ToHash, outcome.Form);
        Assert.Equal(expected, outcome.Value);
    }

    [Theory]
    [InlineData(HashPlatform.Meta, "+44 20 7183 8750", "442071838750")]
    [InlineData(HashPlatform.TikTok, "+1 (650) 253-0000", "16502530000")]
    [InlineData(HashPlatform.Google, "650-253-0000", "+16502530000")]
    [InlineData(HashPlatform.TradeDesk, "+16502530000", "+16502530000")]
    [InlineData(HashPlatform.Meta, "44 20 7183 8750", "442071838750")]
    public void Phones_are_e164_with_or_without_the_plus(HashPlatform platform, string input, string expected) =>
        Assert.Equal(expected, Normalizer.Normalize(platform, KeyKind.Phone, input).Value);

    [Theory]
    [InlineData(KeyKind.Email, "ann@", "is not an email address")]
    [InlineData(KeyKind.Email, "n/a", "blocked")]
    [InlineData(KeyKind.Phone, "1", "too few digits")]
    [InlineData(KeyKind.Phone, "+1 555 0000 0000 0000", "is not")]
    [InlineData(KeyKind.Gender, "x", "m or f")]
    [InlineData(KeyKind.BirthYear, "1850", "birth year")]
    [InlineData(KeyKind.BirthMonth, "13", "birth month")]
    [InlineData(KeyKind.Country, "France", "ISO 3166-1")]
    [InlineData(KeyKind.FirstName, "---", "blocked")]
    [InlineData(KeyKind.City, "12345", "no letters")]
    [InlineData(KeyKind.Email, "   ", "empty")]
    public void Invalid_values_give_a_reason_not_an_exception(KeyKind kind, string input, string reason)
    {
        var outcome = Normalizer.Normalize(HashPlatform.Meta, kind, input);
        Assert.False(outcome.IsUsable);
        Assert.Contains(reason, outcome.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(KeyKind.Gender, "Female", "f")]
    [InlineData(KeyKind.BirthMonth, "7", "07")]
    [InlineData(KeyKind.BirthDay, "09", "09")]
    [InlineData(KeyKind.BirthYear, "1984", "1984")]
    [InlineData(KeyKind.FirstName, "Jean-Pierre", "jeanpierre")]
    [InlineData(KeyKind.LastName, "Müller", "müller")]
    [InlineData(KeyKind.State, "New York", "ny")]
    [InlineData(KeyKind.State, "Ontario", "ontario")]
    [InlineData(KeyKind.Country, "FR", "fr")]
    [InlineData(KeyKind.PostalCode, "123456789", "12345")]
    public void Meta_keys_follow_its_table(KeyKind kind, string input, string expected) =>
        Assert.Equal(expected, Normalizer.Normalize(HashPlatform.Meta, kind, input).Value);

    [Fact]
    public void Hashed_values_pass_through_lower_cased_and_unhashed_keys_stay_plain()
    {
        const string Upper = "16C18D336F0B250F0E2D907452CEB9658A74ECDAE8BC94864C23122A72CC27A5";
        var hashed = Normalizer.Normalize(HashPlatform.Google, KeyKind.Email, Upper);
        Assert.Equal(KeyForm.Hashed, hashed.Form);
        Assert.Equal(Upper.ToLowerInvariant(), hashed.Value);
        Assert.Equal(KeyForm.Plain, Normalizer.Normalize(HashPlatform.Google, KeyKind.Country, "us").Form);
        Assert.Equal("US", Normalizer.Normalize(HashPlatform.Google, KeyKind.Country, "us").Value);
        Assert.Equal(KeyForm.Plain, Normalizer.Normalize(HashPlatform.Meta, KeyKind.ExternalId, "crm-1").Form);
        // A 64-hex external id is not a hash to Meta: EXTERN_ID is never hashed.
        Assert.Equal(KeyForm.Plain, Normalizer.Normalize(HashPlatform.Meta, KeyKind.ExternalId, Upper).Form);
    }

    [Fact]
    public void Already_normalized_values_are_not_copied()
    {
        const string Email = "ann@example.com";
        Assert.Same(Email, Normalizer.Normalize(HashPlatform.Meta, KeyKind.Email, Email).Value);
        const string Phone = "+16502530000";
        Assert.Same(Phone, Normalizer.Normalize(HashPlatform.Google, KeyKind.Phone, Phone).Value);
    }
}

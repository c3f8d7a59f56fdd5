using Tessera.Abstractions;
using Tessera.Identity.Normalization;

namespace Tessera.Identity.Tests.Normalization;

public sealed class PhoneNormalizationTests
{
    [Theory]
    [InlineData("+16502530000", "+16502530000")]
    [InlineData(" (650) 253-0000 ", "+16502530000")]
    [InlineData("650.253.0000", "+16502530000")]
    [InlineData("1-650-253-0000", "+16502530000")]
    [InlineData("+1 650 253 0000 ext. 42", "+16502530000")]
    [InlineData("011 44 20 7946 0958", "+442079460958")]
    [InlineData("+44 (0)20 7946 0958", "+442079460958")]
    [InlineData("+33 6 12 34 56 78", "+33612345678")]
    public void A_number_is_written_in_E164_reading_national_numbers_in_the_default_region(string raw, string expected) =>
        Assert.Equal(expected, Namespaces.Phone.Normalized(raw));

    [Theory]
    [InlineData("+1 123 456 7890")] // no US area code starts with 1
    [InlineData("555-0100")] // too short for a US number
    [InlineData("12345")]
    [InlineData("+999 1234 5678")] // no such country code
    [InlineData("+44 20 7946 09581234")]
    [InlineData("call me")]
    [InlineData("7")]
    [InlineData("ann@example.com")]
    public void A_number_that_is_not_a_valid_phone_number_is_invalid(string raw) =>
        Namespaces.Phone.Refused(raw, ErrorCodes.IdentityInvalidPhone);

    [Fact]
    public void The_namespace_region_wins_over_the_workspace_region_which_wins_over_US()
    {
        var british = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Phone, region: "GB"), phoneRegion: "FR");
        var french = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Phone), phoneRegion: "fr");
        var american = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Phone));

        Assert.Equal(("GB", "FR", "US"), (british.PhoneRegion, french.PhoneRegion, american.PhoneRegion));
        Assert.Equal("+442079460958", british.Normalized("020 7946 0958"));
        Assert.Equal("+33612345678", french.Normalized("06 12 34 56 78"));
        american.Refused("06 12 34 56 78", ErrorCodes.IdentityInvalidPhone);
        // A number with its country code reads the same in every region.
        Assert.All(new[] { british, french, american }, n => Assert.Equal("+16502530000", n.Normalized("+1 650 253 0000")));
    }

    [Theory]
    [InlineData("+1 123 456 7890", "US")] // through libphonenumber's parser
    [InlineData("+11234567890", "US")] // '+' and digits, read without it
    [InlineData("+8005551234", "country code +800")]
    public void The_message_names_the_region_numbers_are_read_in(string raw, string where)
    {
        var outcome = Namespaces.Phone.Refused(raw, ErrorCodes.IdentityInvalidPhone);
        Assert.Equal($"'{raw}' is not a phone number: it is not a valid number in {where}", outcome.Message);
    }

    [Fact]
    public void A_region_libphonenumber_does_not_know_is_refused_when_the_normalizer_is_built()
    {
        Assert.Throws<ArgumentException>(() => new IdentityNormalizer(Namespaces.Define(IdentityFormat.Phone, region: "XX")));
        Assert.Throws<ArgumentException>(() => new IdentityNormalizer(Namespaces.Define(IdentityFormat.Phone), phoneRegion: "ZZ"));
    }

    [Fact]
    public void A_number_already_in_E164_comes_back_as_the_same_string()
    {
        const string number = "+442079460958";
        Assert.Same(number, Namespaces.Phone.Normalized(number));
    }

    [Fact]
    public void Placeholder_numbers_are_blocked_before_they_are_parsed()
    {
        Namespaces.Phone.Refused("000-000-0000", ErrorCodes.IdentityBlocked);
        Namespaces.Phone.Refused("+0 (000) 000-0000", ErrorCodes.IdentityBlocked);
        Namespaces.Phone.Refused("-1", ErrorCodes.IdentityBlocked);
        Namespaces.Phone.Refused("N/A", ErrorCodes.IdentityBlocked);
    }
}

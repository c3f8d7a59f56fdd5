using Tessera.Abstractions;

namespace Tessera.Identity.Tests.Normalization;

public sealed class EmailNormalizationTests
{
    [Theory]
    [InlineData("ann@example.com", "ann@example.com")]
    [InlineData("  Ann.Smith+News@Example.COM\t", "ann.smith+news@example.com")]
    [InlineData("o'brien@example.ie", "o'brien@example.ie")]
    [InlineData("user_1-x@mail.sub.example.co.uk", "user_1-x@mail.sub.example.co.uk")]
    [InlineData("Łukasz@例え.JP", "łukasz@例え.jp")]
    [InlineData("x@xn--bcher-kva.example", "x@xn--bcher-kva.example")]
    public void An_address_is_trimmed_and_lower_cased(string raw, string expected) =>
        Assert.Equal(expected, Namespaces.Email.Normalized(raw));

    [Theory]
    [InlineData("ann")]
    [InlineData("ann@")]
    [InlineData("@example.com")]
    [InlineData("ann@@example.com")]
    [InlineData("a@b@example.com")]
    [InlineData("ann smith@example.com")]
    [InlineData("ann@example")]
    [InlineData("ann@example.c")]
    [InlineData("ann@example.123")]
    [InlineData(".ann@example.com")]
    [InlineData("ann.@example.com")]
    [InlineData("an..n@example.com")]
    [InlineData("ann@-example.com")]
    [InlineData("ann@example-.com")]
    [InlineData("ann@exa_mple.com")]
    [InlineData("ann@example..com")]
    [InlineData("ann@.example.com")]
    [InlineData("ann@example.com.")]
    [InlineData("<ann@example.com>")]
    [InlineData("\"ann\"@example.com")]
    [InlineData("ann@[192.168.0.1]")]
    [InlineData("ann@exa\u0001mple.com")]
    public void A_malformed_address_is_invalid(string raw) =>
        Namespaces.Email.Refused(raw, ErrorCodes.IdentityInvalidEmail);

    [Fact]
    public void Length_limits_are_64_before_the_at_and_254_in_all()
    {
        var local64 = new string('a', 64);
        Assert.Equal($"{local64}@example.com", Namespaces.Email.Normalized($"{local64}@example.com"));
        Namespaces.Email.Refused($"{local64}a@example.com", ErrorCodes.IdentityInvalidEmail);

        var label = new string('d', 63);
        var longest = $"{local64}@{label}.{label}.{new string('e', 57)}.com";
        Assert.Equal(254, longest.Length);
        Assert.Equal(longest, Namespaces.Email.Normalized(longest));
        Namespaces.Email.Refused($"{local64}@{label}.{label}.{new string('e', 58)}.com", ErrorCodes.IdentityInvalidEmail);
        Namespaces.Email.Refused($"a@{new string('d', 64)}.com", ErrorCodes.IdentityInvalidEmail);
    }

    [Fact]
    public void The_message_says_what_is_wrong()
    {
        var outcome = Namespaces.Email.Refused("ann@example", ErrorCodes.IdentityInvalidEmail);
        Assert.Equal("'ann@example' is not an email address: it has no top-level domain (domain.tld)", outcome.Message);
    }

    [Fact]
    public void An_already_normalized_address_comes_back_as_the_same_string()
    {
        const string address = "ann@example.com";
        Assert.Same(address, Namespaces.Email.Normalized(address));
    }
}

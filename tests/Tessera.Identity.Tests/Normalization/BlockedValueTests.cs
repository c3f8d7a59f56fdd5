using Tessera.Abstractions;
using Tessera.Identity.Normalization;

namespace Tessera.Identity.Tests.Normalization;

public sealed class BlockedValueTests
{
    [Theory]
    [InlineData("null")]
    [InlineData("NULL")]
    [InlineData("  Null ")]
    [InlineData("nil")]
    [InlineData("None")]
    [InlineData("undefined")]
    [InlineData("Unknown")]
    [InlineData("n/a")]
    [InlineData("N/A")]
    [InlineData("na")]
    [InlineData("#N/A")]
    [InlineData("NaN")]
    [InlineData("(null)")]
    [InlineData("<null>")]
    [InlineData("[null]")]
    [InlineData("(none)")]
    [InlineData("(not set)")]
    [InlineData("not set")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("000000")]
    [InlineData("0000-0000")]
    [InlineData("0.0")]
    [InlineData("-")]
    [InlineData("--")]
    [InlineData("?")]
    [InlineData("...")]
    [InlineData("***")]
    public void Placeholders_are_blocked_in_every_namespace(string raw)
    {
        foreach (var normalizer in Namespaces.All)
        {
            var outcome = normalizer.Refused(raw, ErrorCodes.IdentityBlocked);
            Assert.Contains("is a blocked value", outcome.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\r\n")]
    public void An_empty_value_is_blocked_even_without_the_default_blocked_values(string raw)
    {
        var bare = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Text, defaults: false));
        Assert.Equal("the value is empty", bare.Refused(raw, ErrorCodes.IdentityBlocked).Message);
        Namespaces.Text.Refused(raw, ErrorCodes.IdentityBlocked);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("-2")]
    [InlineData("00001")]
    [InlineData("10")]
    [InlineData("O")]
    [InlineData("test")]
    [InlineData("nullable")]
    [InlineData("n/a2")]
    [InlineData("ünknown")]
    public void Values_that_only_look_like_placeholders_are_kept(string raw) =>
        Assert.Equal(raw, Namespaces.Text.Normalized(raw));

    [Fact]
    public void A_namespace_may_opt_out_of_the_default_blocked_values()
    {
        var bare = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Text, defaults: false));

        Assert.Equal("unknown", bare.Normalized("unknown"));
        Assert.Equal("0", bare.Normalized(" 0 "));
        Assert.Equal("-", bare.Normalized("-"));
    }

    [Fact]
    public void A_namespace_blocks_its_own_values_case_insensitively_after_trimming()
    {
        var crm = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Text, blocked: [" Guest ", "anonymous"]));

        crm.Refused("guest", ErrorCodes.IdentityBlocked);
        crm.Refused("  GUEST", ErrorCodes.IdentityBlocked);
        Assert.Contains("is blocked in namespace 'Test'", crm.Refused("Anonymous", ErrorCodes.IdentityBlocked).Message, StringComparison.Ordinal);
        Assert.Equal("guest1", crm.Normalized("guest1"));
        crm.Refused("unknown", ErrorCodes.IdentityBlocked); // the defaults still apply
    }

    [Fact]
    public void A_namespace_blocked_value_matches_in_its_normalized_form()
    {
        var email = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Email, blocked: ["NoReply@Example.com"]));
        var phone = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Phone, blocked: ["+1 650 253 0000"]));

        email.Refused(" noreply@EXAMPLE.com", ErrorCodes.IdentityBlocked);
        phone.Refused("(650) 253-0000", ErrorCodes.IdentityBlocked);
        phone.Refused("+16502530000", ErrorCodes.IdentityBlocked);
        Assert.Equal("+16502530001", phone.Normalized("(650) 253-0001"));
    }

    [Fact]
    public void Blocked_comes_before_the_format_check()
    {
        // A placeholder in an email column is a blocked value, not an invalid address.
        Namespaces.Email.Refused("unknown", ErrorCodes.IdentityBlocked);
        Namespaces.Uuid.Refused("undefined", ErrorCodes.IdentityBlocked);
    }

    [Fact]
    public void Messages_quote_at_most_64_characters_of_the_value()
    {
        var outcome = Namespaces.Email.Refused(new string('x', 300), ErrorCodes.IdentityInvalidEmail);
        Assert.Contains(new string('x', 61) + "...'", outcome.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 62), outcome.Message, StringComparison.Ordinal);
    }
}

using System.Security.Cryptography;
using System.Text;
using Tessera.Abstractions;
using Tessera.Identity.Normalization;

namespace Tessera.Identity.Tests.Normalization;

public sealed class HashAndUuidNormalizationTests
{
    private static readonly string AnnSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("ann@example.com")));

    [Fact]
    public void A_sha256_digest_is_lower_cased_and_upper_case_is_accepted()
    {
        Assert.Same(AnnSha256, Namespaces.Sha256.Normalized(AnnSha256));
        Assert.Equal(AnnSha256, Namespaces.Sha256.Normalized(AnnSha256.ToUpperInvariant()));
        Assert.Equal(AnnSha256, Namespaces.Sha256.Normalized($"  {AnnSha256[..32].ToUpperInvariant()}{AnnSha256[32..]} "));
    }

    [Theory]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(40)] // a SHA-1
    [InlineData(32)] // an MD5
    public void A_digest_of_another_length_is_invalid(int length) =>
        Namespaces.Sha256.Refused(string.Concat(Enumerable.Repeat(AnnSha256, 2))[..length], ErrorCodes.IdentityInvalidHash);

    [Fact]
    public void A_digest_with_other_characters_is_invalid()
    {
        Namespaces.Sha256.Refused(AnnSha256[..63] + "g", ErrorCodes.IdentityInvalidHash);
        Namespaces.Sha256.Refused("ann@example.com", ErrorCodes.IdentityInvalidHash);
        Namespaces.Sha256.Refused(AnnSha256[..32] + " " + AnnSha256[33..], ErrorCodes.IdentityInvalidHash);
    }

    [Fact]
    public void The_digest_of_the_empty_string_is_blocked_even_without_the_default_blocked_values()
    {
        var empty = Convert.ToHexStringLower(SHA256.HashData([]));
        Assert.Equal(IdentityNormalizer.EmptySha256, empty);
        var bare = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Sha256, defaults: false));

        Assert.Contains("empty string", Namespaces.Sha256.Refused(empty, ErrorCodes.IdentityBlocked).Message, StringComparison.Ordinal);
        bare.Refused(empty.ToUpperInvariant(), ErrorCodes.IdentityBlocked);
    }

    [Fact]
    public void A_uuid_is_lower_cased_and_upper_case_IDFAs_are_accepted()
    {
        const string gaid = "38400000-8cf0-11bd-b23e-10b96e40000d";
        Assert.Same(gaid, Namespaces.Uuid.Normalized(gaid));
        Assert.Equal("6d92078a-8246-4ba4-ae5b-76104861e7dc", Namespaces.Uuid.Normalized(" 6D92078A-8246-4BA4-AE5B-76104861E7DC "));
    }

    [Theory]
    [InlineData("6d92078a82464ba4ae5b76104861e7dc")] // no hyphens
    [InlineData("{6d92078a-8246-4ba4-ae5b-76104861e7dc}")]
    [InlineData("6d92078a-8246-4ba4-ae5b-76104861e7d")]
    [InlineData("6d92078a-8246-4ba4-ae5b-76104861e7dcc")]
    [InlineData("6d92078a-82464-ba4-ae5b-76104861e7dc")]
    [InlineData("6d92078g-8246-4ba4-ae5b-76104861e7dc")]
    [InlineData("device-1")]
    public void Anything_but_the_8_4_4_4_12_form_is_invalid(string raw) =>
        Namespaces.Uuid.Refused(raw, ErrorCodes.IdentityInvalidUuid);

    [Fact]
    public void The_all_zero_uuid_of_limited_ad_tracking_is_blocked_even_without_the_default_blocked_values()
    {
        const string zero = "00000000-0000-0000-0000-000000000000";
        Namespaces.Uuid.Refused(zero, ErrorCodes.IdentityBlocked);
        var outcome = new IdentityNormalizer(Namespaces.Define(IdentityFormat.Uuid, defaults: false)).Refused(zero, ErrorCodes.IdentityBlocked);
        Assert.Contains("all-zero UUID", outcome.Message, StringComparison.Ordinal);
    }
}

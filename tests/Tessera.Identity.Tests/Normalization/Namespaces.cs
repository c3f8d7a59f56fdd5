using Tessera.Abstractions;
using Tessera.Identity.Normalization;

namespace Tessera.Identity.Tests.Normalization;

/// <summary>Namespace definitions of each format, as a sandbox has them.</summary>
internal static class Namespaces
{
    public static IdentityNamespace Define(IdentityFormat format, string code = "Test", IReadOnlyList<string>? blocked = null, bool? defaults = null, string? region = null) =>
        new() { Code = code, Name = code, Type = IdentityType.Partner, Format = format, BlockedValues = blocked, DefaultBlockedValues = defaults, DefaultRegion = region };

    public static IdentityNormalizer Text { get; } = new(Define(IdentityFormat.Text, "CRMID"));

    public static IdentityNormalizer Email { get; } = new(Define(IdentityFormat.Email, "Email"));

    public static IdentityNormalizer Phone { get; } = new(Define(IdentityFormat.Phone, "Phone"));

    public static IdentityNormalizer Sha256 { get; } = new(Define(IdentityFormat.Sha256, "Email_LC_SHA256"));

    public static IdentityNormalizer Uuid { get; } = new(Define(IdentityFormat.Uuid, "IDFA"));

    public static IReadOnlyList<IdentityNormalizer> All { get; } = [Text, Email, Phone, Sha256, Uuid];

    public static string Normalized(this IdentityNormalizer normalizer, string value)
    {
        var outcome = normalizer.Normalize(value);
        Assert.True(outcome.IsNormalized, $"{normalizer.Namespace}: '{value}' was refused: {outcome}");
        return outcome.Value!;
    }

    public static NormalizationOutcome Refused(this IdentityNormalizer normalizer, string value, string reason)
    {
        var outcome = normalizer.Normalize(value);
        Assert.False(outcome.IsNormalized, $"{normalizer.Namespace}: '{value}' was accepted as '{outcome.Value}'");
        Assert.Equal(reason, outcome.Reason);
        Assert.Equal(reason == ErrorCodes.IdentityBlocked ? NormalizationStatus.Blocked : NormalizationStatus.Invalid, outcome.Status);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Message));
        return outcome;
    }
}

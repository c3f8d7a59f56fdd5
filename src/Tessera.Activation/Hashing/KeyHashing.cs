namespace Tessera.Activation.Hashing;

/// <summary>One key normalized for a platform, with its SHA-256 in hex and in Base64.</summary>
public sealed record HashedKey(string Normalized, string Sha256Hex, string Sha256Base64);

/// <summary>Normalizing and hashing one value at a time: for the command line and for tests (connectors hash whole batches with <see cref="KeyHashBatch"/>).</summary>
public static class KeyHashing
{
    /// <summary>
    /// <paramref name="value"/> normalized as a <paramref name="kind"/> key for <paramref name="platform"/>
    /// and its SHA-256, or why it cannot be sent. A value that is already a hex digest comes back as
    /// itself (lower-cased) with that digest.
    /// </summary>
    public static HashedKey? Hash(PlatformNormalizer normalizer, HashPlatform platform, KeyKind kind, string value, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(normalizer);
        var outcome = normalizer.Normalize(platform, kind, value);
        if (!outcome.IsUsable)
        {
            problem = outcome.Problem;
            return null;
        }
        problem = null;
        Span<byte> digest = stackalloc byte[Sha256Batch.DigestBytes];
        if (outcome.Form == KeyForm.Hashed)
        {
            Convert.FromHexString(outcome.Value!, digest, out _, out _);
        }
        else
        {
            Sha256Batch.Hash(System.Text.Encoding.UTF8.GetBytes(outcome.Value!), digest);
        }
        return new HashedKey(outcome.Value!, DigestText.Hex(digest), DigestText.Base64String(digest));
    }

    /// <summary>The platform a command line or settings name means: <c>meta</c>, <c>google</c>, <c>tiktok</c>, <c>ttd</c> (or <c>uid2</c>), <c>linkedin</c>.</summary>
    public static HashPlatform? ParsePlatform(string name) => name.ToLowerInvariant() switch
    {
        "meta" or "facebook" => HashPlatform.Meta,
        "google" => HashPlatform.Google,
        "tiktok" => HashPlatform.TikTok,
        "ttd" or "uid2" or "tradedesk" => HashPlatform.TradeDesk,
        "linkedin" => HashPlatform.LinkedIn,
        _ => null,
    };
}

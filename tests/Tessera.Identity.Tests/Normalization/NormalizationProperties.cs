using System.Security.Cryptography;
using System.Text;
using FsCheck.Xunit;
using Tessera.Identity.Normalization;

namespace Tessera.Identity.Tests.Normalization;

/// <summary>
/// Normalization is idempotent: a normalized value normalizes to itself (the same string), in every
/// format. Arbitrary strings alone would rarely be an address, a number, a digest or a UUID, so each
/// case also builds values of those shapes from FsCheck's bytes, with noise in case and spacing.
/// </summary>
public sealed class NormalizationProperties
{
    private static readonly string[] Separators = ["", " ", "-", ".", "(", ")", "  "];
    private static readonly string[] Domains = ["example.com", "Mail.Example.CO.UK", "例え.jp", "x.io"];

    private static IEnumerable<string> Candidates(string text, byte[] bytes, byte noise)
    {
        yield return text;
        yield return noise % 2 == 0 ? text.ToUpperInvariant() : $" {text}\t";
        var letters = new string([.. bytes.Select(b => (char)('a' + (b % 26)))]);
        var local = letters.Length == 0 ? "x" : letters;
        yield return $"{(noise % 3 == 0 ? local.ToUpperInvariant() : local)}{(noise % 5 == 0 ? "+tag" : "")}@{Domains[noise % Domains.Length]}";
        yield return $"{text}@{Domains[noise % Domains.Length]}";
        var digits = new StringBuilder(noise % 2 == 0 ? "+" : "");
        foreach (var b in bytes.Take(15))
        {
            digits.Append((char)('0' + (b % 10))).Append(Separators[b % Separators.Length]);
        }
        yield return digits.ToString();
        yield return $"+1 {200 + (noise % 700)} 253 {1000 + (bytes.Length * 37 % 9000)}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        yield return noise % 2 == 0 ? hash.ToUpperInvariant() : hash;
        var guid = new Guid(SHA256.HashData(bytes).AsSpan(0, 16)).ToString();
        yield return noise % 3 == 0 ? guid.ToUpperInvariant() : guid;
    }

    [Property(Replay = "(60613,290371)", MaxTest = 400)]
    public bool Normalizing_a_normalized_value_gives_the_same_value(string? text, byte[]? bytes, byte noise)
    {
        foreach (var candidate in Candidates(text ?? "", bytes ?? [], noise))
        {
            foreach (var normalizer in Namespaces.All)
            {
                var first = normalizer.Normalize(candidate);
                if (!first.IsNormalized)
                {
                    continue;
                }
                var again = normalizer.Normalize(first.Value!);
                if (!again.IsNormalized || !ReferenceEquals(again.Value, first.Value))
                {
                    return false;
                }
            }
        }
        return true;
    }

    [Property(Replay = "(8807,11)", MaxTest = 200)]
    public bool A_normalized_value_is_trimmed_and_never_a_default_blocked_value(string? text, byte[]? bytes, byte noise)
    {
        foreach (var candidate in Candidates(text ?? "", bytes ?? [], noise))
        {
            foreach (var normalizer in Namespaces.All)
            {
                if (normalizer.Normalize(candidate) is { IsNormalized: true, Value: { } value }
                    && (value.Length == 0 || value.Trim().Length != value.Length || BlockedValues.IsDefault(value)))
                {
                    return false;
                }
            }
        }
        return true;
    }
}

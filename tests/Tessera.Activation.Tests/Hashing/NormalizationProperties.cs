using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Activation.Hashing;

namespace Tessera.Activation.Tests.Hashing;

public sealed class NormalizationProperties
{
    private static readonly HashPlatform[] Platforms = Enum.GetValues<HashPlatform>();

    /// <summary>Emails of letters, digits, dots and +tags at a few domains, Gmail's included, in any case.</summary>
    public static Arbitrary<string> Emails()
    {
        var chars = Gen.Elements("abcXYZ019._+".ToCharArray());
        var local = Gen.ArrayOf(chars).Select(c => new string(c)).Where(s => s.Length is > 0 and <= 30);
        var domain = Gen.Elements("gmail.com", "GoogleMail.com", "example.com", "Mail.Example.org");
        return Gen.Zip(local, domain).Select(t => $"{t.Item1}@{t.Item2}").ToArbitrary();
    }

    [Property(Arbitrary = [typeof(NormalizationProperties)], MaxTest = 500)]
    public bool Normalizing_twice_changes_nothing(string email)
    {
        foreach (var platform in Platforms)
        {
            var once = PlatformNormalizer.Default.Normalize(platform, KeyKind.Email, email);
            if (!once.IsUsable)
            {
                continue;
            }
            // Cutting a +tag can leave a dot before the '@' ("a.+x@" -> "a.@"), which the platform hashes as
            // written but Tessera's email syntax refuses as input: a second pass may refuse, never differ.
            var twice = PlatformNormalizer.Default.Normalize(platform, KeyKind.Email, once.Value);
            if (twice.IsUsable && twice.Value != once.Value)
            {
                return false;
            }
        }
        return true;
    }

    [Property(Arbitrary = [typeof(NormalizationProperties)], MaxTest = 100)]
    public bool A_batch_hashes_as_one_value_at_a_time(string[] emails)
    {
        emails ??= [];
        using var batch = new KeyHashBatch(4);
        var expected = new List<string>();
        foreach (var email in emails)
        {
            var outcome = PlatformNormalizer.Default.Normalize(HashPlatform.TradeDesk, KeyKind.Email, email);
            if (outcome.IsUsable)
            {
                batch.Add(outcome);
                expected.Add(KeyHashing.Hash(PlatformNormalizer.Default, HashPlatform.TradeDesk, KeyKind.Email, email, out _)!.Sha256Base64);
            }
        }
        batch.Compute();
        return expected.Select((b64, i) => batch.Base64(i) == b64).All(x => x);
    }
}

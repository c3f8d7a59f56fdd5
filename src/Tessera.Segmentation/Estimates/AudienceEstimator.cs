using System.Diagnostics;
using System.Text.Json.Nodes;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Pql.Evaluation;
using Tessera.Profiles;
using Tessera.Segmentation.Audiences;
using Tessera.Segmentation.Engines;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;

namespace Tessera.Segmentation.Estimates;

/// <summary>
/// The size of an audience (or a draft expression) estimated from a uniform sample of profiles.
/// <see cref="Low"/>..<see cref="High"/> is the 95% Wilson score interval of the sampled share, scaled
/// to <see cref="Profiles"/>; a sample of every profile gives the exact count (Low = Estimate = High).
/// </summary>
public sealed record SizeEstimate(long Profiles, int Sampled, int Matched, double Share, long Low, long Estimate, long High, TimeSpan Took);

/// <summary>A matching profile as a preview shows it: its id, identities and attributes (no events).</summary>
public sealed record PreviewProfile(string Primary, IReadOnlyList<string> Identities, JsonObject Attributes);

/// <summary>The first matching profiles in key order, and how many profiles were read to find them.</summary>
public sealed record Preview(int Scanned, IReadOnlyList<PreviewProfile> Profiles, TimeSpan Took);

/// <summary>Current members of two audiences and of both; <see cref="Jaccard"/> is both over either (0 when both are empty).</summary>
public sealed record AudienceOverlap(string A, string B, long MembersA, long MembersB, long Both, double Jaccard);

/// <summary>
/// Estimates, previews and overlaps (docs/segmentation.md, "Estimates and previews"). Estimates and
/// previews evaluate with the compiled evaluator over profiles read as the batch engine reads them;
/// <c>inSegment</c> reads the profile's current memberships. Overlaps read the membership store.
/// </summary>
public sealed class AudienceEstimator(ProfileService profiles, IdentityService identity, TesseraCatalog catalog, AudienceCatalog audiences,
    MembershipStore memberships, IStore store, TimeProvider time)
{
    /// <summary>z for a two-sided 95% interval.</summary>
    private const double Z95 = 1.959963984540054;

    public const int MaxSample = 1_000_000;

    public const int MaxPreview = 1_000;

    /// <summary>Estimates how many profiles of <paramref name="sandbox"/> the audience (id or name) matches.</summary>
    public SizeEstimate EstimateAudience(string sandbox, string audience, int sampleSize = 10_000, int? seed = null, CancellationToken cancellationToken = default) =>
        Estimate(sandbox, audiences.Require(sandbox, audience), sampleSize, seed, cancellationToken);

    /// <summary>Estimates how many profiles of <paramref name="sandbox"/> a draft expression matches.</summary>
    public SizeEstimate EstimatePql(string sandbox, string pql, string? mergePolicy = null, int sampleSize = 10_000, int? seed = null,
        CancellationToken cancellationToken = default) =>
        Estimate(sandbox, audiences.Draft(sandbox, pql, mergePolicy), sampleSize, seed, cancellationToken);

    private SizeEstimate Estimate(string sandbox, Audience audience, int sampleSize, int? seed, CancellationToken cancellationToken)
    {
        if (sampleSize is < 1 or > MaxSample)
        {
            throw new CatalogException("PARAMETER_INVALID", $"the sample must be between 1 and {MaxSample:N0} profiles");
        }
        var watch = Stopwatch.StartNew();
        var compiled = Compile(audience);
        var now = time.GetUtcNow();

        // A uniform sample of the profiles from the identity graph, which knows every identity holding a record or an
        // event and its graph: the sample costs its own reads, not a scan of every profile's keys (BENCHMARKS.md, "Estimates").
        var random = seed is { } value ? new Random(value) : new Random();
        var stitched = catalog.ResolveMergePolicy(sandbox, audience.MergePolicy).Stitching == IdentityStitching.Graph;
        var (population, sample) = identity.SampleProfiles(sandbox, sampleSize, stitched, random);

        // The sample's reads are the cost (point reads of cold profiles, each waiting on the store): a part per core. Read
        // once and not kept, as a batch run reads, so an estimate does not evict the views live traffic uses.
        var matched = 0;
        var parts = Math.Clamp(sample.Count / 256, 1, Environment.ProcessorCount);
        Parallel.For(0, parts, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = parts }, part =>
        {
            var found = 0;
            for (var i = part; i < sample.Count && !cancellationToken.IsCancellationRequested; i += parts)
            {
                // A profile with nothing left to read (every event past its TTL) counts, and does not match.
                if (profiles.ForEvaluation(sandbox, sample[i], audience.MergePolicy, keepInCache: false) is { } profile && Matches(compiled, sandbox, profile, now))
                {
                    found++;
                }
            }
            Interlocked.Add(ref matched, found);
        });
        cancellationToken.ThrowIfCancellationRequested();
        var (share, low, estimate, high) = Interval(matched, sample.Count, population);
        return new SizeEstimate(population, sample.Count, matched, share, low, estimate, high, watch.Elapsed);
    }

    /// <summary>
    /// The Wilson score interval (95%) of <paramref name="matched"/> of <paramref name="sampled"/>,
    /// scaled to <paramref name="population"/>. The finite-population correction enters as an effective
    /// sample size n·(N−1)/(N−n), which grows without bound as the sample nears the population, so a
    /// sample of every profile gives the exact count.
    /// </summary>
    public static (double Share, long Low, long Estimate, long High) Interval(int matched, int sampled, long population)
    {
        if (sampled == 0 || population == 0)
        {
            return (0, 0, 0, population);
        }
        var share = (double)matched / sampled;
        var estimate = (long)Math.Round(share * population);
        if (sampled >= population)
        {
            return (share, estimate, estimate, estimate);
        }
        var n = population == 1 ? sampled : sampled * (double)(population - 1) / (population - sampled);
        var (lower, upper) = Wilson(share, n);
        return (share, (long)Math.Floor(lower * population), estimate, (long)Math.Ceiling(upper * population));
    }

    /// <summary>The 95% Wilson score interval of a share <paramref name="p"/> observed over <paramref name="n"/> trials.</summary>
    public static (double Lower, double Upper) Wilson(double p, double n)
    {
        var z2 = Z95 * Z95;
        var denominator = 1 + z2 / n;
        var center = (p + z2 / (2 * n)) / denominator;
        var half = Z95 * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator;
        return (Math.Max(0, center - half), Math.Min(1, center + half));
    }

    /// <summary>The first <paramref name="count"/> profiles (in key order) the audience (id or name) matches.</summary>
    public Preview PreviewAudience(string sandbox, string audience, int count = 20, CancellationToken cancellationToken = default) =>
        Preview(sandbox, audiences.Require(sandbox, audience), count, cancellationToken);

    /// <summary>The first <paramref name="count"/> profiles (in key order) a draft expression matches.</summary>
    public Preview PreviewPql(string sandbox, string pql, string? mergePolicy = null, int count = 20, CancellationToken cancellationToken = default) =>
        Preview(sandbox, audiences.Draft(sandbox, pql, mergePolicy), count, cancellationToken);

    private Preview Preview(string sandbox, Audience audience, int count, CancellationToken cancellationToken)
    {
        if (count is < 1 or > MaxPreview)
        {
            throw new CatalogException("PARAMETER_INVALID", $"a preview shows between 1 and {MaxPreview:N0} profiles");
        }
        var watch = Stopwatch.StartNew();
        var compiled = Compile(audience);
        var now = time.GetUtcNow();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<PreviewProfile>();
        var scanned = 0;
        foreach (var who in ProfileIndex.Identities(store, sandbox))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (seen.Contains(who.ToString()) || profiles.ForEvaluation(sandbox, who, audience.MergePolicy) is not { } profile)
            {
                continue;
            }
            seen.UnionWith(profile.Identities);
            scanned++;
            if (Matches(compiled, sandbox, profile, now))
            {
                var attributes = (JsonObject)profile.Profile.DeepClone();
                attributes.Remove("xEvent");
                found.Add(new PreviewProfile(profile.Primary, profile.Identities, attributes));
                if (found.Count == count)
                {
                    break;
                }
            }
        }
        return new Preview(scanned, found, watch.Elapsed);
    }

    /// <summary>How many profiles are in A, in B, and in both, from the membership store.</summary>
    public AudienceOverlap Overlap(string sandbox, string audienceA, string audienceB)
    {
        var a = audiences.Require(sandbox, audienceA).Id;
        var b = audiences.Require(sandbox, audienceB).Id;
        var inA = memberships.Members(sandbox, a).Select(m => m.ProfileId).ToHashSet(StringComparer.Ordinal);
        long inB = 0, both = 0;
        foreach (var member in memberships.Members(sandbox, b))
        {
            inB++;
            both += inA.Contains(member.ProfileId) ? 1 : 0;
        }
        var either = inA.Count + inB - both;
        return new AudienceOverlap(a, b, inA.Count, inB, both, either == 0 ? 0 : (double)both / either);
    }

    private static CompiledExpression Compile(Audience audience) =>
        PqlCompiler.Compile(Tessera.Pql.Syntax.Parser.Parse(audience.Pql), TimeZoneInfo.Utc);

    private bool Matches(CompiledExpression compiled, string sandbox, EvaluationProfile profile, DateTimeOffset now)
    {
        HashSet<string>? current = null; // Read only if the expression asks (inSegment): it is a store read.
        // As in the engines: an array result (a bare xEvent[...]) holds when it is not empty.
        return ValueOperations.Holds(compiled.Evaluate(PqlProfile.FromJson(profile.Profile), now,
            id => (current ??= memberships.AudiencesOf(sandbox, profile.Primary)).Contains(id)));
    }
}

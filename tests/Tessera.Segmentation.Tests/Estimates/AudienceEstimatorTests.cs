using System.Text;
using Tessera.Abstractions;
using Tessera.Segmentation.Estimates;
using Tessera.Segmentation.Tests.Engines;

namespace Tessera.Segmentation.Tests.Estimates;

/// <summary>Estimates, previews, overlaps and size history over a real workspace of a few hundred profiles.</summary>
public sealed class AudienceEstimatorTests
{
    private const string Sandbox = "prod";
    private const int Profiles = 300;

    /// <summary>
    /// 300 CRM profiles: a third gold (every third, from 0), points = i; the first 60 also have a web
    /// visitor linked to them (a second identity that must not make them twice as likely to be sampled).
    /// </summary>
    private static async Task<SegmentationWorkspace> PopulationAsync()
    {
        var test = await SegmentationWorkspace.CreateAsync();
        var crm = new StringBuilder("[");
        for (var i = 0; i < Profiles; i++)
        {
            crm.Append(i == 0 ? "" : ",").Append($$"""{"crmId":"c{{i}}","tier":"{{(i % 3 == 0 ? "gold" : "silver")}}","points":{{i}}}""");
        }
        await test.StreamAsync("crm", crm.Append(']').ToString());
        var web = new StringBuilder("[");
        for (var i = 0; i < 60; i++)
        {
            web.Append(i == 0 ? "" : ",").Append($$"""{"_id":"e{{i}}","timestamp":"2026-06-10T11:00:00Z","ecid":"K{{i}}","crmId":"c{{i}}","page":"cart"}""");
        }
        await test.StreamAsync("web", web.Append(']').ToString());
        return test;
    }

    [Fact]
    public async Task The_interval_holds_the_true_share_and_is_the_Wilson_interval()
    {
        await using var test = await PopulationAsync();
        var estimator = test.Workspace.Estimator;
        var covered = 0;
        var matched = 0;
        const int Seeds = 200;
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var estimate = estimator.EstimatePql(Sandbox, "tier = \"gold\"", sampleSize: 60, seed: seed);
            Assert.Equal(Profiles, estimate.Profiles);
            Assert.Equal(60, estimate.Sampled);
            covered += estimate.Low <= 100 && 100 <= estimate.High ? 1 : 0; // the true count: every third profile
            matched += estimate.Matched;

            // Wilson over the effective sample n(N-1)/(N-n) (the finite-population correction), scaled to N.
            var p = (double)estimate.Matched / 60;
            var n = 60.0 * (Profiles - 1) / (Profiles - 60);
            const double z = 1.959963984540054;
            var center = (p + z * z / (2 * n)) / (1 + z * z / n);
            var half = z * Math.Sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n);
            Assert.Equal((long)Math.Floor((center - half) * Profiles), estimate.Low);
            Assert.Equal((long)Math.Ceiling((center + half) * Profiles), estimate.High);
            Assert.Equal((long)Math.Round(p * Profiles), estimate.Estimate);
        }
        // A 95 % interval: about 190 of 200 samples hold the true count, and the draws' mean share is a third.
        Assert.InRange(covered, 180, 200);
        Assert.InRange((double)matched / (Seeds * 60), 0.31, 0.355);
        // The same seed draws the same sample.
        Assert.Equal(estimator.EstimatePql(Sandbox, "points < 150", sampleSize: 50, seed: 7).Matched,
            estimator.EstimatePql(Sandbox, "points < 150", sampleSize: 50, seed: 7).Matched);
    }

    [Theory]
    [InlineData(30)] // under an eighth of the profiles: drawn node by node from the identity graph
    [InlineData(100)] // more: drawn from a list of every profile
    public async Task A_profile_with_two_identities_is_drawn_as_often_as_one_with_one(int sampleSize)
    {
        await using var test = await PopulationAsync();
        // The 60 profiles with a visit have two identities each (120 of the 360): drawn by identity, they would be a
        // third of the draws instead of a fifth.
        var drawn = 0;
        var visited = 0;
        for (var seed = 1; seed <= 200; seed++)
        {
            var estimate = test.Workspace.Estimator.EstimatePql(Sandbox, "xEvent[page = \"cart\"]", sampleSize: sampleSize, seed: seed);
            Assert.Equal((Profiles, sampleSize), (estimate.Profiles, estimate.Sampled));
            drawn += estimate.Sampled;
            visited += estimate.Matched;
        }
        Assert.InRange((double)visited / drawn, 0.18, 0.22);
    }

    [Fact]
    public async Task A_sample_of_every_profile_gives_the_exact_count()
    {
        await using var test = await PopulationAsync();
        var estimator = test.Workspace.Estimator;
        var exact = estimator.EstimatePql(Sandbox, "points >= 30 and tier = \"gold\"", sampleSize: 10_000, seed: 1);
        Assert.Equal((Profiles, Profiles, 90), (exact.Profiles, exact.Sampled, exact.Matched));
        Assert.Equal((90L, 90L, 90L), (exact.Low, exact.Estimate, exact.High));

        // An event condition on a published audience: the 60 profiles with a visit.
        await test.Workspace.Audiences.CreateAsync(Sandbox, "visited", "xEvent[page = \"cart\"]", id: "visited");
        var visited = estimator.EstimateAudience(Sandbox, "visited", sampleSize: Profiles);
        Assert.Equal(60, visited.Estimate);
    }

    [Fact]
    public async Task A_draft_is_checked_as_a_create_is()
    {
        await using var test = await PopulationAsync();
        var error = Assert.Throws<CatalogException>(() => test.Workspace.Estimator.EstimatePql(Sandbox, "tier = "));
        Assert.Equal("PQL_INVALID", error.Code);
        Assert.Equal("PQL_INVALID", Assert.Throws<CatalogException>(() => test.Workspace.Estimator.PreviewPql(Sandbox, "points + 1")).Code);
    }

    [Fact]
    public async Task A_preview_shows_matching_profiles_only_without_events()
    {
        await using var test = await PopulationAsync();
        var preview = test.Workspace.Estimator.PreviewPql(Sandbox, "tier = \"gold\" and xEvent[page = \"cart\"].count() > 0", count: 5);
        Assert.Equal(5, preview.Profiles.Count);
        Assert.Equal(5, preview.Profiles.Select(p => p.Primary).Distinct().Count());
        Assert.All(preview.Profiles, profile =>
        {
            Assert.Equal("gold", (string?)profile.Attributes["tier"]);
            Assert.False(profile.Attributes.ContainsKey("xEvent"));
            Assert.Contains(profile.Identities, i => i.StartsWith("ECID:", StringComparison.Ordinal));
            Assert.True((long)profile.Attributes["points"]! < 60);
        });
        Assert.Empty(test.Workspace.Estimator.PreviewPql(Sandbox, "points > 1000").Profiles);
    }

    [Fact]
    public async Task Overlap_and_history_follow_batch_runs()
    {
        await using var test = await PopulationAsync();
        var audiences = test.Workspace.Audiences;
        await audiences.CreateAsync(Sandbox, "gold", "tier = \"gold\"", id: "gold");
        await audiences.CreateAsync(Sandbox, "low", "points < 30", id: "low");
        await audiences.PublishAsync(Sandbox, "gold");
        await audiences.PublishAsync(Sandbox, "low");
        await test.Workspace.Batch.RunAsync(Sandbox);

        var overlap = test.Workspace.Estimator.Overlap(Sandbox, "gold", "low");
        Assert.Equal(("gold", "low", 100L, 30L, 10L), (overlap.A, overlap.B, overlap.MembersA, overlap.MembersB, overlap.Both));
        Assert.Equal(10.0 / 120, overlap.Jaccard, 12);

        // Profiles 0..2 turn gold, an hour later.
        test.Time.Advance(TimeSpan.FromHours(1));
        await test.StreamAsync("crm", """[{"crmId":"c1","tier":"gold"},{"crmId":"c2","tier":"gold"}]""");
        await test.Workspace.Batch.RunAsync(Sandbox);
        Assert.Equal(
            [new AudienceSize(SegmentationWorkspace.Start, 100), new AudienceSize(SegmentationWorkspace.Start.AddHours(1), 102)],
            test.Workspace.SizeHistory.History(Sandbox, "gold"));
        Assert.Equal([30L, 30L], test.Workspace.SizeHistory.History(Sandbox, "low").Select(s => s.Members));
    }
}

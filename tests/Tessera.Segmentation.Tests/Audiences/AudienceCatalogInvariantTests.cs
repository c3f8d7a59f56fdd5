using Tessera.Abstractions;
using Tessera.Pql.Classification;
using Tessera.Segmentation.Audiences;
using static Tessera.Segmentation.Tests.Audiences.AudienceWorkspace;

namespace Tessera.Segmentation.Tests.Audiences;

/// <summary>
/// Random sequences of catalog operations (fixed seeds) keep the catalog's promises after every step,
/// whatever was refused: no cycles, nothing read that is missing or deleted, published audiences read
/// only published ones and come after them, and every stored mode is what the classifier says now.
/// </summary>
public sealed class AudienceCatalogInvariantTests
{
    private static readonly string[] Names = ["a", "b", "c", "d", "e", "f"];

    private static readonly string[] Bodies = [Edge, EdgeEvent, Streaming, Batch, "age > 30"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Every_step_keeps_the_catalog_consistent(int seed)
    {
        await using var w = await CreateAsync("""{ "segmentation": { "maxAudiences": 5, "maxStreamingAudiences": 3, "maxEdgeAudiences": 2 } }""");
        var random = new Random(seed);
        var accepted = 0;
        for (var step = 0; step < 200; step++)
        {
            var name = Names[random.Next(Names.Length)];
            try
            {
                switch (random.Next(6))
                {
                    case 0:
                        await w.Audiences.CreateAsync("prod", name, Expression(random, w), id: name + "-" + step);
                        break;
                    case 1:
                        await w.Audiences.UpdateAsync("prod", name, pql: Expression(random, w));
                        break;
                    case 2 or 3:
                        await w.Audiences.PublishAsync("prod", name);
                        break;
                    case 4:
                        await w.Audiences.DeactivateAsync("prod", name);
                        break;
                    default:
                        await w.Audiences.DeleteAsync("prod", name);
                        break;
                }
                accepted++;
            }
            catch (CatalogException)
            {
                // Refusals are part of the walk; the invariants must hold either way.
            }
            AssertConsistent(w.Audiences);
        }
        Assert.True(accepted > 25, $"only {accepted} operations were accepted");
    }

    /// <summary>A body, and (often) inSegment of an audience that exists now (by id), or of one that does not.</summary>
    private static string Expression(Random random, AudienceWorkspace w)
    {
        var body = Bodies[random.Next(Bodies.Length)];
        var live = w.Audiences.List("prod");
        return random.Next(3) switch
        {
            0 when live.Count > 0 => $"inSegment(\"{live[random.Next(live.Count)].Id}\") and ({body})",
            1 when live.Count > 0 => $"inSegment(\"{live[random.Next(live.Count)].Id}\")",
            _ => random.Next(10) == 0 ? "inSegment(\"nobody\")" : body,
        };
    }

    private static void AssertConsistent(AudienceCatalog audiences)
    {
        var live = audiences.List("prod").ToDictionary(a => a.Id, StringComparer.Ordinal);
        Assert.True(live.Count <= 5);
        foreach (var audience in live.Values)
        {
            Assert.All(audience.DependsOn, d => Assert.True(live.ContainsKey(d), $"{audience.Name} reads {d}, missing or deleted"));
            if (audience.State == AudienceState.Published)
            {
                Assert.All(audience.DependsOn, d => Assert.Equal(AudienceState.Published, live[d].State));
            }
            var fresh = EvaluationModeClassifier.Classify(audience.Pql, id => live.TryGetValue(id, out var target)
                ? new AudienceReference(target.Mode switch { "edge" => EvaluationMode.Edge, "streaming" => EvaluationMode.Streaming, _ => EvaluationMode.Batch }, target.ProfileOnly)
                : null);
            Assert.Equal(EvaluationModeClassifier.Name(fresh.Mode), audience.Mode);
            Assert.Equal(fresh.Reasons, audience.Reasons);
        }

        // No cycles among all of them: peeling off audiences whose dependencies are gone removes every one.
        var remaining = live.Values.ToList();
        while (remaining.RemoveAll(a => !a.DependsOn.Any(d => remaining.Any(r => r.Id == d))) > 0)
        {
        }
        Assert.Empty(remaining);

        var published = audiences.Published("prod").Audiences;
        Assert.Equal(live.Values.Count(a => a.State == AudienceState.Published), published.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var audience in published)
        {
            Assert.All(audience.DependsOn, d => Assert.Contains(d, seen)); // Dependencies first (which also rules out cycles).
            seen.Add(audience.Id);
        }
        var counts = published.GroupBy(a => a.Mode).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(counts.GetValueOrDefault("edge") <= 2);
        Assert.True(counts.GetValueOrDefault("edge") + counts.GetValueOrDefault("streaming") <= 3);
    }
}

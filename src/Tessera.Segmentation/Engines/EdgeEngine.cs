using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles;
using Tessera.Segmentation.Audiences;
using Tessera.Segmentation.Memberships;

namespace Tessera.Segmentation.Engines;

/// <summary>What the edge engine answers: the profile, the edge audiences it qualifies for now, and the attributes asked for.</summary>
public sealed record EdgeAnswer(string? Profile, IReadOnlyList<string> Audiences, JsonObject Attributes, StreamResult? Stored);

/// <summary>
/// The edge engine: for one identity (a device id, a cookie, a person id) and the events of the
/// current page, stores the events through the normal ingestion path (so the streaming engine and
/// every later read see them), then evaluates the published edge audiences on the merged profile,
/// which now holds those events, and answers with the audiences and the attributes the page asked
/// for (same-page personalization).
/// </summary>
/// <param name="streaming">
/// The running streaming engine, if any: a profile it evaluated lately is converted from what it kept, and only the
/// events it has not seen (the request's own) are read from the store (BENCHMARKS.md, "The edge reuses").
/// </param>
public sealed class EdgeEngine(IngestionService ingestion, ProfileService profiles, AudienceCatalog audiences, MembershipStore memberships, TimeProvider time,
    Func<StreamingEngine?>? streaming = null)
{
    private readonly AudiencePrograms _programs = new(audiences);

    public async Task<EdgeAnswer> EvaluateAsync(string sandbox, IdentityKey identity, string? dataset, IReadOnlyList<JsonElement> events,
        IReadOnlyList<string> attributes, CancellationToken cancellationToken = default)
    {
        StreamResult? stored = null;
        if (events.Count > 0)
        {
            stored = await ingestion.IngestRecordsAsync(sandbox, dataset ?? throw new ArgumentException("events need a dataset", nameof(dataset)),
                events, "edge", cancellationToken).ConfigureAwait(false);
        }
        var program = _programs.For(sandbox);
        var now = time.GetUtcNow();
        var qualified = new List<string>();
        // The sandbox's default policy gives the profile's id and the attributes asked for; edge
        // audiences of other policies read their own merge of the same identities.
        var byDefault = profiles.ForEvaluationSource(sandbox, identity);
        foreach (var policy in program.Audiences.Where(a => a.Audience.Mode == "edge").Select(a => a.Audience.MergePolicy).Distinct())
        {
            if ((policy is null ? byDefault : profiles.ForEvaluationSource(sandbox, identity, policy)) is not { } profile)
            {
                continue;
            }
            var converted = profiles.Converted(sandbox, profile, program.Events, streaming?.Invoke()?.LastEvaluated(sandbox, policy, profile.Primary));
            foreach (var (compiled, _, qualifies) in program.Evaluate(converted, now, () => memberships.AudiencesOf(sandbox, profile.Primary),
                a => a.Mode == "edge" && a.MergePolicy == policy))
            {
                if (qualifies)
                {
                    qualified.Add(compiled.Audience.Id);
                }
            }
        }
        var answer = new JsonObject();
        foreach (var path in attributes)
        {
            answer[path] = byDefault is null ? null : Attribute(byDefault.Attributes, path)?.DeepClone();
        }
        var primary = byDefault?.Primary;
        return new EdgeAnswer(primary, qualified, answer, stored);
    }

    private static JsonNode? Attribute(JsonObject profile, string path)
    {
        JsonNode? node = profile;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject obj ? obj[part] : null;
        }
        return node;
    }
}

using System.Diagnostics;
using Tessera.Pql.Evaluation;
using Tessera.Profiles;
using Tessera.Segmentation.Audiences;
using Tessera.Segmentation.Estimates;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;

namespace Tessera.Segmentation.Engines;

/// <summary>What one batch run did.</summary>
public sealed record BatchRunReport(string Sandbox, DateTimeOffset At, int Profiles, IReadOnlyDictionary<string, int> Members, TimeSpan Took);

/// <summary>
/// The batch engine (first version): every published audience over every profile of a sandbox, at
/// one instant. Profiles are found from the facts themselves (every identity that holds a record or
/// an event, gathered into its graph's profile), evaluated with the compiled evaluator, and the
/// answers written to the membership store in commits of a few thousand; each audience's size goes to
/// its size history. Not yet columnar: it reads
/// each profile as the streaming engine does (BENCHMARKS.md says how far that is from the target).
/// </summary>
public sealed class BatchEngine(ProfileService profiles, AudienceCatalog audiences, MembershipStore memberships,
    IStore store, TimeProvider time)
{
    private const int AnswersPerCommit = 4096;

    /// <summary>Evaluates the published audiences (or only <paramref name="audienceIds"/>) over every profile of <paramref name="sandbox"/>.</summary>
    public async Task<BatchRunReport> RunAsync(string sandbox, IReadOnlyCollection<string>? audienceIds = null, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        var now = time.GetUtcNow();
        var (version, published) = audiences.Published(sandbox);
        var program = AudienceProgram.Compile(version, published, TimeZoneInfo.Utc);
        bool Chosen(Audience audience) => audienceIds is null || audienceIds.Contains(audience.Id);
        var members = program.Audiences.Where(a => Chosen(a.Audience)).ToDictionary(a => a.Audience.Id, _ => 0, StringComparer.Ordinal);
        var answers = new List<Evaluation>(AnswersPerCommit);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var who in ProfileIndex.Identities(store, sandbox))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var policy in program.Audiences.Where(a => Chosen(a.Audience)).Select(a => a.Audience.MergePolicy).Distinct())
            {
                // A profile is read once per policy: through whichever of its identities comes first.
                if (seen.Contains(policy + "\0" + who) || profiles.ForEvaluation(sandbox, who, policy) is not { } profile)
                {
                    continue;
                }
                foreach (var member in profile.Identities)
                {
                    seen.Add(policy + "\0" + member);
                }
                count++;
                var converted = PqlProfile.FromJson(profile.Profile);
                foreach (var (audience, qualifies) in program.Evaluate(profile, converted, now, StreamingEngine.Members(memberships, sandbox, profile.Primary),
                    a => Chosen(a) && a.MergePolicy == policy))
                {
                    answers.Add(new Evaluation(profile.Primary, profile.Identities, audience.Id, qualifies));
                    members[audience.Id] += qualifies ? 1 : 0;
                }
                if (answers.Count >= AnswersPerCommit)
                {
                    await memberships.ApplyAsync(sandbox, answers, now, cancellationToken).ConfigureAwait(false);
                    answers.Clear();
                }
            }
        }
        if (answers.Count > 0)
        {
            await memberships.ApplyAsync(sandbox, answers, now, cancellationToken).ConfigureAwait(false);
        }
        await new AudienceSizeHistory(store).RecordAsync(sandbox, now, members, cancellationToken).ConfigureAwait(false);
        return new BatchRunReport(sandbox, now, count, members, watch.Elapsed);
    }
}

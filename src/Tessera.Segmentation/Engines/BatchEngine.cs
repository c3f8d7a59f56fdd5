using System.Diagnostics;
using Tessera.Identity.Graph;
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

    /// <summary>
    /// Evaluates the published audiences (or only <paramref name="audienceIds"/>) over every profile of
    /// <paramref name="sandbox"/>; members whose profile no longer exists exit.
    /// </summary>
    public Task<BatchRunReport> RunAsync(string sandbox, IReadOnlyCollection<string>? audienceIds = null, CancellationToken cancellationToken = default) =>
        RunAsync(sandbox, audienceIds, null, cancellationToken);

    /// <summary>
    /// The incremental run: the batch-mode audiences (the streaming engine keeps the others current)
    /// over the profiles of <paramref name="changed"/> only.
    /// </summary>
    public Task<BatchRunReport> RunIncrementalAsync(string sandbox, IReadOnlyCollection<IdentityKey> changed, CancellationToken cancellationToken = default)
    {
        var batchOnly = audiences.Published(sandbox).Audiences.Where(a => a.Mode == "batch").Select(a => a.Id).ToList();
        return RunAsync(sandbox, batchOnly, changed, cancellationToken);
    }

    private async Task<BatchRunReport> RunAsync(string sandbox, IReadOnlyCollection<string>? audienceIds, IReadOnlyCollection<IdentityKey>? only,
        CancellationToken cancellationToken)
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
        var evaluated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var who in only ?? ProfileIndex.Identities(store, sandbox))
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
                evaluated.Add(profile.Primary);
                var converted = PqlProfile.FromJson(profile.Profile);
                foreach (var (compiled, qualifies) in program.Evaluate(converted, now, memberships.AudiencesOf(sandbox, profile.Primary),
                    a => Chosen(a) && a.MergePolicy == policy))
                {
                    answers.Add(new Evaluation(profile.Primary, profile.Identities, compiled.Audience.Id, qualifies));
                    members[compiled.Audience.Id] += qualifies ? 1 : 0;
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
        if (only is null)
        {
            // A full run saw every profile: a member it did not see holds nothing any more (deleted, merged away).
            foreach (var vanished in members.Keys.SelectMany(id => memberships.Members(sandbox, id)).Select(m => m.ProfileId)
                .Where(p => !evaluated.Contains(p)).Distinct().ToList())
            {
                await memberships.RemoveProfileAsync(sandbox, vanished, now, cancellationToken).ConfigureAwait(false);
            }
            // Sizes are known only when every profile was seen: an incremental run records none.
            await new AudienceSizeHistory(store).RecordAsync(sandbox, now, members, cancellationToken).ConfigureAwait(false);
        }
        return new BatchRunReport(sandbox, now, count, members, watch.Elapsed);
    }
}

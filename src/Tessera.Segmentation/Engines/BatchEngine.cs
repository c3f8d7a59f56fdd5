using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Tessera.Identity.Graph;
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
/// an event, gathered into its graph's profile), read and evaluated with the compiled evaluator on
/// every core, and the answers written to the membership store by one writer in commits of a few
/// thousand (one per 256 identities read); each audience's size goes to its size history. Not yet columnar: it reads
/// each profile as the streaming engine does (BENCHMARKS.md says how far that is from the target).
/// </summary>
public sealed class BatchEngine(ProfileService profiles, AudienceCatalog audiences, MembershipStore memberships,
    IStore store, TimeProvider time)
{
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
        var chosen = program.Audiences.Where(a => Chosen(a.Audience)).ToList();
        var policies = chosen.Select(a => a.Audience.MergePolicy).Distinct().ToList();
        var members = chosen.ToDictionary(a => a.Audience.Id, _ => 0, StringComparer.Ordinal);
        var seen = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var evaluated = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var count = 0;

        // Profiles are read, converted and evaluated on every core; their answers are committed by
        // one writer, in sets of a few thousand, while the next ones are evaluated.
        var commits = Channel.CreateBounded<List<Evaluation>>(new BoundedChannelOptions(2) { SingleReader = true });
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var set in commits.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    await memberships.ApplyAsync(sandbox, set, now, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception error)
            {
                // The evaluators waiting to hand over a set stop too, with this error.
                commits.Writer.TryComplete(error);
                throw;
            }
        }, cancellationToken);
        try
        {
            var chunks = (only ?? ProfileIndex.Identities(store, sandbox)).Chunk(256);
            await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
                async (chunk, token) =>
                {
                    var answers = new List<Evaluation>(chunk.Length * chosen.Count);
                    var qualified = new Dictionary<string, int>(StringComparer.Ordinal);
                    foreach (var who in chunk)
                    {
                        foreach (var policy in policies)
                        {
                            // A profile is read once per policy: through whichever of its identities comes first;
                            // two workers reaching it through two identities at once evaluate it once (the first claim).
                            if (seen.ContainsKey(policy + "\0" + who) || profiles.ForEvaluationSource(sandbox, who, policy, keepInCache: false) is not { } profile
                                || !evaluated.TryAdd(policy + "\0" + profile.Primary, 0))
                            {
                                continue;
                            }
                            foreach (var member in profile.Identities)
                            {
                                seen.TryAdd(policy + "\0" + member, 0);
                            }
                            Interlocked.Increment(ref count);
                            var converted = profiles.Converted(sandbox, profile);
                            foreach (var (compiled, qualifies) in program.Evaluate(converted, now, () => memberships.AudiencesOf(sandbox, profile.Primary),
                                a => Chosen(a) && a.MergePolicy == policy))
                            {
                                answers.Add(new Evaluation(profile.Primary, profile.Identities, compiled.Audience.Id, qualifies));
                                qualified[compiled.Audience.Id] = qualified.GetValueOrDefault(compiled.Audience.Id) + (qualifies ? 1 : 0);
                            }
                        }
                    }
                    lock (members)
                    {
                        foreach (var (id, n) in qualified)
                        {
                            members[id] += n;
                        }
                    }
                    if (answers.Count > 0)
                    {
                        await commits.Writer.WriteAsync(answers, token).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
        }
        finally
        {
            commits.Writer.TryComplete();
        }
        await writer.ConfigureAwait(false);
        var evaluatedProfiles = evaluated.Keys.Select(k => k[(k.IndexOf('\0', StringComparison.Ordinal) + 1)..]).ToHashSet(StringComparer.Ordinal);
        if (only is null)
        {
            // A full run saw every profile: a member it did not see holds nothing any more (deleted, merged away).
            foreach (var vanished in members.Keys.SelectMany(id => memberships.Members(sandbox, id)).Select(m => m.ProfileId)
                .Where(p => !evaluatedProfiles.Contains(p)).Distinct().ToList())
            {
                await memberships.RemoveProfileAsync(sandbox, vanished, now, cancellationToken).ConfigureAwait(false);
            }
            // Sizes are known only when every profile was seen: an incremental run records none.
            await new AudienceSizeHistory(store).RecordAsync(sandbox, now, members, cancellationToken).ConfigureAwait(false);
        }
        return new BatchRunReport(sandbox, now, count, members, watch.Elapsed);
    }
}

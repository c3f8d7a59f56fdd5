using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Tessera.Identity.Graph;
using Tessera.Pql.Evaluation;
using Tessera.Profiles;
using Tessera.Segmentation.Audiences;
using Tessera.Segmentation.Estimates;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;

namespace Tessera.Segmentation.Engines;

/// <summary>What one batch run did; <paramref name="Columnar"/>: the audiences whose event conditions it answered in columns.</summary>
public sealed record BatchRunReport(string Sandbox, DateTimeOffset At, int Profiles, IReadOnlyDictionary<string, int> Members, TimeSpan Took,
    IReadOnlyList<string>? Columnar = null);

/// <summary>
/// The batch engine: every published audience over every profile of a sandbox, at one instant. A
/// full run visits each shard's identities (those that hold a record or an event) in key order, 256
/// at a time, reading the range with one scan per kind of fact (records, timeline, event bodies)
/// rather than per profile; a profile whose graph holds several identities is read whole, once, through
/// the first of them reached. Profiles are evaluated with the compiled evaluator on every core, and the
/// answers written to the membership store by one writer in commits of a few thousand (one per range);
/// each audience's size goes to its size history. A range's events are put in columns as they are read
/// (<see cref="ColumnarEvents"/>): the event conditions of the audiences that allow it (most do:
/// counts, sums, windows, chains over the events' own fields) are answered once per distinct event and
/// condition for the whole range, and their events are converted to values only when some audience
/// the run answers is not columnar. The events themselves are still read from their rows.
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
        var members = chosen.ToDictionary(a => a.Audience.Id, _ => 0, StringComparer.Ordinal);
        var seen = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var evaluated = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var rangeProfiles = new HashSet<string>(StringComparer.Ordinal); // Profiles of one identity read by range (under the lock of members).
        var count = 0;
        // A full run writes only what changes: existing members that stay in are confirmed all at once when
        // it completes (a run that fails confirms nothing).
        var run = only is null ? memberships.BeginFullRun(sandbox, members.Keys, now) : null;

        // Profiles are read, converted and evaluated on every core; their answers are committed by
        // one writer, in sets of a few thousand, while the next ones are evaluated.
        var commits = Channel.CreateBounded<List<Evaluation>>(new BoundedChannelOptions(2) { SingleReader = true });
        // A range's answers (256 profiles × every audience) are a large object: reused once written, as
        // allocating one per range made the large object heap churn into a full GC every few seconds.
        var spare = new ConcurrentBag<List<Evaluation>>();
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var set in commits.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    await memberships.ApplyAsync(sandbox, set, now, cancellationToken, run: run).ConfigureAwait(false);
                    set.Clear();
                    spare.Add(set);
                }
            }
            catch (Exception error)
            {
                // The evaluators waiting to hand over a set stop too, with this error.
                commits.Writer.TryComplete(error);
                throw;
            }
        }, cancellationToken);
        // Per merge policy, which audiences a pass over a profile answers, and whether any of them reads events other than in columns.
        var columnar = program.Columnar;
        var passes = chosen.Select(a => a.Audience.MergePolicy).Distinct().Select(p => new PolicyPass(p, a => Chosen(a) && a.MergePolicy == p,
            Converts: program.Audiences.Where((a, i) => Chosen(a.Audience) && a.Audience.MergePolicy == p && !columnar.IsColumnar(i)).Any())).ToList();
        var columnarRun = columnar.ColumnarCount > 0 ? columnar.Start(now) : null;
        var columnBuffers = new ConcurrentBag<ColumnarEvents>();

        // qualified: per audience, by its position in the program, how many of a work item's profiles qualify.
        void Answer(EvaluationSource profile, PqlProfile converted, PolicyPass pass, List<Evaluation> answers, int[] qualified,
            (ColumnarEvents, int)? columns = null)
        {
            Interlocked.Increment(ref count);
            var results = t_results ??= [];
            foreach (var (compiled, position, qualifies) in program.Evaluate(converted, now, () => memberships.AudiencesOf(sandbox, profile.Primary), pass.Include, columns,
                results))
            {
                answers.Add(new Evaluation(profile.Primary, profile.Identities, compiled.Audience.Id, qualifies));
                qualified[position] += qualifies ? 1 : 0;
            }
        }

        // A profile is read once per policy: through whichever of its identities comes first;
        // two workers reaching it through two identities at once evaluate it once (the first claim).
        void AnswerOne(IdentityKey who, PolicyPass pass, List<Evaluation> answers, int[] qualified)
        {
            if (seen.ContainsKey(pass.Policy + "\0" + who) || profiles.ForEvaluationSource(sandbox, who, pass.Policy, keepInCache: false) is not { } profile
                || !evaluated.TryAdd(pass.Policy + "\0" + profile.Primary, 0))
            {
                return;
            }
            foreach (var member in profile.Identities)
            {
                seen.TryAdd(pass.Policy + "\0" + member, 0);
            }
            Answer(profile, profiles.Converted(sandbox, profile, program.Events), pass, answers, qualified);
        }

        // A full run reads each shard's identities in key order, a range at a time (one scan per kind of
        // fact and range); an incremental run reads the changed identities one by one.
        void AnswerRange(int shard, IdentityKey[] chunk, PolicyPass pass, List<Evaluation> answers, int[] qualified, List<string> answered)
        {
            // Events wanted: found with their records in one scan of their bodies (not the timeline's, then the bodies').
            var readsEvents = columnarRun is not null || pass.Converts;
            var range = profiles.ReadRangeForEvaluation(sandbox, shard, chunk, pass.Policy, withEventRecords: readsEvents);
            var events = pass.Converts ? new EvaluationProfiles.StoredEvents?[chunk.Length] : null;
            ColumnarEvents? columns = null;
            if (columnarRun is not null)
            {
                columns = columnBuffers.TryTake(out var reused) ? reused : columnarRun.NewEvents();
                columns.Reset([.. range.Sources.Select(source => source?.Events.Count ?? 0)]);
            }
            for (var i = 0; events is not null && i < chunk.Length; i++)
            {
                events[i] = range.Sources[i] is { } source ? new EvaluationProfiles.StoredEvents(source.Events.Count, program.Events) : null;
            }
            RangeEventRecordVisitor take = (at, index, record) =>
            {
                columns?.Add(at, index, record);
                events?[at]!.Convert(index, record);
            };
            if (range.HasEventRecords)
            {
                range.VisitEventRecords(take);
                range.ReleaseEventRecords();
            }
            else if (readsEvents)
            {
                profiles.ReadEventRecords(range, take);
            }
            columns?.Compute();
            for (var i = 0; i < chunk.Length; i++)
            {
                if (range.InLargerGraph[i])
                {
                    AnswerOne(chunk[i], pass, answers, qualified);
                }
                else if (range.Sources[i] is { } profile)
                {
                    // Its own graph: no other identity reaches it, so it needs no claim.
                    answered.Add(profile.Primary);
                    Answer(profile, events is null ? EvaluationProfiles.AttributesOnly(profile) : events[i]!.Profile(profile), pass, answers, qualified,
                        columns is null ? null : (columns, i));
                }
            }
            if (columns is not null)
            {
                columnBuffers.Add(columns);
            }
        }

        try
        {
            var work = only is null
                ? profiles.IdentitiesByShard(sandbox).SelectMany((identities, shard) => identities.Chunk(256).Select(chunk => (Shard: shard, Chunk: chunk)))
                : only.Chunk(256).Select(chunk => (Shard: -1, Chunk: chunk));
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
                async (item, token) =>
                {
                    if (!spare.TryTake(out var answers))
                    {
                        answers = new List<Evaluation>(item.Chunk.Length * chosen.Count);
                    }
                    var qualified = new int[program.Audiences.Count];
                    var answered = new List<string>();
                    foreach (var pass in passes)
                    {
                        if (item.Shard >= 0)
                        {
                            AnswerRange(item.Shard, item.Chunk, pass, answers, qualified, answered);
                            continue;
                        }
                        foreach (var who in item.Chunk)
                        {
                            AnswerOne(who, pass, answers, qualified);
                        }
                    }
                    lock (members)
                    {
                        for (var position = 0; position < qualified.Length; position++)
                        {
                            if (qualified[position] > 0)
                            {
                                members[program.Audiences[position].Audience.Id] += qualified[position];
                            }
                        }
                        rangeProfiles.UnionWith(answered);
                    }
                    if (answers.Count > 0)
                    {
                        await commits.Writer.WriteAsync(answers, token).ConfigureAwait(false);
                    }
                    else
                    {
                        spare.Add(answers);
                    }
                }).ConfigureAwait(false);
        }
        finally
        {
            commits.Writer.TryComplete();
        }
        await writer.ConfigureAwait(false);
        var evaluatedProfiles = evaluated.Keys.Select(k => k[(k.IndexOf('\0', StringComparison.Ordinal) + 1)..]).ToHashSet(StringComparer.Ordinal);
        evaluatedProfiles.UnionWith(rangeProfiles);
        if (only is null)
        {
            // A full run saw every profile: a member it did not see holds nothing any more (deleted, merged away).
            // Found from the profiles with any row (keys only), then the few not seen through their rows key.
            foreach (var unseen in memberships.ProfilesWithRows(sandbox).Where(p => !evaluatedProfiles.Contains(p)))
            {
                if (memberships.AudiencesOf(sandbox, unseen).Any(members.ContainsKey))
                {
                    await memberships.RemoveProfileAsync(sandbox, unseen, now, cancellationToken).ConfigureAwait(false);
                }
            }
            await memberships.CompleteFullRunAsync(run!, cancellationToken).ConfigureAwait(false);
            // Sizes are known only when every profile was seen: an incremental run records none.
            await new AudienceSizeHistory(store).RecordAsync(sandbox, now, members, cancellationToken).ConfigureAwait(false);
        }
        // Incremental runs read identities one by one, without columns.
        IReadOnlyList<string> inColumns = only is null ? [.. chosen.Where(a => program.TryGetPosition(a.Audience.Id, out var at) && columnar.IsColumnar(at)).Select(a => a.Audience.Id)] : [];
        return new BatchRunReport(sandbox, now, count, members, watch.Elapsed, inColumns);
    }

    /// <summary>A profile's answers, a list of the thread's reused from one profile to the next (read before the next is evaluated).</summary>
    [ThreadStatic]
    private static List<(CompiledAudience Audience, int Position, bool Qualifies)>? t_results;

    /// <summary>One merge policy of a run and the audiences a pass over a profile under it answers.</summary>
    private sealed record PolicyPass(string? Policy, Func<Audience, bool> Include, bool Converts);
}

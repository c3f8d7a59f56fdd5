using System.Buffers.Binary;
using System.Collections.Concurrent;
using Tessera.Abstractions;
using Tessera.Storage;

namespace Tessera.Segmentation.Memberships;

/// <summary>
/// Audience memberships per (sandbox, audience, profile) and each sandbox's durable membership
/// change feed, the only input of activation (docs/memberships.md). A change is emitted only when a
/// profile enters an audience (<see cref="MembershipStatus.Realized"/>) or leaves it
/// (<see cref="MembershipStatus.Exited"/>); staying in (realized → existing, a newer qualification
/// time) is recorded without a change, so activation sees each entry and exit exactly once.
/// Every change is written in the same atomic commit as the rows it describes, with the next
/// sequence number of its sandbox. Writes to one sandbox take turns (one writer at a time); reads
/// go to the store and see committed state.
/// </summary>
public sealed class MembershipStore
{
    private const int Shard = 0;
    private const int PurgeBatch = 10_000;

    /// <summary>Members read per scan of <see cref="Members"/>: few enough to hold, many enough that a scan's start is rare.</summary>
    private const int MembersPage = 1024;

    /// <summary>
    /// Changes a feed page holds at most. A commit's changes go to the feed as pages of consecutive changes
    /// rather than a key each: a first full batch run emits millions of entries, and a key per change
    /// cost about a tenth of a quick run (BENCHMARKS.md, "The feed in pages"). Small enough that a reader asking for a few changes
    /// decodes little it does not return.
    /// </summary>
    private const int FeedPageChanges = 256;

    /// <summary>
    /// The profile of a feed change scrubbed by a privacy delete: not an identity (it has no <c>:</c>),
    /// so no one can be found from it. Activation skips such changes.
    /// </summary>
    public const string ErasedProfile = "erased";
    private readonly IStore _store;
    private readonly SegmentationSettings _settings;
    private readonly ConcurrentDictionary<string, SandboxLog> _sandboxes = new(StringComparer.Ordinal);

    public MembershipStore(IStore store, SegmentationSettings settings)
    {
        _store = store;
        _settings = settings;
    }

    /// <summary>
    /// Applies a batch of verdicts in one atomic, durable commit: rows, changes, counts and the
    /// sandbox's last sequence. A verdict sees the ones before it in the batch. Returns the number
    /// of changes emitted. Batch many verdicts per call: each call is one synced write.
    /// <paramref name="alongside"/> adds the caller's own writes to the same atomic commit (the
    /// streaming engine's timers: durable exactly when the answers they revisit are).
    /// </summary>
    /// <remarks>
    /// Verdicts of a <paramref name="run"/> (<see cref="BeginFullRun"/>) that keep an existing member in write
    /// nothing: the run's completion confirms them all at once.
    /// </remarks>
    public async Task<int> ApplyAsync(string sandbox, IReadOnlyList<Evaluation> results, DateTimeOffset at, CancellationToken cancellationToken = default,
        Action<WriteSet>? alongside = null, FullRun? run = null)
    {
        CheckName(sandbox, nameof(sandbox));
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            CheckName(result.AudienceId, nameof(Evaluation.AudienceId));
            CheckName(result.ProfileId, nameof(Evaluation.ProfileId));
            ArgumentNullException.ThrowIfNull(result.Identities, nameof(Evaluation.Identities));
        }
        var log = Log(sandbox);
        await log.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Load(log, sandbox);
            log.Begin();
            var ticks = at.UtcTicks;
            var emitted = 0;
            for (var i = 0; i < results.Count; i++)
            {
                var result = results[i];
                // The profile's rows key holds the state of every row it has (one read per profile and commit,
                // kept up to date by the writes of the commit being built), so a verdict reads nothing else.
                var rows = RowsOf(log, sandbox, result.ProfileId);
                var current = log.Effective(result.AudienceId, rows.State(result.AudienceId));
                // A member that stays in under other identities than those committed for its profile (a merge, a split, a new
                // link): activation learns them from an `existing` change.
                var renamed = current.IsMember && result.Qualifies && rows.CommittedIdentitiesDiffer(result.Identities);
                if (run is not null && result.Qualifies && !renamed && current is { Exists: true, Status: MembershipStatus.Existing }
                    && run.Audiences.Contains(result.AudienceId))
                {
                    continue;
                }
                var next = Transition(current, result.Qualifies, ticks);
                if (next == current && !renamed)
                {
                    continue;
                }
                WriteRow(log, sandbox, result.AudienceId, result.ProfileId, current, next, result.Identities);
                if (next.IsMember != current.IsMember || renamed)
                {
                    WriteChange(log, sandbox, result.AudienceId, result.ProfileId, next.Status, ticks, result.Identities);
                    emitted++;
                }
            }
            alongside?.Invoke(log.Writes);
            await CommitAsync(log, sandbox, cancellationToken).ConfigureAwait(false);
            return emitted;
        }
        finally
        {
            log.Gate.Release();
        }
    }

    /// <summary>
    /// Starts a full run of <paramref name="audiences"/> evaluated at <paramref name="at"/>: one that gives a
    /// verdict for every profile of the sandbox (and removes those it did not see) before
    /// <see cref="CompleteFullRunAsync"/>. Its verdicts that keep an existing member in write nothing;
    /// completing it records, per audience, that every existing member whose row was not written since
    /// qualified at <paramref name="at"/>. A daily run over unchanged profiles then writes a key per audience
    /// and the rows that change (entries, exits, and last run's entries, which become existing) instead of
    /// every member's row. Until then (or if the run never completes) those rows read as before the run.
    /// </summary>
    public FullRun BeginFullRun(string sandbox, IEnumerable<string> audiences, DateTimeOffset at)
    {
        CheckName(sandbox, nameof(sandbox));
        return new FullRun(sandbox, at.UtcTicks, [.. audiences]);
    }

    /// <summary>Completes <paramref name="run"/>: each audience's confirmation time, in one commit.</summary>
    public async Task CompleteFullRunAsync(FullRun run, CancellationToken cancellationToken = default)
    {
        var log = Log(run.Sandbox);
        await log.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Load(log, run.Sandbox);
            log.Begin();
            Span<byte> ticks = stackalloc byte[MembershipKeys.NumberBytes];
            BinaryPrimitives.WriteInt64LittleEndian(ticks, run.Ticks);
            var confirmed = new List<string>();
            foreach (var audience in run.Audiences)
            {
                if (log.Confirmed.GetValueOrDefault(audience) < run.Ticks) // Else a later run completed first.
                {
                    var key = log.Ensure(MembershipKeys.MaxBytes(run.Sandbox, audience));
                    log.Writes.Put(StoreSpace.Memberships, Shard, key[..MembershipKeys.Confirmed(key, run.Sandbox, audience)], ticks);
                    confirmed.Add(audience);
                }
            }
            await CommitAsync(log, run.Sandbox, cancellationToken).ConfigureAwait(false);
            foreach (var audience in confirmed)
            {
                log.Confirmed[audience] = run.Ticks;
            }
        }
        finally
        {
            log.Gate.Release();
        }
    }

    /// <summary>
    /// The profile is gone (privacy delete, or its id disappeared in a merge or split): every
    /// membership it had is exited (a change for each one that was a member) and deleted, in one
    /// commit. Returns the number of exits emitted.
    /// </summary>
    public async Task<int> RemoveProfileAsync(string sandbox, string profileId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(profileId, nameof(profileId));
        var log = Log(sandbox);
        await log.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Load(log, sandbox);
            log.Begin();
            var emitted = 0;
            foreach (var membership in Of(sandbox, profileId))
            {
                var current = RowState.Of(membership);
                if (current.IsMember)
                {
                    WriteChange(log, sandbox, membership.AudienceId, membership.ProfileId, MembershipStatus.Exited, at.UtcTicks, membership.Identities);
                    emitted++;
                }
                DeleteRow(log, sandbox, membership.AudienceId, profileId, current);
            }
            await CommitAsync(log, sandbox, cancellationToken).ConfigureAwait(false);
            return emitted;
        }
        finally
        {
            log.Gate.Release();
        }
    }

    /// <summary>
    /// Privacy delete: every feed change that <paramref name="scrub"/> picks has its profile replaced by
    /// <see cref="ErasedProfile"/> and its identities by an empty list, in place, keeping its sequence,
    /// status, time and audience, so that the feed stays gapless and every consumer's cursor stays valid.
    /// Already scrubbed changes are never picked again (they name no one). Returns how many were scrubbed.
    /// </summary>
    public async Task<int> ScrubFeedAsync(string sandbox, Func<MembershipChange, bool> scrub, CancellationToken cancellationToken = default)
    {
        CheckName(sandbox, nameof(sandbox));
        var log = Log(sandbox);
        await log.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Load(log, sandbox);
            var scrubbed = 0;
            var after = 0L;
            var prefix = MembershipKeys.Prefix(MembershipKeys.ChangeTag, sandbox);
            var from = new byte[prefix.Length + MembershipKeys.NumberBytes];
            while (true)
            {
                // Pages holding a change to scrub, whole (a page is rewritten under its key), read until about a commit's worth.
                var pages = new List<(long Last, List<MembershipChange> Changes, bool[] Picked)>();
                var seen = 0;
                var full = false;
                _store.Scan(StoreSpace.MembershipFeed, Shard, prefix, from.AsSpan(0, MembershipKeys.Change(from, sandbox, after + 1)), (key, value) =>
                {
                    after = BinaryPrimitives.ReadInt64BigEndian(key[prefix.Length..]);
                    var changes = new List<MembershipChange>();
                    MembershipValues.ReadChanges(value, sandbox, after, 0, changes, int.MaxValue);
                    var picked = changes.ConvertAll(c => c.ProfileId != ErasedProfile && scrub(c)).ToArray();
                    if (Array.IndexOf(picked, true) >= 0)
                    {
                        pages.Add((after, changes, picked));
                    }
                    seen += changes.Count;
                    full = seen >= PurgeBatch;
                    return !full;
                });
                if (pages.Count > 0)
                {
                    log.Begin();
                    foreach (var (last, changes, picked) in pages)
                    {
                        for (var i = 0; i < changes.Count; i++)
                        {
                            var (profile, identities) = picked[i] ? (ErasedProfile, (IReadOnlyList<string>)[]) : (changes[i].ProfileId, changes[i].Identities);
                            log.AppendChange(changes[i].Status, changes[i].At.UtcTicks, changes[i].AudienceId, profile, identities);
                            scrubbed += picked[i] ? 1 : 0;
                        }
                        var key = log.Ensure(MembershipKeys.MaxBytes(sandbox));
                        log.Writes.Put(StoreSpace.MembershipFeed, Shard, key[..MembershipKeys.Change(key, sandbox, last)], log.EndPage());
                    }
                    await CommitAsync(log, sandbox, cancellationToken).ConfigureAwait(false);
                }
                if (!full)
                {
                    return scrubbed;
                }
            }
        }
        finally
        {
            log.Gate.Release();
        }
    }

    /// <summary>Every membership of the sandbox, exited ones included, profile by profile (a scan of them all).</summary>
    public IEnumerable<Membership> All(string sandbox)
    {
        CheckName(sandbox, nameof(sandbox));
        var confirmed = ConfirmedOf(sandbox);
        var prefix = MembershipKeys.Prefix(MembershipKeys.ProfileRowsTag, sandbox);
        foreach (var (key, value) in _store.Scan(StoreSpace.Memberships, Shard, prefix))
        {
            foreach (var membership in ReadMemberships(value, System.Text.Encoding.UTF8.GetString(key.AsSpan(prefix.Length)), confirmed))
            {
                yield return membership;
            }
        }
    }

    /// <summary>
    /// Retention (<see cref="SegmentationSettings.ExitRetentionDays"/> before <paramref name="now"/>):
    /// deletes exited memberships whose exit is older, and the oldest feed changes that are older
    /// and that every registered consumer has read (its cursor is at or past them). With no
    /// consumer registered, age alone decides. The feed is cut from its start only, so what remains
    /// is contiguous.
    /// </summary>
    public async Task<PurgeResult> PurgeAsync(string sandbox, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        CheckName(sandbox, nameof(sandbox));
        var cutoff = (now - TimeSpan.FromDays(_settings.ExitRetentionDays)).UtcTicks;
        var log = Log(sandbox);
        await log.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Load(log, sandbox);
            var memberships = 0;
            while (true)
            {
                var expired = new List<(string Audience, string Profile, long Ticks)>();
                var head = MembershipKeys.Prefix(MembershipKeys.ExitTag, sandbox);
                _store.Scan(StoreSpace.Memberships, Shard, head, (key, _) =>
                {
                    var ticks = BinaryPrimitives.ReadInt64BigEndian(key[head.Length..]);
                    if (ticks >= cutoff)
                    {
                        return false;
                    }
                    var audienceAt = head.Length + MembershipKeys.NumberBytes;
                    expired.Add((MembershipKeys.TextAt(key, audienceAt), MembershipKeys.Last(key), ticks));
                    return expired.Count < PurgeBatch;
                });
                if (expired.Count == 0)
                {
                    break;
                }
                log.Begin();
                foreach (var (audience, profile, ticks) in expired)
                {
                    DeleteRow(log, sandbox, audience, profile, new RowState(true, MembershipStatus.Exited, 0, ticks));
                }
                await CommitAsync(log, sandbox, cancellationToken).ConfigureAwait(false);
                memberships += expired.Count;
            }

            var readByAll = log.LastSequence;
            foreach (var (_, sequence) in Cursors(sandbox))
            {
                readByAll = Math.Min(readByAll, sequence);
            }
            var changes = 0;
            while (true)
            {
                // Whole pages only: a page goes when every change in it may.
                var old = new List<long>();
                var feed = MembershipKeys.Prefix(MembershipKeys.ChangeTag, sandbox);
                _store.Scan(StoreSpace.MembershipFeed, Shard, feed, (key, value) =>
                {
                    var last = BinaryPrimitives.ReadInt64BigEndian(key[feed.Length..]);
                    if (last > readByAll || MembershipValues.NewestTicks(value, sandbox, last) >= cutoff)
                    {
                        return false;
                    }
                    old.Add(last);
                    changes += MembershipValues.PageOf(value, sandbox, last).Count;
                    return old.Count < PurgeBatch;
                });
                if (old.Count == 0)
                {
                    break;
                }
                log.Begin();
                foreach (var last in old)
                {
                    var length = MembershipKeys.Change(log.Key, sandbox, last);
                    log.Writes.Delete(StoreSpace.MembershipFeed, Shard, log.Key.AsSpan(0, length));
                }
                await CommitAsync(log, sandbox, cancellationToken).ConfigureAwait(false);
            }
            return new PurgeResult(memberships, changes);
        }
        finally
        {
            log.Gate.Release();
        }
    }

    /// <summary>Up to <paramref name="max"/> changes with a sequence above <paramref name="afterSequence"/>, in order.</summary>
    public IReadOnlyList<MembershipChange> Read(string sandbox, long afterSequence, int max)
    {
        CheckName(sandbox, nameof(sandbox));
        ArgumentOutOfRangeException.ThrowIfNegative(afterSequence);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var changes = new List<MembershipChange>(Math.Min(max, 1024));
        var prefix = MembershipKeys.Prefix(MembershipKeys.ChangeTag, sandbox);
        var from = new byte[prefix.Length + MembershipKeys.NumberBytes];
        var fromLength = MembershipKeys.Change(from, sandbox, afterSequence + 1);
        // The first page found ends at or after the change wanted first; it may start before it.
        _store.Scan(StoreSpace.MembershipFeed, Shard, prefix, from.AsSpan(0, fromLength), (key, value) =>
        {
            MembershipValues.ReadChanges(value, sandbox, BinaryPrimitives.ReadInt64BigEndian(key[prefix.Length..]), afterSequence, changes, max);
            return changes.Count < max;
        });
        return changes;
    }

    /// <summary>The sequence of the sandbox's latest change (0 before the first).</summary>
    public long LastSequence(string sandbox)
    {
        CheckName(sandbox, nameof(sandbox));
        return ReadLastSequence(sandbox);
    }

    /// <summary>
    /// Records that <paramref name="consumer"/> has processed the feed up to <paramref name="sequence"/>
    /// (0: nothing yet, which registers it). Registered consumers hold back the purge of what they
    /// have not read.
    /// </summary>
    public async Task SaveCursorAsync(string sandbox, string consumer, long sequence, CancellationToken cancellationToken = default)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(consumer, nameof(consumer));
        var log = Log(sandbox);
        await log.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Load(log, sandbox);
            if (sequence < 0 || sequence > log.LastSequence)
            {
                throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"the feed of sandbox '{sandbox}' is at {log.LastSequence}");
            }
            log.Begin();
            var length = MembershipKeys.Cursor(log.Ensure(MembershipKeys.MaxBytes(sandbox, consumer)), sandbox, consumer);
            Span<byte> value = stackalloc byte[MembershipKeys.NumberBytes];
            BinaryPrimitives.WriteInt64LittleEndian(value, sequence);
            log.Writes.Put(StoreSpace.Memberships, Shard, log.Key.AsSpan(0, length), value);
            await _store.CommitAsync(log.Writes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            log.Gate.Release();
        }
    }

    /// <summary>Forgets a consumer (a removed destination), so that it no longer holds back the purge.</summary>
    public async Task DeleteCursorAsync(string sandbox, string consumer, CancellationToken cancellationToken = default)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(consumer, nameof(consumer));
        var log = Log(sandbox);
        await log.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            log.Begin();
            var length = MembershipKeys.Cursor(log.Ensure(MembershipKeys.MaxBytes(sandbox, consumer)), sandbox, consumer);
            log.Writes.Delete(StoreSpace.Memberships, Shard, log.Key.AsSpan(0, length));
            await _store.CommitAsync(log.Writes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            log.Gate.Release();
        }
    }

    /// <summary>Where <paramref name="consumer"/> is in the feed, or null when it is not registered.</summary>
    public long? Cursor(string sandbox, string consumer)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(consumer, nameof(consumer));
        var key = new byte[MembershipKeys.MaxBytes(sandbox, consumer)];
        var value = _store.Get(StoreSpace.Memberships, Shard, key.AsSpan(0, MembershipKeys.Cursor(key, sandbox, consumer)));
        return value is null ? null : BinaryPrimitives.ReadInt64LittleEndian(value);
    }

    /// <summary>Every registered consumer of the sandbox's feed and its cursor.</summary>
    public IReadOnlyList<(string Consumer, long Sequence)> Cursors(string sandbox)
    {
        CheckName(sandbox, nameof(sandbox));
        var cursors = new List<(string, long)>();
        var prefix = MembershipKeys.Prefix(MembershipKeys.CursorTag, sandbox);
        _store.Scan(StoreSpace.Memberships, Shard, prefix, (key, value) =>
        {
            cursors.Add((MembershipKeys.TextAt(key, prefix.Length), BinaryPrimitives.ReadInt64LittleEndian(value)));
            return true;
        });
        return cursors;
    }

    /// <summary>The profile's membership of the audience (an exited one too, until purged), or null.</summary>
    public Membership? Get(string sandbox, string audienceId, string profileId)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(audienceId, nameof(audienceId));
        CheckName(profileId, nameof(profileId));
        var value = ReadProfileRowsValue(sandbox, profileId);
        return value is not null && MembershipValues.TryFindRow(value, System.Text.Encoding.UTF8.GetBytes(audienceId), out var row, out var identitiesAt)
            ? ReadMembership(audienceId, profileId, MembershipValues.ReadIdentities(value, identitiesAt), row, ConfirmedTicks(sandbox, audienceId))
            : null;
    }

    /// <summary>
    /// The audience's current members (realized or existing), by profile id: a scan of every profile's rows,
    /// read a page at a time (a member's rows are its profile's, so an audience has no keys of its own to scan).
    /// </summary>
    public IEnumerable<Membership> Members(string sandbox, string audienceId)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(audienceId, nameof(audienceId));
        var confirmed = ConfirmedTicks(sandbox, audienceId);
        var audience = System.Text.Encoding.UTF8.GetBytes(audienceId);
        var prefix = MembershipKeys.Prefix(MembershipKeys.ProfileRowsTag, sandbox);
        var from = prefix;
        var page = new List<Membership>(MembersPage);
        while (true)
        {
            page.Clear();
            byte[]? next = null;
            _store.ScanOnce(StoreSpace.Memberships, Shard, prefix, from, (key, value) =>
            {
                if (MembershipValues.TryFindRow(value, audience, out var row, out var identitiesAt) && row.IsMember)
                {
                    page.Add(ReadMembership(audienceId, System.Text.Encoding.UTF8.GetString(key[prefix.Length..]),
                        MembershipValues.ReadIdentities(value, identitiesAt), row, confirmed));
                }
                if (page.Count < MembersPage)
                {
                    return true;
                }
                next = MembershipKeys.After(key);
                return false;
            });
            foreach (var member in page)
            {
                yield return member;
            }
            if (next is null)
            {
                yield break;
            }
            from = next;
        }
    }

    /// <summary>Every profile with a membership row (exited ones included), once each, from the profile rows keys (a one-pass scan: the end of a full run).</summary>
    public List<string> ProfilesWithRows(string sandbox)
    {
        CheckName(sandbox, nameof(sandbox));
        var prefix = MembershipKeys.Prefix(MembershipKeys.ProfileRowsTag, sandbox);
        var profiles = new List<string>();
        _store.ScanOnce(StoreSpace.Memberships, Shard, prefix, (key, _) =>
        {
            profiles.Add(System.Text.Encoding.UTF8.GetString(key[prefix.Length..]));
            return true;
        });
        return profiles;
    }

    /// <summary>
    /// Brings a store written by earlier builds to today's layout: moves the change feed into its own space
    /// (<see cref="StoreSpace.MembershipFeed"/>), rewrites both earlier by-profile indexes (a key per
    /// membership; then a key per profile naming its audiences) as one profile rows key per profile with
    /// each row's state, then folds the rows themselves (a key per membership with its identities) into those
    /// keys. Each in commits of a few thousand keys that write the new keys and delete the old
    /// ones. Nothing to do (four seeks) in a store written by this build. Run when the workspace opens,
    /// before any other use. Returns how many old keys were rewritten.
    /// </summary>
    public async Task<int> UpgradeAsync(CancellationToken cancellationToken = default)
    {
        // Each pass over old keys resumes after the last key it read: the keys before it are deleted, and a scan
        // from the start would step over their tombstones again every time.
        byte[] feed = [MembershipKeys.ChangeTag, MembershipKeys.Separator];
        var from = feed;
        var upgraded = 0;
        while (true)
        {
            using var writes = new WriteSet();
            _store.Scan(StoreSpace.Memberships, Shard, feed, from, (key, value) =>
            {
                writes.Put(StoreSpace.MembershipFeed, Shard, key, value);
                writes.Delete(StoreSpace.Memberships, Shard, key);
                from = MembershipKeys.After(key);
                return writes.Count < 2 * PurgeBatch;
            });
            if (writes.Count == 0)
            {
                break;
            }
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            upgraded += writes.Count / 2;
        }
        // 'p' 0 sandbox 0 profile 0 audience, no value
        upgraded += await RewriteProfileIndexAsync(MembershipKeys.LegacyProfileTag, (key, _, at) =>
        {
            var sandbox = MembershipKeys.TextAt(key, at);
            return (sandbox, MembershipKeys.TextAt(key, at + System.Text.Encoding.UTF8.GetByteCount(sandbox) + 1), [MembershipKeys.Last(key)]);
        }, cancellationToken).ConfigureAwait(false);
        // 'r' 0 sandbox 0 profile, the audiences
        upgraded += await RewriteProfileIndexAsync(MembershipKeys.LegacyProfileRowsTag, (key, value, at) =>
        {
            var sandbox = MembershipKeys.TextAt(key, at);
            return (sandbox, MembershipKeys.Last(key), MembershipValues.ReadLegacyAudiences(value));
        }, cancellationToken).ConfigureAwait(false);
        // 'm' 0 sandbox 0 audience 0 profile, a row with its identities
        var folded = await FoldLegacyRowsAsync(cancellationToken).ConfigureAwait(false);
        if (folded > 0)
        {
            // Millions of deleted keys, which every later seek for the old keys would step over (seconds each time).
            _store.CompactPrefix(StoreSpace.Memberships, Shard, [MembershipKeys.LegacyMembershipTag, MembershipKeys.Separator]);
        }
        return upgraded + folded + await FoldUnnamedLegacyRowsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What an earlier by-profile index key names: its sandbox, profile and audiences (<paramref name="at"/>: where the sandbox starts).</summary>
    private delegate (string Sandbox, string Profile, string[] Audiences) LegacyIndexKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, int at);

    /// <summary>Rewrites the keys of an earlier by-profile index under <paramref name="tag"/> as profile rows keys, each row's state read from the row.</summary>
    private async Task<int> RewriteProfileIndexAsync(byte tag, LegacyIndexKey parse, CancellationToken cancellationToken)
    {
        byte[] prefix = [tag, MembershipKeys.Separator];
        var from = prefix;
        var rewritten = 0;
        while (true)
        {
            var found = new List<(string Sandbox, string Profile, string[] Audiences, byte[] Key)>();
            _store.Scan(StoreSpace.Memberships, Shard, prefix, from, (key, value) =>
            {
                var (sandbox, profile, audiences) = parse(key, value, prefix.Length);
                found.Add((sandbox, profile, audiences, key.ToArray()));
                return found.Count < PurgeBatch;
            });
            if (found.Count == 0)
            {
                return rewritten;
            }
            from = MembershipKeys.After(found[^1].Key);
            using var writes = new WriteSet();
            foreach (var profile in found.GroupBy(f => (f.Sandbox, f.Profile)))
            {
                // A profile's old keys may straddle two commits: the second adds to what the first wrote.
                var (sandbox, id) = profile.Key;
                var rows = new ProfileRows(ReadProfileRowsValue(sandbox, id));
                foreach (var audience in profile.SelectMany(f => f.Audiences))
                {
                    if (!rows.States.ContainsKey(audience) && LegacyRow(sandbox, audience, id) is { Exists: true } stored)
                    {
                        rows.Set(audience, stored, identities: null);
                    }
                }
                PutProfileRows(writes, sandbox, id, rows);
            }
            foreach (var old in found)
            {
                writes.Delete(StoreSpace.Memberships, Shard, old.Key);
            }
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            rewritten += found.Count;
        }
    }

    /// <summary>
    /// Folds the key per membership of earlier builds into profile rows, profile by profile: each row a profile rows
    /// key names is read from its own key (which was the row) and deleted, and the profile takes the identities of its
    /// row written last; a profile's rows and keys in one commit, a few thousand profiles a commit. A profile at a
    /// time rather than the old keys in their order (audience by audience), which would rewrite a profile's key once
    /// per audience it is in: ten times on average for a million profiles in 50 audiences, twice as long (BENCHMARKS.md,
    /// "One key per profile").
    /// </summary>
    private async Task<int> FoldLegacyRowsAsync(CancellationToken cancellationToken)
    {
        byte[] legacy = [MembershipKeys.LegacyMembershipTag, MembershipKeys.Separator];
        var any = false;
        _store.Scan(StoreSpace.Memberships, Shard, legacy, (_, _) =>
        {
            any = true;
            return false;
        });
        if (!any)
        {
            return 0;
        }
        byte[] prefix = [MembershipKeys.ProfileRowsTag, MembershipKeys.Separator];
        var from = prefix;
        var folded = 0;
        var legacyKey = new byte[256];
        while (true)
        {
            var found = new List<(byte[] Key, byte[] Value)>();
            _store.Scan(StoreSpace.Memberships, Shard, prefix, from, (key, value) =>
            {
                found.Add((key.ToArray(), value.ToArray()));
                return found.Count < PurgeBatch;
            });
            if (found.Count == 0)
            {
                return folded;
            }
            from = MembershipKeys.After(found[^1].Key);
            using var writes = new WriteSet();
            foreach (var (key, value) in found)
            {
                var sandbox = MembershipKeys.TextAt(key, prefix.Length);
                var profile = MembershipKeys.Last(key);
                var rows = new ProfileRows(value);
                var newest = long.MinValue;
                foreach (var audience in rows.States.Keys.ToList())
                {
                    if (legacyKey.Length < MembershipKeys.MaxBytes(sandbox, audience, profile))
                    {
                        legacyKey = new byte[MembershipKeys.MaxBytes(sandbox, audience, profile)];
                    }
                    var length = MembershipKeys.LegacyMembership(legacyKey, sandbox, audience, profile);
                    if (_store.Get(StoreSpace.Memberships, Shard, legacyKey.AsSpan(0, length)) is not { } old)
                    {
                        continue;
                    }
                    var row = MembershipValues.ReadLegacyRowHead(old);
                    rows.Set(audience, row, LegacyWritten(row) >= newest ? MembershipValues.ReadLegacyRowIdentities(old) : null);
                    newest = Math.Max(newest, LegacyWritten(row));
                    writes.Delete(StoreSpace.Memberships, Shard, legacyKey.AsSpan(0, length));
                    folded++;
                }
                if (rows.Changed)
                {
                    PutProfileRows(writes, sandbox, profile, rows);
                }
            }
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>When a row of earlier builds was last written: its last qualification, or its exit.</summary>
    private static long LegacyWritten(RowState row) => Math.Max(row.LastQualifiedTicks, row.ChangedTicks);

    /// <summary>
    /// Folds the keys per membership of earlier builds that no profile rows key named (none, in a store earlier builds
    /// kept consistent), in their order: each as a row of its profile's key. Keys come audience by audience, so the
    /// profile's rows in the audiences before this one are folded already: this row's identities become the profile's
    /// unless one of those was written later.
    /// </summary>
    private async Task<int> FoldUnnamedLegacyRowsAsync(CancellationToken cancellationToken)
    {
        byte[] prefix = [MembershipKeys.LegacyMembershipTag, MembershipKeys.Separator];
        var from = prefix;
        var folded = 0;
        while (true)
        {
            var found = new List<(string Sandbox, string Audience, string Profile, RowState Row, string[] Identities, byte[] Key)>();
            _store.Scan(StoreSpace.Memberships, Shard, prefix, from, (key, value) =>
            {
                var sandbox = MembershipKeys.TextAt(key, prefix.Length);
                var audience = MembershipKeys.TextAt(key, prefix.Length + System.Text.Encoding.UTF8.GetByteCount(sandbox) + 1);
                found.Add((sandbox, audience, MembershipKeys.Last(key), MembershipValues.ReadLegacyRowHead(value),
                    MembershipValues.ReadLegacyRowIdentities(value), key.ToArray()));
                return found.Count < PurgeBatch;
            });
            if (found.Count == 0)
            {
                return folded;
            }
            from = MembershipKeys.After(found[^1].Key);
            using var writes = new WriteSet();
            var profiles = new Dictionary<(string Sandbox, string Profile), ProfileRows>();
            foreach (var (sandbox, audience, profile, row, identities, key) in found)
            {
                if (!profiles.TryGetValue((sandbox, profile), out var rows))
                {
                    rows = new ProfileRows(ReadProfileRowsValue(sandbox, profile));
                    profiles[(sandbox, profile)] = rows;
                }
                var newest = rows.States.Where(r => string.CompareOrdinal(r.Key, audience) < 0).Select(r => LegacyWritten(r.Value)).DefaultIfEmpty(long.MinValue).Max();
                rows.Set(audience, row, LegacyWritten(row) >= newest ? identities : null);
                writes.Delete(StoreSpace.Memberships, Shard, key);
            }
            foreach (var ((sandbox, profile), rows) in profiles)
            {
                PutProfileRows(writes, sandbox, profile, rows);
            }
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            folded += found.Count;
        }
    }

    private static void PutProfileRows(WriteSet writes, string sandbox, string profile, ProfileRows rows)
    {
        if (rows.States.Count == 0)
        {
            return;
        }
        var key = new byte[MembershipKeys.MaxBytes(sandbox, profile)];
        var value = new byte[MembershipValues.MaxBytes(rows.States.Keys, rows.IdentityBytes)];
        writes.Put(StoreSpace.Memberships, Shard, key.AsSpan(0, MembershipKeys.ProfileRows(key, sandbox, profile)), value.AsSpan(0, rows.Write(value)));
    }

    /// <summary>Ids of the audiences <paramref name="profileId"/> is a member of now (realized or existing).</summary>
    public HashSet<string> AudiencesOf(string sandbox, string profileId)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(profileId, nameof(profileId));
        return [.. ReadProfileRows(sandbox, profileId).Where(r => r.Row.IsMember).Select(r => r.Audience)];
    }

    /// <summary>Every membership of the profile, exited ones included, by audience id.</summary>
    public IReadOnlyList<Membership> Of(string sandbox, string profileId)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(profileId, nameof(profileId));
        return ReadProfileRowsValue(sandbox, profileId) is { } value ? ReadMemberships(value, profileId, ConfirmedOf(sandbox)) : [];
    }

    /// <summary>The audience's memberships by status, as committed.</summary>
    public MembershipCounts Counts(string sandbox, string audienceId)
    {
        CheckName(sandbox, nameof(sandbox));
        CheckName(audienceId, nameof(audienceId));
        var key = new byte[MembershipKeys.MaxBytes(sandbox, audienceId)];
        var value = _store.Get(StoreSpace.Memberships, Shard, key.AsSpan(0, MembershipKeys.Counts(key, sandbox, audienceId)));
        return value is null ? default : ReadCounts(value);
    }

    /// <summary>The next state of a membership given a verdict at <paramref name="ticks"/>; equal to <paramref name="current"/> when nothing changes.</summary>
    internal static RowState Transition(RowState current, bool qualifies, long ticks) => (current.IsMember, qualifies) switch
    {
        (false, true) => new RowState(true, MembershipStatus.Realized, ticks, ticks),
        (true, true) when current.Status == MembershipStatus.Realized => new RowState(true, MembershipStatus.Existing, ticks, ticks),
        (true, true) => current with { LastQualifiedTicks = ticks },
        (true, false) => current with { Status = MembershipStatus.Exited, ChangedTicks = ticks },
        // Not a member and still not qualified: nothing to record (an exit keeps its time).
        (false, false) => current,
    };

    private SandboxLog Log(string sandbox) => _sandboxes.GetOrAdd(sandbox, static _ => new SandboxLog());

    /// <summary>Reads the sandbox's last sequence and counts once (again after a failed commit left memory ahead of the store).</summary>
    private void Load(SandboxLog log, string sandbox)
    {
        if (log.Loaded)
        {
            return;
        }
        log.LastSequence = ReadLastSequence(sandbox);
        log.Counts.Clear();
        var prefix = MembershipKeys.Prefix(MembershipKeys.CountsTag, sandbox);
        _store.Scan(StoreSpace.Memberships, Shard, prefix, (key, value) =>
        {
            var counts = ReadCounts(value);
            log.Counts[MembershipKeys.TextAt(key, prefix.Length)] = new Counter { Realized = counts.Realized, Existing = counts.Existing, Exited = counts.Exited };
            return true;
        });
        log.Confirmed.Clear();
        foreach (var (audience, ticks) in ConfirmedOf(sandbox))
        {
            log.Confirmed[audience] = ticks;
        }
        log.Loaded = true;
    }

    private long ReadLastSequence(string sandbox)
    {
        var key = new byte[MembershipKeys.MaxBytes(sandbox)];
        var value = _store.Get(StoreSpace.Memberships, Shard, key.AsSpan(0, MembershipKeys.LastSequence(key, sandbox)));
        return value is null ? 0 : BinaryPrimitives.ReadInt64LittleEndian(value);
    }

    /// <summary>The state of each row <paramref name="profile"/> has, as the commit being built leaves it (read once per commit).</summary>
    private ProfileRows RowsOf(SandboxLog log, string sandbox, string profile)
    {
        if (!log.Rows.TryGetValue(profile, out var rows))
        {
            rows = new ProfileRows(ReadProfileRowsValue(sandbox, profile));
            log.Rows[profile] = rows;
        }
        return rows;
    }

    /// <summary>A stored row as the audience's last completed full run (at <paramref name="confirmedTicks"/>; 0: none) leaves it.</summary>
    private static Membership ReadMembership(string audience, string profile, IReadOnlyList<string> identities, RowState stored, long confirmedTicks)
    {
        var row = stored.ConfirmedAt(confirmedTicks);
        return new Membership(audience, profile, identities, row.Status,
            new DateTimeOffset(row.LastQualifiedTicks, TimeSpan.Zero), new DateTimeOffset(row.ChangedTicks, TimeSpan.Zero));
    }

    /// <summary>Every membership in a profile rows value, by audience, with the profile's identities (one list for all).</summary>
    private static List<Membership> ReadMemberships(ReadOnlySpan<byte> value, string profile, Dictionary<string, long> confirmed)
    {
        var rows = MembershipValues.ReadProfileRows(value, out var identitiesAt);
        var identities = MembershipValues.ReadIdentities(value, identitiesAt);
        return rows.ConvertAll(r => ReadMembership(r.Audience, profile, identities, r.Row, confirmed.GetValueOrDefault(r.Audience)));
    }

    /// <summary>A row's state in the key per membership of earlier builds; one that does not exist when there is no such key.</summary>
    private RowState LegacyRow(string sandbox, string audience, string profile)
    {
        var key = new byte[MembershipKeys.MaxBytes(sandbox, audience, profile)];
        var value = _store.Get(StoreSpace.Memberships, Shard, key.AsSpan(0, MembershipKeys.LegacyMembership(key, sandbox, audience, profile)));
        return value is null ? default : MembershipValues.ReadLegacyRowHead(value);
    }

    /// <summary>The start of the audience's last completed full run, as committed (0 when none).</summary>
    private long ConfirmedTicks(string sandbox, string audience)
    {
        var key = new byte[MembershipKeys.MaxBytes(sandbox, audience)];
        var value = _store.Get(StoreSpace.Memberships, Shard, key.AsSpan(0, MembershipKeys.Confirmed(key, sandbox, audience)));
        return value is null ? 0 : BinaryPrimitives.ReadInt64LittleEndian(value);
    }

    /// <summary>Every audience's last completed full run in the sandbox, as committed.</summary>
    private Dictionary<string, long> ConfirmedOf(string sandbox)
    {
        var confirmed = new Dictionary<string, long>(StringComparer.Ordinal);
        var prefix = MembershipKeys.Prefix(MembershipKeys.ConfirmedTag, sandbox);
        _store.Scan(StoreSpace.Memberships, Shard, prefix, (key, value) =>
        {
            confirmed[MembershipKeys.TextAt(key, prefix.Length)] = BinaryPrimitives.ReadInt64LittleEndian(value);
            return true;
        });
        return confirmed;
    }

    /// <summary>The state of each row <paramref name="profile"/> has, as committed, by audience (ordinal order).</summary>
    private List<(string Audience, RowState Row)> ReadProfileRows(string sandbox, string profile) =>
        ReadProfileRowsValue(sandbox, profile) is { } value ? MembershipValues.ReadProfileRows(value, out _) : [];

    private byte[]? ReadProfileRowsValue(string sandbox, string profile)
    {
        // Read for every profile the streaming engine evaluates and again when it commits: the key on the stack.
        var length = MembershipKeys.MaxBytes(sandbox, profile);
        var key = length <= 512 ? stackalloc byte[512] : new byte[length];
        return _store.Get(StoreSpace.Memberships, Shard, key[..MembershipKeys.ProfileRows(key, sandbox, profile)]);
    }

    private void WriteRow(SandboxLog log, string sandbox, string audience, string profile, RowState current, RowState next, IReadOnlyList<string> identities)
    {
        RowsOf(log, sandbox, profile).Set(audience, next, identities);
        var key = log.Ensure(MembershipKeys.MaxBytes(sandbox, audience, profile));
        if (current.Exists && current.Status == MembershipStatus.Exited)
        {
            log.Writes.Delete(StoreSpace.Memberships, Shard, key[..MembershipKeys.Exit(key, sandbox, current.ChangedTicks, audience, profile)]);
        }
        if (next.Status == MembershipStatus.Exited)
        {
            log.Writes.Put(StoreSpace.Memberships, Shard, key[..MembershipKeys.Exit(key, sandbox, next.ChangedTicks, audience, profile)], []);
        }
        var counter = log.Counter(audience);
        counter.Add(current, -1);
        counter.Add(next, +1);
    }

    private void DeleteRow(SandboxLog log, string sandbox, string audience, string profile, RowState current)
    {
        RowsOf(log, sandbox, profile).Remove(audience);
        var key = log.Ensure(MembershipKeys.MaxBytes(sandbox, audience, profile));
        if (current.Status == MembershipStatus.Exited)
        {
            log.Writes.Delete(StoreSpace.Memberships, Shard, key[..MembershipKeys.Exit(key, sandbox, current.ChangedTicks, audience, profile)]);
        }
        log.Counter(audience).Add(current, -1);
    }

    /// <summary>Appends a change to the feed page being built (the next sequence); a full page goes to the commit.</summary>
    private static void WriteChange(SandboxLog log, string sandbox, string audience, string profile, MembershipStatus status, long ticks, IReadOnlyList<string> identities)
    {
        log.AppendChange(status, ticks, audience, profile, identities);
        log.NextSequence++;
        if (log.PageChanges == FeedPageChanges)
        {
            WritePage(log, sandbox);
        }
    }

    /// <summary>Puts the page being built under the sequence of its last change, and starts the next.</summary>
    private static void WritePage(SandboxLog log, string sandbox)
    {
        if (log.PageChanges == 0)
        {
            return;
        }
        var key = log.Ensure(MembershipKeys.MaxBytes(sandbox));
        log.Writes.Put(StoreSpace.MembershipFeed, Shard, key[..MembershipKeys.Change(key, sandbox, log.NextSequence)], log.EndPage());
    }

    /// <summary>
    /// Adds the last sequence and the touched counts to the set and commits it. A failed commit
    /// leaves memory ahead of the store, so the sandbox is read again before its next write.
    /// </summary>
    private async Task CommitAsync(SandboxLog log, string sandbox, CancellationToken cancellationToken)
    {
        WritePage(log, sandbox);
        foreach (var (profile, rows) in log.Rows)
        {
            if (!rows.Changed)
            {
                continue;
            }
            var key = log.Ensure(MembershipKeys.MaxBytes(sandbox, profile));
            var length = MembershipKeys.ProfileRows(key, sandbox, profile);
            if (rows.States.Count == 0)
            {
                log.Writes.Delete(StoreSpace.Memberships, Shard, key[..length]);
            }
            else
            {
                var value = log.EnsureValue(MembershipValues.MaxBytes(rows.States.Keys, rows.IdentityBytes));
                log.Writes.Put(StoreSpace.Memberships, Shard, key[..length], value[..rows.Write(value)]);
            }
        }
        if (log.Writes.Count == 0)
        {
            return;
        }
        Span<byte> number = stackalloc byte[MembershipKeys.NumberBytes * 3];
        if (log.NextSequence != log.LastSequence)
        {
            var key = log.Ensure(MembershipKeys.MaxBytes(sandbox));
            BinaryPrimitives.WriteInt64LittleEndian(number, log.NextSequence);
            log.Writes.Put(StoreSpace.Memberships, Shard, key[..MembershipKeys.LastSequence(key, sandbox)], number[..MembershipKeys.NumberBytes]);
        }
        foreach (var audience in log.Touched)
        {
            var counter = log.Counts[audience];
            var key = log.Ensure(MembershipKeys.MaxBytes(sandbox, audience));
            BinaryPrimitives.WriteInt64LittleEndian(number, counter.Realized);
            BinaryPrimitives.WriteInt64LittleEndian(number[8..], counter.Existing);
            BinaryPrimitives.WriteInt64LittleEndian(number[16..], counter.Exited);
            log.Writes.Put(StoreSpace.Memberships, Shard, key[..MembershipKeys.Counts(key, sandbox, audience)], number);
        }
        try
        {
            await _store.CommitAsync(log.Writes, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            log.Loaded = false;
            throw;
        }
        log.LastSequence = log.NextSequence;
    }

    private static MembershipCounts ReadCounts(ReadOnlySpan<byte> value) => new(
        BinaryPrimitives.ReadInt64LittleEndian(value),
        BinaryPrimitives.ReadInt64LittleEndian(value[8..]),
        BinaryPrimitives.ReadInt64LittleEndian(value[16..]));

    /// <summary>Ids are key parts separated by byte 0, so they must be non-empty and free of it.</summary>
    private static void CheckName(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{name} must not contain the character U+0000", name);
        }
    }

    /// <summary>One sandbox's writer state, reused across calls (only the holder of <see cref="Gate"/> touches it).</summary>
    private sealed class SandboxLog
    {
        private byte[] _key = new byte[256];
        private byte[] _value = new byte[1024];
        private byte[] _page = new byte[16 * 1024];
        private int _pageLength = MembershipValues.PageHeadBytes;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public bool Loaded { get; set; }

        /// <summary>The last sequence committed.</summary>
        public long LastSequence { get; set; }

        /// <summary>The last sequence handed out in the commit being built.</summary>
        public long NextSequence { get; set; }

        public WriteSet Writes { get; } = new(16 * 1024);

        public Dictionary<string, Counter> Counts { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Touched { get; } = new(StringComparer.Ordinal);

        /// <summary>The rows of the profiles the batch being built has read or changed, by profile, as it leaves them (the store does not show them yet).</summary>
        public Dictionary<string, ProfileRows> Rows { get; } = new(StringComparer.Ordinal);

        /// <summary>Per audience, the start of its last completed full run (<see cref="BeginFullRun"/>).</summary>
        public Dictionary<string, long> Confirmed { get; } = new(StringComparer.Ordinal);

        public byte[] Key => _key;

        /// <summary>Changes in the feed page being built (<see cref="WriteChange"/>).</summary>
        public int PageChanges { get; private set; }

        /// <summary>A stored row as the audience's last completed full run leaves it.</summary>
        public RowState Effective(string audience, RowState stored) =>
            Confirmed.TryGetValue(audience, out var ticks) ? stored.ConfirmedAt(ticks) : stored;

        public void Begin()
        {
            Writes.Clear();
            Rows.Clear();
            Touched.Clear();
            NextSequence = LastSequence;
            PageChanges = 0;
            _pageLength = MembershipValues.PageHeadBytes;
        }

        /// <summary>Adds a change to the feed page being built.</summary>
        public void AppendChange(MembershipStatus status, long ticks, string audience, string profile, IReadOnlyList<string> identities)
        {
            var bytes = MembershipValues.MaxBytes(identities, audience, profile);
            if (_page.Length < _pageLength + bytes)
            {
                Array.Resize(ref _page, Math.Max(_pageLength + bytes, _page.Length * 2));
            }
            _pageLength += MembershipValues.WriteChange(_page.AsSpan(_pageLength), status, ticks, audience, profile, identities);
            PageChanges++;
        }

        /// <summary>The page built so far, its head written; the next change starts a new page.</summary>
        public ReadOnlySpan<byte> EndPage()
        {
            MembershipValues.EndPage(_page, PageChanges);
            var page = _page.AsSpan(0, _pageLength);
            PageChanges = 0;
            _pageLength = MembershipValues.PageHeadBytes;
            return page;
        }

        public Span<byte> Ensure(int bytes)
        {
            if (_key.Length < bytes)
            {
                _key = new byte[Math.Max(bytes, _key.Length * 2)];
            }
            return _key;
        }

        public Span<byte> EnsureValue(int bytes)
        {
            if (_value.Length < bytes)
            {
                _value = new byte[Math.Max(bytes, _value.Length * 2)];
            }
            return _value;
        }

        public Counter Counter(string audience)
        {
            Touched.Add(audience);
            if (!Counts.TryGetValue(audience, out var counter))
            {
                counter = new Counter();
                Counts[audience] = counter;
            }
            return counter;
        }
    }

    /// <summary>
    /// The state of each row one profile has, by audience, its identities, and whether the commit being built changed them.
    /// The identities are those of its latest written verdict; until one is written, those committed, kept encoded.
    /// </summary>
    private sealed class ProfileRows
    {
        private readonly byte[]? _committed;
        private readonly int _identitiesAt;
        private IReadOnlyList<string>? _identities;

        public ProfileRows(byte[]? committed)
        {
            _committed = committed;
            if (committed is null)
            {
                States = new(StringComparer.Ordinal);
                return;
            }
            States = MembershipValues.ReadProfileRows(committed, out _identitiesAt).ToDictionary(r => r.Audience, r => r.Row, StringComparer.Ordinal);
        }

        public Dictionary<string, RowState> States { get; }

        public bool Changed { get; private set; }

        /// <summary>Bytes enough for the identities <see cref="Write"/> writes.</summary>
        public int IdentityBytes => _identities is not null ? MembershipValues.MaxBytes(_identities) : StoredIdentities.Length + 4;

        private ReadOnlySpan<byte> StoredIdentities => _committed.AsSpan(Math.Min(_identitiesAt, _committed?.Length ?? 0));

        /// <summary>The row's state; one that does not exist when the profile has no row in <paramref name="audience"/>.</summary>
        public RowState State(string audience) => States.GetValueOrDefault(audience);

        /// <summary>Sets the row's state and, unless null, the profile's identities.</summary>
        public void Set(string audience, RowState row, IReadOnlyList<string>? identities)
        {
            States[audience] = row;
            _identities = identities ?? _identities;
            Changed = true;
        }

        public void Remove(string audience) => Changed |= States.Remove(audience);

        /// <summary>
        /// Whether <paramref name="identities"/> differ, as a set, from the identities committed for the profile before the
        /// commit being built (false when none were: a new profile, or a value of earlier builds, which kept none).
        /// The engines give one list for all the verdicts of a profile: the answer for the last list is kept.
        /// </summary>
        public bool CommittedIdentitiesDiffer(IReadOnlyList<string> identities)
        {
            if (ReferenceEquals(identities, _compared))
            {
                return _differ;
            }
            _compared = identities;
            return _differ = _committed is not null && _identitiesAt < _committed.Length
                && !MembershipValues.ListEquals(_committed.AsSpan(_identitiesAt), identities);
        }

        private IReadOnlyList<string>? _compared;
        private bool _differ;

        /// <summary>The profile rows value (<see cref="MembershipValues.WriteProfileRows"/>).</summary>
        public int Write(Span<byte> destination) => MembershipValues.WriteProfileRows(destination, States, _identities, StoredIdentities);
    }

    private sealed class Counter
    {
        public long Realized { get; set; }

        public long Existing { get; set; }

        public long Exited { get; set; }

        public void Add(RowState row, int delta)
        {
            if (!row.Exists)
            {
                return;
            }
            switch (row.Status)
            {
                case MembershipStatus.Realized: Realized += delta; break;
                case MembershipStatus.Existing: Existing += delta; break;
                default: Exited += delta; break;
            }
        }
    }
}

/// <summary>A full batch run in progress (<see cref="MembershipStore.BeginFullRun"/>).</summary>
public sealed class FullRun
{
    internal FullRun(string sandbox, long ticks, HashSet<string> audiences)
    {
        Sandbox = sandbox;
        Ticks = ticks;
        Audiences = audiences;
    }

    public string Sandbox { get; }

    /// <summary>When the run evaluates (UTC ticks).</summary>
    internal long Ticks { get; }

    internal HashSet<string> Audiences { get; }
}

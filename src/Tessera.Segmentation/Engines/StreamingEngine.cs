using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Pql.Evaluation;
using Tessera.Profiles;
using Tessera.Segmentation.Audiences;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;

namespace Tessera.Segmentation.Engines;

/// <summary>
/// The streaming engine: every durable commit of records or events names the identities it touched;
/// their profiles are evaluated against the published streaming and edge audiences, and the answers
/// go to the membership store. An audience whose answer can change with the clock alone ("in the
/// last 3 hours") gets a durable timer at the profile's next possible flip, so that it exits on time
/// without any new event. Work runs on a background worker, never on the committing thread.
/// </summary>
public sealed class StreamingEngine : ICommittedFactsObserver, IAsyncDisposable
{
    private static readonly byte[] TimerPrefix = "segtimer\0"u8.ToArray();

    private readonly ProfileService _profiles;
    private readonly AudienceCatalog _audiences;
    private readonly MembershipStore _memberships;
    private readonly IStore _store;
    private readonly TimeProvider _time;
    private readonly Channel<Change> _changed = Channel.CreateUnbounded<Change>(new() { SingleReader = true });

    /// <summary>A committed change of an identity's facts (or a timer, merge or delete asking for every audience: <paramref name="Full"/>), committed at <paramref name="Since"/> (Stopwatch ticks).</summary>
    private readonly record struct Change(string Sandbox, IdentityKey Identity, bool Full, long Since);
    private readonly AudiencePrograms _programs;
    private readonly EvaluatedProfiles _evaluated = new(200_000);
    private readonly int _batchLimit;
    private readonly int _parts;

    /// <summary>
    /// The profile each identity was last evaluated in, so that a profile an identity leaves is evaluated
    /// again. In memory (the worker writes it; <see cref="ForgetAsync"/> also, under its lock): after a
    /// restart, the incremental run repairs what it missed.
    /// </summary>
    private readonly Dictionary<(string Sandbox, string Identity), string> _lastPrimary = [];
    private readonly SortedSet<(long Due, string Sandbox, string Identity)> _timers = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _worker;
    private readonly Task _timerLoop;
    private CancellationTokenSource _timerWake = new();
    private long _pending;
    private TaskCompletionSource _idle = NewIdle();

    /// <param name="batchLimit">Changes evaluated before their answers are committed together (<c>segmentation.streamingBatch</c>).</param>
    /// <param name="parts">Profiles of a batch evaluated at once (<c>segmentation.streamingParallelism</c>; 0: one per core).</param>
    public StreamingEngine(ProfileService profiles, AudienceCatalog audiences, MembershipStore memberships, IStore store, TimeProvider time,
        int batchLimit = SegmentationSettings.DefaultStreamingBatch, int parts = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchLimit, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(parts);
        _batchLimit = batchLimit;
        _parts = parts == 0 ? Environment.ProcessorCount : parts;
        _profiles = profiles;
        _audiences = audiences;
        _memberships = memberships;
        _store = store;
        _time = time;
        _programs = new AudiencePrograms(audiences);
        LoadTimers();
        _worker = Task.Run(WorkAsync);
        _timerLoop = Task.Run(TimersAsync);
    }

    /// <summary>Answers given since start (for monitoring and tests).</summary>
    public long Evaluations => Interlocked.Read(ref _evaluations);

    private long _evaluations;

    /// <summary>Profiles evaluated since start, once per merge policy (for monitoring and tests).</summary>
    public long ProfileEvaluations => Interlocked.Read(ref _profileEvaluations);

    private long _profileEvaluations;

    /// <summary>
    /// Events converted from a body read back from the store rather than handed over by their commit (for monitoring and
    /// benchmarks): a few after a restart or a failed evaluation; many means the engine evaluates profiles it has not remembered.
    /// </summary>
    public long EventsReadBack => Interlocked.Read(ref _eventsReadBack);

    private long _eventsReadBack;

    /// <summary>Errors met by the worker (each also skips that profile until its next change).</summary>
    public event Action<Exception>? Failed;

    private static TaskCompletionSource NewIdle() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void OnCommitted(string sandbox, WriteSet committed)
    {
        // Events' bodies first, as committed, so that the worker (which may start on the first change
        // enqueued below) finds them without reading the store. None when no audience is streamed: nothing
        // would take them (an audience published meanwhile reads them from the store).
        var keepBodies = _programs.For(sandbox).Dependencies.Streamed.Count > 0;
        for (var i = 0; keepBodies && i < committed.Count; i++)
        {
            var operation = committed[i];
            if (operation.Space == StoreSpace.Facts && operation.Key.Span[0] == FactKeys.EventTag)
            {
                var key = System.IO.Hashing.XxHash128.HashToUInt128(operation.Key.Span);
                if (operation.IsDelete)
                {
                    _fresh.TryRemove(key, out _);
                }
                else
                {
                    // ConcurrentDictionary.Count takes every lock of the dictionary, so the cap is checked once
                    // per 1,024 bodies: per body, it made the committing threads queue behind the worker's
                    // reads (a sixth of a streaming run's samples were under this method).
                    if ((++_freshAdds & 1023) == 0 && _fresh.Count >= MostFresh)
                    {
                        _fresh.Clear(); // Bodies nobody came for (a profile that failed, no streamed audience): read from the store instead.
                    }
                    _fresh[key] = operation.Value.ToArray();
                }
            }
        }
        var identities = System.Buffers.ArrayPool<IdentityKey>.Shared.Rent(committed.Count);
        var count = 0;
        for (var i = 0; i < committed.Count; i++)
        {
            var operation = committed[i];
            if (operation.Space == StoreSpace.Facts && operation.Key.Span[0] is FactKeys.RecordTag or FactKeys.TimelineTag
                && FactKeys.TryParseIdentity(operation.Key.Span, out _, out var stored))
            {
                var identity = new IdentityKey(stored.Namespace, stored.Value);
                identities[count++] = identity;
                Enqueue(sandbox, identity, full: false);
            }
        }
        AddChanged(sandbox, identities.AsSpan(0, count));
        System.Buffers.ArrayPool<IdentityKey>.Shared.Return(identities, clearArray: true);
    }

    /// <summary>Notes <paramref name="identities"/> for the next incremental run, under one lock for all of them.</summary>
    private void AddChanged(string sandbox, ReadOnlySpan<IdentityKey> identities)
    {
        if (identities.IsEmpty)
        {
            return;
        }
        lock (_changedSinceIncremental)
        {
            if (!_changedSinceIncremental.TryGetValue(sandbox, out var changed))
            {
                _changedSinceIncremental[sandbox] = changed = [];
            }
            foreach (var identity in identities)
            {
                changed.Add(identity);
            }
        }
    }

    private const int MostFresh = 100_000;

    /// <summary>Bodies put in <see cref="_fresh"/>, for when to check its size (a race only moves the check).</summary>
    private int _freshAdds;

    /// <summary>
    /// Committed event bodies not yet read by the worker, by the 128-bit hash of their store key (as ingestion's
    /// dedupe within a batch keys events): no string per event on the committing thread nor on the worker.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<UInt128, byte[]> _fresh = new();

    /// <summary>
    /// An event's record converted, from its body as committed when the worker has it, else as stored; null
    /// when it is not stored (any more). Straight from the bytes: parsing into JSON nodes first cost more
    /// than the conversion (the batch and edge engines convert the same way).
    /// </summary>
    private PqlValue? ConvertedEvent(string sandbox, EvaluationEvent stored, EventProjection? projection)
    {
        var identity = new IdentityValue(stored.Member.Namespace, stored.Member.Value, true);
        var length = FactKeys.MaxKeyBytes(sandbox, identity, stored.Dataset, stored.EventId);
        var buffer = length <= 512 ? stackalloc byte[512] : new byte[length];
        var key = System.IO.Hashing.XxHash128.HashToUInt128(buffer[..FactKeys.EventKey(buffer, sandbox, identity, stored.Dataset, stored.EventId, out _, out _)]);
        if (_fresh.TryRemove(key, out var body))
        {
            return ProfileService.TryGetEventRecord(body, out var record) ? PqlProfile.Convert(record, TimeZoneInfo.Utc, projection) : null;
        }
        Interlocked.Increment(ref _eventsReadBack);
        PqlValue? converted = null;
        _profiles.ReadEventRecords(sandbox, [stored], (_, record) => converted = PqlProfile.Convert(record, TimeZoneInfo.Utc, projection));
        return converted;
    }

    /// <summary>
    /// The profile as the engine last evaluated it under <paramref name="policy"/> (its attributes and events converted),
    /// for the edge engine to reuse; null when the engine holds none. It may lag behind the store: a reader takes from it
    /// only what still matches the profile it read.
    /// </summary>
    internal EvaluatedProfile? LastEvaluated(string sandbox, string? policy, string primary) => _evaluated.Get((sandbox, policy ?? "", primary));

    /// <summary>Identities whose facts changed since the last call, for the incremental run of the batch audiences (in memory: a restart's first incremental run falls back to a full one).</summary>
    public IReadOnlyCollection<IdentityKey> TakeChanged(string sandbox)
    {
        lock (_changedSinceIncremental)
        {
            return _changedSinceIncremental.Remove(sandbox, out var changed) ? changed : [];
        }
    }

    /// <summary>
    /// By sandbox, under its own lock: one lock per commit for all its identities (a concurrent set took a lock and allocated
    /// a node per event, a third of this observer's time), and a change noted while the set is taken lands in the next one.
    /// </summary>
    private readonly Dictionary<string, HashSet<IdentityKey>> _changedSinceIncremental = new(StringComparer.Ordinal);

    /// <summary>Evaluates the profiles of <paramref name="identities"/> (a merge, split or privacy delete changed them).</summary>
    public void Reevaluate(string sandbox, IEnumerable<IdentityKey> identities)
    {
        foreach (var identity in identities)
        {
            Enqueue(sandbox, identity, full: true);
        }
    }

    /// <param name="full">Every audience, not only those the new events may change (a timer, a merge or split, a privacy delete).</param>
    private void Enqueue(string sandbox, IdentityKey identity, bool full)
    {
        if (Interlocked.Increment(ref _pending) == 1)
        {
            Interlocked.Exchange(ref _idle, NewIdle());
        }
        _changed.Writer.TryWrite(new Change(sandbox, identity, full, Stopwatch.GetTimestamp()));
    }

    /// <summary>
    /// Completes once everything enqueued so far has been evaluated and written, timers due by the
    /// clock included (fired here if the timer loop has not got to them yet).
    /// </summary>
    public async Task WhenIdleAsync()
    {
        await FireDueAsync().ConfigureAwait(false);
        while (Interlocked.Read(ref _pending) != 0)
        {
            // A finished signal with work still pending is the previous round's: the next one is being made.
            var idle = _idle;
            if (idle.Task.IsCompleted)
            {
                await Task.Yield();
            }
            else
            {
                await idle.Task.ConfigureAwait(false);
            }
        }
    }

    private async Task WorkAsync()
    {
        // Reused from batch to batch: EvaluateAsync is done with it before the next batch is taken.
        var work = new Dictionary<IdentityKey, bool>();
        try
        {
            while (await _changed.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                await _running.WaitAsync(_stopping.Token).ConfigureAwait(false); // Held while paused.
                _running.Release();
                var batch = RentChanges();
                // A bounded batch: its first change waits for the whole batch's evaluation and commit (after a
                // collection's pause, thousands are queued at once). A change whose identity's profile was read after
                // it was committed is answered by that evaluation (the answers commit in order): it joins the batch
                // without work of its own. Not a full one: a timer or a merge asks for audiences an event may not.
                var toEvaluate = 0;
                while (toEvaluate < _batchLimit && _changed.Reader.TryRead(out var item))
                {
                    var evaluate = item.Full || !ReadSince(item.Sandbox, item.Identity, item.Since);
                    batch.Add((item, evaluate));
                    toEvaluate += evaluate ? 1 : 0;
                }
                if (batch.Count == 0)
                {
                    ReturnChanges(batch);
                    continue;
                }
                foreach (var (sandbox, changes) in BySandbox(batch))
                {
                    // One commit in flight: a batch evaluated while two were pending read memberships and evaluated profiles
                    // the older had not written yet, and the wait below (a profile of the commit in flight) covers only the
                    // newer one's. Ahead of its commits, the engine also evaluated a profile per event instead of once for
                    // the events that came meanwhile, and read back from the store the events its stale view lacked.
                    if (!_committing.Previous.IsCompleted)
                    {
                        WaitingForCommit?.Invoke();
                        await _committing.Previous.ConfigureAwait(false); // Never faults (CommitAsync reports its failures).
                    }
                    Answers? answers = new(_time.GetUtcNow());
                    try
                    {
                        // One item per identity; full when any of its items asks for it.
                        work.Clear();
                        foreach (var ((_, identity, full, _), evaluate) in changes)
                        {
                            if (evaluate)
                            {
                                work[identity] = full || work.GetValueOrDefault(identity);
                            }
                        }
                        await EvaluateAsync(sandbox, work, _committing, answers, _stopping.Token).ConfigureAwait(false);
                    }
                    catch (Exception error) when (error is not OperationCanceledException)
                    {
                        Failed?.Invoke(error);
                        answers = null;
                    }
                    // Not waited for: the next batch is evaluated while these answers are written (one commit in flight).
                    _committing = new Committing(CommitAsync(sandbox, answers, changes, _committing.Done), answers?.Profiles, _committing.Done);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// Lists of changes given back by their commit, for the next batches: a batch's changes are kept until its answers are
    /// committed, and a new list for each (grouped by sandbox, then copied) was 17 of the 429 MiB the end-to-end phase of
    /// `bench --only segmentation` allocated (BENCHMARKS.md, "Fewer allocations in the streaming engine").
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<List<(Change Change, bool Evaluate)>> _spareChanges = new();

    private List<(Change Change, bool Evaluate)> RentChanges() => _spareChanges.TryDequeue(out var changes) ? changes : [];

    private void ReturnChanges(List<(Change Change, bool Evaluate)> changes)
    {
        changes.Clear();
        if (_spareChanges.Count < 4) // One batch evaluated while one commits: a few lists do.
        {
            _spareChanges.Enqueue(changes);
        }
    }

    /// <summary>A batch's changes by sandbox: the batch itself when they share one (nearly always), else a rented list for each.</summary>
    private List<(string Sandbox, List<(Change Change, bool Evaluate)> Changes)> BySandbox(List<(Change Change, bool Evaluate)> batch)
    {
        var first = batch[0].Change.Sandbox;
        var one = true;
        foreach (var (change, _) in batch)
        {
            one &= change.Sandbox == first;
        }
        if (one)
        {
            return [(first, batch)];
        }
        var groups = new List<(string Sandbox, List<(Change Change, bool Evaluate)> Changes)>();
        foreach (var group in batch.GroupBy(b => b.Change.Sandbox))
        {
            var changes = RentChanges();
            changes.AddRange(group);
            groups.Add((group.Key, changes));
        }
        ReturnChanges(batch);
        return groups;
    }

    /// <summary>
    /// When each identity's profile was last read for evaluation (Stopwatch ticks, taken before the read): a change committed
    /// before that is answered by that evaluation. Only saves work: bounded by clearing it (a change not found is evaluated).
    /// </summary>
    private readonly Dictionary<(string Sandbox, IdentityKey Identity), long> _lastRead = [];

    private const int MostLastRead = 200_000;

    private bool ReadSince(string sandbox, IdentityKey identity, long since)
    {
        lock (_lastRead)
        {
            return _lastRead.TryGetValue((sandbox, identity), out var read) && read > since;
        }
    }

    private void RecordRead(string sandbox, IdentityKey identity, long at)
    {
        lock (_lastRead)
        {
            if (_lastRead.Count >= MostLastRead)
            {
                _lastRead.Clear();
            }
            _lastRead[(sandbox, identity)] = at;
        }
    }

    /// <summary>
    /// Called when a batch waits for an earlier commit: the one before the commit in flight, before it evaluates anything, or
    /// the commit in flight, before it evaluates the profiles they share (for tests).
    /// </summary>
    internal Action? WaitingForCommit { get; set; }

    /// <summary>The last batch's commit (and what follows it), and the profiles its answers are about.</summary>
    private Committing _committing = new(Task.CompletedTask, null, Task.CompletedTask);

    /// <param name="Previous">The commit before it, which it waits for before it writes.</param>
    private sealed record Committing(Task Done, HashSet<string>? Profiles, Task Previous);

    /// <summary>A batch's answers, evaluated and waiting for their commit.</summary>
    private sealed class Answers(DateTimeOffset now)
    {
        public DateTimeOffset Now { get; } = now;

        public List<Evaluation> Evaluations { get; } = [];

        /// <summary>Timers to write with the answers: the earliest due by identity.</summary>
        public Dictionary<(string Sandbox, string Identity), long> Scheduled { get; } = [];

        /// <summary>Profiles that hold nothing any more (their memberships go).</summary>
        public List<string> Gone { get; } = [];

        /// <summary>What was evaluated, remembered once the answers are committed.</summary>
        public List<((string, string, string) Key, EvaluatedProfile Profile)> Seen { get; } = [];

        /// <summary>Every identity of the profiles evaluated, and the profiles gone: a later batch waits for this commit before it evaluates any of them.</summary>
        public HashSet<string> Profiles { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// Commits a batch's answers with their timers once the previous batch's commit is done (so commits apply in order), then
    /// what follows from them: timers waited for in memory, memberships of profiles gone removed, evaluations remembered.
    /// Never throws: a failure is reported to <see cref="Failed"/>.
    /// </summary>
    private async Task CommitAsync(string sandbox, Answers? answers, List<(Change Change, bool Evaluate)> changes, Task previous)
    {
        try
        {
            await previous.ConfigureAwait(false);
            if (answers is not null)
            {
                await CommitAsync(sandbox, answers, _stopping.Token).ConfigureAwait(false);
                var done = Stopwatch.GetTimestamp();
                if (RecordLatencies)
                {
                    lock (_latencies)
                    {
                        foreach (var change in changes)
                        {
                            if (_latencies.Count < MostLatencies)
                            {
                                _latencies.Add(done - change.Change.Since);
                            }
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception error)
        {
            Failed?.Invoke(error);
        }
        finally
        {
            var count = changes.Count;
            ReturnChanges(changes);
            if (Interlocked.Add(ref _pending, -count) == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private const int MostLatencies = 4_000_000;
    private readonly List<long> _latencies = [];
    private readonly SemaphoreSlim _running = new(1, 1);
    private int _paused;

    /// <summary>Whether <see cref="TakeLatencies"/> has anything to give (off by default: a benchmark turns it on).</summary>
    public bool RecordLatencies { get; set; }

    /// <summary>
    /// Each change evaluated since the last call (with <see cref="RecordLatencies"/> on): from the commit that named it to the commit of its
    /// answers (Stopwatch ticks as spans; at most four million kept). For benchmarks and monitoring.
    /// </summary>
    public IReadOnlyList<TimeSpan> TakeLatencies()
    {
        lock (_latencies)
        {
            var taken = _latencies.Select(ticks => Stopwatch.GetElapsedTime(0, ticks)).ToList();
            _latencies.Clear();
            return taken;
        }
    }

    /// <summary>Holds the worker before its next batch (changes keep being queued): for benchmarks that time a backlog.</summary>
    public void Pause()
    {
        if (Interlocked.Exchange(ref _paused, 1) == 0)
        {
            _running.Wait();
        }
    }

    /// <summary>Lets the worker go on after <see cref="Pause"/>.</summary>
    public void Resume()
    {
        if (Interlocked.Exchange(ref _paused, 0) == 1)
        {
            _running.Release();
        }
    }

    /// <summary>
    /// Evaluates the profiles of <paramref name="identities"/> into <paramref name="answers"/>, to commit, in
    /// <see cref="_parts"/> parts at once (each takes the next identity left; one profile is evaluated once). A profile the
    /// previous batch's answers (<paramref name="inFlight"/>, perhaps still being committed) are about is evaluated last,
    /// once that commit is done: its memberships are read from the store, and must include those answers.
    /// </summary>
    private async Task EvaluateAsync(string sandbox, IReadOnlyDictionary<IdentityKey, bool> identities, Committing inFlight, Answers answers,
        CancellationToken cancellationToken)
    {
        var program = _programs.For(sandbox);
        if (identities.Count == 0 || program.Dependencies.Streamed.Count == 0)
        {
            return; // Every change answered by an earlier evaluation, or nothing to evaluate.
        }
        var batch = new BatchWork(sandbox, program, answers.Now, inFlight,
            new System.Collections.Concurrent.ConcurrentQueue<WorkItem>(identities.Select(i => new WorkItem(i.Key, i.Value, null))));
        var parts = new Part[Math.Min(_parts, identities.Count)];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = new Part(program.Audiences.Count);
        }
        if (parts.Length == 1)
        {
            await EvaluatePartAsync(batch, parts[0], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Task.WhenAll(parts.Select(part => Task.Run(() => EvaluatePartAsync(batch, part, cancellationToken), cancellationToken))).ConfigureAwait(false);
        }
        foreach (var part in parts)
        {
            answers.Evaluations.AddRange(part.Evaluations);
            answers.Gone.AddRange(part.Gone);
            answers.Seen.AddRange(part.Seen);
            answers.Profiles.UnionWith(part.Profiles);
            foreach (var (timer, due) in part.Scheduled)
            {
                if (!answers.Scheduled.TryGetValue(timer, out var other) || due < other)
                {
                    answers.Scheduled[timer] = due;
                }
            }
        }
    }

    /// <summary>An identity to evaluate: every audience when <paramref name="Full"/>; under <paramref name="Policies"/> only, when given.</summary>
    private readonly record struct WorkItem(IdentityKey Identity, bool Full, string?[]? Policies);

    /// <summary>What the parts of one batch share.</summary>
    private sealed record BatchWork(string Sandbox, AudienceProgram Program, DateTimeOffset Now, Committing InFlight,
        System.Collections.Concurrent.ConcurrentQueue<WorkItem> Work)
    {
        /// <summary>Profiles taken by a part (under its own lock): each is evaluated once per batch.</summary>
        public HashSet<(string? Policy, string Primary)> Done { get; } = [];
    }

    /// <summary>One part of a batch: its scratch and what it found, merged into the batch's answers at the end.</summary>
    private sealed class Part(int audiences)
    {
        public bool[] Relevant { get; } = new bool[audiences];
        public List<PqlValue>?[] Visible { get; } = new List<PqlValue>?[audiences];
        public Dictionary<int, (bool Qualifies, DateTimeOffset? Change)> Blank { get; } = [];
        /// <summary>By position in the program, the answers of the profile being evaluated: 0 none yet, 1 no, 2 yes.</summary>
        public byte[] Answered { get; } = new byte[audiences];

        /// <summary>By position in the program, whether the profile being evaluated is a member now (when its memberships were read).</summary>
        public bool[] Member { get; } = new bool[audiences];
        public List<PqlValue> Added { get; } = [];

        /// <summary>Identities this part found to evaluate too (a profile an identity left).</summary>
        public Queue<WorkItem> Work { get; } = new();

        /// <summary>Items about a profile the commit in flight answers for.</summary>
        public List<WorkItem> Waiting { get; } = [];

        public List<Evaluation> Evaluations { get; } = [];
        public Dictionary<(string Sandbox, string Identity), long> Scheduled { get; } = [];
        public List<string> Gone { get; } = [];
        public List<((string, string, string) Key, EvaluatedProfile Profile)> Seen { get; } = [];
        public HashSet<string> Profiles { get; } = new(StringComparer.Ordinal);
    }

    private async Task EvaluatePartAsync(BatchWork batch, Part part, CancellationToken cancellationToken)
    {
        var (sandbox, program, now, inFlight) = (batch.Sandbox, batch.Program, batch.Now, batch.InFlight);
        var index = program.Dependencies;
        var (evaluations, gone, seen, scheduled, work, waiting) = (part.Evaluations, part.Gone, part.Seen, part.Scheduled, part.Work, part.Waiting);
        var (relevant, visible, blank, answered, member, added) = (part.Relevant, part.Visible, part.Blank, part.Answered, part.Member, part.Added);
        while (true)
        {
            if (!work.TryDequeue(out var item) && !batch.Work.TryDequeue(out item))
            {
                if (waiting.Count == 0)
                {
                    break;
                }
                WaitingForCommit?.Invoke();
                await inFlight.Done.WaitAsync(cancellationToken).ConfigureAwait(false); // Never faults (CommitAsync reports its failures).
                waiting.ForEach(work.Enqueue);
                waiting.Clear();
                continue;
            }
            var identity = item.Identity;
            if (item.Policies is null)
            {
                RecordRead(sandbox, identity, Stopwatch.GetTimestamp());
            }
            // One profile per merge policy the audiences read with (most use the default).
            foreach (var policy in item.Policies ?? index.Policies)
            {
                var mark = Stopwatch.GetTimestamp();
                var source = _profiles.ForEvaluationSource(sandbox, identity, policy);
                mark = Split(Step.Read, mark);
                if (source is null)
                {
                    gone.Add(identity.ToString());
                    part.Profiles.Add(identity.ToString());
                    continue;
                }
                if (!inFlight.Done.IsCompleted && inFlight.Profiles is { } busy && Touches(busy, source.Identities))
                {
                    waiting.Add(item with { Policies = [policy] });
                    continue;
                }
                lock (batch.Done)
                {
                    if (!batch.Done.Add((policy, source.Primary)))
                    {
                        continue;
                    }
                }
                part.Profiles.UnionWith(source.Identities);
                Interlocked.Increment(ref _profileEvaluations);
                var key = (sandbox, policy ?? "", source.Primary);
                // Events kept converted under another projection (the audiences changed) are converted again.
                var before = _evaluated.Get(key) is { } kept && EventProjection.Same(kept.Projection, program.Events) ? kept : null;
                // Only what changed since the profile was last evaluated: the same identities, attributes
                // and audiences, and no event gone (TTL, cap, delete), leave the new events to look at.
                var sameAttributes = before is not null && JsonNode.DeepEquals(before.Attributes, source.Attributes);
                var full = item.Full || before is null || before.Version != program.Version || !sameAttributes
                    || !before.Identities.SequenceEqual(source.Identities, StringComparer.Ordinal);
                // Both in timeline order: the events seen before are found walking along, new ones are read and converted.
                var refs = source.Events;
                var values = new PqlValue[refs.Count];
                EvaluationEvent[]? keptRefs = null; // Made only when an event is not stored any more: else the source's own.
                var count = 0;
                added.Clear();
                var reused = 0;
                var j = 0;
                for (var i = 0; i < refs.Count; i++)
                {
                    var stored = refs[i];
                    PqlValue converted;
                    if (before is not null && j < before.Refs.Length && before.Refs[j] == stored)
                    {
                        converted = before.Values[j++];
                        reused++;
                    }
                    else if (ConvertedEvent(sandbox, stored, program.Events) is { } read)
                    {
                        converted = read;
                        added.Add(converted);
                    }
                    else
                    {
                        // Not stored (any more): not part of the profile, as ForEvaluation reads it.
                        if (keptRefs is null)
                        {
                            keptRefs = new EvaluationEvent[refs.Count];
                            for (var k = 0; k < i; k++)
                            {
                                keptRefs[k] = refs[k]; // Every one before was kept.
                            }
                        }
                        continue;
                    }
                    if (keptRefs is not null)
                    {
                        keptRefs[count] = stored;
                    }
                    values[count++] = converted;
                }
                if (keptRefs is null)
                {
                    keptRefs = refs as EvaluationEvent[] ?? [.. refs];
                }
                else
                {
                    Array.Resize(ref values, count);
                    Array.Resize(ref keptRefs, count);
                }
                var events = values;
                // An event seen before and not found again (gone, or out of the walk's order): everything is evaluated.
                full |= before is not null && reused != before.Refs.Length;
                mark = Split(Step.Read, mark);
                var attributes = sameAttributes ? before!.AttributesValue : PqlProfile.Convert(source.Attributes, TimeZoneInfo.Utc);
                var profile = PqlProfile.WithEvents(attributes, events, TimeZoneInfo.Utc);
                seen.Add((key, new EvaluatedProfile(program.Version, full || before is null ? source.Identities : before.Identities,
                    sameAttributes ? before!.Attributes : source.Attributes, attributes, keptRefs, values, program.Events)));
                mark = Split(Step.Convert, mark);
                if (!index.Select(relevant, policy, full, added))
                {
                    continue; // Nothing the new events can change.
                }
                // Many verdicts: the profile's memberships are read once, so that a verdict that changes nothing (not
                // qualified, not a member) is not handed to the store, which would read its row to find that out.
                var marks = 0;
                foreach (var marked in relevant)
                {
                    marks += marked ? 1 : 0;
                }
                var many = marks > 4;
                HashSet<string>? members = many || index.ReadsSegments(relevant) ? _memberships.AudiencesOf(sandbox, source.Primary) : null;
                mark = Split(Step.Members, mark);
                // By position, not by id: a first evaluation answers every audience, and two string lookups per audience
                // were a twentieth of the engine's time at the quick size of `bench --only segmentation`.
                Array.Clear(answered);
                Array.Clear(member);
                if (members is not null)
                {
                    foreach (var id in members)
                    {
                        if (program.TryGetPosition(id, out var at))
                        {
                            member[at] = true;
                        }
                    }
                }
                // One delegate for the profile's audiences (a method group passed per call makes one per call).
                Func<string, bool> inSegment = id => program.TryGetPosition(id, out var at) && answered[at] != 0 ? answered[at] == 2 : members?.Contains(id) ?? false;
                index.Visible(visible, events);
                PqlProfile? withoutEvents = null;
                DateTimeOffset? next = null;
                for (var i = 0; i < relevant.Length; i++)
                {
                    if (!relevant[i])
                    {
                        continue;
                    }
                    var audience = program.Audiences[i];
                    // The profile with only the events the audience can see (docs/segmentation.md, "Streaming").
                    var sees = visible[i] is not { } some ? profile
                        : some.Count == 0 ? withoutEvents ??= PqlProfile.WithEvents(attributes, [], TimeZoneInfo.Utc)
                        : some.Count == events.Length ? profile
                        : PqlProfile.WithEvents(attributes, [.. some], TimeZoneInfo.Utc);
                    bool qualifies;
                    DateTimeOffset? change;
                    if (ReferenceEquals(sees, withoutEvents) && source.Attributes.Count == 0 && index.ReadsNoSegments(i))
                    {
                        // No attributes and no event it can see: every such profile of the batch gets the same answer.
                        if (!blank.TryGetValue(i, out var known))
                        {
                            known = (ValueOperations.Holds(audience.Compiled.Evaluate(sees, now)), TimeHorizon.NextChange(audience.Clock, audience.Compiled, sees, now));
                            blank[i] = known;
                        }
                        (qualifies, change) = known;
                    }
                    else
                    {
                        qualifies = ValueOperations.Holds(audience.Compiled.Evaluate(sees, now, inSegment));
                        change = TimeHorizon.NextChange(audience.Clock, audience.Compiled, sees, now, inSegment);
                    }
                    answered[i] = qualifies ? (byte)2 : (byte)1;
                    if (qualifies || !many || member[i])
                    {
                        evaluations.Add(new Evaluation(source.Primary, source.Identities, audience.Audience.Id, qualifies));
                    }
                    if (change is { } at && (next is null || at < next))
                    {
                        next = at;
                    }
                }
                mark = Split(Step.Evaluate, mark);
                if (next is { } due)
                {
                    Schedule(scheduled, sandbox, identity.ToString(), due);
                }
                foreach (var other in source.Identities)
                {
                    // Identities of this profile that were primary of another one (before a merge) hold no profile any more.
                    // (The profile's rows key alone says so: one point read, not one per membership it ever had.)
                    if (other != source.Primary && _memberships.AudiencesOf(sandbox, other).Count > 0)
                    {
                        gone.Add(other);
                    }
                    // An identity that belonged to another profile before (a link cut by a unique-namespace rule, a
                    // merge) changed that profile too: it is evaluated as well.
                    var known = (sandbox, other);
                    lock (_lastPrimary)
                    {
                        var changed = !_lastPrimary.TryGetValue(known, out var previousPrimary) || previousPrimary != source.Primary;
                        if (changed && previousPrimary is not null && IdentityKey.TryParse(previousPrimary, out var previous))
                        {
                            work.Enqueue(new WorkItem(previous, true, null));
                            // The batch audiences' next incremental run must see it too: none of its own facts changed.
                            AddChanged(sandbox, [previous]);
                        }
                        if (changed)
                        {
                            // Written only when it changes: the same text written again on every event was a young string
                            // the next collection promoted, for each identity evaluated since the last one.
                            _lastPrimary[known] = source.Primary;
                        }
                    }
                }
                Split(Step.Members, mark);
            }
        }
    }

    private static bool Touches(HashSet<string> profiles, IReadOnlyList<string> identities)
    {
        for (var i = 0; i < identities.Count; i++)
        {
            if (profiles.Contains(identities[i]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Commits <paramref name="answers"/>, then does what follows from them (see <see cref="CommitAsync(string, Answers?, List{ValueTuple{Change, bool}}, Task)"/>).</summary>
    private async Task CommitAsync(string sandbox, Answers answers, CancellationToken cancellationToken)
    {
        var (evaluations, scheduled, now) = (answers.Evaluations, answers.Scheduled, answers.Now);
        var applying = Stopwatch.GetTimestamp();
        // The timers go in the answers' own commit (one synced write for both): an answer is never durable
        // without the timer that will revisit it.
        void WriteTimers(WriteSet writes)
        {
            foreach (var ((timerSandbox, identity), due) in scheduled)
            {
                writes.Put(StoreSpace.Catalog, 0, TimerKey(timerSandbox, due, identity), []);
            }
        }
        if (evaluations.Count > 0)
        {
            await _memberships.ApplyAsync(sandbox, evaluations, now, cancellationToken, scheduled.Count == 0 ? null : WriteTimers).ConfigureAwait(false);
            Interlocked.Add(ref _evaluations, evaluations.Count);
        }
        else if (scheduled.Count > 0)
        {
            using var timers = new WriteSet(4096);
            WriteTimers(timers);
            await _store.CommitAsync(timers, cancellationToken).ConfigureAwait(false);
        }
        if (scheduled.Count > 0)
        {
            Timers(scheduled);
        }
        foreach (var profileId in answers.Gone.Distinct())
        {
            await _memberships.RemoveProfileAsync(sandbox, profileId, now, cancellationToken).ConfigureAwait(false);
        }
        // What was evaluated is remembered only once its answers are committed.
        foreach (var (key, profile) in answers.Seen)
        {
            _evaluated.Set(key, profile);
        }
        Split(Step.Apply, applying);
    }

    /// <summary>Where the worker's time went, by step (for the benchmark and monitoring): Stopwatch ticks per step.</summary>
    private readonly long[] _splits = new long[(int)Step.Count];

    private enum Step
    {
        Read,
        Members,
        Convert,
        Evaluate,
        Apply,
        Count,
    }

    private long Split(Step step, long since)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _splits[(int)step], now - since);
        return now;
    }

    /// <summary>
    /// The engine's time so far by step: reading profiles, reading memberships, converting, evaluating with next changes, committing
    /// answers and timers. Summed over the parts of each batch (evaluated at once), and committing overlaps the next batch's evaluation.
    /// </summary>
    public IReadOnlyList<(string Step, TimeSpan Time)> Splits =>
        [.. Enumerable.Range(0, (int)Step.Count).Select(i => (((Step)i).ToString(), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _splits[i]))))];

    /// <summary>
    /// A privacy delete: drops what the engine remembers about <paramref name="identities"/> (the
    /// profile each was last in, and their timers, durable ones included), then waits until evaluations
    /// already queued are written, so that none read before the delete lands after it. Without this, a
    /// later event of someone who shared a remembered profile would evaluate the deleted person's
    /// primary identity again, and a timer would keep their identity in the catalog.
    /// </summary>
    public async Task ForgetAsync(string sandbox, IReadOnlyCollection<string> identities, CancellationToken cancellationToken = default)
    {
        var person = identities.ToHashSet(StringComparer.Ordinal);
        ForgetEvaluated(); // The deleted person's converted profile and read times go too (and everyone's: a rare event).
        _fresh.Clear();
        lock (_lastPrimary)
        {
            foreach (var key in _lastPrimary.Where(p => p.Key.Sandbox == sandbox && (person.Contains(p.Key.Identity) || person.Contains(p.Value))).Select(p => p.Key).ToList())
            {
                _lastPrimary.Remove(key);
            }
        }
        List<(long Due, string Sandbox, string Identity)> timers;
        lock (_timers)
        {
            timers = [.. _timers.Where(t => t.Sandbox == sandbox && person.Contains(t.Identity))];
            foreach (var timer in timers)
            {
                RemoveTimer(timer);
            }
        }
        // Durable timers too: those loaded at start are in memory, so this finds them all.
        using var writes = new WriteSet(1024);
        foreach (var timer in timers)
        {
            writes.Delete(StoreSpace.Catalog, 0, TimerKey(timer.Sandbox, timer.Due, timer.Identity));
        }
        if (writes.Count > 0)
        {
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        }
        await WhenIdleAsync().ConfigureAwait(false);
        ForgetEvaluated(); // Again: evaluations in flight above remembered what they read and evaluated.
    }

    /// <summary>Forgets every profile converted and every read time kept (both hold identities: personal data).</summary>
    private void ForgetEvaluated()
    {
        _evaluated.Clear();
        lock (_lastRead)
        {
            _lastRead.Clear();
        }
    }

    /// <summary>Whether the engine remembers <paramref name="identity"/> (for tests).</summary>
    internal bool Remembers(string sandbox, string identity)
    {
        lock (_lastPrimary)
        {
            return _lastPrimary.Any(p => p.Key.Sandbox == sandbox && (p.Key.Identity == identity || p.Value == identity));
        }
    }

    // ------------------------------------------------------------------ timers

    private static byte[] TimerKey(string sandbox, long due, string identity)
    {
        var sandboxBytes = Encoding.UTF8.GetBytes(sandbox);
        var identityBytes = Encoding.UTF8.GetBytes(identity);
        var key = new byte[TimerPrefix.Length + sandboxBytes.Length + 1 + 8 + identityBytes.Length];
        TimerPrefix.CopyTo(key, 0);
        sandboxBytes.CopyTo(key, TimerPrefix.Length);
        var at = TimerPrefix.Length + sandboxBytes.Length;
        key[at++] = 0;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(at), due);
        identityBytes.CopyTo(key, at + 8);
        return key;
    }

    private void LoadTimers()
    {
        foreach (var (key, _) in _store.Scan(StoreSpace.Catalog, 0, TimerPrefix))
        {
            var rest = key.AsSpan(TimerPrefix.Length);
            var end = rest.IndexOf((byte)0);
            var sandbox = Encoding.UTF8.GetString(rest[..end]);
            var due = BinaryPrimitives.ReadInt64BigEndian(rest[(end + 1)..]);
            var identity = Encoding.UTF8.GetString(rest[(end + 9)..]);
            AddTimer((due, sandbox, identity));
        }
    }

    /// <summary>
    /// Adds a timer to <paramref name="scheduled"/> (written durably with the answers it protects), unless the
    /// identity already has one due no later: that one re-evaluates the profile, every audience, and asks for
    /// the next change again, so a later one would only be written for nothing.
    /// </summary>
    private void Schedule(Dictionary<(string Sandbox, string Identity), long> scheduled, string sandbox, string identity, DateTimeOffset due)
    {
        lock (_timers)
        {
            if (_earliest.TryGetValue((sandbox, identity), out var pending) && pending <= due.UtcTicks)
            {
                return;
            }
        }
        if (!scheduled.TryGetValue((sandbox, identity), out var batched) || due.UtcTicks < batched)
        {
            scheduled[(sandbox, identity)] = due.UtcTicks;
        }
    }

    /// <summary>Timers now durable, waited for in memory.</summary>
    private void Timers(Dictionary<(string Sandbox, string Identity), long> scheduled)
    {
        bool earliest;
        lock (_timers)
        {
            var before = _timers.Count == 0 ? long.MaxValue : _timers.Min.Due;
            foreach (var ((sandbox, identity), due) in scheduled)
            {
                AddTimer((due, sandbox, identity));
            }
            earliest = _timers.Count > 0 && _timers.Min.Due < before;
        }
        if (earliest)
        {
            _timerWake.Cancel(); // The loop waits for a later one: wake it to wait for this.
        }
    }

    /// <summary>The earliest timer waiting per identity (under the <see cref="_timers"/> lock): a later one is not written.</summary>
    private readonly Dictionary<(string Sandbox, string Identity), long> _earliest = [];

    private void AddTimer((long Due, string Sandbox, string Identity) timer)
    {
        _timers.Add(timer);
        if (!_earliest.TryGetValue((timer.Sandbox, timer.Identity), out var pending) || timer.Due < pending)
        {
            _earliest[(timer.Sandbox, timer.Identity)] = timer.Due;
        }
    }

    private void RemoveTimer((long Due, string Sandbox, string Identity) timer)
    {
        _timers.Remove(timer);
        if (_earliest.TryGetValue((timer.Sandbox, timer.Identity), out var pending) && pending == timer.Due)
        {
            // Forgotten rather than looked for: a later timer of the identity may then be written again (harmless).
            _earliest.Remove((timer.Sandbox, timer.Identity));
        }
    }

    private async Task TimersAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            (long Due, string Sandbox, string Identity)? next;
            lock (_timers)
            {
                next = _timers.Count == 0 ? null : _timers.Min;
            }
            var wake = _timerWake;
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(wake.Token, _stopping.Token);
                var wait = next is { } timer ? TimeSpan.FromTicks(Math.Max(0, timer.Due - _time.GetUtcNow().UtcTicks)) : Timeout.InfiniteTimeSpan;
                if (wait > TimeSpan.Zero || wait == Timeout.InfiniteTimeSpan)
                {
                    await Task.Delay(wait, _time, linked.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }
                Interlocked.CompareExchange(ref _timerWake, new CancellationTokenSource(), wake);
                continue;
            }
            await FireDueAsync().ConfigureAwait(false);
        }
    }

    private async Task FireDueAsync()
    {
        var now = _time.GetUtcNow().UtcTicks;
        List<(long Due, string Sandbox, string Identity)> due;
        lock (_timers)
        {
            due = [.. _timers.TakeWhile(t => t.Due <= now)];
            foreach (var timer in due)
            {
                RemoveTimer(timer);
            }
        }
        if (due.Count == 0)
        {
            return;
        }
        foreach (var timer in due)
        {
            var separator = timer.Identity.IndexOf(':', StringComparison.Ordinal);
            Enqueue(timer.Sandbox, new IdentityKey(timer.Identity[..separator], timer.Identity[(separator + 1)..]), full: true);
        }
        // Removed once its evaluation is queued; a crash before this line fires it again on restart (evaluating twice is harmless).
        using var writes = new WriteSet(1024);
        foreach (var timer in due)
        {
            writes.Delete(StoreSpace.Catalog, 0, TimerKey(timer.Sandbox, timer.Due, timer.Identity));
        }
        await _store.CommitAsync(writes).ConfigureAwait(false);
    }

    /// <summary>Timers waiting (for monitoring and tests).</summary>
    public int PendingTimers
    {
        get
        {
            lock (_timers)
            {
                return _timers.Count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _changed.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_worker, _timerLoop).ConfigureAwait(false);
            await _committing.Done.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        _stopping.Dispose();
    }
}

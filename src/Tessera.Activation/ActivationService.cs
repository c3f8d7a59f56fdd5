using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Tessera.Abstractions;
using Tessera.Activation.Connectors;
using Tessera.Activation.Connectors.Platforms;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Activation.Governance;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles;
using Tessera.Segmentation;
using Tessera.Segmentation.Audiences;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;

namespace Tessera.Activation;

/// <summary>
/// Activation (docs/destinations.md): destinations read the membership change feed, each from its own
/// cursor, and send what changed in micro-batches; a destination's first activation of an audience
/// backfills its current members. Delivery is at least once: a batch's range is recorded before it is
/// sent and the cursor moves only after it is delivered (or dead-lettered), so a crash sends it again
/// with the same idempotency key. Changes of one profile keep their feed order (one batch at a time
/// per destination, requests in order).
/// </summary>
public sealed partial class ActivationService : IAsyncDisposable, ICommittedFactsObserver
{
    private readonly TesseraCatalog _catalog;
    private readonly AudienceCatalog _audiences;
    private readonly MembershipStore _memberships;
    private readonly ProfileService _profiles;
    private readonly IdentityService _identity;
    private readonly ActivationSettings _settings;
    private readonly TimeProvider _time;
    private readonly TimeProvider _waits;
    private readonly HttpMessageHandler? _handler;
    private readonly ConcurrentDictionary<(string Sandbox, string Destination), DestinationWorker> _workers = new();

    /// <param name="handler">The HTTP handler requests go through (a real socket handler when null).</param>
    /// <param name="waits">The clock retries, circuit breaks and polling wait on (the catalog's when null); record times always come from the catalog's.</param>
    public ActivationService(TesseraCatalog catalog, IdentityService identity, AudienceCatalog audiences, MembershipStore memberships, ProfileService profiles,
        ActivationSettings settings, HttpMessageHandler? handler = null, TimeProvider? waits = null)
    {
        _catalog = catalog;
        _audiences = audiences;
        _memberships = memberships;
        _profiles = profiles;
        _identity = identity;
        _settings = settings;
        _time = catalog.Time;
        _waits = waits ?? catalog.Time;
        _handler = handler;
        Destinations = new DestinationCatalog(catalog, audiences, settings);
        Governance = new GovernanceCatalog(catalog, audiences);
        Log = new ActivationLog(catalog.Store);
    }

    public DestinationCatalog Destinations { get; }

    /// <summary>Data usage labels and policies; every save and every run of a destination is checked against them.</summary>
    public GovernanceCatalog Governance { get; }

    /// <summary>Unexpected errors of the background delivery loop (the destination is tried again after a circuit break).</summary>
    public event Action<Exception>? Failed;

    /// <summary>Raised after every run of a destination (sandbox, destination, run): for monitoring and tests.</summary>
    public event Action<string, string, DeliveryRun>? Ran;

    /// <summary>Runs, the audit log, dead letters and each destination's delivery state.</summary>
    public ActivationLog Log { get; }

    /// <summary>The feed consumer a destination reads as (its cursor holds back the feed's purge).</summary>
    public static string Consumer(string destination) => "destination:" + destination;

    // ---------------------------------------------------------------- definitions

    /// <summary>
    /// Creates a destination: it starts reading the feed from now, and backfills the current members
    /// of every audience it activates.
    /// </summary>
    public async Task<Destination> CreateAsync(string sandbox, Destination destination, CancellationToken cancellationToken = default)
    {
        var created = await Destinations.CreateAsync(sandbox, destination, d => Governance.Enforce(sandbox, d)).ConfigureAwait(false);
        _sendsUpdates.TryRemove(sandbox, out _);
        await _memberships.SaveCursorAsync(sandbox, Consumer(created.Name), _memberships.LastSequence(sandbox), cancellationToken).ConfigureAwait(false);
        if (created.Connector != ConnectorTypes.File)
        {
            // A file destination's first export holds every member (full) or starts the changes from here (incremental).
            await QueueBackfillsAsync(sandbox, created.Name, created.Audiences.Select(a => a.AudienceId), cancellationToken).ConfigureAwait(false);
        }
        return created;
    }

    /// <summary>Activates an audience (by id or name) on a destination; its current members are backfilled.</summary>
    public async Task<Destination> ActivateAsync(string sandbox, string name, string audience, string? externalId = null, CancellationToken cancellationToken = default)
    {
        var target = Destinations.RequireActivatable(sandbox, audience);
        var (before, after) = await Destinations.UpdateAsync(sandbox, name, d => d with
        {
            Audiences = d.Audiences.Any(a => a.AudienceId == target.Id)
                ? [.. d.Audiences.Select(a => a.AudienceId == target.Id ? a with { ExternalId = externalId ?? a.ExternalId } : a)]
                : [.. d.Audiences, new ActivatedAudience { AudienceId = target.Id, ExternalId = externalId }],
        }, d => Governance.Enforce(sandbox, d)).ConfigureAwait(false);
        if (!before.Audiences.Any(a => a.AudienceId == target.Id))
        {
            await QueueBackfillsAsync(sandbox, name, [target.Id], cancellationToken).ConfigureAwait(false);
        }
        return after;
    }

    /// <summary>Stops sending an audience (members already sent stay on the platform until they exit elsewhere).</summary>
    public async Task<Destination> DeactivateAsync(string sandbox, string name, string audience, CancellationToken cancellationToken = default)
    {
        var id = _audiences.Get(sandbox, audience)?.Id ?? audience;
        var (before, after) = await Destinations.UpdateAsync(sandbox, name, d => d with { Audiences = [.. d.Audiences.Where(a => a.AudienceId != id)] }).ConfigureAwait(false);
        if (before.Audiences.Count == after.Audiences.Count)
        {
            throw new CatalogException("AUDIENCE_NOT_ACTIVATED", $"audience '{audience}' is not activated on destination '{name}'");
        }
        var state = Log.State(sandbox, name);
        if (state.Backfills.Remove(id))
        {
            await Log.SaveStateAsync(sandbox, name, state, cancellationToken).ConfigureAwait(false);
        }
        return after;
    }

    /// <summary>Replaces a destination's definition (settings, mappings, batching, schedule, audiences).</summary>
    public async Task<Destination> UpdateAsync(string sandbox, Destination definition, CancellationToken cancellationToken = default)
    {
        var (before, after) = await Destinations.UpdateAsync(sandbox, definition.Name, _ => definition, d => Governance.Enforce(sandbox, d)).ConfigureAwait(false);
        var added = after.Audiences.Select(a => a.AudienceId).Except(before.Audiences.Select(a => a.AudienceId)).ToList();
        await QueueBackfillsAsync(sandbox, after.Name, added, cancellationToken).ConfigureAwait(false);
        Retire(sandbox, after.Name);
        _sendsUpdates.TryRemove(sandbox, out _);
        return after;
    }

    /// <summary>Deletes a destination with its cursor, state, runs, audit log and dead letters.</summary>
    public async Task<Destination> DeleteAsync(string sandbox, string name, CancellationToken cancellationToken = default)
    {
        var deleted = await Destinations.DeleteAsync(sandbox, name).ConfigureAwait(false);
        Retire(sandbox, name);
        Worker(sandbox, name).TakeHeld(); // a destination made again under this name starts from now
        _sendsUpdates.TryRemove(sandbox, out _);
        await _memberships.DeleteCursorAsync(sandbox, Consumer(name), cancellationToken).ConfigureAwait(false);
        await Log.ForgetAsync(sandbox, name, cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    private async Task QueueBackfillsAsync(string sandbox, string name, IEnumerable<string> audiences, CancellationToken cancellationToken)
    {
        var worker = Worker(sandbox, name);
        await worker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = Log.State(sandbox, name);
            var queued = false;
            var since = _memberships.LastSequence(sandbox);
            foreach (var audience in audiences)
            {
                queued |= state.Backfills.TryAdd(audience, new BackfillProgress { Since = since });
            }
            if (queued)
            {
                await Log.SaveStateAsync(sandbox, name, state, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            worker.Gate.Release();
        }
    }

    // ---------------------------------------------------------------- delivery

    /// <summary>
    /// Delivers one batch of a streaming destination if one is due: the batch a crash interrupted, else
    /// a backfill chunk, else the next feed changes (due when it holds the policy's record count or its
    /// oldest change has reached the policy's age, or at once with <paramref name="flush"/>). Returns
    /// the run, or null when nothing was due.
    /// </summary>
    public async Task<DeliveryRun?> DeliverOnceAsync(string sandbox, string name, bool flush = false, CancellationToken cancellationToken = default)
    {
        var worker = Worker(sandbox, name);
        await worker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var destination = Destinations.Require(sandbox, name);
            _ = ConnectorTypes.Http(destination.Connector)
                ?? throw new CatalogException("DESTINATION_NOT_STREAMING", $"destination '{name}' is a {destination.Connector} destination; it exports on its schedule (tessera destination export, POST .../export)");
            if (!destination.Enabled)
            {
                return null;
            }
            var state = Log.State(sandbox, name);
            if (state.InFlight is null && !await PlanAsync(sandbox, destination, state, worker, flush, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            return await SendAsync(sandbox, destination, worker, state, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            worker.Gate.Release();
        }
    }

    /// <summary>Delivers every due batch now (micro-batch age ignored) until the feed is drained or delivery fails transiently.</summary>
    public async Task<List<DeliveryRun>> DrainAsync(string sandbox, string name, CancellationToken cancellationToken = default)
    {
        var runs = new List<DeliveryRun>();
        while (await DeliverOnceAsync(sandbox, name, flush: true, cancellationToken).ConfigureAwait(false) is { } run)
        {
            runs.Add(run);
            if (run.Status is RunStatuses.Retrying or RunStatuses.Blocked)
            {
                break;
            }
        }
        return runs;
    }

    /// <summary>Chooses the next batch and records it as in flight (durably, before anything is sent).</summary>
    private async Task<bool> PlanAsync(string sandbox, Destination destination, DestinationState state, DestinationWorker worker, bool flush, CancellationToken cancellationToken)
    {
        var max = destination.Batching.MaxRecords;
        InFlightBatch? next = null;
        while (next is null && state.Backfills.Count > 0)
        {
            var (audience, progress) = state.Backfills.OrderBy(b => b.Key, StringComparer.Ordinal).First();
            var chunk = BackfillMembers(sandbox, audience, progress.Since, progress.After, worker).Take(max).ToList();
            if (chunk.Count == 0)
            {
                state.Backfills.Remove(audience);
                continue;
            }
            next = new InFlightBatch { Kind = DeliveryKinds.Backfill, Audience = audience, From = progress.Since, After = progress.After, Last = chunk[^1].ProfileId };
        }
        if (next is null)
        {
            var cursor = _memberships.Cursor(sandbox, Consumer(destination.Name)) ?? 0;
            var changes = _memberships.Read(sandbox, cursor, max);
            if (changes.Count == 0)
            {
                return false;
            }
            var age = _time.GetUtcNow() - changes[0].At;
            if (!flush && changes.Count < max && age < TimeSpan.FromSeconds(destination.Batching.MaxAgeSeconds))
            {
                return false;
            }
            next = new InFlightBatch { Kind = DeliveryKinds.Feed, From = cursor, To = changes[^1].Sequence };
        }
        next.RunId = state.NextRun++;
        next.StartedAt = _time.GetUtcNow();
        state.InFlight = next;
        await Log.SaveStateAsync(sandbox, destination.Name, state, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<DeliveryRun> SendAsync(string sandbox, Destination destination, DestinationWorker worker, DestinationState state, CancellationToken cancellationToken)
    {
        var batch = state.InFlight!;
        var run = new DeliveryRun
        {
            Id = batch.RunId,
            Destination = destination.Name,
            Kind = batch.Kind,
            StartedAt = batch.StartedAt,
            FeedFrom = batch.Kind == DeliveryKinds.Feed ? batch.From : null,
            FeedTo = batch.Kind == DeliveryKinds.Feed ? batch.To : null,
        };
        if (Governance.Check(sandbox, destination) is { Count: > 0 } violations)
        {
            // A policy made after the destination was saved: nothing is sent (and nothing skipped) until it is resolved.
            run.Status = RunStatuses.Blocked;
            run.Error = $"POLICY_VIOLATION: {string.Join(" and ", violations)}";
            run.FinishedAt = _time.GetUtcNow();
            worker.NotBefore = _waits.GetUtcNow() + TimeSpan.FromSeconds(_settings.CircuitBreakSeconds);
            using var blocked = new WriteSet(1024);
            ActivationLog.PutRun(blocked, sandbox, run);
            await Log.CommitAsync(blocked, cancellationToken).ConfigureAwait(false);
            Ran?.Invoke(sandbox, destination.Name, run);
            return run;
        }
        var source = Rebuild(sandbox, batch, worker);
        run.Received = source.Count;
        var records = Map(sandbox, destination, source, run);
        using var writes = new WriteSet(16 * 1024);
        var failure = await SendRecordsAsync(sandbox, destination, worker, run, records, $"{destination.Name}-{batch.RunId}", writes, cancellationToken).ConfigureAwait(false);
        run.FinishedAt = _time.GetUtcNow();
        if (failure is { Outcome: SendOutcome.Transient })
        {
            state.FailingSince ??= run.StartedAt;
            if (run.FinishedAt - state.FailingSince < TimeSpan.FromHours(_settings.DeadLetterAfterHours))
            {
                // Kept in flight: the same batch goes again (same key) once the destination recovers.
                run.Status = RunStatuses.Retrying;
                run.Error = failure.Error;
                worker.NotBefore = _waits.GetUtcNow() + (failure.RetryAfter ?? TimeSpan.FromSeconds(_settings.CircuitBreakSeconds));
                await Log.SaveStateAsync(sandbox, destination.Name, state, cancellationToken).ConfigureAwait(false);
                Ran?.Invoke(sandbox, destination.Name, run);
                return run;
            }
        }
        if (failure is not null)
        {
            DeadLetterRun(writes, sandbox, run, failure, records);
        }
        else
        {
            run.Status = RunStatuses.Delivered;
            Log.PutSent(writes, sandbox, destination.Name, records);
        }
        worker.NotBefore = default;
        if (batch.Kind == DeliveryKinds.Feed)
        {
            // The cursor first: a crash before the state is saved sends this batch again under the same key.
            await _memberships.SaveCursorAsync(sandbox, Consumer(destination.Name), batch.To, cancellationToken).ConfigureAwait(false);
        }
        else if (batch.Kind == DeliveryKinds.Backfill && state.Backfills.TryGetValue(batch.Audience!, out var progress))
        {
            progress.After = batch.Last;
        }
        state.InFlight = null;
        state.FailingSince = null;
        if (run.Received > 0)
        {
            // A stretch of the feed holding none of the destination's audiences moves the cursor without a run to show.
            ActivationLog.PutRun(writes, sandbox, run);
            Log.Trim(writes, sandbox, destination.Name, run.Id, _settings.MaxRunsKept);
        }
        ActivationLog.PutState(writes, sandbox, destination.Name, state);
        await Log.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        Ran?.Invoke(sandbox, destination.Name, run);
        return run;
    }

    /// <summary>Marks the run dead-lettered and puts the records it did not deliver in the dead-letter store (in <paramref name="writes"/>).</summary>
    private static void DeadLetterRun(WriteSet writes, string sandbox, DeliveryRun run, SendResult failure, List<DeliveryRecord> records)
    {
        run.Status = RunStatuses.DeadLettered;
        run.Error = failure.Error;
        run.Failed = records.Count - run.Activated;
        ActivationLog.PutDeadLetter(writes, sandbox, new DeadLetter
        {
            RunId = run.Id,
            Destination = run.Destination,
            At = run.FinishedAt,
            Error = failure.Error ?? "failed",
            Records = [.. records.Select(r => new DeadRecord(r.AudienceId, r.ProfileId, WebhookConnector.OperationName(r.Operation), r.Sequence))],
        });
    }

    /// <summary>
    /// Builds the connector's requests for <paramref name="records"/> and sends them in order, each
    /// audited once delivered; stops at the first failure and returns it (null when all were delivered).
    /// </summary>
    private async Task<SendResult?> SendRecordsAsync(string sandbox, Destination destination, DestinationWorker worker, DeliveryRun run,
        List<DeliveryRecord> records, string key, WriteSet writes, CancellationToken cancellationToken)
    {
        run.Audiences = [.. records.Select(r => r.AudienceId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var connector = ConnectorTypes.Http(destination.Connector)!;
        var context = new ConnectorContext(destination.Name, key, destination.Settings,
            destination.Audiences.Where(a => a.ExternalId is not null).ToDictionary(a => a.AudienceId, a => a.ExternalId!, StringComparer.Ordinal));
        var sender = worker.Sender(destination, _settings, _waits, _handler);
        var after = new List<OutgoingRequest>();
        if (connector is GoogleCustomerMatchConnector)
        {
            // Customer Match takes members through an offline user data job per list: created here
            // unless the settings name one, and run once the operations are added.
            var jobs = new Dictionary<string, string>(destination.Settings, StringComparer.Ordinal);
            var customer = context.Setting("customerId") ?? "";
            var version = context.Setting("apiVersion") ?? "v22";
            foreach (var list in records.Select(r => context.ExternalAudienceId(r.AudienceId)).Distinct(StringComparer.Ordinal))
            {
                if (context.Setting($"jobId:{list}") is not null || context.Setting("jobId") is not null)
                {
                    continue;
                }
                var created = await sender.SendAsync(GoogleCustomerMatchConnector.CreateJob(customer, list, version), $"{key}-job-{list}", cancellationToken, readBody: true).ConfigureAwait(false);
                run.Retried += created.Retries;
                run.Requests++;
                if (created.Outcome != SendOutcome.Delivered)
                {
                    return created;
                }
                var job = GoogleJobId(created.Body);
                if (job is null)
                {
                    return new SendResult(SendOutcome.Permanent, created.StatusCode, 0, $"the job create response names no job (resourceName): {HttpSender.Excerpt(created.Body ?? "")}", null);
                }
                jobs[$"jobId:{list}"] = job;
                after.Add(GoogleCustomerMatchConnector.RunJob(customer, job, version));
            }
            context = context with { Settings = jobs };
        }
        IReadOnlyList<OutgoingRequest> requests;
        if (connector is PlatformConnector platform)
        {
            // Records without a usable key (by the platform's rules) or superseded in the batch are counted, not sent.
            var build = platform.BuildWithReport(context, records);
            requests = build.Requests;
            foreach (var skipped in build.Skipped)
            {
                Exclude(run, skipped.Category);
                run.Error ??= skipped.Category == ExclusionReasons.Superseded ? null : skipped.Reason;
            }
        }
        else
        {
            requests = connector.Build(context, records);
        }
        requests = [.. requests, .. after];
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var requestKey = request.Headers.FirstOrDefault(h => h.Key == "Idempotency-Key").Value ?? (requests.Count == 1 ? key : $"{key}-{i}");
            var result = await sender.SendAsync(request, requestKey, cancellationToken).ConfigureAwait(false);
            run.Retried += result.Retries;
            run.Requests++;
            if (result.Outcome != SendOutcome.Delivered)
            {
                return result;
            }
            run.Activated += request.Records;
            ActivationLog.PutAudit(writes, sandbox, new DeliveryAudit
            {
                At = _time.GetUtcNow(),
                Destination = destination.Name,
                RunId = run.Id,
                Request = i,
                Audiences = run.Audiences,
                Records = request.Records,
                Identities = records.Sum(r => r.Keys.Count),
                PayloadSha256 = Convert.ToHexStringLower(SHA256.HashData(request.Body)),
                IdempotencyKey = requestKey,
                StatusCode = result.StatusCode,
            });
        }
        return null;
    }

    /// <summary>The job id at the end of a created job's <c>resourceName</c> (<c>customers/1/offlineUserDataJobs/42</c>).</summary>
    private static string? GoogleJobId(string? body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body ?? "");
            return document.RootElement.TryGetProperty("resourceName", out var name) && name.GetString() is { } text && text.LastIndexOf('/') is var slash and >= 0
                ? text[(slash + 1)..]
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The changes an in-flight batch holds, read again as when it was planned.</summary>
    private List<MembershipChange> Rebuild(string sandbox, InFlightBatch batch, DestinationWorker worker)
    {
        if (batch.Kind == DeliveryKinds.Feed)
        {
            return [.. _memberships.Read(sandbox, batch.From, (int)Math.Min(int.MaxValue, batch.To - batch.From)).Where(c => c.Sequence <= batch.To)];
        }
        return [.. BackfillMembers(sandbox, batch.Audience!, batch.From, batch.After, worker)
            .TakeWhile(m => string.CompareOrdinal(m.ProfileId, batch.Last) <= 0)
            .Select(m => new MembershipChange(0, sandbox, m.AudienceId, m.ProfileId, m.Identities, MembershipStatus.Realized, m.ChangedAt))];
    }

    /// <summary>
    /// The audience's members after profile <paramref name="after"/>, in profile order, but for those
    /// whose membership changed in the feed after <paramref name="since"/>: the feed sends that change,
    /// so the backfill does not send them twice.
    /// </summary>
    private IEnumerable<Membership> BackfillMembers(string sandbox, string audience, long since, string? after, DestinationWorker worker)
    {
        var changed = worker.ChangedSince(audience, since);
        var last = _memberships.LastSequence(sandbox);
        while (changed.UpTo < last)
        {
            var page = _memberships.Read(sandbox, changed.UpTo, 10_000);
            foreach (var change in page.Where(c => c.AudienceId == audience))
            {
                changed.Profiles.Add(change.ProfileId);
            }
            changed.UpTo = page.Count == 0 ? last : page[^1].Sequence;
        }
        return _memberships.Members(sandbox, audience)
            .Where(m => (after is null || string.CompareOrdinal(m.ProfileId, after) > 0) && !changed.Profiles.Contains(m.ProfileId));
    }

    /// <summary>
    /// Turns changes into the destination's records: only its activated audiences, erased changes
    /// skipped; identities and attributes mapped; adds without the consent the destination needs or
    /// without any mapped identity excluded and counted.
    /// </summary>
    /// <param name="refused">When given, the adds refused for consent are collected here (an update sends them as removals if they were sent before).</param>
    private List<DeliveryRecord> Map(string sandbox, Destination destination, List<MembershipChange> changes, DeliveryRun run, List<MembershipChange>? refused = null)
    {
        var activated = destination.Audiences.Select(a => a.AudienceId).ToHashSet(StringComparer.Ordinal);
        var consent = destination.Consent ?? ConnectorTypes.DefaultConsent(destination.Connector);
        var consentPath = consent == "none" ? null : _settings.ConsentFields[consent];
        var unknownIsYes = _settings.UnknownConsentIsYes(sandbox);
        var needsProfile = destination.Attributes.Count > 0 || consentPath is not null;
        var profiles = new Dictionary<(string, string), JsonObject?>();
        var records = new List<DeliveryRecord>(changes.Count);
        foreach (var change in changes)
        {
            if (change.ProfileId == MembershipStore.ErasedProfile || !activated.Contains(change.AudienceId))
            {
                run.Received--;
                continue;
            }
            var operation = change.Status == MembershipStatus.Exited ? DeliveryOperation.Remove : DeliveryOperation.Add;
            JsonObject? profile = null;
            if (needsProfile)
            {
                var policy = _audiences.Get(sandbox, change.AudienceId)?.MergePolicy;
                if (!profiles.TryGetValue((change.ProfileId, policy ?? ""), out profile))
                {
                    profile = IdentityKey.TryParse(change.ProfileId, out var identity)
                        ? _profiles.Lookup(sandbox, identity, policy, events: 0)?.Attributes
                        : null;
                    profiles[(change.ProfileId, policy ?? "")] = profile;
                }
            }
            if (operation == DeliveryOperation.Add && consentPath is not null && !Consents(Read(profile, consentPath), unknownIsYes))
            {
                if (refused is null)
                {
                    Exclude(run, ExclusionReasons.Consent);
                }
                else
                {
                    refused.Add(change);
                }
                continue;
            }
            var keys = MapIdentities(destination, change.Identities);
            if (keys.Count == 0)
            {
                Exclude(run, ExclusionReasons.MissingIdentity);
                continue;
            }
            var attributes = destination.Attributes.Count == 0
                ? []
                : destination.Attributes.Select(a => KeyValuePair.Create(a.Target, Hash(a, Read(profile, a.Source)))).ToList();
            var record = new DeliveryRecord(change.Sequence, change.AudienceId, change.ProfileId, operation, change.At, keys, attributes);
            // A member that stays in under other identities may already have been sent them by an update (the record
            // that linked them changed the profile too): the same keys and attributes again would be a second add.
            if (change.Status == MembershipStatus.Existing
                && Log.Sent(sandbox, destination.Name, change.AudienceId, change.ProfileId) == ActivationLog.Fingerprint(record))
            {
                Exclude(run, ExclusionReasons.Unchanged);
                continue;
            }
            records.Add(record);
        }
        return records;
    }

    private static List<MatchKey> MapIdentities(Destination destination, IReadOnlyList<string> identities)
    {
        var keys = new List<MatchKey>(identities.Count);
        foreach (var identity in identities)
        {
            var colon = identity.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var ns = identity.AsSpan(0, colon);
            foreach (var mapping in destination.Identities)
            {
                if (ns.SequenceEqual(mapping.Source))
                {
                    keys.Add(new MatchKey(mapping.Target, Hash(mapping, identity[(colon + 1)..])!));
                }
            }
        }
        return keys;
    }

    private static string? Hash(FieldMapping mapping, string? value) =>
        value is null || mapping.Hash != "sha256" ? value : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>The value at a dotted path of a nested profile, as text (null when absent or not a scalar).</summary>
    internal static string? Read(JsonObject? profile, string path)
    {
        JsonNode? node = profile;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject obj && obj.TryGetPropertyValue(part, out var child) ? child : null;
            if (node is null)
            {
                return null;
            }
        }
        return node is JsonValue value ? value.ToString() : null;
    }

    /// <summary>A consent value: true, y or yes consents; false, n or no refuses; anything else is unknown.</summary>
    internal static bool Consents(string? value, bool unknownIsYes) => value?.Trim().ToLowerInvariant() switch
    {
        "true" or "y" or "yes" => true,
        "false" or "n" or "no" => false,
        _ => unknownIsYes,
    };

    private static void Exclude(DeliveryRun run, string reason) =>
        run.Excluded[reason] = run.Excluded.GetValueOrDefault(reason) + 1;

    // ---------------------------------------------------------------- updates

    /// <summary>Profiles whose records changed since the last call (in memory), for <see cref="DeliverUpdatesAsync"/>.</summary>
    public IReadOnlyCollection<IdentityKey> TakeTouched(string sandbox) =>
        _touched.TryRemove(sandbox, out var touched) ? [.. touched.Keys] : [];

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<IdentityKey, byte>> _touched = new(StringComparer.Ordinal);

    /// <summary>Per sandbox, whether it has a streaming destination (record changes are collected only then); forgotten on every destination write.</summary>
    private readonly ConcurrentDictionary<string, bool> _sendsUpdates = new(StringComparer.Ordinal);

    public void OnCommitted(string sandbox, WriteSet committed)
    {
        // Ingestion's hot path: nothing is collected for a sandbox without a streaming destination.
        if (!_sendsUpdates.GetOrAdd(sandbox, s => Destinations.List(s).Any(d => ConnectorTypes.Http(d.Connector) is not null)))
        {
            return;
        }
        ConcurrentDictionary<IdentityKey, byte>? touched = null;
        for (var i = 0; i < committed.Count; i++)
        {
            var operation = committed[i];
            if (operation.Space == StoreSpace.Facts && operation.Key.Span[0] == FactKeys.RecordTag && FactKeys.TryParse(operation.Key.Span, out var key))
            {
                touched ??= _touched.GetOrAdd(sandbox, _ => new());
                touched.TryAdd(new IdentityKey(key.Identity.Namespace, key.Identity.Value), 0);
            }
        }
    }

    /// <summary>
    /// Sends what changed for current members among <paramref name="touched"/> profiles since they were
    /// last sent: their mapped identities or attributes (an <see cref="DeliveryOperation.Update"/>), or
    /// the withdrawal of the consent the destination needs (a <see cref="DeliveryOperation.Remove"/>;
    /// a later consent sends them again as an add). What was sent is known by a fingerprint per
    /// (audience, profile). Returns the run, or null when nothing changed.
    /// </summary>
    /// <remarks>
    /// A policy made after the destination was saved blocks its updates (a <see cref="RunStatuses.Blocked"/> run, the
    /// profiles kept) as it blocks its batches. Nothing is sent while the destination has a batch in flight (it came back retrying or blocked, or a crash
    /// interrupted it): the profiles are kept for a later round. That batch holds older changes of the same profiles (a
    /// feed add carries the identities the profile had when it joined), and sent after an update it would overwrite the
    /// newer state at the destination. Once it is delivered or dead-lettered, the update sends what differs from it.
    /// </remarks>
    public async Task<DeliveryRun?> DeliverUpdatesAsync(string sandbox, string name, IReadOnlyCollection<IdentityKey> touched, CancellationToken cancellationToken = default)
    {
        var worker = Worker(sandbox, name);
        await worker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var destination = Destinations.Require(sandbox, name);
            if (!destination.Enabled || ConnectorTypes.Http(destination.Connector) is null || touched.Count == 0)
            {
                return null;
            }
            var state = Log.State(sandbox, name);
            if (state.InFlight is not null)
            {
                worker.Hold(touched);
                return null;
            }
            var now = _time.GetUtcNow();
            if (Governance.Check(sandbox, destination) is { Count: > 0 } violations)
            {
                // A policy made after the destination was saved holds its updates as it holds its batches: nothing is
                // sent until it is resolved, the profiles kept for then.
                worker.Hold(touched);
                worker.NotBefore = _waits.GetUtcNow() + TimeSpan.FromSeconds(_settings.CircuitBreakSeconds);
                var blocked = new DeliveryRun
                {
                    Id = state.NextRun++,
                    Destination = name,
                    Kind = DeliveryKinds.Update,
                    Status = RunStatuses.Blocked,
                    Error = $"POLICY_VIOLATION: {string.Join(" and ", violations)}",
                    StartedAt = now,
                    FinishedAt = now,
                };
                using var held = new WriteSet(1024);
                ActivationLog.PutRun(held, sandbox, blocked);
                ActivationLog.PutState(held, sandbox, name, state);
                await Log.CommitAsync(held, cancellationToken).ConfigureAwait(false);
                Ran?.Invoke(sandbox, name, blocked);
                return blocked;
            }
            var changes = new List<MembershipChange>();
            var unsent = UnsentFeedProfiles(sandbox, destination);
            var waiting = new List<IdentityKey>();
            foreach (var group in touched.GroupBy(t => (_identity.GraphOf(sandbox, t)?.Primary ?? t).ToString(), StringComparer.Ordinal))
            {
                var profileId = group.Key;
                if (unsent is null || unsent.Contains(profileId))
                {
                    // Its feed change, older, goes first (with the next batch); sent now, the update would be followed by it.
                    waiting.AddRange(group);
                    continue;
                }
                var identities = IdentityKey.TryParse(profileId, out var primary) && _identity.GraphOf(sandbox, primary) is { } graph
                    ? graph.Identities.Select(i => i.ToString()).Order(StringComparer.Ordinal).ToList()
                    : [profileId];
                foreach (var activated in destination.Audiences)
                {
                    if (_memberships.Get(sandbox, activated.AudienceId, profileId) is { IsMember: true })
                    {
                        changes.Add(new MembershipChange(0, sandbox, activated.AudienceId, profileId, identities, MembershipStatus.Realized, now));
                    }
                }
            }
            var run = new DeliveryRun { Id = state.NextRun++, Destination = name, Kind = DeliveryKinds.Update, StartedAt = now, Received = changes.Count };
            var refused = new List<MembershipChange>();
            var records = new List<DeliveryRecord>();
            foreach (var record in Map(sandbox, destination, changes, run, refused))
            {
                var sent = Log.Sent(sandbox, name, record.AudienceId, record.ProfileId);
                if (sent != ActivationLog.Fingerprint(record))
                {
                    records.Add(record with { Operation = sent is null ? DeliveryOperation.Add : DeliveryOperation.Update });
                }
            }
            foreach (var withdrawn in refused)
            {
                if (Log.Sent(sandbox, name, withdrawn.AudienceId, withdrawn.ProfileId) is not null)
                {
                    records.Add(new DeliveryRecord(0, withdrawn.AudienceId, withdrawn.ProfileId, DeliveryOperation.Remove, now,
                        MapIdentities(destination, withdrawn.Identities), []));
                }
                Exclude(run, ExclusionReasons.Consent);
            }
            worker.Hold(waiting);
            if (records.Count == 0)
            {
                return null;
            }
            using var writes = new WriteSet(16 * 1024);
            var failure = await SendRecordsAsync(sandbox, destination, worker, run, records, $"{name}-{run.Id}", writes, cancellationToken).ConfigureAwait(false);
            run.FinishedAt = _time.GetUtcNow();
            run.Status = failure is null ? RunStatuses.Delivered : RunStatuses.DeadLettered;
            run.Error = failure?.Error;
            if (failure is { Outcome: SendOutcome.Transient })
            {
                // Updates are recomputed from the profiles: the same profiles are tried again next round.
                run.Status = RunStatuses.Retrying;
                worker.NotBefore = _waits.GetUtcNow() + (failure.RetryAfter ?? TimeSpan.FromSeconds(_settings.CircuitBreakSeconds));
                worker.Hold(touched);
            }
            else if (failure is null)
            {
                Log.PutSent(writes, sandbox, name, records);
            }
            else
            {
                // Refused for good: the changes wait in the dead-letter store.
                DeadLetterRun(writes, sandbox, run, failure, records);
            }
            ActivationLog.PutRun(writes, sandbox, run);
            ActivationLog.PutState(writes, sandbox, name, state);
            await Log.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            Ran?.Invoke(sandbox, name, run);
            return run;
        }
        finally
        {
            worker.Gate.Release();
        }
    }

    /// <summary>
    /// The profiles with feed changes of the destination's audiences that it has not been sent yet (after its cursor:
    /// younger than its batch's age, or not planned yet), or null when there are at least a batch of them, so that more
    /// may follow unread (then every update waits for the feed to be sent).
    /// </summary>
    private HashSet<string>? UnsentFeedProfiles(string sandbox, Destination destination)
    {
        var max = destination.Batching.MaxRecords;
        var pending = _memberships.Read(sandbox, _memberships.Cursor(sandbox, Consumer(destination.Name)) ?? 0, max);
        if (pending.Count >= max)
        {
            return null;
        }
        var activated = destination.Audiences.Select(a => a.AudienceId).ToHashSet(StringComparer.Ordinal);
        return pending.Where(c => activated.Contains(c.AudienceId)).Select(c => c.ProfileId).ToHashSet(StringComparer.Ordinal);
    }

    // ---------------------------------------------------------------- dead letters

    /// <summary>
    /// Sends the dead-lettered changes of a destination again as what is true now (a profile still in
    /// the audience is added, one that left is removed), so a replay never undoes a newer change; each
    /// replayed dead letter is removed once delivered. Returns the replay runs.
    /// </summary>
    public async Task<List<DeliveryRun>> ReplayAsync(string sandbox, string name, CancellationToken cancellationToken = default)
    {
        var worker = Worker(sandbox, name);
        var runs = new List<DeliveryRun>();
        foreach (var dead in Log.DeadLetters(sandbox, name))
        {
            await worker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var destination = Destinations.Require(sandbox, name);
                var state = Log.State(sandbox, name);
                var changes = dead.Records.Select(r => _memberships.Get(sandbox, r.AudienceId, r.ProfileId) is { } now
                        ? new MembershipChange(0, sandbox, r.AudienceId, r.ProfileId, now.Identities, now.Status, now.ChangedAt)
                        : null)
                    .OfType<MembershipChange>()
                    .ToList();
                var run = new DeliveryRun { Id = state.NextRun++, Destination = name, Kind = DeliveryKinds.Replay, StartedAt = _time.GetUtcNow(), Received = changes.Count };
                var records = Map(sandbox, destination, changes, run);
                using var writes = new WriteSet(4096);
                var error = (await SendRecordsAsync(sandbox, destination, worker, run, records, $"{name}-replay-{dead.RunId}", writes, cancellationToken).ConfigureAwait(false))?.Error;
                run.FinishedAt = _time.GetUtcNow();
                run.Status = error is null ? RunStatuses.Delivered : RunStatuses.DeadLettered;
                run.Error = error;
                run.Failed = error is null ? 0 : records.Count - run.Activated;
                if (error is null)
                {
                    ActivationLog.DeleteDeadLetter(writes, sandbox, name, dead.RunId);
                    Log.PutSent(writes, sandbox, name, records);
                }
                ActivationLog.PutRun(writes, sandbox, run);
                ActivationLog.PutState(writes, sandbox, name, state);
                await Log.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
                runs.Add(run);
            }
            finally
            {
                worker.Gate.Release();
            }
        }
        return runs;
    }

    // ---------------------------------------------------------------- background

    /// <summary>
    /// Delivers every enabled destination of every sandbox until cancelled: each streaming destination as its
    /// micro-batch policy says (a failing one after its retry delay), each file destination on its schedule.
    /// </summary>
    /// <remarks>
    /// Every <paramref name="poll"/>, each destination that is due and not already being delivered gets a pass of its
    /// own (its due batches in order, then its updates), up to <see cref="ActivationSettings.DeliveryParallelism"/> at
    /// once, least recently started first; the loop does not wait for them. So one destination's backoff, slow answers or
    /// long export hold up no other's, while each destination still sends one batch at a time, in order (its gate). A
    /// destination with a pass running keeps the profiles touched meanwhile for its next pass. Cancelled, the loop
    /// returns once every pass has stopped (what was in flight stays in flight).
    /// </remarks>
    public async Task RunAsync(TimeSpan poll, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(_settings.DeliveryParallelism);
        var passes = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                passes.RemoveAll(p => p.IsCompleted);
                var now = _waits.GetUtcNow();
                var due = new List<(string Sandbox, string Name, bool Streaming, DestinationWorker Worker)>();
                foreach (var sandbox in _catalog.ListSandboxes())
                {
                    var touched = TakeTouched(sandbox.Name);
                    foreach (var destination in Destinations.List(sandbox.Name).Where(d => d.Enabled))
                    {
                        var streaming = ConnectorTypes.Http(destination.Connector) is not null;
                        if (!streaming && destination.Connector != ConnectorTypes.File)
                        {
                            continue;
                        }
                        var worker = Worker(sandbox.Name, destination.Name);
                        if (streaming)
                        {
                            worker.Hold(touched); // for its next pass, whenever that is
                        }
                        if (worker.Pass.IsCompleted && worker.NotBefore <= now)
                        {
                            due.Add((sandbox.Name, destination.Name, streaming, worker));
                        }
                    }
                }
                foreach (var (sandbox, name, streaming, worker) in due.OrderBy(d => d.Worker.Started))
                {
                    if (!slots.Wait(0))
                    {
                        break; // the rest are due next round, before those that just had a turn
                    }
                    worker.Started = ++_passesStarted;
                    // Off the loop's thread (a pass maps and hashes before its first wait), and known as the worker's
                    // pass before it starts.
                    var pass = new Task<Task>(() => PassAsync(sandbox, name, streaming, worker, slots, cancellationToken));
                    worker.Pass = pass.Unwrap();
                    passes.Add(worker.Pass);
                    pass.Start(TaskScheduler.Default);
                }
                try
                {
                    await Task.Delay(poll, _waits, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await Task.WhenAll(passes).ConfigureAwait(false); // passes end on the token and never fault
        }
    }

    /// <summary>Passes <see cref="RunAsync"/> has started (orders the due destinations, least recently started first).</summary>
    private long _passesStarted;

    /// <summary>One destination's pass of <see cref="RunAsync"/>: its export if one is due, or its due batches and updates; then its slot is freed.</summary>
    private async Task PassAsync(string sandbox, string name, bool streaming, DestinationWorker worker, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            if (streaming)
            {
                await DeliverDueAsync(sandbox, name, worker, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ExportIfDueAsync(sandbox, name, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: what was in flight stays in flight.
        }
        catch (CatalogException) when (streaming)
        {
            // Deleted or redefined while delivering: the next round reads the catalog again.
        }
        catch (Exception error)
        {
            // The loop outlives one destination's failure; what was in flight stays in flight. An export is tried again
            // next round, a streaming destination after a circuit break.
            Failed?.Invoke(error);
            if (streaming)
            {
                worker.NotBefore = _waits.GetUtcNow() + TimeSpan.FromSeconds(_settings.CircuitBreakSeconds);
            }
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// Delivers a streaming destination's due batches, then its updates of the profiles touched since its last pass; a
    /// batch that comes back retrying or blocked ends the pass (its worker waits the delay out), the updates kept for later.
    /// </summary>
    private async Task DeliverDueAsync(string sandbox, string name, DestinationWorker worker, CancellationToken cancellationToken)
    {
        var touched = worker.TakeHeld();
        var done = false;
        try
        {
            while (await DeliverOnceAsync(sandbox, name, cancellationToken: cancellationToken).ConfigureAwait(false) is { } run)
            {
                if (run.Status is RunStatuses.Retrying or RunStatuses.Blocked)
                {
                    return; // updates wait behind the batch in flight (DeliverUpdatesAsync)
                }
            }
            if (touched.Count > 0)
            {
                await DeliverUpdatesAsync(sandbox, name, touched, cancellationToken).ConfigureAwait(false); // keeps what it cannot send
            }
            done = true;
        }
        finally
        {
            if (!done)
            {
                worker.Hold(touched);
            }
        }
    }

    /// <summary>The pass <see cref="RunAsync"/> is running for a destination (a completed task when none): for tests, to wait for it to end.</summary>
    internal Task DeliveryPass(string sandbox, string name) =>
        _workers.TryGetValue((sandbox, name), out var worker) ? worker.Pass : Task.CompletedTask;

    private DestinationWorker Worker(string sandbox, string name) => _workers.GetOrAdd((sandbox, name), _ => new DestinationWorker());

    private void Retire(string sandbox, string name)
    {
        if (_workers.TryGetValue((sandbox, name), out var worker))
        {
            worker.ResetSender();
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var worker in _workers.Values)
        {
            worker.ResetSender();
        }
        return default;
    }

    private sealed class ChangedProfiles
    {
        public long UpTo { get; set; }

        public HashSet<string> Profiles { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>One destination's turn-taking (one batch at a time), its HTTP sender with its circuit, and when it may try again.</summary>
    private sealed class DestinationWorker
    {
        private HttpSender? _sender;
        private int _senderVersion;

        private readonly HashSet<IdentityKey> _held = [];

        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Until when the delivery loop leaves the destination alone (a failure's retry delay, set under <see cref="Gate"/>).</summary>
        public DateTimeOffset NotBefore { get; set; }

        /// <summary>The delivery loop's pass over this destination (completed when none is running); set by the loop only.</summary>
        public Task Pass { get; set; } = Task.CompletedTask;

        /// <summary>When the loop last started a pass over it (in passes started), for turns when more are due than run at once.</summary>
        public long Started { get; set; }

        /// <summary>Keeps touched profiles for the destination's next update pass.</summary>
        public void Hold(IEnumerable<IdentityKey> touched)
        {
            lock (_held)
            {
                _held.UnionWith(touched);
            }
        }

        /// <summary>The profiles kept for the next update pass, now taken.</summary>
        public List<IdentityKey> TakeHeld()
        {
            lock (_held)
            {
                var taken = _held.ToList();
                _held.Clear();
                return taken;
            }
        }

        private readonly Dictionary<(string, long), ChangedProfiles> _changed = [];

        /// <summary>The profiles of an audience with feed changes after a sequence, as far as read so far (grown on demand).</summary>
        public ChangedProfiles ChangedSince(string audience, long since) =>
            _changed.TryGetValue((audience, since), out var known) ? known : _changed[(audience, since)] = new ChangedProfiles { UpTo = since };

        public HttpSender Sender(Destination destination, ActivationSettings settings, TimeProvider time, HttpMessageHandler? handler)
        {
            if (_sender is null || _senderVersion != destination.Version)
            {
                _sender?.Dispose();
                _sender = new HttpSender(destination, settings, time, handler);
                _senderVersion = destination.Version;
            }
            return _sender;
        }

        public void ResetSender()
        {
            _sender?.Dispose();
            _sender = null;
        }
    }
}

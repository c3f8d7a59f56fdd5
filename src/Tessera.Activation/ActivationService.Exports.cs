using System.Globalization;
using System.Security.Cryptography;
using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Activation.Files;
using Tessera.Segmentation;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;

namespace Tessera.Activation;

/// <summary>File destinations: exports on their schedule, full or incremental, resumable after a crash.</summary>
public sealed partial class ActivationService
{
    private const int ExportChunk = 10_000;

    /// <summary>
    /// When the destination's next export is due: <c>once</c> right away until it has run; <c>daily</c>
    /// at <c>at</c> UTC; every 3, 6, 8 or 12 hours counted from <c>at</c>. Null once a <c>once</c> export ran.
    /// </summary>
    public static DateTimeOffset? NextExport(ExportSchedule schedule, DateTimeOffset created, DateTimeOffset? lastRun)
    {
        if (schedule.Frequency == "once")
        {
            return lastRun is null ? created : null;
        }
        var period = schedule.Frequency == "daily" ? TimeSpan.FromDays(1) : TimeSpan.FromHours(int.Parse(schedule.Frequency.AsSpan(0, schedule.Frequency.Length - 1), CultureInfo.InvariantCulture));
        var at = TimeOnly.ParseExact(schedule.At, "HH:mm", CultureInfo.InvariantCulture).ToTimeSpan();
        var after = lastRun ?? created;
        // The first slot strictly after the last run (or, never run, at or after creation).
        var slot = new DateTimeOffset(after.UtcDateTime.Date, TimeSpan.Zero) + at - TimeSpan.FromDays(1);
        while (lastRun is null ? slot < after : slot <= after)
        {
            slot += period;
        }
        return slot;
    }

    /// <summary>
    /// Exports a file destination now: for each activated audience one run of files named by the run's
    /// time, every current member (full) or the net change of each profile since the previous export
    /// (incremental, with an <c>operation</c> column). An export a crash interrupted is finished first,
    /// under its own time, replacing what it had written. Returns the run.
    /// </summary>
    public async Task<DeliveryRun> ExportAsync(string sandbox, string name, CancellationToken cancellationToken = default)
    {
        var worker = Worker(sandbox, name);
        await worker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ExportLockedAsync(sandbox, name, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            worker.Gate.Release();
        }
    }

    /// <summary>
    /// Exports when the schedule says one is due or one was interrupted. Checked under the
    /// destination's gate: checked outside it, an export running right now (in flight, from another
    /// caller) looks interrupted, and would be run a second time once it finished.
    /// </summary>
    private async Task ExportIfDueAsync(string sandbox, string name, CancellationToken cancellationToken)
    {
        var worker = Worker(sandbox, name);
        await worker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Destinations.Get(sandbox, name) is { Enabled: true } destination && ExportDue(sandbox, destination))
            {
                await ExportLockedAsync(sandbox, name, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            worker.Gate.Release();
        }
    }

    private async Task<DeliveryRun> ExportLockedAsync(string sandbox, string name, CancellationToken cancellationToken)
    {
        var destination = Destinations.Require(sandbox, name);
        if (destination.Connector != Connectors.ConnectorTypes.File)
        {
            throw new CatalogException("DESTINATION_NOT_FILE", $"destination '{name}' is a {destination.Connector} destination; it delivers continuously (tessera destination deliver, POST .../deliver)");
        }
        var state = Log.State(sandbox, name);
        var incremental = destination.Schedule!.Mode == "incremental";
        if (state.InFlight is not { Kind: DeliveryKinds.Export })
        {
            var cursor = _memberships.Cursor(sandbox, Consumer(name)) ?? 0;
            state.InFlight = new InFlightBatch
            {
                RunId = state.NextRun++,
                Kind = DeliveryKinds.Export,
                From = cursor,
                To = _memberships.LastSequence(sandbox),
                // Whole seconds: the run's time names its files.
                StartedAt = DateTimeOffset.FromUnixTimeSeconds(_time.GetUtcNow().ToUnixTimeSeconds()),
            };
            await Log.SaveStateAsync(sandbox, name, state, cancellationToken).ConfigureAwait(false);
        }
        var batch = state.InFlight;
        var run = new DeliveryRun
        {
            Id = batch.RunId,
            Destination = name,
            Kind = DeliveryKinds.Export,
            StartedAt = batch.StartedAt,
            FeedFrom = incremental ? batch.From : null,
            FeedTo = incremental ? batch.To : null,
        };
        if (Governance.Check(sandbox, destination) is { Count: > 0 } violations)
        {
            run.Status = RunStatuses.Blocked;
            run.Error = $"POLICY_VIOLATION: {string.Join(" and ", violations)}";
            run.FinishedAt = _time.GetUtcNow();
            using var blocked = new WriteSet(1024);
            ActivationLog.PutRun(blocked, sandbox, run);
            await Log.CommitAsync(blocked, cancellationToken).ConfigureAwait(false);
            return run;
        }
        var columns = DestinationCatalog.ExportColumns(destination);
        var exporter = new FileExporter();
        using var writes = new WriteSet(16 * 1024);
        var request = 0;
        foreach (var activated in destination.Audiences)
        {
            var records = incremental
                ? IncrementalRecords(sandbox, destination, activated.AudienceId, batch, run)
                : FullRecords(sandbox, destination, activated.AudienceId, run);
            var result = await exporter.ExportAsync(name, activated.AudienceId, batch.StartedAt, columns, records, destination.File!, cancellationToken).ConfigureAwait(false);
            run.Activated += result.RowsWritten;
            run.Audiences.Add(activated.AudienceId);
            foreach (var (reason, count) in result.Excluded)
            {
                run.Excluded[reason == ExportExclusionReasons.MandatoryAttribute ? ExclusionReasons.MandatoryAttribute : reason] =
                    run.Excluded.GetValueOrDefault(reason) + count;
            }
            foreach (var file in result.Files)
            {
                await using var stream = File.OpenRead(file.Path);
                ActivationLog.PutAudit(writes, sandbox, new DeliveryAudit
                {
                    At = _time.GetUtcNow(),
                    Destination = name,
                    RunId = run.Id,
                    Request = request++,
                    Audiences = [activated.AudienceId],
                    Records = (int)Math.Min(int.MaxValue, file.Rows),
                    Identities = (int)Math.Min(int.MaxValue, file.Rows),
                    PayloadSha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false)),
                    IdempotencyKey = $"{name}-{run.Id}",
                    File = file.Name,
                });
            }
        }
        run.Requests = request;
        run.Status = RunStatuses.Delivered;
        run.FinishedAt = _time.GetUtcNow();
        // The cursor first (as for feed batches): a crash before the state is saved exports the same run again.
        await _memberships.SaveCursorAsync(sandbox, Consumer(name), batch.To, cancellationToken).ConfigureAwait(false);
        state.InFlight = null;
        foreach (var activated in destination.Audiences)
        {
            state.LastExports[activated.AudienceId] = batch.StartedAt;
        }
        ActivationLog.PutRun(writes, sandbox, run);
        ActivationLog.PutState(writes, sandbox, name, state);
        await Log.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        Ran?.Invoke(sandbox, name, run);
        return run;
    }

    /// <summary>Whether a file destination's schedule says an export is due now (or one was interrupted).</summary>
    public bool ExportDue(string sandbox, Destination destination)
    {
        var state = Log.State(sandbox, destination.Name);
        if (state.InFlight is { Kind: DeliveryKinds.Export })
        {
            return true;
        }
        DateTimeOffset? last = state.LastExports.Count == 0 ? null : state.LastExports.Values.Min();
        return NextExport(destination.Schedule!, destination.CreatedAt, last) is { } due && due <= _time.GetUtcNow();
    }

    /// <summary>Every current member of the audience, mapped, read in chunks (never the whole audience in memory).</summary>
    private IEnumerable<DeliveryRecord> FullRecords(string sandbox, Destination destination, string audience, DeliveryRun run)
    {
        var chunk = new List<MembershipChange>(ExportChunk);
        foreach (var member in _memberships.Members(sandbox, audience))
        {
            chunk.Add(new MembershipChange(0, sandbox, member.AudienceId, member.ProfileId, member.Identities, MembershipStatus.Realized, member.ChangedAt));
            if (chunk.Count == ExportChunk)
            {
                run.Received += chunk.Count;
                foreach (var record in Map(sandbox, destination, chunk, run))
                {
                    yield return record;
                }
                chunk.Clear();
            }
        }
        run.Received += chunk.Count;
        foreach (var record in Map(sandbox, destination, chunk, run))
        {
            yield return record;
        }
    }

    /// <summary>The net change of each profile of the audience in the batch's feed range: its last change.</summary>
    private IEnumerable<DeliveryRecord> IncrementalRecords(string sandbox, Destination destination, string audience, InFlightBatch batch, DeliveryRun run)
    {
        var last = new Dictionary<string, MembershipChange>(StringComparer.Ordinal);
        var after = batch.From;
        while (after < batch.To)
        {
            var page = _memberships.Read(sandbox, after, ExportChunk);
            if (page.Count == 0)
            {
                break;
            }
            foreach (var change in page.Where(c => c.Sequence <= batch.To && c.AudienceId == audience))
            {
                last[change.ProfileId] = change;
            }
            after = page[^1].Sequence;
        }
        var changes = last.Values.OrderBy(c => c.Sequence).ToList();
        run.Received += changes.Count;
        return Map(sandbox, destination, changes, run);
    }
}

using Cronos;

namespace Tessera.Server;

/// <summary>
/// Runs the engines on their schedules (docs/segmentation.md): the batch engine over every profile
/// at <c>segmentation.batchSchedule</c> (cron, UTC; daily at midnight by default), followed by the
/// membership retention purge; and every <c>segmentation.incrementalIntervalMinutes</c> the batch-mode
/// audiences over the profiles whose facts changed since the last incremental run.
/// </summary>
public sealed class SegmentationScheduleService(Workspace workspace, ILogger<SegmentationScheduleService> logger) : BackgroundService
{
    private readonly TimeProvider _time = workspace.Catalog.Time;

    /// <summary>Raised after each scheduled pass (for tests and monitoring): true for a full batch run, false for an incremental one.</summary>
    public event Action<bool>? Ran;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = workspace.Config.Segmentation;
        var schedule = CronExpression.Parse(settings.BatchSchedule);
        var interval = settings.IncrementalIntervalMinutes > 0 ? TimeSpan.FromMinutes(settings.IncrementalIntervalMinutes) : (TimeSpan?)null;
        var now = _time.GetUtcNow();
        var nextBatch = schedule.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc) is { } first ? new DateTimeOffset(first, TimeSpan.Zero) : (DateTimeOffset?)null;
        var nextIncremental = now + interval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var due = Earliest(nextBatch, nextIncremental);
            if (due is null)
            {
                return;
            }
            var wait = due.Value - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(false);
            }
            now = _time.GetUtcNow();
            if (nextBatch is { } batch && batch <= now)
            {
                await EverySandboxAsync("batch run", async sandbox =>
                {
                    await workspace.Batch.RunAsync(sandbox, null, stoppingToken).ConfigureAwait(false);
                    await workspace.Memberships.PurgeAsync(sandbox, now, stoppingToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
                nextBatch = schedule.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : null;
                Ran?.Invoke(true);
            }
            if (nextIncremental is { } incremental && incremental <= now)
            {
                await EverySandboxAsync("incremental run", async sandbox =>
                {
                    var changed = workspace.Streaming?.TakeChanged(sandbox) ?? [];
                    if (changed.Count > 0)
                    {
                        await workspace.Batch.RunIncrementalAsync(sandbox, changed, stoppingToken).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
                nextIncremental = now + interval;
                Ran?.Invoke(false);
            }
        }
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    private async Task EverySandboxAsync(string what, Func<string, Task> run)
    {
        foreach (var sandbox in workspace.Catalog.ListSandboxes())
        {
            try
            {
                await run(sandbox.Name).ConfigureAwait(false);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                logger.LogError(error, "The scheduled {What} of sandbox {Sandbox} failed; the next one tries again", what, sandbox.Name);
            }
        }
    }
}

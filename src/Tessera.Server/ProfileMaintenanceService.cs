namespace Tessera.Server;

/// <summary>
/// Deletes events past their dataset's TTL from the store every <c>profiles.expiryIntervalMinutes</c>
/// (profile views leave them out as soon as they expire; this frees the space).
/// </summary>
internal sealed class ProfileMaintenanceService(Workspace workspace, ILogger<ProfileMaintenanceService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var minutes = workspace.Config.Profiles.ExpiryIntervalMinutes;
        if (minutes <= 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(minutes), workspace.Catalog.Time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var sandbox in workspace.Catalog.ListSandboxes())
            {
                try
                {
                    var report = await workspace.Profiles.ExpireAsync(sandbox.Name, stoppingToken);
                    if (report.EventsExpired > 0)
                    {
                        logger.LogInformation("Expired {Events} events of sandbox {Sandbox}", report.EventsExpired, sandbox.Name);
                    }
                    if (report.DatasetsWithInvalidTtl is { } invalid)
                    {
                        logger.LogWarning("Sandbox {Sandbox}: events of {Datasets} are kept, not expired: their stored event TTL is out of bounds; set a valid one",
                            sandbox.Name, string.Join("; ", invalid));
                    }
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    logger.LogError(error, "Expiring events of sandbox {Sandbox} failed; the next pass tries again", sandbox.Name);
                }
            }
        }
    }
}

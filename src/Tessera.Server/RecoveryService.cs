namespace Tessera.Server;

/// <summary>
/// Derives the identity graphs, finishes file batches that a crash interrupted (<see cref="Tessera.Ingestion.IngestionService.RecoverAsync"/>)
/// and runs again the privacy requests it left processing (<see cref="Tessera.Profiles.Privacy.PrivacyService.RecoverAsync"/>)
/// while the host is starting: lifecycle "starting" hooks run before any hosted service starts,
/// Kestrel included, so the server listens only once recovery is done.
/// </summary>
internal sealed class RecoveryService(Workspace workspace, ILogger<RecoveryService> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        // The identity graphs are derived from the ledger now, not in the first request that needs them.
        workspace.Identity.EnsureLoaded();
        try
        {
            var recovered = await workspace.Ingestion.RecoverAsync(cancellationToken);
            foreach (var batch in recovered)
            {
                logger.LogInformation("Recovered batch {Batch} ({Sandbox}/{Dataset}): {Status}", batch.Id, batch.Sandbox, batch.Dataset, batch.Status);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // A batch that cannot be finished must not keep the whole server from starting; it
            // stays unfinished (and is tried again at the next start) and the log says why.
            logger.LogError(error, "Recovering interrupted batches failed; the server starts anyway and retries at the next start");
        }
        try
        {
            // After the batches: a re-run batch may have stored facts of a person whose deletion was interrupted.
            foreach (var request in await workspace.Privacy.RecoverAsync(cancellationToken))
            {
                logger.LogInformation("Re-ran privacy request {Request} ({Sandbox}, {Type}): {Status}", request.Id, request.Sandbox, request.Type, request.Status);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogError(error, "Re-running interrupted privacy requests failed; the server starts anyway and retries at the next start");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

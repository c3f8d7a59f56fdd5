namespace Tessera.Server;

/// <summary>Delivers the streaming destinations of every sandbox in the background while the server runs (docs/destinations.md).</summary>
internal sealed class ActivationDeliveryService(Workspace workspace) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        workspace.Activation.RunAsync(TimeSpan.FromMilliseconds(workspace.Config.Activation.PollMilliseconds), stoppingToken);
}

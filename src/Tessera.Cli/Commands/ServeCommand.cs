using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tessera.Server;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera serve</c>: the HTTP API over the workspace until stopped.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string[]>("--urls")
        {
            Description = "Addresses to listen on (loopback by default; port 0 picks a free port)",
            DefaultValueFactory = _ => ["http://127.0.0.1:5080"],
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("serve", "Start the HTTP API (finishes interrupted batches first)") { urls };
        command.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            await using var app = TesseraServer.Build(context.Workspace, parse.GetValue(urls)!);
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (Exception error) when (error is IOException or System.Net.Sockets.SocketException or FormatException)
            {
                // Kestrel's: a port in use, an address not on this machine, a URL that is not one. The
                // background services started before the bind failed: stop them before the workspace
                // under them is closed.
                await app.StopAsync(CancellationToken.None);
                return CommandExtensions.Fail("SERVE_ADDRESS_INVALID", $"cannot listen on {string.Join(", ", parse.GetValue(urls)!)}: {error.Message}");
            }
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses)
            {
                // Tests and scripts wait for this exact line.
                Console.Out.WriteLine($"Tessera listening on {address}");
            }
            await Console.Out.FlushAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return ExitCodes.Ok;
        });
        return command;
    }
}

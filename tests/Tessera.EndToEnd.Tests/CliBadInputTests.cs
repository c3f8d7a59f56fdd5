using System.Net;
using System.Net.Sockets;

namespace Tessera.EndToEnd.Tests;

/// <summary>
/// Bad arguments and files given to the real <c>tessera</c> command line: each is a named error on
/// stderr with exit 1, never an unhandled exception's stack trace.
/// </summary>
public sealed class CliBadInputTests() : CliWorkspaceTest("bad-input")
{
    private static void NoStackTrace(CliProcess.Result run)
    {
        Assert.DoesNotContain("Unhandled exception", run.Errors);
        Assert.DoesNotContain("   at ", run.Errors);
    }

    [Fact]
    public async Task Data_naming_a_file_is_WORKSPACE_INVALID()
    {
        var file = Write("not-a-folder", "x");

        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "--data", file, "batch", "list");

        Assert.Equal(1, run.ExitCode);
        NoStackTrace(run);
        Assert.Contains($"WORKSPACE_INVALID: workspace '{file}' is a file, not a directory", run.Errors);
    }

    [Fact]
    public async Task A_workspace_held_by_a_running_server_is_WORKSPACE_IN_USE()
    {
        using var server = await ServerProcess.StartAsync(Data, TestContext.Current.CancellationToken);

        var run = await RunAsync("batch", "list");

        Assert.Equal(1, run.ExitCode);
        NoStackTrace(run);
        Assert.Contains("WORKSPACE_IN_USE: workspace", run.Errors);
        Assert.Contains("is open in another process", run.Errors);
    }

    [Fact]
    public async Task Serve_on_an_address_in_use_is_SERVE_ADDRESS_INVALID()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var run = await RunAsync("serve", "--urls", url);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"SERVE_ADDRESS_INVALID: cannot listen on {url}", run.Errors);
        Assert.DoesNotContain("Unhandled exception", run.Errors);
    }
}

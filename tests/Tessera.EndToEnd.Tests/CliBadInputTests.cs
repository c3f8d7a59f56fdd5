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
    public async Task A_directory_given_for_a_file_is_named_as_one()
    {
        // Each threw UnauthorizedAccessException ("Access to the path is denied") unhandled.
        var folder = Directory.CreateDirectory(Path.Combine(Folder, "a-folder")).FullName;
        var links = Write("links.txt", "CRMID:tom, ECID:111\n");

        var schema = await RunAsync("schema", "register", folder);
        var simulate = await RunAsync("identity", "simulate", folder);
        var rules = await RunAsync("identity", "simulate", links, "--rules", folder);
        var dot = await RunAsync("identity", "simulate", links, "--dot", folder);
        var rulesSet = await RunAsync("identity", "rules", "set", folder);

        foreach (var (run, code) in new[] { (schema, "SCHEMA_INVALID"), (simulate, "FILE_UNREADABLE"), (rules, "FILE_UNREADABLE"), (dot, "FILE_UNREADABLE"), (rulesSet, "FILE_UNREADABLE") })
        {
            Assert.Equal(1, run.ExitCode);
            NoStackTrace(run);
            Assert.Contains($"{code}: {folder} is a directory, not a file", run.Errors);
        }
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

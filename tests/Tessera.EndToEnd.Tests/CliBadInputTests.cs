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
    public async Task A_truncated_gz_a_null_schema_member_and_a_negative_numeric_id_are_refused_by_name()
    {
        var schema = Write("crm.json", """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}}}}""");
        var nullFields = Write("nulls.json", """{"name":"nulls","class":"profile","fields":null}""");
        await SucceedAsync("schema", "register", schema);
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes("crmId\n" + string.Concat(Enumerable.Range(1, 1_000).Select(i => $"c{i}\n"))));
        }
        var cut = Path.Combine(Folder, "crm.csv.gz");
        await File.WriteAllBytesAsync(cut, buffer.ToArray()[..^4], TestContext.Current.CancellationToken);

        var ingest = await RunAsync("ingest", "--dataset", "crm", cut);
        var nulls = await RunAsync("schema", "register", nullFields);
        var numeric = await RunAsync("identity", "namespace", "create", "Store", "--type", "cross-device", "--numeric-id", "-5");

        foreach (var run in new[] { ingest, nulls, numeric })
        {
            Assert.Equal(1, run.ExitCode);
            NoStackTrace(run);
        }
        Assert.Contains("FILE_UNREADABLE: file 'crm.csv.gz' cannot be read as gzip-compressed csv: it ends early, after row 1000", ingest.Errors);
        Assert.Contains("SCHEMA_INVALID: schema 'nulls': 'fields' is null", nulls.Errors);
        Assert.Contains("NAMESPACE_INVALID: namespace 'Store': numeric id -5 must be a positive integer", numeric.Errors);
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

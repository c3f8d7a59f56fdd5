namespace Tessera.EndToEnd.Tests;

/// <summary>
/// A test that runs the real <c>tessera</c> command line against a workspace of its own, in a
/// temporary folder deleted afterwards (<c>Data</c> is the workspace; files go beside it).
/// </summary>
public abstract class CliWorkspaceTest(string name) : IDisposable
{
    protected string Folder { get; } = Directory.CreateTempSubdirectory($"tessera-{name}-").FullName;

    protected string Data => Path.Combine(Folder, "data");

    public void Dispose()
    {
        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs <c>tessera --data Data arguments</c>, whatever its exit code.</summary>
    protected Task<CliProcess.Result> RunAsync(params string[] arguments) =>
        CliProcess.RunAsync(TestContext.Current.CancellationToken, ["--data", Data, .. arguments]);

    /// <summary>Runs the command and fails the test unless it exits 0.</summary>
    protected async Task<CliProcess.Result> SucceedAsync(params string[] arguments)
    {
        var run = await RunAsync(arguments);
        Assert.True(run.ExitCode == 0, $"tessera {string.Join(' ', arguments)}: {run.Errors}");
        return run;
    }

    /// <summary>Runs the command, which must be refused (exit 1); returns what it wrote to stderr.</summary>
    protected async Task<string> RefusedAsync(params string[] arguments)
    {
        var run = await RunAsync(arguments);
        Assert.True(run.ExitCode == 1, $"tessera {string.Join(' ', arguments)}: exit {run.ExitCode} {run.Output}");
        return run.Errors;
    }

    /// <summary>Writes a file beside the workspace and returns its path.</summary>
    protected string Write(string fileName, string content)
    {
        var path = Path.Combine(Folder, fileName);
        File.WriteAllText(path, content);
        return path;
    }
}

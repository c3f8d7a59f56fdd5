namespace Tessera.Conformance.Tests;

/// <summary>
/// Finds the public datasets in <c>../shared/datasets</c> beside the repository (never copied into
/// it). When a file is missing the test is skipped, except under <c>CI=true</c>, where it fails
/// loudly: a CI run must not pass by silently testing nothing.
/// </summary>
public static class SharedDatasets
{
    public static string Directory { get; } = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "datasets"));

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The full path of a dataset file; skips (or, under CI, fails) when it is missing.</summary>
    public static string Require(string relativePath)
    {
        var (path, outcome, message) = Check(Directory, relativePath, IsCi);
        switch (outcome)
        {
            case Outcome.Fail:
                Assert.Fail(message);
                break;
            case Outcome.Skip:
                Assert.Skip(message);
                break;
        }
        return path;
    }

    public enum Outcome
    {
        Present,
        Skip,
        Fail,
    }

    /// <summary>What a test needing <paramref name="relativePath"/> should do (kept apart from xunit so it can be tested).</summary>
    public static (string Path, Outcome Outcome, string Message) Check(string datasetsDirectory, string relativePath, bool ci)
    {
        var path = Path.Combine(datasetsDirectory, relativePath);
        if (File.Exists(path))
        {
            return (path, Outcome.Present, "");
        }
        var message = $"conformance data '{path}' is missing; the shared datasets belong in ../shared/datasets beside the repository (see its README.md)";
        return ci
            ? (path, Outcome.Fail, message + ". CI=true: conformance tests must run against the real files, so this is a failure, not a skip.")
            : (path, Outcome.Skip, message);
    }

    /// <summary>The folder holding Tessera.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tessera.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no Tessera.sln above {AppContext.BaseDirectory}");
    }
}

using Microsoft.Extensions.Time.Testing;
using Tessera.Server;

namespace Tessera.Ingestion.Tests;

/// <summary>A workspace in a fresh temporary folder with a fake clock; deleted on dispose.</summary>
public sealed class TestWorkspace : IAsyncDisposable
{
    private TestWorkspace(string directory, FakeTimeProvider time, Workspace workspace)
    {
        Directory = directory;
        Time = time;
        Workspace = workspace;
    }

    public string Directory { get; }

    public FakeTimeProvider Time { get; }

    public Workspace Workspace { get; private set; }

    public static async Task<TestWorkspace> CreateAsync(string? config = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tessera-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (config is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), config);
        }
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        return new TestWorkspace(directory, time, await Workspace.OpenAsync(directory, time));
    }

    /// <summary>Closes and reopens the store, as a restart would.</summary>
    public async Task ReopenAsync()
    {
        Workspace.Dispose();
        Workspace = await Workspace.OpenAsync(Directory, Time);
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    public ValueTask DisposeAsync()
    {
        Workspace.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
        return ValueTask.CompletedTask;
    }
}

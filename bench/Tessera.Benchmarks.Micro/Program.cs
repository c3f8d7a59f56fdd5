using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Tessera.Benchmarks.Micro;

/// <summary>
/// Micro benchmarks of the hot paths of each stage (ingestion, identity, PQL, hashing and activation,
/// profiles; BENCHMARKS.md, "Micro benchmarks"). Run all with
/// <c>dotnet run -c Release --project bench/Tessera.Benchmarks.Micro -- --filter '*'</c>;
/// reports go under the build output (<c>bin/</c>), never into the source tree.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args,
        DefaultConfig.Instance.WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts")));
}

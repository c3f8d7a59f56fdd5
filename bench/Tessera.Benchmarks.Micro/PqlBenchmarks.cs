using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Tessera.Bench;
using Tessera.Pql.Binding;
using Tessera.Pql.Classification;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Benchmarks.Micro;

/// <summary>The audiences of the end-to-end runner's PQL group, by name (profiles: <see cref="BenchInputs.Profile"/>).</summary>
internal static class PqlFixtures
{
    public static readonly Dictionary<string, string> Audiences = new(StringComparer.Ordinal)
    {
        ["attributes"] = BenchInputs.AttributeOnly,
        ["eventWindow"] = BenchInputs.EventWindow,
        ["eventCount"] = BenchInputs.EventCount,
        ["funnel"] = BenchInputs.Funnel,
    };
}

/// <summary>A clock that always says <see cref="BenchInputs.Now"/>, for the interpreter's <c>now</c>.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>
/// Evaluating one audience on one profile (100 events), compiled beside the reference interpreter
/// (on the profile's JSON), over 8 generated profiles in turn, as the streaming and edge engines meet
/// the profile an event just touched; each figure per profile.
/// </summary>
[MemoryDiagnoser]
public class PqlEvaluationBenchmarks
{
    private const int Profiles = 8;

    private readonly FixedClock _clock = new(BenchInputs.Now);
    private JsonObject[] _json = null!;
    private PqlProfile[] _profiles = null!;
    private PqlNode _tree = null!;
    private CompiledExpression _compiled = null!;

    [Params("attributes", "eventWindow", "eventCount", "funnel")]
    public string Audience { get; set; } = "attributes";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_261_128);
        _json = [.. Enumerable.Range(0, Profiles).Select(_ => BenchInputs.Profile(random))];
        _profiles = [.. _json.Select(p => PqlProfile.FromJson(p))];
        _tree = Parser.Parse(PqlFixtures.Audiences[Audience]);
        _compiled = PqlCompiler.Compile(_tree);
        for (var i = 0; i < Profiles; i++)
        {
            if ((Interpreter.Evaluate(_tree, _json[i], _clock) is true) != _compiled.Matches(_profiles[i], BenchInputs.Now))
            {
                throw new InvalidOperationException($"{Audience}: compiled and interpreted disagree on profile {i}");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Profiles)]
    public int Interpreted()
    {
        var members = 0;
        for (var i = 0; i < _json.Length; i++)
        {
            members += Interpreter.Evaluate(_tree, _json[i], _clock) is true ? 1 : 0;
        }
        return members;
    }

    [Benchmark(OperationsPerInvoke = Profiles)]
    public int Compiled()
    {
        var members = 0;
        for (var i = 0; i < _profiles.Length; i++)
        {
            members += _compiled.Matches(_profiles[i], BenchInputs.Now) ? 1 : 0;
        }
        return members;
    }
}

/// <summary>
/// What comes before evaluation: preparing a typical audience (parse, check against the profile's
/// types, classify, compile) beside parsing alone, and converting one profile (100 events) from JSON
/// to the compiled evaluator's values, which the engines do once per profile change.
/// </summary>
[MemoryDiagnoser]
public class PqlPrepareBenchmarks
{
    private JsonObject _profile = null!;
    private ObjectType _type = null!;

    [GlobalSetup]
    public void Setup()
    {
        _profile = BenchInputs.Profile(new Random(20_261_128));
        _type = PqlTypes.FromSample(_profile);
        _ = Prepare();
    }

    [Benchmark]
    public PqlNode Parse() => Parser.Parse(BenchInputs.Typical);

    [Benchmark]
    public CompiledExpression Prepare()
    {
        var tree = Parser.Parse(BenchInputs.Typical);
        var check = Binder.Check(tree, _type);
        if (check.Errors.Count > 0)
        {
            throw new InvalidOperationException(check.Errors[0].Message);
        }
        _ = EvaluationModeClassifier.Classify(tree);
        return PqlCompiler.Compile(tree);
    }

    [Benchmark]
    public PqlProfile ConvertProfile() => PqlProfile.FromJson(_profile);
}

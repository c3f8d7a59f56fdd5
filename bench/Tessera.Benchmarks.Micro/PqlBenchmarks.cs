using System.Globalization;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Tessera.Pql.Binding;
using Tessera.Pql.Classification;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Benchmarks.Micro;

/// <summary>Generated retail profiles and the audiences of the end-to-end runner's PQL group.</summary>
internal static class PqlFixtures
{
    public static readonly DateTimeOffset Now = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);

    public const string Typical = """
        homeAddress.countryCode = "US" and loyalty.tier in ["gold", "platinum"] and person.birthYear < 1990
          and chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.productViews") WHEN(< 24 hours before now)])
        """;

    public static readonly Dictionary<string, string> Audiences = new(StringComparer.Ordinal)
    {
        ["attributes"] = """homeAddress.countryCode = "US" and loyalty.tier in ["gold", "platinum"] and person.birthYear < 1990""",
        ["eventWindow"] = """chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.purchases") WHEN(< 24 hours before now)])""",
        ["eventCount"] = """count(xEvent[eventType = "commerce.productViews" and timestamp occurs < 24 hours before now]) >= 3""",
    };

    private static readonly string[] EventTypes = ["commerce.productViews", "web.webpagedetails.pageViews", "commerce.productListAdds", "commerce.purchases"];
    private static readonly string[] Tiers = ["bronze", "silver", "gold", "platinum"];

    /// <summary>A retail profile: address, loyalty, person, and 100 events over the last three days, oldest first.</summary>
    public static JsonObject Profile(Random random)
    {
        var events = new JsonArray();
        var times = Enumerable.Range(0, 100).Select(_ => Now.AddMinutes(-random.Next(3 * 24 * 60))).Order().ToArray();
        foreach (var time in times)
        {
            events.Add(new JsonObject
            {
                ["_id"] = $"e{random.Next():x8}",
                ["eventType"] = random.Next(50) == 0 ? "commerce.purchases" : EventTypes[random.Next(3)],
                ["timestamp"] = time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["web"] = new JsonObject { ["webPageDetails"] = new JsonObject { ["name"] = $"page{random.Next(40)}" } },
            });
        }
        return new JsonObject
        {
            ["crmId"] = $"c{random.Next()}",
            ["person"] = new JsonObject { ["name"] = new JsonObject { ["firstName"] = "Ann", ["lastName"] = "Lee" }, ["birthYear"] = random.Next(1940, 2008) },
            ["homeAddress"] = new JsonObject { ["countryCode"] = random.Next(3) == 0 ? "CA" : "US", ["city"] = "Springfield", ["postalCode"] = "12345" },
            ["loyalty"] = new JsonObject { ["tier"] = Tiers[random.Next(4)], ["points"] = random.Next(10_000) },
            ["consents"] = new JsonObject { ["email"] = "y", ["sms"] = "n" },
            ["xEvent"] = events,
        };
    }
}

/// <summary>A clock that always says <see cref="PqlFixtures.Now"/>, for the interpreter's <c>now</c>.</summary>
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

    private readonly FixedClock _clock = new(PqlFixtures.Now);
    private JsonObject[] _json = null!;
    private PqlProfile[] _profiles = null!;
    private PqlNode _tree = null!;
    private CompiledExpression _compiled = null!;

    [Params("attributes", "eventWindow", "eventCount")]
    public string Audience { get; set; } = "attributes";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_261_128);
        _json = [.. Enumerable.Range(0, Profiles).Select(_ => PqlFixtures.Profile(random))];
        _profiles = [.. _json.Select(p => PqlProfile.FromJson(p))];
        _tree = Parser.Parse(PqlFixtures.Audiences[Audience]);
        _compiled = PqlCompiler.Compile(_tree);
        for (var i = 0; i < Profiles; i++)
        {
            if ((Interpreter.Evaluate(_tree, _json[i], _clock) is true) != _compiled.Matches(_profiles[i], PqlFixtures.Now))
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
            members += _compiled.Matches(_profiles[i], PqlFixtures.Now) ? 1 : 0;
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
        _profile = PqlFixtures.Profile(new Random(20_261_128));
        _type = PqlTypes.FromSample(_profile);
        _ = Prepare();
    }

    [Benchmark]
    public PqlNode Parse() => Parser.Parse(PqlFixtures.Typical);

    [Benchmark]
    public CompiledExpression Prepare()
    {
        var tree = Parser.Parse(PqlFixtures.Typical);
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

using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>
/// Every documented example, evaluated by both engines on one profile built to test them
/// (<c>Examples/meanings-profile.json</c>, at Wednesday 10 June 2026 12:00 UTC), gives the value its
/// page states (<c>Examples/documented-meanings.json</c>). Where the page's own text is wrong, the entry
/// says why and evaluates the corrected form the page means.
/// </summary>
public sealed class DocumentedMeaningsTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 6, 10, 12, 0, 0, TimeSpan.Zero));

    private static readonly JsonObject Profile = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", "meanings-profile.json")))!.AsObject();

    private static readonly JsonArray Meanings = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", "documented-meanings.json")))!.AsArray();

    private static IEnumerable<string> Listed => Meanings.Select(m => m!["pql"]!.GetValue<string>());

    public static TheoryData<string> Examples() => [.. Listed];

    [Fact]
    public void Every_documented_example_has_its_meaning_listed_once()
    {
        var documented = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", "documented-examples.json")))!.AsArray()
            .Select(e => e!["pql"]!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(documented, Listed.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void The_documented_meaning_holds_for_both_engines(string pql)
    {
        var meaning = Meanings.Single(m => m!["pql"]!.GetValue<string>() == pql)!.AsObject();
        if (meaning["refused"] is not null)
        {
            Assert.Throws<PqlException>(() => Parser.Parse(pql));
            return;
        }
        var text = meaning["evaluate"]?.GetValue<string>() ?? pql;
        var value = BothEngines.EvaluateJson(Parser.Parse(text), Profile, Clock);
        Assert.True(JsonNode.DeepEquals(meaning["expected"], value), $"{text}: expected {meaning["expected"]?.ToJsonString() ?? "null"}, got {value?.ToJsonString() ?? "null"}");
    }
}

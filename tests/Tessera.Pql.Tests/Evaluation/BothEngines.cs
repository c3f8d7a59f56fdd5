using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>Evaluates with the reference interpreter and the compiled evaluator, checks they agree, and gives the value: every documented meaning holds for both.</summary>
internal static class BothEngines
{
    public static object? Evaluate(PqlNode tree, JsonObject profile, TimeProvider? clock = null, TimeZoneInfo? zone = null) =>
        EvaluateBoth(tree, profile, clock, zone).ToObject();

    /// <summary>As <see cref="Evaluate"/>, the value as JSON (times as ISO-8601 text).</summary>
    public static JsonNode? EvaluateJson(PqlNode tree, JsonObject profile, TimeProvider? clock = null, TimeZoneInfo? zone = null) =>
        EvaluateBoth(tree, profile, clock, zone).ToJson();

    private static PqlValue EvaluateBoth(PqlNode tree, JsonObject profile, TimeProvider? clock, TimeZoneInfo? zone)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        var expected = Interpreter.Evaluate(tree, profile, new FakeTimeProvider(now), zone);
        var compiled = PqlCompiler.Compile(tree, zone).Evaluate(PqlProfile.FromJson(profile, zone), now);
        Assert.Equal(expected, compiled.ToObject());
        return compiled;
    }
}

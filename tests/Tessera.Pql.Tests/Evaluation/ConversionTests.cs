using System.Text;
using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Tessera.Pql.Evaluation;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>
/// Converting stored JSON bytes (what the batch engine reads) gives the same values as converting
/// the parsed nodes (what every other path converts), and the same answers from compiled audiences.
/// </summary>
public sealed class ConversionTests
{
    [Fact]
    public void Bytes_convert_as_the_parsed_nodes_do_for_every_kind_of_value()
    {
        const string json = """
            {"int": 5, "real": 5.0, "exp": 1e3, "negativeZero": -0.0, "huge": 12345678901234567890, "big": 1e400,
             "text": "caf\u00e9 \"quoted\"", "when": "2026-03-29T00:30:00Z", "day": "2026-03-29", "yes": true, "no": false, "nothing": null,
             "a\u0062c": {"nested": [1, [2.5, "x"], {}, []]}, "empty": {}, "list": [], "long": "%LONG%"}
            """;
        var text = json.Replace("%LONG%", new string('n', 600), StringComparison.Ordinal);
        var fromNodes = PqlProfile.Convert(JsonNode.Parse(text), TimeZoneInfo.Utc);
        var fromBytes = PqlProfile.Convert(Encoding.UTF8.GetBytes(text), TimeZoneInfo.Utc);
        Assert.Equal(Describe(fromNodes), Describe(fromBytes));
        Assert.Equal(PqlKind.Integer, fromBytes.Record.ValueAt(0).Kind);
        Assert.Equal(PqlKind.Double, fromBytes.Record.ValueAt(1).Kind);
        Assert.Equal("abc", fromBytes.Record.NameAt(12)); // an escaped name, unescaped
        Assert.Same(fromNodes.Record.NameAt(12), fromBytes.Record.NameAt(12)); // interned: field reads compare references
    }

    /// <summary>A timeline is marked in time order only when it is: every event a record with a time, none earlier than the one before.</summary>
    [Theory]
    [InlineData("""[]""", true)]
    [InlineData("""[{"timestamp": "2026-03-01T00:00:00Z"}, {"timestamp": "2026-03-01T00:00:00Z"}, {"timestamp": "2026-03-01T00:00:01+00:00"}]""", true)]
    [InlineData("""[{"timestamp": "2026-03-01T01:00:00+02:00"}, {"timestamp": "2026-03-01T00:00:00Z"}]""", true)] // 23:00 then 00:00 UTC
    [InlineData("""[{"timestamp": "2026-03-02T00:00:00Z"}, {"timestamp": "2026-03-01T00:00:00Z"}]""", false)]
    [InlineData("""[{"timestamp": "2026-03-01T00:00:00Z"}, {"page": "a"}]""", false)]
    [InlineData("""[{"timestamp": "2026-03-01T00:00:00Z"}, {"timestamp": "yesterday"}]""", false)]
    [InlineData("""[{"timestamp": "2026-03-01T00:00:00Z"}, 5]""", false)]
    public void Events_are_marked_in_time_order_only_when_they_are(string events, bool ordered)
    {
        var profile = PqlProfile.FromJson(new JsonObject { ["age"] = 5, ["xEvent"] = JsonNode.Parse(events) });
        Assert.Equal(ordered, profile.Root.Record.Get("xEvent").TimeOrdered);
        var converted = JsonNode.Parse(events)!.AsArray().Select(e => PqlProfile.Convert(e, TimeZoneInfo.Utc)).ToArray();
        var composed = PqlProfile.WithEvents(PqlProfile.Convert(new JsonObject { ["age"] = 5 }, TimeZoneInfo.Utc), converted, TimeZoneInfo.Utc);
        Assert.Equal(ordered, composed.Root.Record.Get("xEvent").TimeOrdered);
    }

    [Property(Replay = "(20261129,19)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool A_profile_whose_events_are_converted_from_bytes_evaluates_as_one_converted_from_nodes(int seed)
    {
        var random = new Random(seed);
        // Through its text, as every stored profile part is (a node built from a C# double 11.0 is a
        // double; the same number read back from "11" is an integer, whichever way it is converted).
        var profile = JsonNode.Parse(EvaluationTrees.Profile(random).ToJsonString())!.AsObject();
        if (!profile.ContainsKey("xEvent"))
        {
            profile["xEvent"] = new JsonArray(); // As ForEvaluation gives every profile (last, after the attributes).
        }
        var zone = CompilerProperties.Zones[random.Next(CompilerProperties.Zones.Length)];
        var fromNodes = PqlProfile.FromJson(profile, zone);

        // As the batch engine builds it: the attributes converted, each stored event from its bytes.
        var attributes = (JsonObject)profile.DeepClone();
        PqlValue[] events = [.. attributes["xEvent"]!.AsArray().Select(e => PqlProfile.Convert(Encoding.UTF8.GetBytes(e?.ToJsonString() ?? "null"), zone))];
        attributes.Remove("xEvent");
        var fromBytes = PqlProfile.WithEvents(PqlProfile.Convert(attributes, zone), events, zone);
        if (Describe(fromNodes.Root) != Describe(fromBytes.Root))
        {
            throw new InvalidOperationException($"{Describe(fromNodes.Root)}\n{Describe(fromBytes.Root)}");
        }

        var tree = EvaluationTrees.Expression(random);
        var compiled = PqlCompiler.Compile(tree, zone);
        var now = new DateTimeOffset(2026, 3, 29, 0, 30, 0, TimeSpan.Zero).AddMinutes(random.Next(-60 * 24 * 40, 60 * 24 * 40));
        return CompilerProperties.Same(
            CompilerProperties.Outcome(() => compiled.Evaluate(fromNodes, now).ToObject()),
            CompilerProperties.Outcome(() => compiled.Evaluate(fromBytes, now).ToObject()));
    }

    /// <summary>Kinds, values and names, in order (doubles by their bits, so 5 and 5.0 differ).</summary>
    private static string Describe(PqlValue value) => value.Kind switch
    {
        PqlKind.Integer => $"i{value.Integer}",
        PqlKind.Double => $"d{BitConverter.DoubleToInt64Bits(value.Double)}",
        PqlKind.String => $"s\"{value.String}\"",
        PqlKind.Time => $"t{value.ToObject()}",
        PqlKind.Boolean => value.IsTrue ? "true" : "false",
        PqlKind.Array => "[" + string.Join(",", value.Array.Select(Describe)) + "]",
        PqlKind.Record => "{" + string.Join(",", Enumerable.Range(0, value.Record.Count).Select(i => value.Record.NameAt(i) + ":" + Describe(value.Record.ValueAt(i)))) + "}",
        _ => "null",
    };
}

using System.Text.Json;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Syntax;

/// <summary>
/// Every expression collected from the public PQL documentation pages (Examples/documented-examples.json,
/// with each one's page). Those the parser cannot read yet are listed in Examples/not-yet-parsed.txt:
/// the test fails when one of them starts to parse (take it off the list) or when any other stops.
/// </summary>
public sealed class DocumentedExamplesTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Examples");

    public static TheoryData<string> Expressions()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "documented-examples.json")));
        var data = new TheoryData<string>();
        foreach (var pql in document.RootElement.EnumerateArray().Select(e => e.GetProperty("pql").GetString()!).Distinct())
        {
            data.Add(pql);
        }
        return data;
    }

    private static HashSet<string> NotYetParsed() =>
        [.. File.ReadAllText(Path.Combine(Folder, "not-yet-parsed.txt")).Split("\n---\n").Select(e => e.Trim('\n')).Where(e => e.Length > 0)];

    [Theory]
    [MemberData(nameof(Expressions))]
    public void Parses_and_round_trips_unless_listed_as_not_yet(string pql)
    {
        PqlNode tree;
        try
        {
            tree = Parser.Parse(pql);
        }
        catch (PqlException error)
        {
            Assert.True(NotYetParsed().Contains(pql), $"does not parse ({error.Message}) and is not in not-yet-parsed.txt: {pql}");
            return;
        }
        Assert.False(NotYetParsed().Contains(pql), $"parses now: take it off not-yet-parsed.txt: {pql}");
        var canonical = Printer.Print(tree);
        Assert.Equal(tree, Parser.Parse(canonical));
        // text → JSON → text is identity on the canonical text.
        var json = PqlJson.ToJson(tree).ToJsonString();
        Assert.Equal(canonical, Printer.Print(PqlJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse(json))));
    }

    [Theory]
    // api/segment-definitions: the implicit parameter written as parameter 1 (the same meaning as no object).
    [InlineData("""{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup","fieldName":"country","object":{"nodeType":"fieldLookup","fieldName":"workAddress","object":{"nodeType":"parameterReference","position":1}}},{"nodeType":"literal","literalType":"String","value":"US"}]}""",
        "$1.workAddress.country = \"US\"")]
    // sources/api-tutorials filter-at-source: no object, and a literal without literalType.
    [InlineData("""{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup","fieldName":"city"},{"nodeType":"literal","value":"DDN"}]}""",
        "city = \"DDN\"")]
    public void Documented_json_reads_as_the_text_it_stands_for(string json, string text)
    {
        Assert.Equal(text, Printer.Print(PqlJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse(json))));
    }

    [Theory]
    [InlineData("[]", "$: expected a node object")]
    [InlineData("""{"nodeType":"fnApply","params":[]}""", "$.fnName: expected a string")]
    [InlineData("""{"nodeType":"literal","literalType":"Integer","value":"x"}""", "$.value: not a Integer value")]
    [InlineData("""{"nodeType":"wat"}""", "unknown node type 'wat'")]
    public void Bad_json_is_refused_naming_where(string json, string message)
    {
        var error = Assert.Throws<PqlException>(() => PqlJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse(json)));
        Assert.Contains(message, error.Reason, StringComparison.Ordinal);
    }
}

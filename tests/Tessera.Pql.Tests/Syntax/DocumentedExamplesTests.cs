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
    }
}

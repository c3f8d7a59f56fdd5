using System.Text;
using FsCheck.Xunit;

namespace Tessera.Ingestion.Tests;

/// <summary>Whatever text a spreadsheet writes into a quoted CSV cell is stored exactly.</summary>
public sealed class CsvRoundTripProperties
{
    private const string Schema = """
        {"name":"notes","class":"profile","fields":{
          "id":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "text":{"type":"string"}}}
        """;

    /// <summary>Text UTF-8 can carry (no lone surrogates) and a file can hold (no NUL).</summary>
    private static string Clean(string? text)
    {
        if (text is null)
        {
            return "";
        }
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (!char.IsSurrogate(c) && c != '\0')
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [Property(Replay = "(77001,4242421)", MaxTest = 25)]
    public bool Quoted_cells_round_trip(string[] texts, bool crlf, char delimiterChoice)
    {
        var delimiter = ",;\t|"[delimiterChoice % 4];
        var newline = crlf ? "\r\n" : "\n";
        var values = (texts ?? []).Select(Clean).ToList();
        var csv = new StringBuilder($"id{delimiter}text{newline}");
        for (var i = 0; i < values.Count; i++)
        {
            csv.Append(Quote($"r{i}")).Append(delimiter).Append(Quote(values[i])).Append(newline);
        }

        return RunAsync().GetAwaiter().GetResult();

        async Task<bool> RunAsync()
        {
            await using var test = await TestWorkspace.CreateAsync();
            await test.DefineAsync(Schema);
            var batch = await test.IngestAsync("notes", test.WriteFile("notes.csv", csv.ToString()),
                new Mapping.MappingSpec { Delimiter = delimiter == '\t' ? "\\t" : delimiter.ToString() });
            if (batch.Counts.Accepted != values.Count)
            {
                return false;
            }
            for (var i = 0; i < values.Count; i++)
            {
                var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", $"r{i}"));
                // An empty cell is an absent value.
                if (fact.Text("text") != (values[i].Length == 0 ? null : values[i]))
                {
                    return false;
                }
            }
            return true;
        }
    }
}

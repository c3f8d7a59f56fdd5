using System.Text;
using System.Text.Json;
using FsCheck.Xunit;
using Tessera.Ingestion.Validation;

namespace Tessera.Ingestion.Tests;

/// <summary>Strings that JSON's grammar allows and Unicode does not: escaped UTF-16 surrogates without their pair.</summary>
public sealed class JsonTextProperties
{
    /// <summary>Any UTF-16 text (lone surrogates, pairs, backslashes followed by <c>u</c> and hex digits), written with every non-ASCII unit escaped.</summary>
    [Property(Replay = "(4242,77)", MaxTest = 500)]
    public bool An_unpaired_surrogate_escape_is_found_exactly_when_the_text_is_not_unicode(ushort[] units, bool upperHex)
    {
        var text = string.Concat((units ?? []).Select(u => (u % 8) switch
        {
            0 => ((char)(0xD800 + (u / 8 % 0x800))).ToString(), // a surrogate, high or low, maybe paired by the next one
            1 => "\\ud800", // text that looks like an escape once its backslash is escaped
            2 => "\\",
            3 => "u",
            4 => "\"",
            5 => "\U0001F600", // a pair
            _ => ((char)u).ToString(),
        }));
        var json = new StringBuilder("{\"k\":\"");
        foreach (var c in text)
        {
            json.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                < ' ' or > '~' => "\\u" + ((int)c).ToString(upperHex ? "X4" : "x4", System.Globalization.CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        json.Append("\"}");
        var bytes = Encoding.UTF8.GetBytes(json.ToString());
        using var document = JsonDocument.Parse(bytes); // valid JSON either way
        var wellFormed = IsWellFormed(text);
        return (JsonText.UnpairedSurrogateEscape(bytes) < 0) == wellFormed;
    }

    [Theory]
    [InlineData("""{"k":"\udc00"}""", 6)]
    [InlineData("""{"k":"\udfff"}""", 6)]
    [InlineData("""{"k":"a\ud800\udbff"}""", 7)]
    [InlineData("""{"k":"\ud800","l":"\udc00"}""", 6)]
    [InlineData("""{"k":"\udbff\udc00","\ud800":1}""", 21)]
    [InlineData("""{"k":"\udbff\udfff\\ud800 \u00e9\n"}""", -1)]
    public void Edges(string json, int expected) => Assert.Equal(expected, JsonText.UnpairedSurrogateEscape(Encoding.UTF8.GetBytes(json)));

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }
        return true;
    }

    [Fact]
    public async Task A_record_holding_one_is_quarantined_by_name_and_the_rest_of_the_file_stored()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var lines = Enumerable.Range(1, 40).Select(i => $$"""{"crmId":"g{{i}}","firstName":"\u00e9\ud83d\ude00"}""")
            .Append("""{"crmId":"bad","firstName":"\ud800"}""");

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.jsonl", string.Join('\n', lines)));

        Assert.Equal((40L, 1L), (batch.Counts.Accepted, batch.Counts.Failed));
        var error = Assert.Single(Assert.Single(test.Quarantine(batch.Id)).Errors);
        Assert.Equal((Abstractions.ErrorCodes.ParseError, "record has a UTF-16 surrogate escape without its pair (\\ud800 at byte 28): a string must be Unicode text"),
            (error.Code, error.Message));
    }
}

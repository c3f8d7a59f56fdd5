namespace Tessera.Ingestion.Validation;

/// <summary>Checks of JSON text that a parser accepts and a string read of it refuses.</summary>
public static class JsonText
{
    /// <summary>
    /// Where the first <c>\uD800</c>-<c>\uDFFF</c> escape without its pair is in <paramref name="json"/> (valid JSON), or -1. JSON's
    /// grammar allows such an escape, but it is no Unicode text: reading the string throws, and a record holding one would
    /// have thrown out of its whole batch. Only escapes can hold one (the text itself is UTF-8, checked by the parser).
    /// </summary>
    public static int UnpairedSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var i = 0;
        while (true)
        {
            // From escape to escape (a writer's default encoder escapes '+', '&' and every non-ASCII character: many events have dozens).
            var next = json[i..].IndexOf((byte)'\\');
            if (next < 0)
            {
                return -1;
            }
            i += next;
            if (json[i + 1] != 'u')
            {
                i += 2; // an escaped character, perhaps a backslash: never the start of another escape
                continue;
            }
            var unit = Hex(json.Slice(i + 2, 4));
            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return i;
            }
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 12 > json.Length || json[i + 6] != '\\' || json[i + 7] != 'u' || Hex(json.Slice(i + 8, 4)) is < 0xDC00 or > 0xDFFF)
                {
                    return i;
                }
                i += 6;
            }
            i += 6;
        }
    }

    /// <summary>What is wrong with <paramref name="json"/>'s strings, said for an error message ("… has " + this), or null when nothing is.</summary>
    public static string? NotUnicodeText(ReadOnlySpan<byte> json) => UnpairedSurrogateEscape(json) is var at and >= 0
        ? $"a UTF-16 surrogate escape without its pair ({System.Text.Encoding.UTF8.GetString(json.Slice(at, 6))} at byte {at}): a string must be Unicode text"
        : null;

    private static int Hex(ReadOnlySpan<byte> digits)
    {
        var value = 0;
        foreach (var digit in digits)
        {
            value = (value << 4) | (digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10);
        }
        return value;
    }
}

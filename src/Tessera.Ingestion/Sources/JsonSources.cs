using System.Text;
using System.Text.Json;

namespace Tessera.Ingestion.Sources;

/// <summary>JSON Lines: one JSON object per line; blank lines are skipped; a bad line is a parse error for that row only.</summary>
public sealed class JsonLinesReader(Stream stream) : ISourceReader
{
    public string Format => "jsonl";

    public IReadOnlyList<string>? Columns => null;

    public IEnumerable<SourceRecord> Read()
    {
        var record = new SourceRecord();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        long line = 0;
        long row = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            row++;
            record.Row = row;
            record.Line = line;
            record.RawText = text;
            record.ParseError = null;
            JsonDocument? document = null;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException error)
            {
                record.ParseError = $"line {line}: invalid JSON: {error.Message}";
            }
            using (document)
            {
                record.Json = document?.RootElement ?? default;
                yield return record;
            }
        }
    }

    public void Dispose() => stream.Dispose();
}

/// <summary>
/// A JSON document: one object (one record), an array of objects, or an object with a
/// <c>records</c> array. Nested XDM documents (with <c>identityMap</c>) are read as they are.
/// </summary>
public sealed class JsonDocumentReader(Stream stream) : ISourceReader
{
    public string Format => "json";

    public IReadOnlyList<string>? Columns => null;

    public IEnumerable<SourceRecord> Read()
    {
        var record = new SourceRecord();
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 128 });
        }
        catch (JsonException error)
        {
            record.ParseError = $"invalid JSON document: {error.Message}";
        }
        if (document is null)
        {
            record.Row = 1;
            record.Line = 1;
            yield return record;
            yield break;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("records", out var nested) && nested.ValueKind == JsonValueKind.Array)
            {
                root = nested;
            }
            if (root.ValueKind == JsonValueKind.Array)
            {
                long row = 0;
                foreach (var element in root.EnumerateArray())
                {
                    row++;
                    record.Row = row;
                    record.Line = row;
                    record.Json = element;
                    record.ParseError = null;
                    record.RawText = null;
                    yield return record;
                }
            }
            else
            {
                record.Row = 1;
                record.Line = 1;
                record.Json = root;
                yield return record;
            }
        }
    }

    public void Dispose() => stream.Dispose();
}

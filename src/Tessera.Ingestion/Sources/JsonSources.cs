using System.Text.Json;
using Tessera.Abstractions;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// JSON Lines: one JSON object per line; blank lines are skipped; a bad line is a parse error for that row only, and a
/// line holding bytes that are not UTF-8 is <c>ENCODING_INVALID</c> for that row only, naming the field that holds them.
/// A line longer than <see cref="IngestionLimits.MaxLineLength"/> fails the file once that much of it was read: it is
/// not a record that could pass (a line over <see cref="IngestionLimits.MaxRecordBytes"/> is quarantined as
/// <c>RECORD_TOO_LARGE</c>), and most likely not JSON Lines at all.
/// </summary>
public sealed class JsonLinesReader(Stream stream, IngestionLimits limits) : ISourceReader
{
    public string Format => "jsonl";

    public IReadOnlyList<string>? Columns => null;

    public IEnumerable<SourceRecord> Read()
    {
        var record = new SourceRecord();
        var utf8 = new MarkedUtf8();
        long line = 0;
        long row = 0;
        using var reader = new LineReader(new StreamReader(stream, utf8.Encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true),
            limits.MaxLineLength, at => TooLong(row + 1, at));
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
            if (utf8.Marked(text))
            {
                var path = document is null ? null : MarkedPath(document.RootElement, "");
                record.RawText = MarkedUtf8.Visible(text);
                record.ParseError = $"line {line}: " + (path is null ? "" : $"'{path}' holds ")
                    + $"bytes that are not UTF-8 ({MarkedUtf8.Where(text)} of the line, shown as U+FFFD); save the file as UTF-8";
                record.ParseErrorCode = ErrorCodes.EncodingInvalid;
                record.ParseErrorPath = path;
                document?.Dispose();
                document = null;
            }
            using (document)
            {
                record.Json = document?.RootElement ?? default;
                yield return record;
            }
        }
    }

    private SourceFormatException TooLong(long row, long line) =>
        new($"row {row} (line {line}) is longer than the limit of {limits.MaxLineLength} characters (limits.maxLineLength) and reading stopped "
            + "there: JSON Lines holds one record per line, so this is most likely not a JSON Lines file (one JSON document, an array of records "
            + "or an object with \"records\", is ingested with format json), or raise the limit if lines really are this long");

    /// <summary>The path of the first member name or string in <paramref name="element"/> that holds the marker.</summary>
    private static string? MarkedPath(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String when element.GetString()!.Contains(MarkedUtf8.Marker):
                return path;
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    var at = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
                    if (member.Name.Contains(MarkedUtf8.Marker))
                    {
                        return MarkedUtf8.Visible(at);
                    }
                    if (MarkedPath(member.Value, at) is { } found)
                    {
                        return found;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (MarkedPath(item, $"{path}[{index++}]") is { } found)
                    {
                        return found;
                    }
                }
                return null;
            default:
                return null;
        }
    }

    public void Dispose() => stream.Dispose();
}

/// <summary>
/// A JSON document: one object (one record), an array of objects, or an object with a
/// <c>records</c> array. Nested XDM documents (with <c>identityMap</c>) are read as they are. The document is read into
/// memory whole, so one larger than <see cref="IngestionLimits.MaxJsonDocumentBytes"/> fails the file once that much was read.
/// </summary>
public sealed class JsonDocumentReader(Stream stream, IngestionLimits limits) : ISourceReader
{
    public string Format => "json";

    public IReadOnlyList<string>? Columns => null;

    public IEnumerable<SourceRecord> Read()
    {
        var record = new SourceRecord();
        JsonDocument? document = null;
        try
        {
            var bounded = new BoundedStream(stream, limits.MaxJsonDocumentBytes, () => new SourceFormatException(
                $"it is larger than the limit of {limits.MaxJsonDocumentBytes} bytes (limits.maxJsonDocumentBytes) and reading stopped there: a JSON "
                + "document is read into memory whole; write its records as JSON Lines (one per line, format jsonl), which is read a line at a time, "
                + "or raise the limit"));
            document = JsonDocument.Parse(bounded, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 128 });
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

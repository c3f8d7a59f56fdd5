using nietras.SeparatedValues;
using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// Delimited text through Sep (any single-character delimiter, quotes, header or not), plus a
/// whitespace mode for fixed-ish layouts separated by runs of spaces or tabs (Sep needs one
/// delimiter character, so that mode splits lines itself). Values stay strings here: "00001"
/// is typed by the schema, never by guessing. A row longer than <see cref="IngestionLimits.MaxLineLength"/> fails the
/// file once that much was read (<see cref="CsvRowBound"/>, <see cref="LineReader"/>).
/// </summary>
public sealed class CsvReader : ISourceReader
{
    private readonly Stream _stream;
    private readonly MappingSpec _mapping;
    private readonly SepReader? _sep;
    private readonly CsvRowBound? _bound;
    private readonly LineReader? _lines;
    private readonly StreamReader? _text;
    private readonly MarkedUtf8 _utf8 = new();
    private readonly string[] _columns;
    private readonly long _headerLines;
    private readonly int _maxLineLength;
    private long _row;

    public CsvReader(Stream stream, MappingSpec mapping, IngestionLimits limits)
    {
        _stream = stream;
        _mapping = mapping;
        _maxLineLength = limits.MaxLineLength;
        var delimiter = mapping.Delimiter;
        if (delimiter is "whitespace" or "ws" or " +")
        {
            _text = new StreamReader(stream, _utf8.Encoding, true, 1 << 16, leaveOpen: true);
            _lines = new LineReader(_text, _maxLineLength, TooLongLine);
            string[] header = [];
            if (mapping.Header)
            {
                header = SplitWhitespace(_lines.ReadLine() ?? "");
                _headerLines = 1;
            }
            _columns = NamedColumns(mapping) ?? header;
        }
        else
        {
            // The header is read here as a row rather than by Sep, which refuses a header naming a
            // column twice: the mapping's "columns" can rename such a file's columns, and without
            // them the duplicate is a MAPPING_ERROR naming the column (TabularConverter).
            var options = new SepReaderOptions(delimiter is null ? null : Separator(ParseDelimiter(delimiter)))
            {
                HasHeader = false,
                Unescape = true,
                DisableColCountCheck = true,
            };
            _text = new StreamReader(stream, _utf8.Encoding, true, 1 << 16, leaveOpen: true);
            _bound = new CsvRowBound(_text, _maxLineLength);
            _sep = options.From(_bound);
            string[] header = [];
            if (mapping.Header && _sep.MoveNext())
            {
                var row = _sep.Current;
                if (row.Span.Length > _maxLineLength)
                {
                    throw TooLongRow(0, 1, row.Span); // (Sep numbers the first row's line as the one after it)
                }
                header = new string[row.ColCount];
                for (var i = 0; i < header.Length; i++)
                {
                    header[i] = row[i].ToString();
                }
            }
            _headerLines = mapping.Header ? 1 : 0;
            _columns = NamedColumns(mapping) ?? header;
        }
        if (_columns.Length == 0 && !_mapping.Header)
        {
            throw new Tessera.Abstractions.CatalogException(Tessera.Abstractions.ErrorCodes.MappingError,
                "a file without a header needs \"columns\" in the mapping");
        }
    }

    public string Format => "csv";

    public IReadOnlyList<string> Columns => _columns;

    /// <summary>Opens a file, transparently un-gzipping <c>.gz</c> (into a <see cref="CheckedGzipStream"/>, which can tell a cut-short file).</summary>
    public static Stream OpenFile(string path)
    {
        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new CheckedGzipStream(stream) : stream;
    }

    public IEnumerable<SourceRecord> Read() => _sep is not null ? ReadSep(_sep) : ReadWhitespace(_lines!);

    private IEnumerable<SourceRecord> ReadSep(SepReader sep)
    {
        var record = new SourceRecord();
        long row = 0;
        foreach (var current in sep)
        {
            row++;
            record.Row = row;
            // Sep (0.17) numbers the first row it reads with the line after it; that row starts the file.
            record.Line = current.RowIndex == 0 ? 1 : current.LineNumberFrom;
            record.ParseError = null;
            record.RawText = null;
            var span = current.Span;
            if (current.ColCount == 1 && span.IsEmpty)
            {
                row--;
                continue; // blank line
            }
            if (span.Length > _maxLineLength)
            {
                // The row reading stopped at (CsvRowBound): Sep yields it last, whole or cut.
                throw TooLongRow(row, record.Line, span);
            }
            var values = new object?[_columns.Length];
            if ((span.Count('"') & 1) != 0)
            {
                // A quote toggles quoting wherever it is, so an odd count leaves the row quoted to the end of the file.
                UnterminatedQuote(record, span);
            }
            else if (current.ColCount != _columns.Length)
            {
                record.ParseError = $"line {record.Line}: {current.ColCount} columns, expected {_columns.Length}";
                record.RawText = _utf8.Marked(span) ? MarkedUtf8.Visible(span.ToString()) : span.ToString();
            }
            var count = Math.Min(current.ColCount, _columns.Length);
            for (var i = 0; i < count; i++)
            {
                values[i] = current[i].ToString();
            }
            record.Values = values;
            if (record.ParseError is null && _utf8.Marked(span))
            {
                NotUtf8(record, values);
            }
            yield return record;
        }
        if (_bound!.Overflowed)
        {
            // Sep split the text into rows otherwise than the bound measured them; the file still cannot be read whole.
            throw new SourceFormatException($"a row after row {row} is longer than the limit of {_maxLineLength} characters (limits.maxLineLength) "
                + "and reading stopped there");
        }
    }

    /// <summary>
    /// The row (<paramref name="row"/> 0: the header) that reading stopped at, longer than the limit; <paramref name="span"/> is as
    /// much of it as was read. A quote it leaves open is the likely cause; without one, it has no line break where rows of a delimited file have one.
    /// </summary>
    private SourceFormatException TooLongRow(long row, long line, ReadOnlySpan<char> span)
    {
        var which = row == 0 ? $"the header (line {line})" : $"row {row} (line {line})";
        var cause = (span.Count('"') & 1) != 0
            ? "it opens a quote that is not closed within the limit, so every line after it would be read into one field; "
                + "close the quote (a quote inside a field is written twice, \"\")"
            : "it has no line break outside quotes within the limit, so the file is most likely not delimited text; check its format";
        return new SourceFormatException($"{which} is longer than the limit of {_maxLineLength} characters (limits.maxLineLength) and reading "
            + $"stopped there: {cause}, or raise the limit if rows really are this long");
    }

    /// <summary>The whitespace-separated line at <paramref name="line"/>, longer than the limit (what <see cref="LineReader"/> throws).</summary>
    private SourceFormatException TooLongLine(long line)
    {
        var which = line == 1 && _mapping.Header ? $"the header (line {line})" : $"row {_row + 1} (line {line})";
        return new SourceFormatException($"{which} is longer than the limit of {_maxLineLength} characters (limits.maxLineLength) and reading "
            + "stopped there: it has no line break within the limit, so the file is most likely not text in lines; check its format, "
            + "or raise the limit if lines really are this long");
    }

    /// <summary>
    /// A row whose quote is never closed reaches to the end of the file. When it took no line after its own (the quote
    /// opened on the last line) it is one bad row, quarantined; otherwise every later row was read into one of its fields,
    /// and the file cannot be split into rows again without guessing where the quote was meant to end: the batch fails.
    /// </summary>
    private static void UnterminatedQuote(SourceRecord record, ReadOnlySpan<char> span)
    {
        var firstBreak = span.IndexOfAny('\n', '\r');
        var after = firstBreak < 0 ? [] : span[firstBreak..].TrimStart("\r\n");
        if (!after.Trim().IsEmpty)
        {
            var lines = after.Count('\n') + (after[^1] is '\n' or '\r' ? 0 : 1);
            throw new SourceFormatException($"row {record.Row} (line {record.Line}) opens a quote that is never closed, so the {lines} line(s) after it "
                + "to the end of the file would be read as one field; close the quote (a quote inside a field is written twice, \"\")");
        }
        record.ParseError = $"line {record.Line}: a quote opened in this row is never closed";
        record.RawText = MarkedUtf8.Visible(span.ToString());
    }

    /// <summary>Marks <paramref name="record"/> as holding bytes that are not UTF-8, naming the first column that does; its values are kept as shown (U+FFFD).</summary>
    private void NotUtf8(SourceRecord record, object?[] values)
    {
        string? column = null;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is string value && value.Contains(MarkedUtf8.Marker))
            {
                if (column is null)
                {
                    column = _columns[i];
                    record.ParseError = $"line {record.Line}: column '{column}' holds bytes that are not UTF-8 ({MarkedUtf8.Where(value)}, shown as U+FFFD); save the file as UTF-8";
                }
                values[i] = MarkedUtf8.Visible(value);
            }
        }
        if (column is not null)
        {
            record.ParseErrorCode = Tessera.Abstractions.ErrorCodes.EncodingInvalid;
            record.ParseErrorPath = column;
        }
    }

    private IEnumerable<SourceRecord> ReadWhitespace(LineReader reader)
    {
        var record = new SourceRecord();
        var line = _headerLines;
        _row = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            var parts = SplitWhitespace(text);
            if (parts.Length == 0)
            {
                continue;
            }
            _row++;
            record.Row = _row;
            record.Line = line;
            record.RawText = null;
            record.ParseError = parts.Length == _columns.Length ? null : $"line {line}: {parts.Length} columns, expected {_columns.Length}";
            if (record.ParseError is not null)
            {
                record.RawText = _utf8.Marked(text) ? MarkedUtf8.Visible(text) : text;
            }
            var values = new object?[_columns.Length];
            for (var i = 0; i < Math.Min(parts.Length, values.Length); i++)
            {
                values[i] = parts[i];
            }
            record.Values = values;
            if (record.ParseError is null && _utf8.Marked(text))
            {
                NotUtf8(record, values);
            }
            yield return record;
        }
    }

    private static string[] SplitWhitespace(string line)
    {
        var span = line.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return [];
        }
        var parts = new List<string>();
        while (!span.IsEmpty)
        {
            var end = span.IndexOfAny(' ', '\t');
            if (end < 0)
            {
                parts.Add(span.ToString());
                break;
            }
            parts.Add(span[..end].ToString());
            span = span[end..].TrimStart();
        }
        return [.. parts];
    }

    /// <summary>The mapping's column names; each must be one (a null, from <c>"columns": [null]</c>, names nothing).</summary>
    private static string[]? NamedColumns(MappingSpec mapping)
    {
        if (mapping.Columns is not { } columns)
        {
            return null;
        }
        var names = columns.ToArray();
        var unnamed = Array.IndexOf(names, null);
        return unnamed < 0 ? names : throw new Tessera.Abstractions.CatalogException(Tessera.Abstractions.ErrorCodes.MappingError,
            $"columns[{unnamed}] is null: 'columns' names every column of the file, in order");
    }

    /// <summary>Sep splits on a tab or a printable ASCII character other than the quote and '#'; any other is a MAPPING_ERROR.</summary>
    private static Sep Separator(char delimiter)
    {
        try
        {
            return new Sep(delimiter);
        }
        catch (ArgumentException)
        {
            throw new Tessera.Abstractions.CatalogException(Tessera.Abstractions.ErrorCodes.MappingError,
                $"delimiter U+{(int)delimiter:X4} cannot separate columns: use a tab, 'whitespace', or one printable ASCII character other than '\"' and '#'");
        }
    }

    private static char ParseDelimiter(string delimiter) => delimiter switch
    {
        "\\t" or "\t" or "tab" => '\t',
        { Length: 1 } => delimiter[0],
        _ => throw new Tessera.Abstractions.CatalogException(Tessera.Abstractions.ErrorCodes.MappingError,
            $"delimiter '{delimiter}' must be one character, '\\t', or 'whitespace'"),
    };

    public void Dispose()
    {
        _sep?.Dispose();
        _bound?.Dispose();
        _lines?.Dispose();
        _text?.Dispose();
        _stream.Dispose();
    }
}

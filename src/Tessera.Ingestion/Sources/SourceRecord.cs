using System.Text.Json;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// One record as read from a source. Readers reuse one instance: it is valid until the reader
/// moves on. Either <see cref="Json"/> (JSON sources) or <see cref="Values"/> (tabular sources,
/// one value per column: strings from CSV, typed values from Parquet) is set, or <see cref="ParseError"/>.
/// </summary>
public sealed class SourceRecord
{
    /// <summary>1-based record number within the source (the quarantine's "row").</summary>
    public long Row { get; set; }

    /// <summary>1-based line number in a text source; row index in Parquet.</summary>
    public long Line { get; set; }

    public JsonElement Json { get; set; }

    public object?[]? Values { get; set; }

    /// <summary>Why the record could not be read (a <c>PARSE_ERROR</c> unless <see cref="ParseErrorCode"/> says otherwise). Setting it clears the code and path.</summary>
    public string? ParseError
    {
        get;
        set
        {
            field = value;
            ParseErrorCode = null;
            ParseErrorPath = null;
        }
    }

    /// <summary>The error code of <see cref="ParseError"/> when it is not <c>PARSE_ERROR</c> (<c>ENCODING_INVALID</c>).</summary>
    public string? ParseErrorCode { get; set; }

    /// <summary>Where in the record <see cref="ParseError"/> is (a column, a JSON path), when the reader can tell.</summary>
    public string? ParseErrorPath { get; set; }

    /// <summary>The record's original text when the reader has it cheaply (JSON lines), for the quarantine.</summary>
    public string? RawText { get; set; }

    public bool IsTabular => Values is not null;
}

/// <summary>Reads records from one source file or stream.</summary>
public interface ISourceReader : IDisposable
{
    string Format { get; }

    /// <summary>Column names of a tabular source (null for JSON sources).</summary>
    IReadOnlyList<string>? Columns { get; }

    IEnumerable<SourceRecord> Read();
}

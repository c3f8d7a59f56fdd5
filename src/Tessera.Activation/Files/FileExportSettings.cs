using System.Text.Json.Serialization;
using nietras.SeparatedValues;

namespace Tessera.Activation.Files;

/// <summary>The layout of an exported file.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FileExportFormat>))]
public enum FileExportFormat
{
    [JsonStringEnumMemberName("csv")]
    Csv,

    [JsonStringEnumMemberName("jsonl")]
    JsonLines,

    [JsonStringEnumMemberName("parquet")]
    Parquet,
}

/// <summary>When a CSV value is put between quotes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CsvQuoting>))]
public enum CsvQuoting
{
    /// <summary>Only values holding the delimiter, a quote, a carriage return or a line feed (RFC 4180).</summary>
    [JsonStringEnumMemberName("whenNeeded")]
    WhenNeeded,

    /// <summary>Every value and every header name, empty ones included.</summary>
    [JsonStringEnumMemberName("all")]
    All,
}

/// <summary>
/// How a file destination writes one export run: the format, where, how rows are split into files,
/// and which rows are left out. Deserializes from a destination's JSON settings (camelCase names,
/// formats <c>csv</c>, <c>jsonl</c>, <c>parquet</c>); <see cref="Validate"/> says what is wrong.
/// </summary>
public sealed record FileExportSettings
{
    /// <summary>Rows per file before a run is split into parts.</summary>
    public const int DefaultMaxRowsPerFile = 5_000_000;

    /// <summary>Rows per Parquet row group: large enough for readers to scan well, small enough to buffer (the strings of one group are held until it is written).</summary>
    public const int DefaultParquetRowGroupRows = 100_000;

    public FileExportFormat Format { get; set; } = FileExportFormat.Csv;

    /// <summary>The folder the files are written to (created if missing); staging files go to the same folder so that publishing is a rename.</summary>
    public string Folder { get; set; } = "";

    /// <summary>CSV only: one character (<c>","</c>, <c>";"</c>, <c>"\t"</c>, <c>"|"</c>, ...).</summary>
    public string Delimiter { get; set; } = ",";

    /// <summary>CSV only.</summary>
    public CsvQuoting Quoting { get; set; } = CsvQuoting.WhenNeeded;

    /// <summary>CSV and JSON Lines: gzip the file (the name ends in <c>.gz</c>). Parquet compresses its pages itself (Snappy).</summary>
    public bool Gzip { get; set; }

    /// <summary>A run with more rows is split into parts of at most this many rows.</summary>
    public int MaxRowsPerFile { get; set; } = DefaultMaxRowsPerFile;

    /// <summary>Parquet only: rows per row group.</summary>
    public int ParquetRowGroupRows { get; set; } = DefaultParquetRowGroupRows;

    /// <summary>Columns every written row must have: a row whose value is missing, empty or blank in any of them is left out (reason <c>mandatory attribute</c>).</summary>
    public List<string> MandatoryAttributes { get; set; } = [];

    /// <summary>Columns that identify a row: a row whose values in them equal an earlier row's is left out (reason <c>duplicate</c>). Empty: no de-duplication.</summary>
    public List<string> DedupKey { get; set; } = [];

    /// <summary>
    /// Every problem with these settings, each naming the setting and the rule it breaks; empty when
    /// they are usable. Given the export's columns, also checks them and that the mandatory and
    /// de-duplication columns are among them.
    /// </summary>
    public IReadOnlyList<FileExportSettingError> Validate(IReadOnlyList<string>? columns = null)
    {
        var errors = new List<FileExportSettingError>();
        void Error(string setting, string rule) => errors.Add(new FileExportSettingError(setting, rule));

        if (!Enum.IsDefined(Format))
        {
            Error("format", "must be csv, jsonl or parquet");
        }
        if (string.IsNullOrWhiteSpace(Folder))
        {
            Error("folder", "is required");
        }
        else if (Folder.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            Error("folder", "holds a character that is not allowed in a path");
        }
        if (Format == FileExportFormat.Csv)
        {
            ValidateDelimiter(Error);
            if (!Enum.IsDefined(Quoting))
            {
                Error("quoting", "must be whenNeeded or all");
            }
        }
        if (Gzip && Format == FileExportFormat.Parquet)
        {
            Error("gzip", "applies to csv and jsonl only (Parquet compresses its pages itself)");
        }
        if (MaxRowsPerFile < 1)
        {
            Error("maxRowsPerFile", "must be at least 1");
        }
        if (Format == FileExportFormat.Parquet && ParquetRowGroupRows < 1)
        {
            Error("parquetRowGroupRows", "must be at least 1");
        }
        ValidateColumnList("mandatoryAttributes", MandatoryAttributes, columns, Error);
        ValidateColumnList("dedupKey", DedupKey, columns, Error);
        if (columns is not null)
        {
            ValidateColumns(columns, Error);
        }
        return errors;
    }

    /// <summary>Throws <see cref="FileExportSettingsException"/> listing every problem, if there is one.</summary>
    public void EnsureValid(IReadOnlyList<string>? columns = null)
    {
        var errors = Validate(columns);
        if (errors.Count > 0)
        {
            throw new FileExportSettingsException(errors);
        }
    }

    private void ValidateDelimiter(Action<string, string> error)
    {
        if (Delimiter is null || Delimiter.Length != 1)
        {
            error("delimiter", "must be exactly one character");
            return;
        }
        var delimiter = Delimiter[0];
        if (delimiter is '"' or '\r' or '\n')
        {
            error("delimiter", "must not be a quote, a carriage return or a line feed");
            return;
        }
        try
        {
            _ = Sep.New(delimiter);
        }
        catch (ArgumentException)
        {
            // Sep refuses a few more characters (it reserves some for its own parsing).
            error("delimiter", $"'{delimiter}' (U+{(int)delimiter:X4}) is not a usable CSV separator");
        }
    }

    private static void ValidateColumnList(string setting, List<string>? names, IReadOnlyList<string>? columns, Action<string, string> error)
    {
        if (names is null)
        {
            error(setting, "must be a list (possibly empty), not null");
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                error(setting, "holds an empty column name");
            }
            else if (!seen.Add(name))
            {
                error(setting, $"names column '{name}' twice");
            }
            else if (columns is not null && !columns.Contains(name, StringComparer.Ordinal))
            {
                error(setting, $"names column '{name}', which the export does not have");
            }
        }
    }

    private static void ValidateColumns(IReadOnlyList<string> columns, Action<string, string> error)
    {
        if (columns.Count == 0)
        {
            error("columns", "the export needs at least one column");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            if (string.IsNullOrWhiteSpace(column))
            {
                error("columns", "holds an empty column name");
            }
            else if (!seen.Add(column))
            {
                error("columns", $"names column '{column}' twice");
            }
        }
    }
}

/// <summary>One problem with file export settings: the setting (as named in JSON) and the rule it breaks.</summary>
public sealed record FileExportSettingError(string Setting, string Rule)
{
    public override string ToString() => $"{Setting}: {Rule}";
}

/// <summary>Thrown by an export whose settings or columns are unusable; nothing was written.</summary>
public sealed class FileExportSettingsException : ArgumentException
{
    public FileExportSettingsException(IReadOnlyList<FileExportSettingError> errors)
        : base("invalid file export settings: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    public FileExportSettingsException()
        : this([])
    {
    }

    public FileExportSettingsException(string message)
        : base(message)
    {
        Errors = [];
    }

    public FileExportSettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public IReadOnlyList<FileExportSettingError> Errors { get; }
}

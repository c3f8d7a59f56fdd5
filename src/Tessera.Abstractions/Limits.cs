namespace Tessera.Abstractions;
// Properties with defaults are settable, not init-only: System.Text.Json source generation sets every
// init-only property in its object initializer, so a missing JSON property would erase the default.

/// <summary>
/// Explicit, configurable limits (docs/limits.md). Loaded from <c>tessera.json</c> in the workspace;
/// every breach produces a named error.
/// </summary>
public sealed record IngestionLimits
{
    /// <summary>Largest accepted record, in bytes of its input form.</summary>
    public int MaxRecordBytes { get; set; } = 1024 * 1024;
    public int MaxIdentitiesPerRecord { get; set; } = 20;
    public int MaxIdentityValueLength { get; set; } = 1024;
    /// <summary>Leaf values (scalars, including array elements) per record.</summary>
    public int MaxFieldsPerRecord { get; set; } = 2000;
    /// <summary>A file batch fails as a whole when more than this share of its records is rejected.</summary>
    public double BatchFailureThreshold { get; set; } = 0.05;
    /// <summary>Largest HTTP request body (413 beyond it).</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>Largest number of records in one streaming request.</summary>
    public int MaxRecordsPerRequest { get; set; } = 10_000;

    /// <summary>
    /// Most characters of one line a file reader holds: a CSV row (its quoted line breaks included), a line of a
    /// whitespace-separated file, a JSON Lines line. A longer one fails its batch as <c>FILE_UNREADABLE</c>, found once
    /// this many characters were read without its end (a quote never closed, a file that is not in lines) rather than
    /// after reading the rest of the file. At most <see cref="MaxLineLengthCeiling"/>.
    /// </summary>
    public int MaxLineLength { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Largest JSON document (format <c>json</c>, after un-gzipping), in bytes: such a document is read into memory whole,
    /// so a larger one fails its batch as <c>FILE_UNREADABLE</c> once this many bytes were read. JSON Lines has no such limit.
    /// </summary>
    public long MaxJsonDocumentBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Largest Parquet row group, in bytes uncompressed as the file's footer declares them: a row group is read into memory
    /// whole (about four times its uncompressed size when its columns are flat, nine when some are nested; measured), so a
    /// file with a larger one fails its batch as
    /// <c>FILE_UNREADABLE</c> when it is opened, before anything of it is read.
    /// </summary>
    public long MaxParquetRowGroupBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// The highest <see cref="MaxLineLength"/> allowed: the CSV parser (Sep) holds at most 16,777,216 characters of one row,
    /// and with a read buffer on top of the limit a row must still fit there, so that the named limit speaks first.
    /// </summary>
    public const int MaxLineLengthCeiling = 16_000_000;
}

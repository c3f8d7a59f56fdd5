using System.IO.Compression;
using System.Text;
using Tessera.Abstractions;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// A source reader whose read errors name the file: an exception that says the bytes are not what
/// the format needs (a gzip or Parquet file that is not one or is cut short, an I/O error) becomes a
/// <see cref="CatalogException"/> <c>FILE_UNREADABLE</c>, so that the batch is recorded as failed
/// with that reason and the caller gets a named error rather than a stack trace. A gzip file whose data
/// stops before its end (an interrupted upload or copy: <see cref="GZipStream"/> alone would just end
/// there) is <c>FILE_UNREADABLE</c> too, found once the reader has read everything.
/// </summary>
internal sealed class SourceReaderGuard(ISourceReader inner, string path, CheckedGzipStream? gzip = null) : ISourceReader
{
    public string Format => inner.Format;

    public IReadOnlyList<string>? Columns => inner.Columns;

    public IEnumerable<SourceRecord> Read()
    {
        using var records = inner.Read().GetEnumerator();
        long row = 0, line = 0;
        while (true)
        {
            string? incomplete;
            try
            {
                if (records.MoveNext())
                {
                    (row, line) = (records.Current.Row, records.Current.Line);
                    incomplete = null;
                }
                else if ((incomplete = gzip?.ReadToEndAndCheck()) is null)
                {
                    yield break;
                }
            }
            catch (Exception error) when (IsUnreadable(error, inner.Format))
            {
                // A file cut short says so, rather than what the cut did to its last record (a quote never closed).
                throw gzip?.Incomplete is { } why ? Truncated(path, inner.Format, why, row, line) : Unreadable(path, inner.Format, error);
            }
            if (incomplete is not null)
            {
                throw Truncated(path, inner.Format, incomplete, row, line);
            }
            yield return records.Current;
        }
    }

    /// <summary>The gzip data of <paramref name="path"/> stops before its end; the last record read was <paramref name="row"/>.</summary>
    private static CatalogException Truncated(string path, string format, string why, long row, long line) =>
        new(ErrorCodes.FileUnreadable,
            $"file '{Path.GetFileName(path)}' cannot be read as gzip-compressed {format}: it ends early, "
            + (row > 0 ? $"after row {row} (line {line}), which may itself be cut short" : "before its first record")
            + $" ({why}); the file is incomplete, e.g. an interrupted upload or copy: ingest the complete file");

    public void Dispose() => inner.Dispose();

    /// <summary>
    /// Whether <paramref name="error"/> says the file cannot be read. Parquet.Net reports a damaged
    /// file with whatever its decoders throw (IOException, Thrift, index and argument errors), so
    /// for Parquet any error but cancellation and our own refusals counts.
    /// </summary>
    public static bool IsUnreadable(Exception error, string format) => error switch
    {
        OperationCanceledException or CatalogException or OutOfMemoryException => false,
        IOException or InvalidDataException or UnauthorizedAccessException or DecoderFallbackException => true,
        _ => format == "parquet",
    };

    /// <remarks>
    /// The file is named without its directory, in the reason too: an upload's staged copy lives in the server's
    /// workspace, whose paths are not the caller's business.
    /// </remarks>
    public static CatalogException Unreadable(string path, string format, Exception error)
    {
        var compressed = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? "gzip-compressed " : "";
        var name = Path.GetFileName(path);
        var reason = error switch
        {
            SourceFormatException => error.Message,
            InvalidDataException when compressed.Length > 0 => $"the gzip data is damaged ({error.Message})",
            FileNotFoundException => "it does not exist",
            UnauthorizedAccessException => $"access is denied ({error.Message})",
            _ when error.InnerException is { } inner => $"{error.Message} ({inner.Message})",
            _ => error.Message,
        };
        return new CatalogException(ErrorCodes.FileUnreadable,
            $"file '{name}' cannot be read as {compressed}{format}: {reason.Replace(path, name, StringComparison.Ordinal)}");
    }
}

/// <summary>A file that its reader cannot split into records (said by <see cref="Exception.Message"/>): the batch fails as <c>FILE_UNREADABLE</c>.</summary>
internal sealed class SourceFormatException(string message) : IOException(message);

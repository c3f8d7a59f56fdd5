using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using nietras.SeparatedValues;
using Parquet;
using Parquet.Schema;

namespace Tessera.Activation.Files;

/// <summary>
/// Writes the rows of one part file. Values are given per column in the export's column order;
/// null is a missing value. <see cref="CompleteAsync"/> finishes the format, flushes and fsyncs the
/// file; disposing without completing abandons it (the caller deletes the staging file).
/// </summary>
internal abstract class ExportPartWriter : IAsyncDisposable
{
    private const int FileBufferBytes = 1 << 16;
    private readonly FileStream _file;
    private bool _disposed;

    protected ExportPartWriter(string path)
    {
        Path = path;
        // Create, not CreateNew: a staging file of the same name is this run's own leftover.
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, FileBufferBytes);
    }

    public string Path { get; }

    public long Rows { get; private set; }

    protected FileStream File => _file;

    public static ExportPartWriter Open(string path, IReadOnlyList<string> columns, FileExportSettings settings) => settings.Format switch
    {
        FileExportFormat.Csv => new CsvPartWriter(path, columns, settings),
        FileExportFormat.JsonLines => new JsonLinesPartWriter(path, columns, settings.Gzip),
        FileExportFormat.Parquet => new ParquetPartWriter(path, columns, settings.ParquetRowGroupRows),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Format, "unknown export format"),
    };

    public ValueTask WriteRowAsync(string?[] values, CancellationToken cancellationToken)
    {
        Rows++;
        return WriteCoreAsync(values, cancellationToken);
    }

    /// <summary>Finishes the file and makes it durable; returns its size in bytes.</summary>
    public async Task<long> CompleteAsync(CancellationToken cancellationToken)
    {
        await FinishFormatAsync(cancellationToken).ConfigureAwait(false);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _file.Flush(flushToDisk: true);
        var length = _file.Length;
        await DisposeAsync().ConfigureAwait(false);
        return length;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        finally
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }

    protected abstract ValueTask WriteCoreAsync(string?[] values, CancellationToken cancellationToken);

    /// <summary>Writes what the format buffers and its trailer (gzip footer, Parquet footer) to the file stream.</summary>
    protected abstract ValueTask FinishFormatAsync(CancellationToken cancellationToken);

    /// <summary>Releases the format's own resources without finishing the file.</summary>
    protected abstract ValueTask ReleaseAsync();

    /// <summary>Gzip at the fastest level: hashed identifiers are random hex, which no level shrinks much, while the text around them shrinks at any level.</summary>
    protected static GZipStream Gzip(Stream file) => new(file, CompressionLevel.Fastest, leaveOpen: true);
}

/// <summary>CSV through Sep: a header row, then one row per record; UTF-8 without a byte order mark.</summary>
internal sealed class CsvPartWriter : ExportPartWriter
{
    private readonly GZipStream? _gzip;
    private readonly StreamWriter _text;
    private readonly SepWriter _writer;
    private readonly bool _quoteAll;
    private char[] _quoted = new char[256];
    private bool _finished;

    public CsvPartWriter(string path, IReadOnlyList<string> columns, FileExportSettings settings)
        : base(path)
    {
        _quoteAll = settings.Quoting == CsvQuoting.All;
        _gzip = settings.Gzip ? Gzip(File) : null;
        // Quote-all is done here (Sep escapes only when needed), so Sep must not escape again.
        var options = Sep.New(settings.Delimiter[0]).Writer(o => o with
        {
            Escape = !_quoteAll,
            WriteHeader = true,
            CultureInfo = CultureInfo.InvariantCulture,
        });
        // Our own text writer: Sep's would throw on a lone surrogate in a value and fail the whole
        // export; this one writes U+FFFD for it, as the JSON Lines and Parquet writers do.
        _text = new StreamWriter((Stream?)_gzip ?? File, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);
        _writer = options.To(_text, leaveOpen: true);
        _writer.Header.Add(_quoteAll ? [.. columns.Select(c => "\"" + c.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"")] : columns);
        // Written now, so that an export with no rows is still a file with its header.
        _writer.Header.Write();
    }

    protected override ValueTask WriteCoreAsync(string?[] values, CancellationToken cancellationToken)
    {
        using var row = _writer.NewRow();
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i].AsSpan();
            row[i].Set(_quoteAll ? Quote(value) : value);
        }
        return ValueTask.CompletedTask;
    }

    protected override ValueTask FinishFormatAsync(CancellationToken cancellationToken)
    {
        _finished = true;
        _writer.Dispose();
        _text.Dispose();
        _gzip?.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask ReleaseAsync()
    {
        if (!_finished)
        {
            // Abandoned: whatever is flushed goes to a staging file that is deleted anyway.
            _writer.Dispose();
            _text.Dispose();
            _gzip?.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private ReadOnlySpan<char> Quote(ReadOnlySpan<char> value)
    {
        var needed = value.Length * 2 + 2;
        if (_quoted.Length < needed)
        {
            _quoted = new char[Math.Max(needed, _quoted.Length * 2)];
        }
        var length = 0;
        _quoted[length++] = '"';
        foreach (var c in value)
        {
            if (c == '"')
            {
                _quoted[length++] = '"';
            }
            _quoted[length++] = c;
        }
        _quoted[length++] = '"';
        return _quoted.AsSpan(0, length);
    }
}

/// <summary>
/// JSON Lines through Utf8JsonWriter: one object per line with every column as a property (a missing
/// value is <c>null</c>), separated by <c>\n</c>; non-ASCII characters are written as they are.
/// </summary>
internal sealed class JsonLinesPartWriter : ExportPartWriter
{
    private const int ChunkBytes = 1 << 16;
    private static readonly JsonWriterOptions Options = new()
    {
        // A file, not HTML: keep names and values readable instead of \u-escaping every non-ASCII character.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    private readonly Stream _output;
    private readonly GZipStream? _gzip;
    private readonly JsonEncodedText[] _names;
    private readonly ArrayBufferWriter<byte> _buffer = new(ChunkBytes * 2);
    private readonly Utf8JsonWriter _json;

    public JsonLinesPartWriter(string path, IReadOnlyList<string> columns, bool gzip)
        : base(path)
    {
        _gzip = gzip ? Gzip(File) : null;
        _output = (Stream?)_gzip ?? File;
        _names = [.. columns.Select(c => JsonEncodedText.Encode(c, Options.Encoder))];
        _json = new Utf8JsonWriter(_buffer, Options);
    }

    protected override ValueTask WriteCoreAsync(string?[] values, CancellationToken cancellationToken)
    {
        _json.WriteStartObject();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } value)
            {
                _json.WriteString(_names[i], value);
            }
            else
            {
                _json.WriteNull(_names[i]);
            }
        }
        _json.WriteEndObject();
        _json.Flush();
        // Each line is its own JSON document: reset the writer's state for the next.
        _json.Reset();
        _buffer.Write("\n"u8);
        if (_buffer.WrittenCount >= ChunkBytes)
        {
            _output.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
        }
        return ValueTask.CompletedTask;
    }

    protected override ValueTask FinishFormatAsync(CancellationToken cancellationToken)
    {
        _output.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
        _gzip?.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask ReleaseAsync()
    {
        _json.Dispose();
        _gzip?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Parquet through Parquet.Net: one optional string column per export column; rows are buffered
/// column by column and written as a row group every <c>rowGroupRows</c> rows (Snappy pages).
/// </summary>
internal sealed class ParquetPartWriter : ExportPartWriter
{
    private readonly DataField[] _fields;
    private readonly string?[][] _columns;
    private readonly ParquetSchema _schema;
    private ParquetWriter? _parquet;
    private int _buffered;

    public ParquetPartWriter(string path, IReadOnlyList<string> columns, int rowGroupRows)
        : base(path)
    {
        _fields = [.. columns.Select(c => (DataField)new DataField<string>(c, true))];
        _schema = new ParquetSchema(_fields);
        _columns = [.. columns.Select(_ => new string?[rowGroupRows])];
    }

    protected override ValueTask WriteCoreAsync(string?[] values, CancellationToken cancellationToken)
    {
        for (var i = 0; i < values.Length; i++)
        {
            _columns[i][_buffered] = values[i];
        }
        _buffered++;
        return _buffered == _columns[0].Length ? new ValueTask(WriteRowGroupAsync(cancellationToken)) : ValueTask.CompletedTask;
    }

    protected override async ValueTask FinishFormatAsync(CancellationToken cancellationToken)
    {
        if (_buffered > 0)
        {
            await WriteRowGroupAsync(cancellationToken).ConfigureAwait(false);
        }
        // A part with no rows is still a valid file: the schema and no row group.
        var parquet = await WriterAsync(cancellationToken).ConfigureAwait(false);
        await parquet.DisposeAsync().ConfigureAwait(false);
        _parquet = null;
    }

    protected override async ValueTask ReleaseAsync()
    {
        if (_parquet is { } parquet)
        {
            _parquet = null;
            await parquet.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task WriteRowGroupAsync(CancellationToken cancellationToken)
    {
        var parquet = await WriterAsync(cancellationToken).ConfigureAwait(false);
        using (var group = parquet.CreateRowGroup())
        {
            for (var i = 0; i < _fields.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await group.WriteAsync(_fields[i], new ArraySegment<string>(_columns[i]!, 0, _buffered), null).ConfigureAwait(false);
            }
            group.CompleteValidate();
        }
        foreach (var column in _columns)
        {
            // Let the written strings go.
            Array.Clear(column, 0, _buffered);
        }
        _buffered = 0;
    }

    private async Task<ParquetWriter> WriterAsync(CancellationToken cancellationToken) =>
        _parquet ??= await ParquetWriter.CreateAsync(_schema, File, new ParquetOptions(), append: false, cancellationToken).ConfigureAwait(false);
}

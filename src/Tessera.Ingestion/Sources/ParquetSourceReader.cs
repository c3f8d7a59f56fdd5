using Parquet;
using Parquet.Serialization;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// Parquet through Parquet.Net, one row group at a time. Top-level columns become tabular values
/// with their Parquet types (numbers stay numbers, timestamps stay instants); a struct column
/// arrives as a dictionary and maps onto an object field. A row group is deserialized whole, a
/// dictionary a row, so its size is bounded (<see cref="Abstractions.IngestionLimits.MaxParquetRowGroupBytes"/>)
/// and checked from the footer before any row is read.
/// </summary>
public sealed class ParquetSourceReader : ISourceReader
{
    private readonly Stream _stream;
    private readonly int _rowGroups;

    public ParquetSourceReader(Stream stream, long maxRowGroupBytes)
    {
        _stream = stream;
        var reader = ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true).GetAwaiter().GetResult();
        try
        {
            _rowGroups = reader.RowGroupCount;
            Columns = [.. reader.Schema.Fields.Select(f => f.Name)];
            for (var group = 0; group < _rowGroups; group++)
            {
                var metadata = reader.Metadata!.RowGroups[group];
                // The group's own total, or its columns' when a writer left that out (it is optional in older files).
                var bytes = Math.Max(metadata.TotalByteSize, metadata.Columns.Sum(c => c.MetaData?.TotalUncompressedSize ?? 0));
                if (bytes > maxRowGroupBytes)
                {
                    throw new SourceFormatException(
                        $"row group {group + 1} of {_rowGroups} holds {metadata.NumRows} rows in {bytes} bytes uncompressed, more than the limit "
                        + $"of {maxRowGroupBytes} (limits.maxParquetRowGroupBytes): a row group is read into memory whole, at about nine "
                        + "times its uncompressed size. Write the file with smaller row groups (for example pyarrow's row_group_size, "
                        + "Spark's parquet.block.size) or raise the limit; nothing was read");
                }
            }
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public string Format => "parquet";

    public IReadOnlyList<string> Columns { get; }

    public IEnumerable<SourceRecord> Read()
    {
        var record = new SourceRecord();
        long row = 0;
        for (var group = 0; group < _rowGroups; group++)
        {
            _stream.Position = 0;
            var rows = ParquetSerializer.DeserializeUntypedAsync(_stream, null, group).GetAwaiter().GetResult().Data;
            foreach (var item in rows)
            {
                row++;
                var values = new object?[Columns.Count];
                for (var c = 0; c < values.Length; c++)
                {
                    values[c] = item.TryGetValue(Columns[c], out var value) ? value : null;
                }
                record.Row = row;
                record.Line = row;
                record.Values = values;
                record.ParseError = null;
                yield return record;
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}

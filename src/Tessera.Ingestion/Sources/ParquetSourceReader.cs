using Parquet;
using Parquet.Serialization;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// Parquet through Parquet.Net, one row group at a time. Top-level columns become tabular values
/// with their Parquet types (numbers stay numbers, timestamps stay instants); a struct column
/// arrives as a dictionary and maps onto an object field.
/// </summary>
public sealed class ParquetSourceReader : ISourceReader
{
    private readonly Stream _stream;
    private readonly int _rowGroups;

    public ParquetSourceReader(Stream stream)
    {
        _stream = stream;
        var reader = ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true).GetAwaiter().GetResult();
        _rowGroups = reader.RowGroupCount;
        Columns = [.. reader.Schema.Fields.Select(f => f.Name)];
        reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
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

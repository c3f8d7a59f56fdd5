using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Data;
using Parquet.Schema;
using Parquet.Serialization;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// Parquet through Parquet.Net, one row group at a time. Top-level columns become tabular values
/// with their Parquet types (numbers stay numbers, timestamps stay instants); a struct column
/// arrives as a dictionary and maps onto an object field.
/// </summary>
/// <remarks>
/// A file of flat columns (the usual export) is read from one open reader, column by column: each row group's columns as
/// Parquet.Net decodes them (strings as slices of one buffer), a row's values taken from them as the row is read. A file
/// with nested columns (structs, lists, maps) goes through Parquet.Net's untyped deserializer, which assembles them, a
/// dictionary a row: the whole file in one call when it is within the row group limit, else a row group a call, each
/// reading the file's footer again (a cost of the number of groups times the footer's size, which grows with them).
/// Either way a row group is held whole, so its size is bounded
/// (<see cref="Abstractions.IngestionLimits.MaxParquetRowGroupBytes"/>) and checked from the footer before any row is read.
/// </remarks>
public sealed class ParquetSourceReader : ISourceReader
{
    private readonly Stream _stream;
    // Opened once: its footer, read here to check the groups, is what the column-wise way reads them by.
    private readonly ParquetReader _reader;
    private readonly int _rowGroups;
    // Nested columns only: the whole file is within the row group limit, so it is deserialized in one call.
    private readonly bool _assembleWhole;

    public ParquetSourceReader(Stream stream, long maxRowGroupBytes)
    {
        _stream = stream;
        _reader = ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true).GetAwaiter().GetResult();
        try
        {
            _rowGroups = _reader.RowGroupCount;
            Columns = [.. _reader.Schema.Fields.Select(f => f.Name)];
            ReadsColumns = _reader.Schema.Fields.All(f => f is DataField { IsArray: false, MaxRepetitionLevel: 0 });
            long total = 0;
            for (var group = 0; group < _rowGroups; group++)
            {
                var metadata = _reader.Metadata!.RowGroups[group];
                // The group's own total, or its columns' when a writer left that out (it is optional in older files).
                var bytes = Math.Max(metadata.TotalByteSize, metadata.Columns.Sum(c => c.MetaData?.TotalUncompressedSize ?? 0));
                if (bytes > maxRowGroupBytes)
                {
                    throw new SourceFormatException(
                        $"row group {group + 1} of {_rowGroups} holds {metadata.NumRows} rows in {bytes} bytes uncompressed, more than the limit "
                        + $"of {maxRowGroupBytes} (limits.maxParquetRowGroupBytes): a row group is read into memory whole. "
                        + "Write the file with smaller row groups (for example pyarrow's row_group_size, "
                        + "Spark's parquet.block.size) or raise the limit; nothing was read");
                }
                total += bytes;
            }
            _assembleWhole = total <= maxRowGroupBytes;
        }
        catch
        {
            _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public string Format => "parquet";

    public IReadOnlyList<string> Columns { get; }

    /// <summary>Whether the file's columns are all flat, so that they are read column by column.</summary>
    internal bool ReadsColumns { get; }

    public IEnumerable<SourceRecord> Read() => ReadsColumns ? ReadColumns() : ReadAssembled();

    private IEnumerable<SourceRecord> ReadColumns()
    {
        var record = new SourceRecord();
        long row = 0;
        var fields = _reader.Schema.GetDataFields();
        for (var group = 0; group < _rowGroups; group++)
        {
            using var rowGroup = _reader.OpenRowGroupReader(group);
            var rows = rowGroup.RowCount;
            var columns = new ColumnCursor[fields.Length];
            try
            {
                for (var c = 0; c < fields.Length; c++)
                {
                    columns[c] = ColumnCursor.Read(rowGroup, fields[c], group);
                }
                for (long r = 0; r < rows; r++)
                {
                    row++;
                    var values = new object?[columns.Length];
                    for (var c = 0; c < columns.Length; c++)
                    {
                        values[c] = columns[c].Next();
                    }
                    yield return Set(record, row, values);
                }
            }
            finally
            {
                foreach (var column in columns)
                {
                    column?.Dispose();
                }
            }
        }
    }

    private IEnumerable<SourceRecord> ReadAssembled()
    {
        var record = new SourceRecord();
        long row = 0;
        // One call per group reads the footer again each time: a file of many small groups, if it is small enough, in one call.
        for (var group = 0; group < (_assembleWhole ? 1 : _rowGroups); group++)
        {
            _stream.Position = 0;
            var rows = ParquetSerializer.DeserializeUntypedAsync(_stream, null, _assembleWhole ? null : group).GetAwaiter().GetResult().Data;
            foreach (var item in rows)
            {
                row++;
                var values = new object?[Columns.Count];
                for (var c = 0; c < values.Length; c++)
                {
                    values[c] = item.TryGetValue(Columns[c], out var value) ? Plain(value) : null;
                }
                yield return Set(record, row, values);
            }
        }
    }

    /// <summary>The reused record as row <paramref name="row"/> (its index in the file, from 1) of these values.</summary>
    private static SourceRecord Set(SourceRecord record, long row, object?[] values)
    {
        record.Row = row;
        record.Line = row;
        record.Values = values;
        record.ParseError = null;
        return record;
    }

    /// <summary>
    /// A deserialized nested value with text and bytes as string and byte[], as top-level columns have them: Parquet.Net 6
    /// gives the strings inside lists and maps as slices of its buffers, which the converter would not read as text.
    /// </summary>
    private static object? Plain(object? value) => value switch
    {
        null or string or byte[] => value,
        ReadOnlyMemory<char> text => text.ToString(),
        ReadOnlyMemory<byte> bytes => bytes.ToArray(),
        IDictionary dictionary => PlainEntries(dictionary),
        IEnumerable items => items.Cast<object?>().Select(Plain).ToList(),
        _ => value,
    };

    private static Dictionary<string, object?> PlainEntries(IDictionary dictionary)
    {
        var plain = new Dictionary<string, object?>(dictionary.Count, StringComparer.Ordinal);
        foreach (DictionaryEntry entry in dictionary)
        {
            plain[Convert.ToString(Plain(entry.Key), CultureInfo.InvariantCulture)!] = Plain(entry.Value);
        }
        return plain;
    }

    public void Dispose()
    {
        _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream.Dispose();
    }

    /// <summary>One flat column of a row group as Parquet.Net decoded it: its defined values, and which rows have one.</summary>
    private abstract class ColumnCursor : IDisposable
    {
        public static ColumnCursor Read(ParquetRowGroupReader rowGroup, DataField field, int group)
        {
            var data = rowGroup.ReadRawColumnDataBaseAsync(field).GetAwaiter().GetResult();
            try
            {
                var type = typeof(ColumnCursor<>).MakeGenericType(data.GetType().GetGenericArguments()[0]);
                var cursor = (ColumnCursor)Activator.CreateInstance(type, data, field.MaxDefinitionLevel)!;
                cursor.Check(field, rowGroup.RowCount, group);
                return cursor;
            }
            catch
            {
                data.Dispose();
                throw;
            }
        }

        /// <summary>Throws when the column's levels or values do not cover the group's rows (a damaged file), rather than reading past them.</summary>
        public abstract void Check(DataField field, long rows, int group);

        /// <summary>The next row's value: null where the row has none; text and bytes as string and byte[], as the deserializer gives them.</summary>
        public abstract object? Next();

        public abstract void Dispose();
    }

    private sealed class ColumnCursor<T> : ColumnCursor where T : struct
    {
        private readonly RawColumnData<T> _data;
        private readonly int _maxDefinitionLevel;
        private int _row;
        private int _value;

        public ColumnCursor(RawColumnData<T> data, int maxDefinitionLevel)
        {
            _data = data;
            _maxDefinitionLevel = maxDefinitionLevel;
        }

        public override void Check(DataField field, long rows, int group)
        {
            var defined = _maxDefinitionLevel == 0 ? rows : Count(_data.DefinitionLevels, _maxDefinitionLevel);
            // The defined values come first, in row order; the buffer may be longer (a row's length of it).
            if ((_maxDefinitionLevel > 0 && _data.DefinitionLevels.Length != rows) || _data.Values.Length < defined)
            {
                throw new SourceFormatException(
                    $"column '{field.Name}' of row group {group + 1} holds {_data.Values.Length} values for {rows} rows ({defined} of them not null)");
            }
        }

        private static long Count(ReadOnlySpan<int> levels, int level)
        {
            long count = 0;
            foreach (var value in levels)
            {
                count += value == level ? 1 : 0;
            }
            return count;
        }

        public override object? Next()
        {
            var row = _row++;
            if (_maxDefinitionLevel > 0 && _data.DefinitionLevels[row] != _maxDefinitionLevel)
            {
                return null;
            }
            var value = _data.Values[_value++];
            if (typeof(T) == typeof(ReadOnlyMemory<char>))
            {
                return Unsafe.As<T, ReadOnlyMemory<char>>(ref value).ToString();
            }
            if (typeof(T) == typeof(ReadOnlyMemory<byte>))
            {
                return Unsafe.As<T, ReadOnlyMemory<byte>>(ref value).ToArray();
            }
            return value;
        }

        public override void Dispose() => _data.Dispose();
    }
}

using System.Collections;
using Parquet.Serialization;
using Tessera.Ingestion.Sources;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// The Parquet reader's two ways: flat columns read column by column from one open reader, nested ones through
/// Parquet.Net's deserializer. Both give each row's values as the deserializer does, and neither reads the file
/// again for every row group.
/// </summary>
public sealed class ParquetReaderTests
{
    public sealed class Flat
    {
        public string? Text { get; set; }
        public byte[]? Bytes { get; set; }
        public bool Flag { get; set; }
        public byte Byte { get; set; }
        public sbyte SignedByte { get; set; }
        public short Short { get; set; }
        public ushort UnsignedShort { get; set; }
        public int Int { get; set; }
        public uint UnsignedInt { get; set; }
        public long Long { get; set; }
        public ulong UnsignedLong { get; set; }
        public float Float { get; set; }
        public double Double { get; set; }
        public decimal Decimal { get; set; }
        public DateTime Time { get; set; }
        public DateOnly Date { get; set; }
        public Guid Id { get; set; }
        public int? MaybeInt { get; set; }
        public double? MaybeDouble { get; set; }
        public DateTime? MaybeTime { get; set; }
        public bool? MaybeFlag { get; set; }
    }

    public sealed class Nested
    {
        public string? Id { get; set; }
        public Address? Address { get; set; }
        public List<string>? Tags { get; set; }
        public Dictionary<string, string>? Labels { get; set; }
        public TimeSpan Span { get; set; } // a struct to Parquet.Net
    }

    public sealed class Address
    {
        public string? City { get; set; }
        public int Zip { get; set; }
        public List<string>? Lines { get; set; }
    }

    private static List<Flat> FlatRows(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => new Flat
        {
            Text = random.Next(5) == 0 ? null : random.Next(3) == 0 ? "" : $"t{i}-é-{random.Next()}",
            Bytes = random.Next(5) == 0 ? null : [.. Enumerable.Range(0, random.Next(4)).Select(_ => (byte)random.Next(256))],
            Flag = random.Next(2) == 0,
            Byte = (byte)random.Next(256),
            SignedByte = (sbyte)random.Next(-128, 128),
            Short = (short)random.Next(short.MinValue, short.MaxValue),
            UnsignedShort = (ushort)random.Next(ushort.MaxValue),
            Int = random.Next(int.MinValue, int.MaxValue),
            UnsignedInt = (uint)random.NextInt64(uint.MaxValue),
            Long = random.NextInt64(long.MinValue, long.MaxValue),
            UnsignedLong = (ulong)random.NextInt64(long.MaxValue) * 2,
            Float = (float)(random.NextDouble() * 1e6 - 5e5),
            Double = random.Next(20) == 0 ? double.NaN : random.NextDouble() * 1e12 - 5e11,
            Decimal = Math.Round((decimal)(random.NextDouble() * 1e6), 4),
            Time = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMilliseconds(random.NextInt64(200_000_000_000)),
            Date = DateOnly.FromDayNumber(730_000 + random.Next(20_000)),
            Id = new Guid([.. Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256))]),
            MaybeInt = random.Next(3) == 0 ? null : random.Next(),
            MaybeDouble = random.Next(3) == 0 ? null : random.NextDouble(),
            MaybeTime = random.Next(3) == 0 ? null : new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.Next()),
            MaybeFlag = random.Next(3) == 0 ? null : random.Next(2) == 0,
        })];
    }

    private static async Task<byte[]> WriteAsync<T>(IEnumerable<T> rows, int rowGroupSize)
    {
        using var file = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, file, new Parquet.ParquetOptions { RowGroupSize = rowGroupSize });
        return file.ToArray();
    }

    /// <summary>Each row's values as Parquet.Net's untyped deserializer gives them, group by group, in the reader's column order.</summary>
    private static async Task<List<object?[]>> DeserializedAsync(byte[] file, IReadOnlyList<string> columns)
    {
        var rows = new List<object?[]>();
        using var stream = new MemoryStream(file);
        var all = await ParquetSerializer.DeserializeUntypedAsync(stream);
        foreach (var item in all.Data)
        {
            rows.Add([.. columns.Select(c => item.TryGetValue(c, out var value) ? value : null)]);
        }
        return rows;
    }

    private static List<object?[]> ReadAll(ISourceReader reader)
    {
        var rows = new List<object?[]>();
        long expected = 0;
        foreach (var record in reader.Read())
        {
            Assert.Equal(++expected, record.Row);
            rows.Add(record.Values!);
        }
        return rows;
    }

    /// <summary>
    /// Each row's values equal to the deserializer's, text and bytes as string and byte[] at any depth (Parquet.Net gives
    /// the strings inside lists and maps as slices of its buffers), containers compared item by item.
    /// </summary>
    private static void AssertSameValues(List<object?[]> expected, List<object?[]> actual, IReadOnlyList<string> columns)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var r = 0; r < expected.Count; r++)
        {
            for (var c = 0; c < columns.Count; c++)
            {
                AssertSame(expected[r][c], actual[r][c], $"row {r + 1}, {columns[c]}");
            }
        }
    }

    private static void AssertSame(object? want, object? got, string where)
    {
        want = want switch
        {
            ReadOnlyMemory<char> text => text.ToString(),
            ReadOnlyMemory<byte> bytes => bytes.ToArray(),
            _ => want,
        };
        switch (want)
        {
            case IDictionary wanted:
                var gotEntries = Assert.IsAssignableFrom<IDictionary>(got);
                var keys = wanted.Keys.Cast<object>().Select(k => k.ToString()!).ToList();
                Assert.Equal(keys.Order(StringComparer.Ordinal), gotEntries.Keys.Cast<object>().Select(k => k.ToString()!).Order(StringComparer.Ordinal));
                foreach (DictionaryEntry entry in wanted)
                {
                    AssertSame(entry.Value, gotEntries[entry.Key.ToString()!], $"{where}.{entry.Key}");
                }
                return;
            case IEnumerable items and not string:
                var wantItems = items.Cast<object?>().ToList();
                var gotItems = Assert.IsAssignableFrom<IEnumerable>(got).Cast<object?>().ToList();
                Assert.True(wantItems.Count == gotItems.Count, $"{where}: {wantItems.Count} items expected, {gotItems.Count} read");
                for (var i = 0; i < wantItems.Count; i++)
                {
                    AssertSame(wantItems[i], gotItems[i], $"{where}[{i}]");
                }
                return;
            default:
                Assert.True(want?.GetType() == got?.GetType(), $"{where}: {want?.GetType()} expected, {got?.GetType()} read");
                Assert.True(Equals(want, got), $"{where}: {want} expected, {got} read");
                return;
        }
    }

    [Theory]
    [InlineData(1, 500)]
    [InlineData(2, 64)]
    [InlineData(3, 7)]
    public async Task Flat_columns_read_column_by_column_give_the_deserializers_values(int seed, int rowGroupSize)
    {
        var file = await WriteAsync(FlatRows(300, seed), rowGroupSize);
        using var reader = new ParquetSourceReader(new MemoryStream(file), long.MaxValue);

        var rows = ReadAll(reader);

        Assert.True(reader.ReadsColumns);
        Assert.Equal(typeof(Flat).GetProperties().Select(p => p.Name), reader.Columns);
        AssertSameValues(await DeserializedAsync(file, reader.Columns), rows, reader.Columns);
        Assert.Contains(rows, row => row[0] is null); // the generated rows have nulls where they may
        Assert.Contains(rows, row => row[reader.Columns.ToList().IndexOf("MaybeInt")] is null);
    }

    [Fact]
    public async Task Nested_columns_are_assembled_by_the_deserializer_with_text_as_strings()
    {
        var file = await WriteAsync(Enumerable.Range(1, 50).Select(i => new Nested
        {
            Id = $"n{i}",
            Address = i % 4 == 0 ? null : new Address { City = $"C{i}", Zip = 10_000 + i, Lines = [$"{i} Main St"] },
            Tags = i % 3 == 0 ? null : [.. Enumerable.Range(0, i % 4).Select(t => $"tag{t}")],
            Labels = i % 5 == 0 ? null : new Dictionary<string, string> { ["tier"] = $"t{i % 3}" },
            Span = TimeSpan.FromMinutes(i),
        }), rowGroupSize: 16);
        using var reader = new ParquetSourceReader(new MemoryStream(file), long.MaxValue);

        var rows = ReadAll(reader);

        Assert.False(reader.ReadsColumns);
        Assert.Equal(["Id", "Address", "Tags", "Labels", "Span"], reader.Columns);
        AssertSameValues(await DeserializedAsync(file, reader.Columns), rows, reader.Columns);
        var address = Assert.IsAssignableFrom<IDictionary>(rows[0][1]);
        Assert.Equal(("C1", (object?)10_001), ((string?)address["City"], address["Zip"]));
        Assert.Equal(["1 Main St"], Assert.IsAssignableFrom<IEnumerable>(address["Lines"]).Cast<object?>());
        Assert.Equal(["tag0"], Assert.IsAssignableFrom<IEnumerable>(rows[0][2]).Cast<object?>()); // strings, not slices of a buffer
        Assert.Equal("t1", Assert.IsAssignableFrom<IDictionary>(rows[0][3])["tier"]);
    }

    [Fact]
    public async Task A_file_of_many_row_groups_is_read_about_once()
    {
        // 2,000 row groups of two rows: the footer describes them all, about 1.5 MB here, and reading it again for each group
        // (as a row group at a time through the deserializer did) would read some 3 GB.
        var file = await WriteAsync(FlatRows(4_000, seed: 4), rowGroupSize: 2);
        var stream = new CountingStream(new MemoryStream(file));
        using var reader = new ParquetSourceReader(stream, long.MaxValue);

        var rows = ReadAll(reader);

        Assert.Equal(4_000, rows.Count);
        Assert.InRange(stream.BytesRead, file.Length, 3L * file.Length); // the footer once, each group once
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_nested_file_of_many_row_groups_is_read_about_once_when_it_is_within_the_row_group_limit(bool within)
    {
        var file = await WriteAsync(Enumerable.Range(1, 1_000).Select(i => new Nested { Id = $"n{i}", Tags = [$"t{i}"] }), rowGroupSize: 2);
        var stream = new CountingStream(new MemoryStream(file));
        using var reader = new ParquetSourceReader(stream, within ? file.Length * 4L : 4_000);

        var rows = ReadAll(reader);

        Assert.False(reader.ReadsColumns);
        Assert.Equal(1_000, rows.Count);
        Assert.Equal(["t1000"], Assert.IsAssignableFrom<IEnumerable>(rows[^1][2]).Cast<object?>());
        if (within)
        {
            Assert.InRange(stream.BytesRead, file.Length, 3L * file.Length);
        }
        else
        {
            Assert.True(stream.BytesRead > 100L * file.Length, $"{stream.BytesRead} bytes read"); // a footer a group: the way left for large files
        }
    }

    /// <summary>A read-only stream that counts the bytes read through it.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

using System.Text;
using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;
using Tessera.Ingestion.Sources;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// A line (a CSV row, a whitespace-separated line, a JSON line) longer than limits.maxLineLength, and a JSON document larger
/// than limits.maxJsonDocumentBytes, fail their batch by name once that much was read, never after reading the rest of the file.
/// </summary>
public sealed class LongLineTests
{
    /// <summary>The line limit the tests set (limits.maxLineLength); their JSON documents' is 2000 bytes.</summary>
    private const int Limit = 100;

    private static async Task<TestWorkspace> CrmAsync(string limits = """{"maxLineLength": 100, "maxJsonDocumentBytes": 2000}""")
    {
        var test = await TestWorkspace.CreateAsync($$"""{"limits": {{limits}}}""");
        await test.DefineAsync(Schemas.Crm);
        return test;
    }

    private static async Task<CatalogException> RefusedAsync(TestWorkspace test, string path, MappingSpec? mapping = null)
    {
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", path, mapping));
        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Empty(test.Facts());
        var batch = Assert.Single(test.Catalog.BatchesNewestFirst("prod"));
        Assert.Equal(BatchStatus.Failed, batch.Status);
        Assert.StartsWith("FILE_UNREADABLE: ", batch.FailureReason);
        return error;
    }

    private const string RaiseIt = "or raise the limit if rows really are this long";

    [Fact]
    public async Task A_quote_never_closed_fails_the_batch_once_its_row_passes_the_limit_naming_the_row_the_limit_and_the_cause()
    {
        await using var test = await CrmAsync();
        var rows = Enumerable.Range(1, 50).Select(i => $"{i:D5},Ann{i}").ToList();
        rows.Insert(10, "b0001,\"Ann");
        var path = test.WriteFile("crm.csv", "crmId,firstName\n" + string.Join('\n', rows) + "\n");

        var error = await RefusedAsync(test, path);

        Assert.Equal("file 'crm.csv' cannot be read as csv: row 11 (line 12) is longer than the limit of 100 characters (limits.maxLineLength) and "
            + "reading stopped there: it opens a quote that is not closed within the limit, so every line after it would be read into one field; "
            + $"close the quote (a quote inside a field is written twice, \"\"), {RaiseIt}", error.Message);
    }

    [Theory]
    [InlineData("crmId,firstName\n", "row 1 (line 2)")]
    [InlineData("", "the header (line 1)")]
    public async Task A_csv_row_without_a_line_break_within_the_limit_fails_the_batch_as_not_delimited_text(string header, string which)
    {
        await using var test = await CrmAsync();
        var path = test.WriteFile("crm.csv", header + new string('x', 5_000) + "\n00001,Ann\n");

        var error = await RefusedAsync(test, path);

        Assert.Equal($"file 'crm.csv' cannot be read as csv: {which} is longer than the limit of 100 characters (limits.maxLineLength) and reading "
            + $"stopped there: it has no line break outside quotes within the limit, so the file is most likely not delimited text; check its format, {RaiseIt}",
            error.Message);
    }

    /// <summary>
    /// 40 rows of exactly <paramref name="length"/> characters: a CRM id and a street holding a quoted line break (counted with its
    /// row) and a doubled quote (which leaves the quoting as it was), the <paramref name="longRow"/>th one character longer.
    /// </summary>
    private static string Rows(int length, string lineEnd, bool finalLineEnd, int longRow = 0)
    {
        var rows = Enumerable.Range(1, 40).Select(i =>
        {
            var start = $"{i:D5},\"{i} \"\"Main\"\" St{lineEnd}";
            return start + new string('x', length - start.Length - 1 + (i == longRow ? 1 : 0)) + "\"";
        });
        return $"crmId,address.street{lineEnd}" + string.Join(lineEnd, rows) + (finalLineEnd ? lineEnd : "");
    }

    [Theory]
    [InlineData("\n", true)]
    [InlineData("\n", false)]
    [InlineData("\r\n", true)]
    [InlineData("\r\n", false)]
    public async Task Csv_rows_at_the_limit_with_quoted_line_breaks_and_doubled_quotes_are_stored_and_one_character_more_fails(string lineEnd, bool finalLineEnd)
    {
        await using var test = await CrmAsync();
        Assert.All(Rows(Limit, lineEnd, finalLineEnd).Split(lineEnd + "0").Skip(1), row => Assert.Equal(Limit, ("0" + row.TrimEnd('\r', '\n')).Length));
        var good = test.WriteFile("good.csv", Rows(Limit, lineEnd, finalLineEnd));
        var last = test.WriteFile("last.csv", Rows(Limit, lineEnd, finalLineEnd, longRow: 40));
        var middle = test.WriteFile("middle.csv", Rows(Limit, lineEnd, finalLineEnd, longRow: 17));

        var batch = await test.IngestAsync("crm", good);
        var lastError = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", last));
        var middleError = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", middle));

        Assert.Equal((BatchStatus.Success, 40L), (batch.Status, batch.Counts.Accepted));
        var street = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00040")).Text("address.street")!;
        Assert.StartsWith($"40 \"Main\" St{lineEnd}xx", street);
        Assert.Equal((ErrorCodes.FileUnreadable, ErrorCodes.FileUnreadable), (lastError.Code, middleError.Code));
        Assert.Contains("row 40 (line 80) is longer than the limit of 100 characters (limits.maxLineLength)", lastError.Message);
        Assert.Contains("row 17 (line 34) is longer than the limit of 100 characters (limits.maxLineLength)", middleError.Message);
        Assert.Contains("no line break outside quotes within the limit", middleError.Message);
        Assert.Equal(40, test.Facts().Count);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public async Task Whitespace_separated_lines_at_the_limit_are_stored_and_a_longer_one_fails_naming_its_row_and_line(string lineEnd)
    {
        await using var test = await CrmAsync();
        var mapping = new MappingSpec { Delimiter = "whitespace" };
        string Lines(int longRow) => $"crmId  address.street{lineEnd}{lineEnd}" + string.Join(lineEnd, Enumerable.Range(1, 30)
            .Select(i => $"{i:D5}  " + new string('x', Limit - 7 + (i == longRow ? 1 : 0))));
        var good = test.WriteFile("good.txt", Lines(0));
        var bad = test.WriteFile("bad.txt", Lines(12));

        var batch = await test.IngestAsync("crm", good, mapping);
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", bad, mapping));

        Assert.Equal((BatchStatus.Success, 30L), (batch.Status, batch.Counts.Accepted));
        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Equal("file 'bad.txt' cannot be read as csv: row 12 (line 14) is longer than the limit of 100 characters (limits.maxLineLength) and reading "
            + "stopped there: it has no line break within the limit, so the file is most likely not text in lines; check its format, "
            + "or raise the limit if lines really are this long", error.Message);
        Assert.Equal(30, test.Facts().Count);
    }

    [Theory]
    [InlineData("\n", true)]
    [InlineData("\r\n", false)]
    public async Task Json_lines_at_the_limit_are_stored_and_a_longer_one_fails_the_batch_naming_its_row_and_line(string lineEnd, bool finalLineEnd)
    {
        await using var test = await CrmAsync();
        string Lines(int longRow) => string.Join(lineEnd, Enumerable.Range(1, 30).Select(i =>
        {
            var start = $"{{\"crmId\":\"{i:D5}\",\"address\":{{\"street\":\"";
            return i == 5 ? "" : start + new string('x', Limit - start.Length - 3 + (i == longRow ? 1 : 0)) + "\"}}";
        })) + (finalLineEnd ? lineEnd : "");
        var good = test.WriteFile("good.jsonl", Lines(0));
        var bad = test.WriteFile("bad.jsonl", Lines(12));

        var batch = await test.IngestAsync("crm", good);
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", bad));

        Assert.Equal((BatchStatus.Success, 29L), (batch.Status, batch.Counts.Accepted));
        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Equal("file 'bad.jsonl' cannot be read as jsonl: row 11 (line 12) is longer than the limit of 100 characters (limits.maxLineLength) and "
            + "reading stopped there: JSON Lines holds one record per line, so this is most likely not a JSON Lines file (one JSON document, an array "
            + "of records or an object with \"records\", is ingested with format json), or raise the limit if lines really are this long", error.Message);
        Assert.Equal(29, test.Facts().Count);
    }

    [Fact]
    public async Task A_json_line_over_the_record_limit_but_within_the_line_limit_is_still_quarantined_on_its_own()
    {
        await using var test = await CrmAsync("""{"maxRecordBytes": 60, "maxLineLength": 100}""");
        var lines = Enumerable.Range(1, 30).Select(i => $"{{\"crmId\":\"{i:D5}\"}}").ToList();
        lines[9] = "{\"crmId\":\"b0001\",\"address\":{\"street\":\"" + new string('x', 50) + "\"}}";
        var path = test.WriteFile("crm.jsonl", string.Join('\n', lines));

        var batch = await test.IngestAsync("crm", path);

        Assert.Equal((BatchStatus.Success, 29L, 1L), (batch.Status, batch.Counts.Accepted, batch.Counts.Failed));
        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal((10L, ErrorCodes.RecordTooLarge), (entry.Line, Assert.Single(entry.Errors).Code));
        Assert.Equal(lines[9], entry.Raw);
    }

    private static string JsonDocument(int records) =>
        "[" + string.Join(',', Enumerable.Range(1, records).Select(i => $"{{\"crmId\":\"{i:D5}\"}}")) + "]";

    [Fact]
    public async Task A_json_document_at_the_limit_is_stored_and_a_larger_one_fails_naming_the_limit_and_json_lines()
    {
        await using var test = await CrmAsync();
        var records = 2000 / 18; // {"crmId":"00001"} and a comma; a bracket each side
        var exact = JsonDocument(records);
        exact = exact.Insert(1, new string(' ', 2000 - exact.Length));
        var good = test.WriteFile("good.json", exact);
        var bad = test.WriteFile("bad.json", exact.Insert(1, " "));

        var batch = await test.IngestAsync("crm", good);
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.IngestAsync("crm", bad));

        Assert.Equal(2000, new FileInfo(good).Length);
        Assert.Equal((BatchStatus.Success, (long)records), (batch.Status, batch.Counts.Accepted));
        Assert.Equal(ErrorCodes.FileUnreadable, error.Code);
        Assert.Equal("file 'bad.json' cannot be read as json: it is larger than the limit of 2000 bytes (limits.maxJsonDocumentBytes) and reading stopped "
            + "there: a JSON document is read into memory whole; write its records as JSON Lines (one per line, format jsonl), which is read a line at "
            + "a time, or raise the limit", error.Message);
        Assert.Equal(records, test.Facts().Count);
    }

    [Fact]
    public async Task A_gzipped_json_document_is_measured_uncompressed()
    {
        await using var test = await CrmAsync();
        var path = test.WriteGzipFile("crm.json.gz", JsonDocument(1000)); // 18 kB of JSON, a few hundred bytes compressed

        var error = await RefusedAsync(test, path);

        Assert.StartsWith("file 'crm.json.gz' cannot be read as gzip-compressed json: it is larger than the limit of 2000 bytes", error.Message);
    }

    // ------------------------------------------------------------------ reading stops at the limit

    /// <summary>
    /// <paramref name="head"/>, then <paramref name="repeated"/> over and over up to <paramref name="length"/> bytes, made as
    /// they are read (nothing held); counts what was read.
    /// </summary>
    private sealed class GeneratedStream(string head, string repeated, long length) : ReadOnlyStream
    {
        private readonly byte[] _head = Encoding.UTF8.GetBytes(head);
        private readonly byte[] _repeated = Encoding.UTF8.GetBytes(repeated);

        public long BytesRead { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, length - BytesRead);
            for (var i = 0; i < count; i++, BytesRead++)
            {
                buffer[i] = BytesRead < _head.Length ? _head[BytesRead] : _repeated[(BytesRead - _head.Length) % _repeated.Length];
            }
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
    }

    private const long FiftyMegabytes = 50L * 1024 * 1024;

    /// <summary>What a reader may have read past the limit: the decoder's buffer (64 KiB) and one read of characters (64 Ki).</summary>
    private const long ReadAhead = 256 * 1024;

    public static TheoryData<string, string, string, string> Unbounded => new()
    {
        // a quote opened on line 3 and never closed, 50 MB of rows after it
        { "csv", ",", "crmId,firstName\n00001,Ann\n00002,\"Bob\n", "00003,Cy\n" },
        // one line of 50 MB
        { "csv", ",", "crmId,firstName\n00001,Ann\n", "x" },
        { "csv", "whitespace", "crmId firstName\n00001 Ann\n", "x" },
        { "jsonl", "", "{\"crmId\":\"00001\"}\n\n{\"crmId\":\"", "x" },
    };

    [Theory]
    [MemberData(nameof(Unbounded))]
    public void A_line_longer_than_the_default_limit_stops_the_reader_within_the_limit_and_a_read_buffer(string format, string delimiter, string head, string repeated)
    {
        var limits = new IngestionLimits();
        var stream = new GeneratedStream(head, repeated, FiftyMegabytes);
        using ISourceReader reader = format == "csv" ? new CsvReader(stream, new MappingSpec { Delimiter = delimiter }, limits) : new JsonLinesReader(stream, limits);

        var error = Assert.Throws<SourceFormatException>(() => reader.Read().Count());

        Assert.StartsWith("row 2 (line 3) is longer than the limit of 8388608 characters (limits.maxLineLength) and reading stopped there", error.Message);
        Assert.InRange(stream.BytesRead, limits.MaxLineLength, limits.MaxLineLength + ReadAhead);
    }

    [Fact]
    public void A_csv_row_longer_than_a_small_limit_stops_the_reader_as_soon()
    {
        var stream = new GeneratedStream("crmId,firstName\n00001,\"Ann\n", "00002,Bob\n", FiftyMegabytes);
        using var reader = new CsvReader(stream, new MappingSpec(), new IngestionLimits { MaxLineLength = 1000 });

        Assert.StartsWith("row 1 (line 2) is longer than the limit of 1000 characters", Assert.Throws<SourceFormatException>(() => reader.Read().Count()).Message);
        Assert.InRange(stream.BytesRead, 1000, 1000 + ReadAhead);
    }

    [Fact]
    public void A_json_document_larger_than_the_limit_is_read_one_byte_past_it_at_most()
    {
        var limits = new IngestionLimits { MaxJsonDocumentBytes = 1024 * 1024 };
        var stream = new GeneratedStream("[", "{\"crmId\":\"00001\"},", FiftyMegabytes);
        using var reader = new JsonDocumentReader(stream, limits);

        var error = Assert.Throws<SourceFormatException>(() => reader.Read().Count());

        Assert.StartsWith("it is larger than the limit of 1048576 bytes (limits.maxJsonDocumentBytes)", error.Message);
        Assert.Equal(limits.MaxJsonDocumentBytes + 1, stream.BytesRead);
    }

    // ------------------------------------------------------------------ the measures against character-by-character ones

    /// <summary>Random text of quotes, line breaks (both kinds, and both together), delimiters and letters, in runs.</summary>
    private static string RandomText(Random random)
    {
        var text = new StringBuilder();
        var pieces = new[] { "\"", "\"\"", "\n", "\r", "\r\n", ",", "a", "bcdefgh", "\n\n" };
        var count = random.Next(0, 400);
        for (var i = 0; i < count; i++)
        {
            var piece = pieces[random.Next(pieces.Length)];
            text.Append(piece, 0, piece.Length);
            if (random.Next(10) == 0)
            {
                text.Append('x', random.Next(1, 120)); // a long stretch without quotes or breaks
            }
        }
        return text.ToString();
    }

    /// <summary>Hands out at most a random number of characters per read, so that every boundary falls somewhere.</summary>
    private sealed class Trickle(string text, Random random) : TextReader
    {
        private readonly StringReader _inner = new(text);

        public override int Read(Span<char> buffer) => _inner.Read(buffer[..Math.Min(buffer.Length, random.Next(1, 50))]);

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));
    }

    [Fact]
    public void The_csv_row_bound_stops_exactly_when_a_row_counted_character_by_character_passes_the_limit()
    {
        var random = new Random(20261101);
        for (var run = 0; run < 3_000; run++)
        {
            var text = RandomText(random);
            var limit = random.Next(1, 150);
            // By hand: a quote toggles quoting; a line break outside quotes ends a row.
            var (quoted, length, longest, passedAt) = (false, 0, 0, -1);
            for (var i = 0; i < text.Length; i++)
            {
                quoted ^= text[i] == '"';
                if (!quoted && text[i] is '\n' or '\r')
                {
                    (longest, length) = (Math.Max(longest, length), 0);
                }
                else if (++length > limit && passedAt < 0)
                {
                    passedAt = i;
                }
            }
            longest = Math.Max(longest, length);

            using var bound = new CsvRowBound(new Trickle(text, random), limit);
            var passed = new StringBuilder();
            var buffer = new char[random.Next(1, 300)];
            int read;
            while ((read = bound.Read(buffer, 0, random.Next(1, buffer.Length + 1))) > 0)
            {
                passed.Append(buffer, 0, read);
            }

            Assert.True(bound.Overflowed == longest > limit, $"run {run}: longest row {longest}, limit {limit}, overflowed {bound.Overflowed}");
            if (bound.Overflowed)
            {
                // It stopped after the read that took the row past the limit; a read passes no more than the limit.
                Assert.InRange(passed.Length, passedAt + 1, passedAt + limit);
                Assert.Equal(text[..passed.Length], passed.ToString());
            }
            else
            {
                Assert.Equal(text, passed.ToString());
            }
        }
    }

    [Fact]
    public void The_line_reader_reads_the_lines_a_stream_reader_reads_and_refuses_exactly_those_longer_than_the_limit()
    {
        var random = new Random(20261102);
        for (var run = 0; run < 3_000; run++)
        {
            var text = RandomText(random);
            var limit = random.Next(1, 150);
            var expected = new List<string>();
            using (var plain = new StringReader(text))
            {
                while (plain.ReadLine() is { } line)
                {
                    expected.Add(line);
                }
            }
            var tooLong = expected.FindIndex(l => l.Length > limit);

            using var reader = new LineReader(new Trickle(text, random), limit, line => new InvalidDataException($"line {line}"));
            var lines = new List<string>();
            try
            {
                while (reader.ReadLine() is { } line)
                {
                    lines.Add(line);
                }
                Assert.True(tooLong < 0, $"run {run}: line {tooLong + 1} is longer than {limit} but was read");
                Assert.Equal(expected, lines);
            }
            catch (InvalidDataException error)
            {
                Assert.True(tooLong >= 0, $"run {run}: refused ({error.Message}) though no line is longer than {limit}");
                Assert.Equal($"line {tooLong + 1}", error.Message);
                Assert.Equal(expected[..tooLong], lines);
            }
        }
    }

    // ------------------------------------------------------------------ settings

    [Fact]
    public async Task The_limits_default_to_8_Mi_characters_a_line_and_256_MiB_a_json_document_and_the_workspace_config_sets_them()
    {
        await using var defaults = await TestWorkspace.CreateAsync();
        await using var set = await CrmAsync();

        Assert.Equal((8 * 1024 * 1024, 256L * 1024 * 1024), (defaults.Ingestion.Limits.MaxLineLength, defaults.Ingestion.Limits.MaxJsonDocumentBytes));
        Assert.Equal((100, 2000L), (set.Ingestion.Limits.MaxLineLength, set.Ingestion.Limits.MaxJsonDocumentBytes));
    }

    [Theory]
    [InlineData("""{"maxLineLength": 0}""", "limits.maxLineLength must be between 1 and 16000000 characters")]
    [InlineData("""{"maxLineLength": -5}""", "limits.maxLineLength must be between 1 and 16000000 characters")]
    [InlineData("""{"maxLineLength": 16000001}""", "limits.maxLineLength must be between 1 and 16000000 characters")]
    [InlineData("""{"maxJsonDocumentBytes": 0}""", "limits.maxJsonDocumentBytes must be between 1 and 2147483591 bytes")]
    [InlineData("""{"maxJsonDocumentBytes": 3000000000}""", "limits.maxJsonDocumentBytes must be between 1 and 2147483591 bytes")]
    public async Task A_line_or_document_limit_out_of_range_is_a_config_error(string limits, string message)
    {
        var error = await Assert.ThrowsAsync<CatalogException>(() => TestWorkspace.CreateAsync($$"""{"limits": {{limits}}}"""));

        Assert.Equal("CONFIG_INVALID", error.Code);
        Assert.Contains(message, error.Message);
    }
}

namespace Tessera.Ingestion.Sources;

/// <summary>
/// Delimited text on its way to Sep, measured by the row: once a row is longer than <c>maxLength</c> characters (its quoted
/// line breaks included), the text ends there, so that Sep yields the rows read so far and that row last, whole or cut,
/// and the reader names it (<see cref="CsvReader"/>) instead of reading the rest of the file into it. Without this, a quote
/// never closed takes every later line into one row: Sep grows its buffer to 16 Mi characters before it gives up.
/// </summary>
/// <remarks>
/// Sep reads through <see cref="Read(Span{char})"/>. Each read passes at most <c>maxLength</c> characters (and at most
/// <see cref="Chunk"/>), so a row longer than the limit always spans a read boundary: measuring the row open where a read
/// starts (until its end in that read) and the one open where it stops finds it; rows wholly inside one read are shorter
/// than the read. A quote toggles quoting wherever it is (as Sep reads it; a doubled quote toggles twice), and a line
/// break ("\n" or "\r") outside quotes ends a row. A read is measured with a count of its quotes and a search for its first
/// and last line break outside quotes: vectorized passes over the read, nothing per character or per row.
/// </remarks>
internal sealed class CsvRowBound(TextReader inner, int maxLength) : TextReader
{
    /// <summary>The most characters one read passes.</summary>
    public const int Chunk = 1 << 16;

    private readonly int _chunk = Math.Clamp(maxLength, 1, Chunk);
    private bool _quoted;
    private long _open;

    /// <summary>Whether a row was longer than the limit; the text ended after the read that found it.</summary>
    public bool Overflowed { get; private set; }

    public override int Read(Span<char> buffer)
    {
        if (Overflowed || buffer.IsEmpty)
        {
            return 0;
        }
        var read = inner.Read(buffer[..Math.Min(buffer.Length, _chunk)]);
        if (read > 0)
        {
            Measure(buffer[..read]);
        }
        return read;
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read()
    {
        Span<char> one = stackalloc char[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override int Peek() => Overflowed ? -1 : inner.Peek();

    /// <summary>Follows the quoting and the open row's length through <paramref name="chars"/>, the next characters of the text.</summary>
    private void Measure(ReadOnlySpan<char> chars)
    {
        var quotedAtEnd = _quoted ^ ((chars.Count('"') & 1) != 0);
        var first = FirstRowEnd(chars, _quoted);
        if (first < 0)
        {
            _open += chars.Length;
        }
        else
        {
            if (_open + first > maxLength)
            {
                Overflowed = true; // the row open before this read ended in it, too long
            }
            _open = chars.Length - LastRowEnd(chars, first, quotedAtEnd) - 1;
        }
        _quoted = quotedAtEnd;
        if (_open > maxLength)
        {
            Overflowed = true;
        }
    }

    /// <summary>Where the first line break outside quotes is (-1: none), quoting being <paramref name="quoted"/> at the start.</summary>
    private static int FirstRowEnd(ReadOnlySpan<char> chars, bool quoted)
    {
        var from = 0;
        while (true)
        {
            var at = chars[from..].IndexOfAny('\n', '\r');
            if (at < 0)
            {
                return -1;
            }
            at += from;
            quoted ^= (chars[from..at].Count('"') & 1) != 0;
            if (!quoted)
            {
                return at;
            }
            from = at + 1;
        }
    }

    /// <summary>Where the last line break outside quotes is, given the first (<paramref name="first"/>) and the quoting at the end.</summary>
    private static int LastRowEnd(ReadOnlySpan<char> chars, int first, bool quotedAtEnd)
    {
        var quoted = quotedAtEnd;
        var to = chars.Length;
        while (true)
        {
            var at = chars[(first + 1)..to].LastIndexOfAny('\n', '\r');
            if (at < 0)
            {
                return first;
            }
            at += first + 1;
            quoted ^= (chars[(at + 1)..to].Count('"') & 1) != 0;
            if (!quoted)
            {
                return at;
            }
            to = at;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// Reads lines as <see cref="TextReader.ReadLine"/> does (ended by "\n", "\r" or "\r\n"; the last may have no end), but
/// holds at most <c>maxLength</c> characters of one: a longer line throws what <c>tooLong</c> makes of its line number as
/// soon as that many were read without its end, instead of being read whole.
/// </summary>
internal sealed class LineReader(TextReader inner, int maxLength, Func<long, Exception> tooLong) : IDisposable
{
    private char[] _buffer = new char[CsvRowBound.Chunk];
    private int _start;
    private int _end;
    private int _scanned;
    private bool _ended;
    private bool _afterCarriageReturn;

    /// <summary>Lines read so far.</summary>
    public long Lines { get; private set; }

    public string? ReadLine()
    {
        while (true)
        {
            var unread = _buffer.AsSpan(_start, _end - _start);
            var at = unread[_scanned..].IndexOfAny('\n', '\r');
            if (at >= 0)
            {
                at += _scanned;
                if (at > maxLength)
                {
                    throw tooLong(Lines + 1);
                }
                var line = new string(unread[..at]);
                _start += at + 1;
                _scanned = 0;
                if (unread[at] == '\r')
                {
                    if (_start < _end)
                    {
                        _start += _buffer[_start] == '\n' ? 1 : 0;
                    }
                    else
                    {
                        _afterCarriageReturn = true; // a "\n" read next ends this line too
                    }
                }
                Lines++;
                return line;
            }
            _scanned = unread.Length;
            if (_scanned > maxLength)
            {
                throw tooLong(Lines + 1);
            }
            if (_ended)
            {
                if (unread.IsEmpty)
                {
                    return null;
                }
                var last = new string(unread);
                (_start, _scanned) = (_end, 0);
                Lines++;
                return last;
            }
            Fill();
        }
    }

    /// <summary>Reads more after the unread characters (moved to the front), growing the buffer up to one past the limit.</summary>
    private void Fill()
    {
        var unread = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, unread).CopyTo(_buffer);
            (_start, _end) = (0, unread);
        }
        if (_end == _buffer.Length)
        {
            // Only while the buffer holds no more than the limit (else the line is too long already), so it grows past it by one at most.
            var length = (int)Math.Min(Math.Min(2L * _buffer.Length, maxLength + 1L), Array.MaxLength);
            Array.Resize(ref _buffer, length);
        }
        var read = inner.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _ended = true;
            return;
        }
        if (_afterCarriageReturn)
        {
            _afterCarriageReturn = false;
            if (_buffer[_end] == '\n')
            {
                // Nothing was unread (the line ended the buffer), so this is the front.
                _start++;
            }
        }
        _end += read;
    }

    public void Dispose() => inner.Dispose();
}

using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Tessera.Ingestion.Sources;

/// <summary>
/// Decompresses gzip and knows, at the end, whether the data was complete. <see cref="GZipStream"/>
/// checks a member's CRC-32 and length only when its 8-byte trailer arrives: when the input stops
/// before (a cut-short file, an interrupted upload) it simply ends, as if the data were complete. This
/// stream hashes what it hands out and, at the end, compares the last member's output with the
/// trailer in the input's last 8 bytes. Reads return what one member produced (GZipStream never mixes
/// two members in one read), so the last member starts at one of the read boundaries, kept with the
/// CRC at that point; the CRC of the output after a boundary is derived from the CRC before and after
/// it (<see cref="Crc32Suffix"/>). Earlier members' trailers were checked by zlib when the next member began.
/// </summary>
public sealed class CheckedGzipStream : ReadOnlyStream
{
    private readonly TailStream _compressed;
    private readonly GZipStream _gzip;
    private readonly Crc32 _crc = new();
    private readonly List<(long Offset, uint Crc)> _boundaries = [(0, 0)];
    private readonly Func<string, Exception>? _refuse;
    private long _length;
    private bool _ended;

    /// <param name="compressed">The gzip data.</param>
    /// <param name="leaveOpen">Whether disposing this stream leaves <paramref name="compressed"/> open.</param>
    /// <param name="refuse">
    /// When set, a read throws what it makes of the reason when the data turns out incomplete at the end or damaged (for a
    /// caller that reads the stream through code that cannot ask, such as a request body); when null, the reader asks
    /// <see cref="Incomplete"/> at the end and damaged data throws <see cref="InvalidDataException"/>.
    /// </param>
    public CheckedGzipStream(Stream compressed, bool leaveOpen = false, Func<string, Exception>? refuse = null)
    {
        _compressed = new TailStream(compressed, leaveOpen);
        _gzip = new GZipStream(_compressed, CompressionMode.Decompress);
        _refuse = refuse;
    }

    /// <summary>Once the end was reached, why the gzip data is incomplete; null when it is complete (or before the end).</summary>
    public string? Incomplete { get; private set; }

    /// <summary>Reads to the end (discarding what is left) and returns <see cref="Incomplete"/>.</summary>
    public string? ReadToEndAndCheck()
    {
        if (!_ended)
        {
            var buffer = new byte[1 << 16];
            while (Read(buffer) > 0)
            {
            }
        }
        return Incomplete;
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }
        Mark();
        int read;
        try
        {
            read = _gzip.Read(buffer);
        }
        catch (InvalidDataException error) when (_refuse is not null)
        {
            throw _refuse($"its gzip data is damaged ({error.Message})");
        }
        return Took(read, buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }
        Mark();
        int read;
        try
        {
            read = await _gzip.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException error) when (_refuse is not null)
        {
            throw _refuse($"its gzip data is damaged ({error.Message})");
        }
        return Took(read, buffer.Span);
    }

    /// <summary>Keeps the read boundary (a member may start here) with the CRC so far.</summary>
    private void Mark()
    {
        if (_boundaries[^1].Offset != _length)
        {
            _boundaries.Add((_length, _crc.GetCurrentHashAsUInt32()));
        }
    }

    private int Took(int read, ReadOnlySpan<byte> buffer)
    {
        if (read > 0)
        {
            _crc.Append(buffer[..read]);
            _length += read;
            return read;
        }
        _ended = true;
        Incomplete = Check();
        if (Incomplete is not null && _refuse is not null)
        {
            throw _refuse($"it ends early: {Incomplete}");
        }
        return 0;
    }

    private string? Check()
    {
        var tail = _compressed.Tail;
        var total = _compressed.Total;
        if (total < 18) // a header (10 bytes) and a trailer (8) at least
        {
            return $"its {total} bytes hold no whole gzip member";
        }
        var expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        var expectedLength = BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]);
        var all = _crc.GetCurrentHashAsUInt32();
        foreach (var (offset, crc) in _boundaries)
        {
            var length = _length - offset;
            if ((uint)length == expectedLength && Crc32Suffix(crc, all, length) == expectedCrc)
            {
                return null;
            }
        }
        return $"the last gzip member stops without its trailer after {_length} decompressed bytes";
    }

    /// <summary>
    /// The CRC-32 of B, from the CRC-32 of A and of A followed by B, and B's length: CRC(A·B) = CRC(A)·x^(8|B|) + CRC(B)
    /// modulo the CRC polynomial (the initial and final inversions cancel out), so CRC(B) = CRC(A·B) + CRC(A)·x^(8|B|).
    /// </summary>
    internal static uint Crc32Suffix(uint prefix, uint whole, long suffixLength) =>
        whole ^ Multiply(prefix, XPower8(suffixLength));

    /// <summary>x^(8n) modulo the polynomial, by squaring (bit 31 is x^0: the reflected order CRC-32 works in).</summary>
    private static uint XPower8(long n)
    {
        var result = 0x80000000u; // 1
        var power = 0x00800000u;  // x^8
        while (n != 0)
        {
            if ((n & 1) != 0)
            {
                result = Multiply(result, power);
            }
            power = Multiply(power, power);
            n >>= 1;
        }
        return result;
    }

    /// <summary>a·b modulo the CRC-32 polynomial, both in the reflected order.</summary>
    private static uint Multiply(uint a, uint b)
    {
        var product = 0u;
        for (var bit = 0x80000000u; bit != 0; bit >>= 1)
        {
            if ((a & bit) != 0)
            {
                product ^= b;
            }
            b = (b & 1) != 0 ? (b >> 1) ^ 0xEDB88320u : b >> 1; // b·x
        }
        return product;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gzip.Dispose();
            _compressed.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Passes reads through, keeping the last 8 bytes read and the count.</summary>
    private sealed class TailStream(Stream inner, bool leaveOpen) : ReadOnlyStream
    {
        private readonly byte[] _tail = new byte[8];

        public long Total { get; private set; }

        public ReadOnlySpan<byte> Tail => _tail;

        public override int Read(Span<byte> buffer) => Took(inner.Read(buffer), buffer);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Took(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Span);

        private int Took(int read, ReadOnlySpan<byte> buffer)
        {
            if (read >= 8)
            {
                buffer.Slice(read - 8, 8).CopyTo(_tail);
            }
            else if (read > 0)
            {
                _tail.AsSpan(read).CopyTo(_tail);
                buffer[..read].CopyTo(_tail.AsSpan(8 - read));
            }
            Total += read;
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !leaveOpen)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

namespace Tessera.Ingestion.Sources;

/// <summary>
/// Passes at most <c>limit</c> bytes of <c>inner</c> through; reading more throws what <c>tooLarge</c> makes, having read
/// one byte past the limit at most (which tells a longer stream from one of exactly the limit). Leaves <c>inner</c> open.
/// </summary>
internal sealed class BoundedStream(Stream inner, long limit, Func<Exception> tooLarge) : ReadOnlyStream
{
    private long _read;

    public override int Read(Span<byte> buffer) => buffer.IsEmpty ? 0 : Took(inner.Read(buffer[..Allowed(buffer.Length)]));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty ? 0 : Took(await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false));

    private int Allowed(int length) => _read > limit ? throw tooLarge() : (int)Math.Min(length, limit + 1 - _read);

    private int Took(int read)
    {
        _read += read;
        return _read > limit ? throw tooLarge() : read;
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Tessera.Activation.Hashing;

/// <summary>
/// Normalized keys of one micro-batch, hashed together: each key to hash is encoded as UTF-8 into
/// one pooled buffer, <see cref="Compute"/> hashes them all with <see cref="Sha256Batch"/>, and the
/// digests are written as hex or Base64 straight into a <see cref="Utf8JsonWriter"/> or a span,
/// without a string per value.
/// </summary>
/// <remarks>Not thread-safe: one batch per builder. Dispose returns the buffers to the pool.</remarks>
public sealed class KeyHashBatch : IDisposable
{
    private byte[] _packed;
    private int[] _ends;
    private byte[] _digests;
    private byte[] _given;
    private Entry[] _entries;
    private int _packedLength;
    private int _toHash;
    private int _givenCount;
    private bool _computed;

    public KeyHashBatch(int capacity = 256)
    {
        capacity = Math.Max(capacity, 16);
        _packed = ArrayPool<byte>.Shared.Rent(capacity * 32);
        _ends = ArrayPool<int>.Shared.Rent(capacity);
        _digests = ArrayPool<byte>.Shared.Rent(capacity * Sha256Batch.DigestBytes);
        _given = ArrayPool<byte>.Shared.Rent(16 * Sha256Batch.DigestBytes);
        _entries = new Entry[capacity];
    }

    /// <summary>Keys added so far.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a usable key; returns its index for the writers below.</summary>
    /// <exception cref="ArgumentException">The outcome is not usable (check <see cref="KeyOutcome.IsUsable"/> first).</exception>
    public int Add(in KeyOutcome key)
    {
        if (!key.IsUsable)
        {
            throw new ArgumentException($"an unusable key cannot be hashed: {key.Problem}", nameof(key));
        }
        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }
        _computed = false;
        var index = Count++;
        switch (key.Form)
        {
            case KeyForm.ToHash:
                {
                    var value = key.Value!;
                    var bytes = Encoding.UTF8.GetMaxByteCount(value.Length);
                    EnsurePacked(_packedLength + bytes);
                    _packedLength += Encoding.UTF8.GetBytes(value, _packed.AsSpan(_packedLength));
                    if (_toHash == _ends.Length)
                    {
                        Grow(ref _ends, _toHash * 2);
                    }
                    _ends[_toHash] = _packedLength;
                    _entries[index] = new Entry(KeyForm.ToHash, _toHash++, null);
                    break;
                }
            case KeyForm.Hashed:
                {
                    if ((_givenCount + 1) * Sha256Batch.DigestBytes > _given.Length)
                    {
                        Grow(ref _given, _given.Length * 2);
                    }
                    Convert.FromHexString(key.Value!, _given.AsSpan(_givenCount * Sha256Batch.DigestBytes, Sha256Batch.DigestBytes), out _, out _);
                    _entries[index] = new Entry(KeyForm.Hashed, _givenCount++, key.Value);
                    break;
                }
            default:
                _entries[index] = new Entry(KeyForm.Plain, -1, key.Value);
                break;
        }
        return index;
    }

    /// <summary>Hashes every key added since the last call.</summary>
    public void Compute()
    {
        if (_toHash * Sha256Batch.DigestBytes > _digests.Length)
        {
            ArrayPool<byte>.Shared.Return(_digests);
            _digests = ArrayPool<byte>.Shared.Rent(_toHash * Sha256Batch.DigestBytes);
        }
        Sha256Batch.HashMany(_packed.AsSpan(0, _packedLength), _ends.AsSpan(0, _toHash), _digests);
        _computed = true;
    }

    /// <summary>Whether key <paramref name="index"/> is sent as a digest (else as plain text).</summary>
    public bool IsDigest(int index) => _entries[index].Form != KeyForm.Plain;

    /// <summary>The 32-byte digest of key <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Digest(int index)
    {
        var entry = _entries[index];
        return entry.Form switch
        {
            KeyForm.ToHash when _computed => _digests.AsSpan(entry.Slot * Sha256Batch.DigestBytes, Sha256Batch.DigestBytes),
            KeyForm.ToHash => throw new InvalidOperationException("call Compute before reading digests"),
            KeyForm.Hashed => _given.AsSpan(entry.Slot * Sha256Batch.DigestBytes, Sha256Batch.DigestBytes),
            _ => throw new InvalidOperationException($"key {index} is sent unhashed"),
        };
    }

    /// <summary>The plain text of key <paramref name="index"/> (unhashed keys only).</summary>
    public string Plain(int index) => _entries[index].Form == KeyForm.Plain ? _entries[index].Text! : throw new InvalidOperationException($"key {index} is a digest");

    /// <summary>Writes key <paramref name="index"/> as a JSON string: lower-case hex of its digest, or its plain text.</summary>
    public void WriteHex(Utf8JsonWriter writer, int index)
    {
        if (!IsDigest(index))
        {
            writer.WriteStringValue(Plain(index));
            return;
        }
        Span<byte> hex = stackalloc byte[DigestText.HexLength];
        DigestText.WriteHexUtf8(Digest(index), hex);
        writer.WriteStringValue(hex);
    }

    /// <summary>Writes key <paramref name="index"/> as a JSON string: Base64 of its digest (UID2), or its plain text.</summary>
    public void WriteBase64(Utf8JsonWriter writer, int index)
    {
        if (!IsDigest(index))
        {
            writer.WriteStringValue(Plain(index));
            return;
        }
        Span<byte> text = stackalloc byte[DigestText.Base64Length];
        DigestText.WriteBase64Utf8(Digest(index), text);
        writer.WriteStringValue(text);
    }

    public string Hex(int index) => IsDigest(index) ? DigestText.Hex(Digest(index)) : Plain(index);

    public string Base64(int index) => IsDigest(index) ? DigestText.Base64String(Digest(index)) : Plain(index);

    /// <summary>Empties the batch, keeping its buffers.</summary>
    public void Clear()
    {
        Count = 0;
        _packedLength = 0;
        _toHash = 0;
        _givenCount = 0;
        _computed = false;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_packed);
        ArrayPool<int>.Shared.Return(_ends);
        ArrayPool<byte>.Shared.Return(_digests);
        ArrayPool<byte>.Shared.Return(_given);
        _packed = [];
        _ends = [];
        _digests = [];
        _given = [];
    }

    private void EnsurePacked(int length)
    {
        if (length > _packed.Length)
        {
            Grow(ref _packed, Math.Max(length, _packed.Length * 2));
        }
    }

    private static void Grow<T>(ref T[] array, int length)
    {
        var bigger = ArrayPool<T>.Shared.Rent(length);
        array.AsSpan().CopyTo(bigger);
        ArrayPool<T>.Shared.Return(array);
        array = bigger;
    }

    private readonly record struct Entry(KeyForm Form, int Slot, string? Text);
}

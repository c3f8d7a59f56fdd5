using System.Buffers;

namespace Tessera.Storage;

/// <summary>
/// A set of puts and deletes applied atomically by <see cref="IStore.CommitAsync"/>. Keys and
/// values are appended into one pooled buffer, and the operations into a pooled array, so that
/// building a set of thousands of records does not allocate per record (nor per set: the
/// operations' arrays grown for each request's set were a tenth of what ingestion allocated).
/// </summary>
public sealed class WriteSet : IDisposable
{
    private byte[] _buffer;
    private int _used;
    private Op[] _ops = ArrayPool<Op>.Shared.Rent(64);
    private int _count;

    public WriteSet(int initialBytes = 64 * 1024) => _buffer = ArrayPool<byte>.Shared.Rent(initialBytes);

    public int Count => _count;

    /// <summary>The <paramref name="index"/>-th operation; its key and value view this set's buffer (valid until it changes).</summary>
    public WriteOperation this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            var op = _ops[index];
            return new WriteOperation(op.Space, op.Shard, _buffer.AsMemory(op.KeyAt, op.KeyLength),
                op.ValueAt < 0 ? default : _buffer.AsMemory(op.ValueAt, op.ValueLength), op.ValueAt < 0);
        }
    }

    public long Bytes => _used;

    /// <summary>Highest fact shard any operation names (-1 when none), so a store can refuse a set it has no shard for.</summary>
    public int MaxFactShard { get; private set; } = -1;

    public void Put(StoreSpace space, int shard, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        CheckShard(space, shard);
        var keyAt = Append(key);
        var valueAt = Append(value);
        Add(new Op(space, shard, keyAt, key.Length, valueAt, value.Length));
    }

    public void Delete(StoreSpace space, int shard, ReadOnlySpan<byte> key)
    {
        CheckShard(space, shard);
        var keyAt = Append(key);
        Add(new Op(space, shard, keyAt, key.Length, -1, 0));
    }

    public void Clear()
    {
        _count = 0;
        _used = 0;
        MaxFactShard = -1;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
        if (_ops.Length > 0)
        {
            ArrayPool<Op>.Shared.Return(_ops);
            _ops = [];
        }
        Clear(); // Nothing left to read: a disposed set is empty (it can be written again).
    }

    private void Add(Op op)
    {
        if (_count == _ops.Length)
        {
            var bigger = ArrayPool<Op>.Shared.Rent(Math.Max(64, _ops.Length * 2));
            _ops.AsSpan(0, _count).CopyTo(bigger);
            if (_ops.Length > 0)
            {
                ArrayPool<Op>.Shared.Return(_ops);
            }
            _ops = bigger;
        }
        _ops[_count++] = op;
    }

    private void CheckShard(StoreSpace space, int shard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        if (space == StoreSpace.Facts && shard > MaxFactShard)
        {
            MaxFactShard = shard;
        }
    }

    private int Append(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        var at = _used;
        bytes.CopyTo(_buffer.AsSpan(at));
        _used += bytes.Length;
        return at;
    }

    private void Ensure(int extra)
    {
        if (_used + extra <= _buffer.Length)
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _used + extra));
        _buffer.AsSpan(0, _used).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private readonly record struct Op(StoreSpace Space, int Shard, int KeyAt, int KeyLength, int ValueAt, int ValueLength);
}

/// <summary>One operation of a <see cref="WriteSet"/>.</summary>
public readonly record struct WriteOperation(StoreSpace Space, int Shard, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value, bool IsDelete);

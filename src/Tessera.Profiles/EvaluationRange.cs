using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Profiles;

/// <summary>Receives the stored record of event <paramref name="index"/> of the profile at <paramref name="profile"/> in a range, as UTF-8 JSON valid only during the call.</summary>
public delegate void RangeEventRecordVisitor(int profile, int index, ReadOnlySpan<byte> record);

/// <summary>
/// Consecutive identities of one shard, in key order, read for evaluation by
/// <see cref="ProfileService.ReadRangeForEvaluation"/>: each identity's profile, or the note that its
/// graph holds other identities (read those with <see cref="ProfileService.ForEvaluationSource"/>).
/// </summary>
public sealed class EvaluationRange
{
    /// <summary>Per identity, what every key of its facts starts with after the tag: 0 sandbox 0 namespace 0 value 0.</summary>
    private readonly byte[][] _prefixes;

    internal EvaluationRange(string sandbox, int shard, IReadOnlyList<IdentityKey> identities)
    {
        Sandbox = sandbox;
        Shard = shard;
        Identities = identities;
        _prefixes = new byte[identities.Count][];
        for (var i = 0; i < _prefixes.Length; i++)
        {
            _prefixes[i] = FactKeys.IdentityPrefix(FactKeys.RecordTag, sandbox, new IdentityValue(identities[i].Namespace, identities[i].Value, true))[1..];
            if (i > 0 && _prefixes[i].AsSpan().SequenceCompareTo(_prefixes[i - 1]) <= 0)
            {
                throw new ArgumentException($"identities of a range must be distinct and in key order: {identities[i]} comes after {identities[i - 1]}", nameof(identities));
            }
        }
        Sources = new EvaluationSource?[identities.Count];
        InLargerGraph = new bool[identities.Count];
    }

    public string Sandbox { get; }

    public int Shard { get; }

    public IReadOnlyList<IdentityKey> Identities { get; }

    /// <summary>Per identity: its profile, or null when it holds nothing the policy reads or its graph holds other identities.</summary>
    public EvaluationSource?[] Sources { get; }

    /// <summary>Per identity: whether its graph holds other identities, so that its profile was not read here.</summary>
    public bool[] InLargerGraph { get; }

    /// <summary>
    /// Whether the range holds its events' records (read with them: <c>withEventRecords</c>), to be visited with
    /// <see cref="VisitEventRecords"/>; otherwise <see cref="ProfileService.ReadEventRecords(EvaluationRange, RangeEventRecordVisitor)"/> reads them.
    /// </summary>
    public bool HasEventRecords => _recordsOf is not null;

    // Records read with the range: their bytes one after the other in a pooled buffer, and per profile where each
    // of its events' record is, in the order of its Events (Start -1: the event has no record).
    private byte[]? _records;
    private int _recordsLength;
    private (int Start, int Length)[]?[]? _recordsOf;

    /// <summary>Hands the record of every event of the range's profiles to <paramref name="visit"/>, as <see cref="ProfileService.ReadEventRecords(EvaluationRange, RangeEventRecordVisitor)"/> does.</summary>
    public void VisitEventRecords(RangeEventRecordVisitor visit)
    {
        if (_recordsOf is null)
        {
            throw new InvalidOperationException("this range was read without its events' records");
        }
        for (var at = 0; at < _recordsOf.Length; at++)
        {
            var slots = _recordsOf[at];
            for (var index = 0; slots is not null && index < slots.Length; index++)
            {
                if (slots[index].Start >= 0)
                {
                    visit(at, index, _records.AsSpan(slots[index].Start, slots[index].Length));
                }
            }
        }
    }

    /// <summary>Gives the buffer of the records back to the pool; <see cref="VisitEventRecords"/> cannot be called after.</summary>
    public void ReleaseEventRecords()
    {
        _recordsOf = null;
        if (_records is { } records)
        {
            _records = null;
            System.Buffers.ArrayPool<byte>.Shared.Return(records);
        }
    }

    /// <summary>Keeps a copy of <paramref name="record"/>; returns where it is, for <see cref="SetEventRecords"/>.</summary>
    internal (int Start, int Length) KeepRecord(ReadOnlySpan<byte> record)
    {
        if (_records is null || _recordsLength + record.Length > _records.Length)
        {
            var grown = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(64 * 1024, 2 * (_recordsLength + record.Length)));
            if (_records is not null)
            {
                _records.AsSpan(0, _recordsLength).CopyTo(grown);
                System.Buffers.ArrayPool<byte>.Shared.Return(_records);
            }
            _records = grown;
        }
        record.CopyTo(_records.AsSpan(_recordsLength));
        _recordsLength += record.Length;
        return (_recordsLength - record.Length, record.Length);
    }

    /// <summary>Marks the range as read with its events' records (some profiles may have none).</summary>
    internal void HoldEventRecords() => _recordsOf = new (int, int)[]?[Identities.Count];

    /// <summary>Where the records of the events of the profile at <paramref name="at"/> are, in the order of its Events.</summary>
    internal void SetEventRecords(int at, (int Start, int Length)[] slots) => _recordsOf![at] = slots;

    /// <summary>The length of the key prefix of the identity at <paramref name="at"/> (tag included): its facts' own parts follow.</summary>
    internal int PrefixLength(int at) => _prefixes[at].Length + 1;

    internal delegate void FactVisitor(int at, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Visits every fact of kind <paramref name="tag"/> of the range's identities with one scan, each with its identity's position.</summary>
    internal void ScanAll(IStore store, byte tag, FactVisitor visit)
    {
        if (_prefixes.Length == 0)
        {
            return;
        }
        var from = new byte[_prefixes[0].Length + 1];
        from[0] = tag;
        _prefixes[0].CopyTo(from, 1);
        var at = 0;
        store.ScanOnce(StoreSpace.Facts, Shard, FactKeys.SandboxPrefix(tag, Sandbox), from, (key, value) =>
        {
            var tail = key[1..];
            while (!tail.StartsWith(_prefixes[at]))
            {
                if (tail.SequenceCompareTo(_prefixes[at]) < 0)
                {
                    return true; // An identity between two of the range's: not one of them.
                }
                if (++at == _prefixes.Length)
                {
                    return false;
                }
            }
            visit(at, key, value);
            return true;
        });
    }
}

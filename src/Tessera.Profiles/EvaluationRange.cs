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
        store.Scan(StoreSpace.Facts, Shard, FactKeys.SandboxPrefix(tag, Sandbox), from, (key, value) =>
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

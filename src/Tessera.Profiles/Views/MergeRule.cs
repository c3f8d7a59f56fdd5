using System.Collections.Frozen;
using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Profiles.Fragments;

namespace Tessera.Profiles.Views;

/// <summary>A value of a merged profile and where it came from.</summary>
public sealed record MergedValue(string Json, Stamp Stamp, string Dataset, string Batch, IdentityKey Identity);

/// <summary>
/// A merge policy applied to a sandbox's datasets: which datasets a profile takes attributes from
/// (profile-enabled ones; with dataset precedence only those listed) and which value wins.
/// </summary>
public sealed class MergeRule
{
    private readonly FrozenDictionary<string, int> _rank;

    public MergeRule(MergePolicy policy, IEnumerable<string> contributingDatasets)
    {
        Policy = policy;
        var contributing = contributingDatasets.ToHashSet(StringComparer.Ordinal);
        _rank = policy.AttributeMerge == AttributeMerge.DatasetPrecedence
            ? (policy.Datasets ?? []).Select((name, index) => (name, index)).Where(d => contributing.Contains(d.name))
                .ToFrozenDictionary(d => d.name, d => d.index, StringComparer.Ordinal)
            : contributing.ToFrozenDictionary(d => d, _ => 0, StringComparer.Ordinal);
    }

    public MergePolicy Policy { get; }

    /// <summary>Datasets this rule takes values from.</summary>
    public IEnumerable<string> Datasets => _rank.Keys;

    public bool Allows(string dataset) => _rank.ContainsKey(dataset);

    /// <summary>Whether the same policy over the same datasets (a cached merge made with it is still good).</summary>
    public bool SameAs(MergeRule other) =>
        ReferenceEquals(this, other) || (Policy == other.Policy && _rank.Count == other._rank.Count && _rank.All(r => other._rank.TryGetValue(r.Key, out var rank) && rank == r.Value));

    /// <summary>Whether a value from (<paramref name="dataset"/>, <paramref name="identity"/>, <paramref name="stamp"/>) beats <paramref name="current"/>.</summary>
    public bool Beats(string dataset, IdentityKey identity, Stamp stamp, MergedValue current)
    {
        var byRank = _rank[current.Dataset].CompareTo(_rank[dataset]);
        if (byRank != 0)
        {
            return byRank > 0;
        }
        var byStamp = stamp.CompareTo(current.Stamp);
        if (byStamp != 0)
        {
            return byStamp > 0;
        }
        // Equal stamps come only from hand-made data; any fixed order will do.
        var byDataset = string.CompareOrdinal(dataset, current.Dataset);
        return byDataset != 0 ? byDataset > 0 : string.CompareOrdinal(identity.ToString(), current.Identity.ToString()) > 0;
    }
}

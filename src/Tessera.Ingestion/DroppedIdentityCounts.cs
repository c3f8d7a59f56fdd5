using Tessera.Abstractions;

namespace Tessera.Ingestion;

/// <summary>
/// How many identities were dropped from accepted records, by reason code. One per record
/// processor (not thread-safe); parallel workers' counts are merged with <see cref="Add(DroppedIdentityCounts)"/>.
/// </summary>
public sealed class DroppedIdentityCounts
{
    private readonly Dictionary<string, long> _byReason = new(StringComparer.Ordinal);

    public long Total { get; private set; }

    public void Add(string reason, long count = 1)
    {
        _byReason[reason] = _byReason.GetValueOrDefault(reason) + count;
        Total += count;
    }

    public void Add(DroppedIdentityCounts other)
    {
        foreach (var (reason, count) in other._byReason)
        {
            Add(reason, count);
        }
    }

    /// <summary><paramref name="counts"/> with these drops (unchanged when there are none).</summary>
    public BatchCounts AddTo(BatchCounts counts) => Total == 0 ? counts : counts with
    {
        IdentitiesDropped = counts.IdentitiesDropped + Total,
        IdentitiesDroppedByReason = new SortedDictionary<string, long>(_byReason, StringComparer.Ordinal),
    };
}

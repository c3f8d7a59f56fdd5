using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Segmentation.Engines;

/// <summary>
/// Where the engines find a sandbox's profiles: every identity that holds a record or an event,
/// read from the fact keys themselves (there is no profile table yet). Shared by the batch engine
/// and the estimator so that both see the same population.
/// </summary>
internal static class ProfileIndex
{
    /// <summary>Every identity that holds a record or an event in <paramref name="sandbox"/>, each once per shard scan (so at most twice: records, then events).</summary>
    public static IEnumerable<IdentityKey> Identities(IStore store, string sandbox)
    {
        foreach (var tag in new[] { FactKeys.RecordTag, FactKeys.TimelineTag })
        {
            var prefix = FactKeys.SandboxPrefix(tag, sandbox);
            for (var shard = 0; shard < store.ShardCount; shard++)
            {
                IdentityKey? previous = null;
                var found = new List<IdentityKey>();
                store.Scan(StoreSpace.Facts, shard, prefix, (key, _) =>
                {
                    if (FactKeys.TryParse(key, out var parsed))
                    {
                        var current = new IdentityKey(parsed.Identity.Namespace, parsed.Identity.Value);
                        if (current != previous)
                        {
                            found.Add(current);
                            previous = current;
                        }
                    }
                    return true;
                });
                foreach (var identityKey in found)
                {
                    yield return identityKey;
                }
            }
        }
    }

    /// <summary><see cref="Identities"/> without repeats, in the order first found.</summary>
    public static List<IdentityKey> DistinctIdentities(IStore store, string sandbox)
    {
        var seen = new HashSet<IdentityKey>();
        var result = new List<IdentityKey>();
        foreach (var identity in Identities(store, sandbox))
        {
            if (seen.Add(identity))
            {
                result.Add(identity);
            }
        }
        return result;
    }
}

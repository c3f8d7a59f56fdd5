using System.Text;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Segmentation.Engines;

/// <summary>
/// Where the engines find a sandbox's profiles: every identity that holds a record or an event,
/// read from the fact keys themselves (there is no profile table yet). Shared by the batch engine
/// and the preview. Estimates draw their sample from the identity graph instead (<c>IdentityService.SampleProfiles</c>), which
/// marks every identity a record or an event was stored under (those whose events all expired too) without a scan.
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
                store.ScanOnce(StoreSpace.Facts, shard, prefix, prefix, (key, _) =>
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

    /// <summary>
    /// Every identity of <paramref name="shard"/> that holds a record or an event in <paramref name="sandbox"/>,
    /// once, in the order of their keys (what a range read of that shard wants).
    /// </summary>
    public static List<IdentityKey> IdentitiesOfShard(IStore store, string sandbox, int shard)
    {
        var records = InKeyOrder(store, sandbox, shard, FactKeys.RecordTag);
        var timeline = InKeyOrder(store, sandbox, shard, FactKeys.TimelineTag);
        var merged = new List<IdentityKey>(Math.Max(records.Count, timeline.Count));
        int r = 0, t = 0;
        while (r < records.Count || t < timeline.Count)
        {
            var order = r == records.Count ? 1 : t == timeline.Count ? -1 : records[r].Key.AsSpan().SequenceCompareTo(timeline[t].Key);
            merged.Add(order <= 0 ? records[r].Identity : timeline[t].Identity);
            r += order <= 0 ? 1 : 0;
            t += order >= 0 ? 1 : 0;
        }
        return merged;
    }

    /// <summary>The distinct identities of one kind of fact on a shard, each with its key bytes (namespace 0 value), in key order.</summary>
    private static List<(byte[] Key, IdentityKey Identity)> InKeyOrder(IStore store, string sandbox, int shard, byte tag)
    {
        var prefix = FactKeys.SandboxPrefix(tag, sandbox);
        var found = new List<(byte[] Key, IdentityKey Identity)>();
        byte[]? previous = null;
        store.ScanOnce(StoreSpace.Facts, shard, prefix, prefix, (key, _) =>
        {
            var rest = key[prefix.Length..];
            var namespaceEnd = rest.IndexOf((byte)0);
            var valueEnd = namespaceEnd < 0 ? -1 : rest[(namespaceEnd + 1)..].IndexOf((byte)0);
            if (valueEnd >= 0)
            {
                var identity = rest[..(namespaceEnd + 1 + valueEnd)];
                if (previous is null || !identity.SequenceEqual(previous))
                {
                    previous = identity.ToArray();
                    found.Add((previous, new IdentityKey(Encoding.UTF8.GetString(identity[..namespaceEnd]), Encoding.UTF8.GetString(identity[(namespaceEnd + 1)..]))));
                }
            }
            return true;
        });
        return found;
    }
}

using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Segmentation.Engines;

/// <summary>
/// Where the preview finds a sandbox's profiles in key order: every identity that holds a record or an event,
/// read from the fact keys themselves (there is no profile table yet). The batch engine and estimates take them
/// from the identity graph instead (<c>ProfileService.IdentitiesByShard</c>, <c>IdentityService.SampleProfiles</c>),
/// which marks every identity a record or an event was stored under (those whose events all expired too) without a scan.
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
                store.ScanOnce(StoreSpace.Facts, shard, prefix, (key, _) =>
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
}

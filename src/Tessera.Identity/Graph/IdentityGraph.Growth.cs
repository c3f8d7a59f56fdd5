using System.Numerics;

namespace Tessera.Identity.Graph;

public sealed partial class IdentityGraph
{
    /// <summary>Starts estimating how many identities and links stored ledger entries not yet added would add (<see cref="GrowthEstimate"/>).</summary>
    public GrowthEstimate EstimateGrowth() => new(this);

    /// <summary>
    /// Makes room for <paramref name="identities"/> more identities and <paramref name="links"/> more links in one step: a
    /// table of millions that doubles as it fills copies itself and first touches its memory again at every step.
    /// </summary>
    public void Reserve(int identities, int links)
    {
        identities = Math.Min(identities, MaxSizedUpFront - _nodeCount);
        links = Math.Min(links, MaxSizedUpFront - _linkCount);
        if (identities > 0)
        {
            _identities.Reserve(identities);
            if (_nodeCount + identities > _nodes.Length)
            {
                GrowNodes(_nodeCount + identities);
            }
        }
        if (links > 0)
        {
            _pairIndex.Reserve(links);
            _links.EnsureCapacity(_linkCount + links);
        }
    }

    /// <summary>
    /// How many identities and links a run of stored ledger entries would add to the graph, estimated before they
    /// are added so that its tables can be sized once (<see cref="Reserve"/>): a file batch of millions of new
    /// identities otherwise grows the identity table a dozen times, rehashing and first touching a gigabyte at the end.
    /// </summary>
    /// <remarks>
    /// Counting the new values exactly would cost as much as adding them. Instead the distinct values are sampled by
    /// their hash (one in 64, however often each occurs, so a cookie seen a hundred times counts once) and each sampled
    /// one is looked up once; the estimate is 64 times the sampled values the graph does not know. Links are sampled
    /// the same way by the hash of their two identities. Re-reading a file of known people estimates nothing new.
    /// </remarks>
    public sealed class GrowthEstimate
    {
        private const int SampleBits = 6;

        private readonly IdentityGraph _graph;
        private readonly HashSet<long> _sampledIdentities = [];
        private readonly HashSet<ulong> _sampledLinks = [];
        private int _newIdentities;
        private int _newLinks;

        internal GrowthEstimate(IdentityGraph graph) => _graph = graph;

        /// <summary>Estimated identities the entries taken would add.</summary>
        public int Identities => _newIdentities << SampleBits;

        /// <summary>Estimated distinct links the entries taken would add.</summary>
        public int Links => _newLinks << SampleBits;

        /// <summary>
        /// Takes one stored entry (<see cref="LedgerCodec"/>) into the estimate. The graph's identities and links are not
        /// changed; a namespace it has not seen is registered, as adding the entry would.
        /// </summary>
        public void Take(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var table = _graph._identities;
            var entry = LedgerCodec.Read(key, value);
            var position = entry.IdentitiesAt;
            IdentityTable.Probe first = default;
            long firstKey = 0;
            for (var i = 0; i < entry.Count; i++)
            {
                LedgerCodec.ReadIdentity(value, ref position, out var ns, out var identity);
                table.Prepare(_graph.NamespaceIndex(ns), identity, out var probe);
                if (!probe.Fits)
                {
                    continue; // Too long for a slot: rare enough to leave out of the estimate.
                }
                var identityKey = KeyOf(ref probe);
                if (Sampled((ulong)identityKey * 0x9E3779B97F4A7C15UL) && _sampledIdentities.Add(identityKey) && table.Find(ref probe) < 0)
                {
                    _newIdentities++;
                }
                if (i == 0)
                {
                    first = probe;
                    firstKey = identityKey;
                    continue;
                }
                if (!first.Fits)
                {
                    continue;
                }
                // Each occurrence links its first identity to each other one, as the graph records it.
                var (low, high) = (Math.Min(firstKey, identityKey), Math.Max(firstKey, identityKey));
                var linkKey = BitOperations.RotateLeft((ulong)low * 0x9E3779B97F4A7C15UL, 31) ^ ((ulong)high * 0xC2B2AE3D27D4EB4FUL);
                if (low != high && Sampled(linkKey) && _sampledLinks.Add(linkKey))
                {
                    var a = table.Find(ref first);
                    var b = table.Find(ref probe);
                    if (a < 0 || b < 0 || !_graph._pairIndex.Contains(a, b))
                    {
                        _newLinks++;
                    }
                }
            }
        }

        private static long KeyOf(ref IdentityTable.Probe probe) => ((long)probe.NamespaceIndex << 32) | probe.HashCode;

        private static bool Sampled(ulong hash) => hash >> (64 - SampleBits) == 0;
    }
}

namespace Tessera.Identity.Graph;

public sealed partial class IdentityGraph
{
    // Identities that were the first (primary) identity of an occurrence: ingestion stores every record and event
    // under its primary identity and writes its ledger entry with that identity first, so these are the identities
    // that hold facts, the profiles the engines find. A bit each, set as occurrences are recorded or added.
    private ulong[] _holders = new ulong[1];
    private int _holderCount;

    /// <summary>Identities that have been the primary identity of an occurrence: the profiles when identities are not stitched.</summary>
    public int HolderCount => _holderCount;

    /// <summary>Whether the identity has been the primary identity of an occurrence (holds a record or an event).</summary>
    public bool IsHolder(int node) => node >> 6 < _holders.Length && (_holders[node >> 6] & (1UL << node)) != 0;

    private void MarkHolder(int node)
    {
        var word = node >> 6;
        if (word >= _holders.Length)
        {
            Array.Resize(ref _holders, Math.Max(word + 1, _holders.Length * 2));
        }
        var bit = 1UL << node;
        if ((_holders[word] & bit) == 0)
        {
            _holders[word] |= bit;
            _holderCount++;
        }
    }

    /// <summary>
    /// A uniform sample, without replacement, of the profiles: identities that hold facts (<see cref="IsHolder"/>),
    /// or with <paramref name="stitched"/> the graphs holding at least one of them, each drawn as its holder of lowest
    /// node id. Exact when <paramref name="count"/> covers them all. Costs the sample, not the graph: a draw picks a
    /// node at random and keeps it only if it is its profile's drawn identity, so every profile is as likely whatever
    /// its number of identities; only a sample of a large share of the profiles (or the stitched count) reads every node.
    /// </summary>
    /// <returns>How many profiles there are (<paramref name="stitched"/>: counted in one pass over the nodes), and the sampled identities' nodes.</returns>
    public (int Profiles, List<int> Sample) SampleProfiles(int count, bool stitched, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var profiles = stitched ? CountStitchedProfiles() : _holderCount;
        if (count >= profiles / 8)
        {
            // A large share (or all): list every profile once, then draw from the list.
            var all = new List<int>(profiles);
            ForEachProfile(stitched, all.Add);
            if (count < all.Count)
            {
                for (var i = 0; i < count; i++)
                {
                    var j = i + random.Next(all.Count - i);
                    (all[i], all[j]) = (all[j], all[i]);
                }
                all.RemoveRange(count, all.Count - count);
            }
            return (profiles, all);
        }
        // A small share: at least eight profiles for each one drawn, so repeats are rare and the loop ends quickly.
        var sample = new List<int>(count);
        var drawn = new HashSet<int>();
        while (sample.Count < count)
        {
            var node = random.Next(_nodeCount);
            if (IsDrawnIdentity(node, stitched) && drawn.Add(node))
            {
                sample.Add(node);
            }
        }
        return (profiles, sample);
    }

    /// <summary>Whether <paramref name="node"/> is the identity its profile is drawn as: a holder, and stitched, the holder of lowest id in its graph.</summary>
    private bool IsDrawnIdentity(int node, bool stitched)
    {
        if (!IsHolder(node))
        {
            return false;
        }
        if (stitched)
        {
            foreach (var member in Members(node))
            {
                if (member < node && IsHolder(member))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>Every identity that holds facts (<see cref="IsHolder"/>), in node order.</summary>
    public void ForEachHolder(Action<int> visit) => ForEachProfile(stitched: false, visit);

    /// <summary>Graphs holding at least one holder: one pass over the nodes, each graph counted at its first holder.</summary>
    private int CountStitchedProfiles()
    {
        var count = 0;
        ForEachProfile(stitched: true, _ => count++);
        return count;
    }

    /// <summary>Every profile's drawn identity, in node order: a holder whose graph (stitched) has not been met yet is its graph's holder of lowest id.</summary>
    private void ForEachProfile(bool stitched, Action<int> visit)
    {
        var graphsMet = stitched ? new ulong[(_nodeCount >> 6) + 1] : null;
        var words = Math.Min(_holders.Length, (_nodeCount + 63) >> 6);
        for (var word = 0; word < words; word++)
        {
            for (var bits = _holders[word]; bits != 0; bits &= bits - 1)
            {
                var node = (word << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (graphsMet is not null)
                {
                    var root = _parent[node];
                    var bit = 1UL << root;
                    if ((graphsMet[root >> 6] & bit) != 0)
                    {
                        continue;
                    }
                    graphsMet[root >> 6] |= bit;
                }
                visit(node);
            }
        }
    }
}

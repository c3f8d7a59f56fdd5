using Tessera.Identity.Graph;
using Tessera.Profiles.Fragments;

namespace Tessera.Profiles.Views;

/// <summary>
/// The bounded cache of profile views of one sandbox. A cached view holds the facts of a set of
/// identities; facts that arrive are applied to the view that holds their identity (or ignored
/// when none does: they are on disk and a later read loads them). A read asks for the view of a
/// graph's members: when the graph changed since (a merge or a split), the cached views that hold
/// any of its members are sliced and joined into the graph's view, and only identities no view
/// holds are read from the store. Applying a fact twice (a read that saw a commit before its
/// notification) is harmless: folding a version again changes nothing and the timeline counts an
/// event once. Not thread-safe: its owner serializes access.
/// <para>
/// An owner that reads the store outside its lock uses <see cref="TryGet"/>, <see cref="Complete"/>
/// and <see cref="Abandon"/>: a miss registers a <see cref="PendingLoad"/> for the identities no
/// view holds; facts that arrive for them meanwhile are recorded on it and applied to the loaded
/// view when it completes (the load may have seen them already: applying twice is harmless), and an
/// eviction of any of them makes its result stale, which <see cref="Complete"/> then reads again.
/// </para>
/// </summary>
public sealed class ProfileViewSet(int capacity, Func<IReadOnlyCollection<IdentityKey>, ProfileView> load)
{
    private readonly Dictionary<IdentityKey, LinkedListNode<ProfileView>> _byMember = [];
    private readonly LinkedList<ProfileView> _recent = new(); // Most recently used first.
    private readonly List<PendingLoad> _pending = []; // Loads in flight outside the owner's lock: as many as concurrent readers.

    public int Count => _recent.Count;

    /// <summary>Whether facts that arrive now matter to anything: a cached view or a load in flight.</summary>
    public bool IsTracking => _recent.Count > 0 || _pending.Count > 0;

    public int Capacity { get; } = Math.Max(1, capacity);

    /// <summary>Views currently cached (for the benchmark's memory report).</summary>
    public IEnumerable<ProfileView> Views => _recent;

    /// <summary>The view of the graph whose identities are <paramref name="members"/> (reading what no view holds with the load function).</summary>
    public ProfileView Get(IReadOnlyCollection<IdentityKey> members) => Assemble(members, load);

    /// <summary>
    /// The view of the graph whose identities are <paramref name="members"/> when cached views hold
    /// all of them; otherwise null and <paramref name="pending"/>, the identities to read from the
    /// store (outside the owner's lock) and pass to <see cref="Complete"/>, or to <see cref="Abandon"/>.
    /// </summary>
    public ProfileView? TryGet(IReadOnlyCollection<IdentityKey> members, out PendingLoad? pending)
    {
        List<IdentityKey>? uncovered = null;
        foreach (var member in members)
        {
            if (!_byMember.ContainsKey(member))
            {
                (uncovered ??= []).Add(member);
            }
        }
        if (uncovered is null)
        {
            pending = null;
            return Assemble(members, load); // Regrouped from cached views alone: nothing is loaded.
        }
        pending = new PendingLoad(uncovered);
        _pending.Add(pending);
        return null;
    }

    /// <summary>The view of <paramref name="members"/> when the cache holds all of them (regrouped if need be), else null; nothing is registered.</summary>
    public ProfileView? TryGetCached(IReadOnlyCollection<IdentityKey> members)
    {
        foreach (var member in members)
        {
            if (!_byMember.ContainsKey(member))
            {
                return null;
            }
        }
        return Assemble(members, load);
    }

    /// <summary>
    /// Finishes a read begun by <see cref="TryGet"/> with <paramref name="loaded"/>, the view of the
    /// pending identities read from the store: facts that arrived meanwhile are applied to it, and it
    /// is regrouped with what is cached now. When an eviction made it stale, or a cached view the
    /// read relied on went meanwhile, what is missing is read again with the load function.
    /// </summary>
    public ProfileView Complete(IReadOnlyCollection<IdentityKey> members, PendingLoad pending, ProfileView loaded)
    {
        Abandon(pending);
        if (pending.IsStale)
        {
            return Get(members);
        }
        pending.ApplyMissed(loaded);
        return Assemble(members, uncovered => uncovered.All(loaded.Contains)
            ? (uncovered.Count == loaded.Members.Count ? loaded : ProfileView.Regroup(uncovered, [loaded]))
            : load(uncovered));
    }

    /// <summary>Forgets a pending load (its read failed, or <see cref="Complete"/> took it).</summary>
    public void Abandon(PendingLoad pending) => _pending.Remove(pending);

    private ProfileView Assemble(IReadOnlyCollection<IdentityKey> members, Func<IReadOnlyCollection<IdentityKey>, ProfileView> loadUncovered)
    {
        List<LinkedListNode<ProfileView>>? holders = null;
        foreach (var member in members)
        {
            if (_byMember.TryGetValue(member, out var node) && (holders is null || !holders.Contains(node)))
            {
                (holders ??= []).Add(node);
            }
        }
        if (holders is [var only] && only.Value.HasMembers(members))
        {
            Touch(only);
            return only.Value;
        }
        var sources = new List<ProfileView>();
        var uncovered = new List<IdentityKey>();
        foreach (var holder in holders ?? [])
        {
            sources.Add(holder.Value);
            Remove(holder);
        }
        foreach (var member in members)
        {
            if (!sources.Any(s => s.Contains(member)))
            {
                uncovered.Add(member);
            }
        }
        if (uncovered.Count > 0)
        {
            var loaded = loadUncovered(uncovered);
            if (sources.Count == 0)
            {
                Add(loaded); // Nothing cached held any of it: the view read from the store is the graph's.
                return loaded;
            }
            sources.Add(loaded);
        }
        var view = ProfileView.Regroup(members, sources);
        // What the old views held about identities now in other graphs stays cached as its own view.
        var leftover = sources.SelectMany(s => s.Members).Where(m => !view.Contains(m)).ToList();
        if (leftover.Count > 0)
        {
            Add(ProfileView.Regroup(leftover, sources));
        }
        Add(view);
        return view;
    }

    /// <summary>The cached view holding <paramref name="identity"/>'s facts, if any.</summary>
    public ProfileView? Holding(IdentityKey identity) => _byMember.TryGetValue(identity, out var node) ? node.Value : null;

    /// <summary>Whether a fact about <paramref name="identity"/> would change anything here (a view holds it or a load reads it).</summary>
    public bool Tracks(IdentityKey identity)
    {
        if (_byMember.ContainsKey(identity))
        {
            return true;
        }
        foreach (var pending in _pending) // No lambda: this runs for every committed fact.
        {
            if (pending.Reads(identity))
            {
                return true;
            }
        }
        return false;
    }

    // The recording of facts for loads in flight is in methods of its own: their lambdas capture the
    // parameters, and a capturing method allocates its closure on entry, for every committed fact.

    public void ApplyVersion(string dataset, IdentityKey identity, RecordVersion version)
    {
        Holding(identity)?.ApplyVersion(dataset, identity, version);
        if (_pending.Count > 0)
        {
            RecordForPendingLoads(dataset, identity, version);
        }
    }

    public void AddEvent(IdentityKey identity, string dataset, string eventId, long ticks)
    {
        Holding(identity)?.AddEvent(identity, dataset, eventId, ticks);
        if (_pending.Count > 0)
        {
            RecordForPendingLoads(identity, dataset, eventId, ticks);
        }
    }

    private void RecordForPendingLoads(string dataset, IdentityKey identity, RecordVersion version)
    {
        foreach (var pending in _pending)
        {
            if (pending.Reads(identity))
            {
                pending.Record(view => view.ApplyVersion(dataset, identity, version));
            }
        }
    }

    private void RecordForPendingLoads(IdentityKey identity, string dataset, string eventId, long ticks)
    {
        foreach (var pending in _pending)
        {
            if (pending.Reads(identity))
            {
                pending.Record(view => view.AddEvent(identity, dataset, eventId, ticks));
            }
        }
    }

    /// <summary>Forgets the view holding <paramref name="identity"/> (its facts changed on disk in a way not replayed here), and any load of it in flight.</summary>
    public void Evict(IdentityKey identity)
    {
        if (_byMember.TryGetValue(identity, out var node))
        {
            Remove(node);
        }
        foreach (var pending in _pending)
        {
            pending.MarkStaleIfReads(identity);
        }
    }

    public void Clear()
    {
        _byMember.Clear();
        _recent.Clear();
        foreach (var pending in _pending)
        {
            pending.MarkStale();
        }
    }

    private void Add(ProfileView view)
    {
        var node = _recent.AddFirst(view);
        foreach (var member in view.Members)
        {
            _byMember[member] = node;
        }
        while (_recent.Count > Capacity)
        {
            Remove(_recent.Last!);
        }
    }

    private void Touch(LinkedListNode<ProfileView> node)
    {
        if (node != _recent.First)
        {
            _recent.Remove(node);
            _recent.AddFirst(node);
        }
    }

    private void Remove(LinkedListNode<ProfileView> node)
    {
        foreach (var member in node.Value.Members)
        {
            if (_byMember.TryGetValue(member, out var held) && held == node)
            {
                _byMember.Remove(member);
            }
        }
        _recent.Remove(node);
    }
}

/// <summary>
/// Identities being read from the store outside the lock of a <see cref="ProfileViewSet"/>'s owner,
/// with the facts that arrived for them since the read began (applied when it completes), or stale
/// when one of them was evicted meanwhile. Touched only under the owner's lock.
/// </summary>
public sealed class PendingLoad
{
    private readonly HashSet<IdentityKey> _identities;
    private List<Action<ProfileView>>? _missed;

    internal PendingLoad(IReadOnlyList<IdentityKey> identities)
    {
        Identities = identities;
        _identities = [.. identities];
    }

    /// <summary>The identities to read from the store.</summary>
    public IReadOnlyList<IdentityKey> Identities { get; }

    public bool IsStale { get; private set; }

    internal bool Reads(IdentityKey identity) => _identities.Contains(identity);

    internal void Record(Action<ProfileView> fact)
    {
        if (!IsStale)
        {
            (_missed ??= []).Add(fact);
        }
    }

    internal void MarkStaleIfReads(IdentityKey identity)
    {
        if (_identities.Contains(identity))
        {
            MarkStale();
        }
    }

    internal void MarkStale()
    {
        IsStale = true;
        _missed = null;
    }

    internal void ApplyMissed(ProfileView loaded)
    {
        foreach (var fact in _missed ?? [])
        {
            fact(loaded);
        }
    }
}

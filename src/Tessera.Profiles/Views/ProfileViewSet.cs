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
/// </summary>
public sealed class ProfileViewSet(int capacity, Func<IReadOnlyCollection<IdentityKey>, ProfileView> load)
{
    private readonly Dictionary<IdentityKey, LinkedListNode<ProfileView>> _byMember = [];
    private readonly LinkedList<ProfileView> _recent = new(); // Most recently used first.

    public int Count => _recent.Count;

    public int Capacity { get; } = Math.Max(1, capacity);

    /// <summary>Views currently cached (for the benchmark's memory report).</summary>
    public IEnumerable<ProfileView> Views => _recent;

    /// <summary>The view of the graph whose identities are <paramref name="members"/>.</summary>
    public ProfileView Get(IReadOnlyCollection<IdentityKey> members)
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
            var loaded = load(uncovered);
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

    public void ApplyVersion(string dataset, IdentityKey identity, RecordVersion version) =>
        Holding(identity)?.ApplyVersion(dataset, identity, version);

    public void AddEvent(IdentityKey identity, string dataset, string eventId, long ticks) =>
        Holding(identity)?.AddEvent(identity, dataset, eventId, ticks);

    /// <summary>Forgets the view holding <paramref name="identity"/> (its facts changed on disk in a way not replayed here).</summary>
    public void Evict(IdentityKey identity)
    {
        if (_byMember.TryGetValue(identity, out var node))
        {
            Remove(node);
        }
    }

    public void Clear()
    {
        _byMember.Clear();
        _recent.Clear();
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

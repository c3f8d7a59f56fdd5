using Tessera.Identity.Graph;
using Tessera.Profiles.Fragments;

namespace Tessera.Profiles.Views;

/// <summary>
/// The unified profile of one identity graph, kept up to date as facts arrive: the fragments of
/// every member identity (folded record versions), the timeline of their events, and the merged
/// attributes of each merge policy that has been asked for. A new record merges again only the
/// paths it changed; a graph merge or split regroups views by slicing them by member and joining
/// the slices, with no read from the store. Not thread-safe: its owner serializes access.
/// </summary>
public sealed class ProfileView
{
    private readonly List<IdentityKey> _members;
    private readonly Dictionary<IdentityKey, int> _memberIndex;
    private readonly Dictionary<(string Dataset, IdentityKey Identity), Fragment> _fragments = [];
    private readonly List<TimelineEntry> _events = [];
    private List<TimelineEntry>? _newestFirst; // _events deduplicated and sorted, kept as single events arrive.
    private const int MostKeptInPlace = 1024;
    private readonly List<(MergeRule Rule, SortedDictionary<string, MergedValue> Values)> _merged = [];

    public ProfileView(IEnumerable<IdentityKey> members)
    {
        _members = [.. members];
        _memberIndex = new Dictionary<IdentityKey, int>(_members.Count);
        for (var i = 0; i < _members.Count; i++)
        {
            _memberIndex[_members[i]] = i;
        }
    }

    public IReadOnlyList<IdentityKey> Members => _members;

    public IEnumerable<Fragment> Fragments => _fragments.Values;

    public IReadOnlyList<TimelineEntry> Events => _events;

    public bool Contains(IdentityKey identity) => _memberIndex.ContainsKey(identity);

    /// <summary>Whether this view is of exactly the graph with these members.</summary>
    public bool HasMembers(IReadOnlyCollection<IdentityKey> members) => members.Count == _members.Count && members.All(_memberIndex.ContainsKey);

    public IdentityKey MemberOf(in TimelineEntry entry) => _members[entry.Member];

    public void ApplyVersion(string dataset, IdentityKey identity, RecordVersion version)
    {
        var key = (dataset, identity);
        if (!_fragments.TryGetValue(key, out var fragment))
        {
            fragment = new Fragment(dataset, identity);
            _fragments[key] = fragment;
        }
        if (_merged.Count == 0)
        {
            fragment.Apply(version);
            return;
        }
        var changed = new HashSet<string>(StringComparer.Ordinal);
        fragment.Apply(version, changed);
        foreach (var (rule, values) in _merged)
        {
            if (!rule.Allows(dataset))
            {
                continue;
            }
            foreach (var path in changed)
            {
                if (AttributeMerger.Resolve(path, _fragments.Values, rule) is { } value)
                {
                    values[path] = value;
                }
                else
                {
                    values.Remove(path);
                }
            }
        }
    }

    public void AddEvent(IdentityKey identity, string dataset, string eventId, long ticks) =>
        AddEvent(identity, dataset, eventId, TimelineEntry.Hash(dataset, eventId), ticks);

    /// <summary>As <see cref="AddEvent(IdentityKey, string, string, long)"/>, with the event's <see cref="TimelineEntry.Hash(string, string)"/> already known.</summary>
    public void AddEvent(IdentityKey identity, string dataset, string eventId, ulong idHash, long ticks)
    {
        // A view of one identity (most) needs no lookup of its member.
        var member = _members.Count == 1 && _members[0] == identity ? 0 : _memberIndex[identity];
        var entry = new TimelineEntry(ticks, idHash, dataset, eventId, member);
        _events.Add(entry);
        // Kept in place while it is short (an insert walks it); a long one is sorted again at its next read.
        if (_newestFirst is { Count: < MostKeptInPlace })
        {
            TimelineReader.Insert(_newestFirst, entry);
        }
        else
        {
            _newestFirst = null;
        }
    }

    /// <summary>Adds events of <paramref name="identity"/> at once (their <see cref="TimelineEntry.Member"/> is set here).</summary>
    public void AddEvents(IdentityKey identity, ReadOnlySpan<TimelineEntry> entries)
    {
        var member = _memberIndex[identity];
        _events.EnsureCapacity(_events.Count + entries.Length);
        foreach (var entry in entries)
        {
            _events.Add(entry with { Member = member });
        }
        _newestFirst = null;
    }

    /// <summary>The merged attributes under <paramref name="rule"/>; kept and maintained from now on.</summary>
    public IReadOnlyDictionary<string, MergedValue> Attributes(MergeRule rule)
    {
        foreach (var (cached, values) in _merged)
        {
            if (cached.SameAs(rule))
            {
                return values;
            }
        }
        var merged = AttributeMerger.Merge(_fragments.Values, rule);
        _merged.RemoveAll(m => m.Rule.Policy.Name == rule.Policy.Name);
        _merged.Add((rule, merged));
        return merged;
    }

    /// <summary>The attributes of one member alone (a policy without identity stitching); not kept.</summary>
    public IReadOnlyDictionary<string, MergedValue> AttributesOf(IdentityKey identity, MergeRule rule) =>
        AttributeMerger.Merge(_fragments.Values.Where(f => f.Identity == identity), rule);

    public TimelineSummary Timeline(TimelinePolicy policy, IdentityKey? only = null) => ReadTimeline(policy, only).Summary;

    /// <summary>The timeline newest first (of one member when given) and its summary.</summary>
    public (List<TimelineEntry> NewestFirst, TimelineSummary Summary) ReadTimeline(TimelinePolicy policy, IdentityKey? only = null)
    {
        if (only is { } member)
        {
            return TimelineReader.Read(TimelineReader.Deduplicate(_events.Where(e => _members[e.Member] == member)), policy);
        }
        return TimelineReader.Read(_newestFirst ??= TimelineReader.Deduplicate(_events), policy);
    }

    /// <summary>Fragments of datasets the rule takes values from (of one member when given).</summary>
    public int FragmentCount(MergeRule rule, IdentityKey? only = null) =>
        _fragments.Values.Count(f => rule.Allows(f.Dataset) && (only is null || f.Identity == only) && f.Fields.Values.Any(s => s.IsLive));

    /// <summary>
    /// The view of the graph with <paramref name="members"/>, made from the parts of
    /// <paramref name="sources"/> that belong to those members (after a merge: several views joined;
    /// after a split: a slice of one). Merged attributes are merged again from the fragments.
    /// </summary>
    public static ProfileView Regroup(IReadOnlyCollection<IdentityKey> members, IEnumerable<ProfileView> sources)
    {
        var view = new ProfileView(members);
        foreach (var source in sources)
        {
            foreach (var (key, fragment) in source._fragments)
            {
                if (view._memberIndex.ContainsKey(key.Identity))
                {
                    view._fragments[key] = fragment;
                }
            }
            foreach (var entry in source._events)
            {
                if (view._memberIndex.TryGetValue(source._members[entry.Member], out var member))
                {
                    view._events.Add(entry with { Member = member });
                }
            }
        }
        return view;
    }

    /// <summary>Approximate managed bytes held (for the cache's accounting and the benchmark's report).</summary>
    public long EstimatedBytes()
    {
        long bytes = 200 + _members.Count * 80L + _events.Capacity * 40L + _events.Sum(e => 24L + e.EventId.Length * 2);
        foreach (var fragment in _fragments.Values)
        {
            bytes += 120;
            foreach (var (path, state) in fragment.Fields)
            {
                bytes += 96 + path.Length * 2 + (state.Value.Json?.Length ?? 0) * 2 + (state.Elements?.Count ?? 0) * 80 + (state.Entries?.Count ?? 0) * 80;
            }
        }
        foreach (var (_, values) in _merged)
        {
            bytes += values.Count * 96L;
        }
        return bytes;
    }
}

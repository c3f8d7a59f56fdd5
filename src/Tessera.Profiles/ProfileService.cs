using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles.Fragments;
using Tessera.Profiles.Views;
using Tessera.Storage;

namespace Tessera.Profiles;

/// <summary>
/// Unified profiles over the stored facts: lookups by any identity under any merge policy, kept
/// current as facts are committed (<see cref="OnCommitted"/>), with a bounded cache of views per
/// sandbox; a view not in the cache is read from the store (one prefix scan per identity and kind).
/// </summary>
public sealed class ProfileService : ICommittedFactsObserver
{
    private readonly IStore _store;
    private readonly TesseraCatalog _catalog;
    private readonly IdentityService _identity;
    private readonly ProfileSettings _settings;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ProfileViewSet> _sandboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SandboxDefinitions> _definitions = new(StringComparer.Ordinal);

    public ProfileService(IStore store, TesseraCatalog catalog, IdentityService identity, ProfileSettings settings, TimeProvider time)
    {
        _store = store;
        _catalog = catalog;
        _identity = identity;
        _settings = settings;
        _time = time;
    }

    public ProfileSettings Settings => _settings;

    /// <summary>Identities whose facts were read from the store to build a view (a cache miss costs one per member).</summary>
    public long IdentitiesLoaded => Interlocked.Read(ref _identitiesLoaded);

    private long _identitiesLoaded;

    /// <summary>
    /// The profile <paramref name="identity"/> belongs to under <paramref name="policyName"/> (the
    /// sandbox's default when null), with up to <paramref name="events"/> newest events older than
    /// the <paramref name="before"/> cursor; null when no profile holds anything about it.
    /// </summary>
    public ProfileReport? Lookup(string sandbox, IdentityKey identity, string? policyName = null, int events = 10, string? before = null)
    {
        var definitions = Definitions(sandbox);
        var rule = definitions.RuleFor(policyName);
        var policy = rule.Policy;
        var datasets = definitions.Datasets;
        var timelinePolicy = new TimelinePolicy(datasets.IsEventDataset, datasets.TtlOf, _time.GetUtcNow(), _settings.MaxEventsPerProfile);
        var graph = _identity.GraphOf(sandbox, identity);
        var members = graph?.Identities ?? [identity];
        var primary = graph?.Primary ?? identity;
        var stitched = policy.Stitching == IdentityStitching.Graph;
        var read = Read<(ProfileReport Report, List<(TimelineEntry Entry, IdentityKey Member)> Page)?>(sandbox, members, view =>
        {
            IdentityKey? only = stitched ? null : identity;
            var attributes = stitched ? view.Attributes(rule) : view.AttributesOf(identity, rule);
            List<FragmentInfo> fragments = [.. view.Fragments
                .Where(f => rule.Allows(f.Dataset) && (only is null || f.Identity == only) && f.Fields.Values.Any(s => s.IsLive))
                .OrderBy(f => f.Dataset, StringComparer.Ordinal).ThenBy(f => f.Identity.ToString(), StringComparer.Ordinal)
                .Select(f => new FragmentInfo(f.Dataset, f.Identity.ToString(), f.Versions, f.Newest.Time))];
            var (timeline, summary) = view.ReadTimeline(timelinePolicy, only);
            if (fragments.Count == 0 && summary.Events == 0)
            {
                return null; // A profile with no fragments and no events does not exist.
            }
            // One more than asked for says whether there is a next page.
            var page = Page(timeline, before, events + 1);
            var more = page.Count > events;
            if (more)
            {
                page.RemoveAt(page.Count - 1);
            }
            IReadOnlyList<IdentityKey> shown = stitched ? view.Members : [identity];
            var report = new ProfileReport
            {
                Sandbox = sandbox,
                Identity = identity.ToString(),
                MergePolicy = policy.Name,
                Primary = (stitched ? primary : identity).ToString(),
                Identities = [.. shown.Select(i => i.ToString()).Order(StringComparer.Ordinal)],
                Attributes = Nest(attributes),
                Sources = [.. attributes.Select(a => new AttributeSource(a.Key, a.Value.Dataset, a.Value.Batch, a.Value.Stamp.Time, a.Value.Identity.ToString()))],
                Fragments = fragments,
                Timeline = new TimelineInfo
                {
                    Count = summary.Events,
                    CapReached = summary.CapReached,
                    Newest = summary.Newest,
                    Oldest = summary.Oldest,
                    Events = [],
                    Next = more && page.Count > 0 ? Cursor(page[^1]) : null,
                },
            };
            return (Report: report, Page: page.Select(e => (Entry: e, Member: view.MemberOf(e))).ToList());
        });
        // The page's bodies are read outside the lock: an event's body never changes under its key.
        return read is not { } found ? null : found.Report with
        {
            Timeline = found.Report.Timeline with { Events = [.. found.Page.Select(e => ReadEvent(sandbox, e.Entry, e.Member))] },
        };
    }

    /// <summary>
    /// The profile <paramref name="identity"/> belongs to as audiences read it: the merged attributes
    /// (nested) with every event the timeline keeps (TTL and cap applied) under <c>xEvent</c>, oldest
    /// first, each the stored record; with the profile's primary identity and all its identities.
    /// Null when no profile holds anything about it.
    /// </summary>
    /// <param name="keepInCache">As for <see cref="ForEvaluationSource"/>: false for a reader that visits many profiles once (an estimate's sample).</param>
    public EvaluationProfile? ForEvaluation(string sandbox, IdentityKey identity, string? policyName = null, bool keepInCache = true)
    {
        if (ForEvaluationSource(sandbox, identity, policyName, keepInCache) is not { } source)
        {
            return null;
        }
        var profile = source.Attributes;
        var events = new JsonArray();
        foreach (var record in ReadEventRecords(sandbox, source.Events))
        {
            if (record is not null)
            {
                events.Add(record);
            }
        }
        profile["xEvent"] = events;
        return new EvaluationProfile(source.Primary, source.Identities, profile);
    }

    /// <summary>
    /// What <see cref="ForEvaluation"/> is made of, without reading any event body: the merged
    /// attributes (nested, no <c>xEvent</c>), and the events the timeline keeps (TTL and cap applied),
    /// oldest first, as references to read with <see cref="ReadEventRecords(string, IReadOnlyList{EvaluationEvent}, EventRecordVisitor)"/>. An engine that keeps
    /// converted events reads only the ones it has not seen (an event's body never changes under its
    /// reference: duplicates are dropped, not stored). Null when no profile holds anything about it.
    /// </summary>
    /// <param name="keepInCache">
    /// False for a reader that visits every profile once (a batch run): a view it has to read from the store
    /// is not kept, so it neither waits on the cache's lock to insert it nor evicts the views live traffic uses.
    /// </param>
    public EvaluationSource? ForEvaluationSource(string sandbox, IdentityKey identity, string? policyName = null, bool keepInCache = true)
    {
        var definitions = Definitions(sandbox);
        var rule = definitions.RuleFor(policyName);
        var datasets = definitions.Datasets;
        var timelinePolicy = new TimelinePolicy(datasets.IsEventDataset, datasets.TtlOf, _time.GetUtcNow(), _settings.MaxEventsPerProfile);
        var graph = _identity.GraphOf(sandbox, identity);
        var members = graph?.Identities ?? [identity];
        var stitched = rule.Policy.Stitching == IdentityStitching.Graph;
        // Under the sandbox's lock only what the view holds is copied out; the JSON is built after it,
        // so that commits and other readers do not wait behind the parsing.
        var read = Read(sandbox, members, keepInCache, view => EvaluationParts(view, identity, rule, timelinePolicy, stitched));
        return read.Attributes is null ? null : EvaluationSourceOf(read, stitched ? graph?.Primary ?? identity : identity);
    }

    /// <summary>What a view holds of <paramref name="identity"/>'s profile for evaluation; default when it holds nothing.</summary>
    /// <param name="idHashes">When given, receives each event's <see cref="TimelineEntry.IdHash"/>, in the order of the events.</param>
    private static (KeyValuePair<string, MergedValue>[] Attributes, EvaluationEvent[] Events, IdentityKey[] Members) EvaluationParts(
        ProfileView view, IdentityKey identity, MergeRule rule, TimelinePolicy timelinePolicy, bool stitched, List<ulong>? idHashes = null)
    {
        IdentityKey? only = stitched ? null : identity;
        var attributes = stitched ? view.Attributes(rule) : view.AttributesOf(identity, rule);
        var (timeline, summary) = view.ReadTimeline(timelinePolicy, only);
        if (attributes.Count == 0 && summary.Events == 0)
        {
            return default;
        }
        var events = new EvaluationEvent[timeline.Count];
        for (var i = timeline.Count - 1; i >= 0; i--)
        {
            var entry = timeline[i];
            events[timeline.Count - 1 - i] = new EvaluationEvent(entry.Dataset, entry.EventId, view.MemberOf(entry), entry.Ticks);
            idHashes?.Add(entry.IdHash);
        }
        return (attributes.ToArray(), events, stitched ? view.Members.ToArray() : [identity]);
    }

    private static EvaluationSource EvaluationSourceOf((KeyValuePair<string, MergedValue>[] Attributes, EvaluationEvent[] Events, IdentityKey[] Members) parts,
        IdentityKey primary)
    {
        // Most profiles are one identity (a device): its name is the primary's, and there is nothing to sort.
        var name = primary.ToString();
        string[] identities = parts.Members is [var only] && only == primary ? [name] : [.. parts.Members.Select(i => i.ToString()).Order(StringComparer.Ordinal)];
        return new(name, identities, Nest(parts.Attributes), parts.Events);
    }

    /// <summary>
    /// Every identity of <paramref name="sandbox"/> that holds a record or an event, by shard, each shard's in the order of
    /// their keys (what <see cref="ReadRangeForEvaluation"/> wants). Found from the identity graph, which marks every identity
    /// an occurrence was stored under (ingestion stores each fact under its primary identity and writes its ledger entry
    /// with that identity first), not from the store: a scan of every record and timeline key for them took 7 % of a full
    /// batch run's CPU (BENCHMARKS.md). An identity whose facts are all gone since (expired events) is listed too, and
    /// reads as no profile.
    /// </summary>
    public List<IdentityKey>[] IdentitiesByShard(string sandbox)
    {
        var byShard = new List<(byte[] Key, IdentityKey Identity)>[_store.ShardCount];
        for (var shard = 0; shard < byShard.Length; shard++)
        {
            byShard[shard] = [];
        }
        foreach (var identity in _identity.Holders(sandbox))
        {
            var value = new IdentityValue(identity.Namespace, identity.Value, true);
            byShard[FactKeys.ShardOf(sandbox, value, _store.ShardCount)].Add((FactKeys.IdentityPrefix(FactKeys.RecordTag, sandbox, value), identity));
        }
        return Array.ConvertAll(byShard, identities =>
        {
            identities.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            return identities.ConvertAll(i => i.Identity);
        });
    }

    /// <summary>
    /// Reads, for evaluation, the profiles of <paramref name="identities"/>: consecutive identities of one
    /// shard in key order, such as a batch run visits. Where
    /// <see cref="ForEvaluationSource"/> reads each identity with a prefix scan per kind of fact, this
    /// reads the whole range with one scan per kind: a batch run over every profile then seeks a few
    /// times per range instead of per profile. An identity whose graph holds other identities is not
    /// read here (<see cref="EvaluationRange.InLargerGraph"/>): its profile spans shards, and
    /// <see cref="ForEvaluationSource"/> reads it. The views are not cached (as <c>keepInCache: false</c>).
    /// </summary>
    /// <remarks>
    /// With <paramref name="withEventRecords"/> the range also holds its events' records
    /// (<see cref="EvaluationRange.VisitEventRecords"/>), and the events are found by one scan of their bodies
    /// instead of the timeline's: a body carries its time as its timeline key does, so the same entries reach
    /// the same timeline reading (deduplication, TTL, cap, order) and the event bodies are not scanned a second
    /// time. A range with a body stored before bodies carried their time is read the other way.
    /// </remarks>
    public EvaluationRange ReadRangeForEvaluation(string sandbox, int shard, IReadOnlyList<IdentityKey> identities, string? policyName = null,
        bool withEventRecords = false)
    {
        var definitions = Definitions(sandbox);
        var rule = definitions.RuleFor(policyName);
        var datasets = definitions.Datasets;
        var timelinePolicy = new TimelinePolicy(datasets.IsEventDataset, datasets.TtlOf, _time.GetUtcNow(), _settings.MaxEventsPerProfile);
        var stitched = rule.Policy.Stitching == IdentityStitching.Graph;
        var range = new EvaluationRange(sandbox, shard, identities);
        var views = new ProfileView?[identities.Count];
        var larger = _identity.InLargerGraphs(sandbox, identities);
        for (var i = 0; i < identities.Count; i++)
        {
            if (FactKeys.ShardOf(sandbox, new IdentityValue(identities[i].Namespace, identities[i].Value, true), _store.ShardCount) != shard)
            {
                throw new ArgumentException($"{identities[i]} is not on shard {shard}", nameof(identities));
            }
            range.InLargerGraph[i] = larger[i];
            // Alone in its graph (or in none): its own primary identity, stitched or not.
            views[i] = larger[i] ? null : new ProfileView([identities[i]]);
        }
        var datasetNames = new List<(byte[] Utf8, string Name)>();
        var slots = withEventRecords ? t_rangeSlots ??= [] : null;
        slots?.Clear();
        var records = withEventRecords ? ReadEventsWithRecords(range, views, datasetNames, slots!) : null;
        if (withEventRecords && records is null)
        {
            range.ReleaseEventRecords();
            return ReadRangeForEvaluation(sandbox, shard, identities, policyName);
        }
        Interlocked.Add(ref _identitiesLoaded, views.Count(view => view is not null));
        range.ScanAll(_store, FactKeys.RecordTag, (at, key, value) =>
        {
            if (views[at] is { } view && FactKeys.TryParse(key, out var parsed))
            {
                Apply(view, parsed, identities[at], value);
            }
        });
        if (!withEventRecords)
        {
            range.ScanAll(_store, FactKeys.TimelineTag, (at, key, _) =>
            {
                if (views[at] is { } view)
                {
                    AddTimelineEntry(view, identities[at], key[range.PrefixLength(at)..], datasetNames);
                }
            });
        }
        // An event is known by its hash, as deduplication knows it.
        var byEvent = new Dictionary<ulong, (int, int)>();
        var idHashes = records is null ? null : new List<ulong>();
        for (var i = 0; i < identities.Count; i++)
        {
            idHashes?.Clear();
            if (views[i] is { } view && EvaluationParts(view, identities[i], rule, timelinePolicy, stitched, idHashes) is { Attributes: not null } parts)
            {
                range.Sources[i] = EvaluationSourceOf(parts, identities[i]);
                if (records is not null && records[i].Count > 0)
                {
                    // The records in the order the timeline gave the events (after deduplication, TTL and cap).
                    byEvent.Clear();
                    foreach (var (idHash, slot) in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(slots).Slice(records[i].Start, records[i].Count))
                    {
                        byEvent[idHash] = slot;
                    }
                    var ordered = new (int Start, int Length)[parts.Events.Length];
                    for (var e = 0; e < ordered.Length; e++)
                    {
                        ordered[e] = byEvent[idHashes![e]];
                    }
                    range.SetEventRecords(i, ordered);
                }
            }
        }
        slots?.Clear();
        if (slots?.Capacity > KeptBufferEntries)
        {
            t_rangeSlots = null;
        }
        return range;
    }

    /// <summary>Above this many entries, a range read's buffer is dropped rather than kept for the thread's next range.</summary>
    private const int KeptBufferEntries = 1 << 16;

    /// <summary>A range read's events (hash, where the record is), a buffer of the thread's, reused.</summary>
    [ThreadStatic]
    private static List<(ulong IdHash, (int Start, int Length) Slot)>? t_rangeSlots;

    /// <summary>
    /// The range's events from one scan of their bodies: each added to its identity's view as its timeline key
    /// would add it (an identity's at once, so that its view's list is allocated once), and its record kept in the
    /// range. Fills <paramref name="slots"/> with each event's hash and where its record is (Start -1: none), an
    /// identity's events together; returns per identity where they are in it, or null when a body does not carry
    /// its time (stored before bodies did).
    /// </summary>
    private (int Start, int Count)[]? ReadEventsWithRecords(EvaluationRange range, ProfileView?[] views,
        List<(byte[] Utf8, string Name)> datasetNames, List<(ulong IdHash, (int Start, int Length) Slot)> slots)
    {
        var of = new (int Start, int Count)[views.Length];
        var pending = t_rangeEntries ??= [];
        pending.Clear();
        var current = -1;
        void Flush()
        {
            if (current >= 0 && pending.Count > 0)
            {
                views[current]!.AddEvents(range.Identities[current], System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending));
                of[current] = (slots.Count - pending.Count, pending.Count);
                pending.Clear();
            }
        }
        var complete = true;
        range.HoldEventRecords();
        range.ScanAll(_store, FactKeys.EventTag, (at, key, value) =>
        {
            if (views[at] is null || !complete)
            {
                return;
            }
            if (!TryGetEventTicks(value, out var ticks))
            {
                complete = false;
                return;
            }
            if (at != current)
            {
                Flush(); // A scan meets an identity's events together, identities in the range's order.
                current = at;
            }
            if (TryReadEvent(key[range.PrefixLength(at)..], ticks, datasetNames, out var entry))
            {
                pending.Add(entry);
                slots.Add((entry.IdHash, TryGetEventRecord(value, out var record) ? range.KeepRecord(record) : (-1, 0)));
            }
        });
        Flush();
        pending.Clear();
        if (pending.Capacity > KeptBufferEntries)
        {
            t_rangeEntries = null; // One profile of very many events: its buffer is not kept.
        }
        return complete ? of : null;
    }

    /// <summary>One identity's events of a range read, before they go to its view (a buffer of the thread's, reused).</summary>
    [ThreadStatic]
    private static List<TimelineEntry>? t_rangeEntries;

    /// <summary>
    /// The time (UTC ticks) an event envelope carries as its last property, as its timeline key holds it;
    /// false for an envelope stored before envelopes carried it.
    /// </summary>
    public static bool TryGetEventTicks(ReadOnlySpan<byte> envelope, out long ticks)
    {
        var at = envelope.LastIndexOf(",\"ticks\":"u8);
        // Written last by ingestion, so nothing but its digits follows it; an earlier envelope ends with a string.
        if (at >= 0 && envelope[^1] == (byte)'}'
            && System.Buffers.Text.Utf8Parser.TryParse(envelope[(at + 9)..^1], out ticks, out var consumed) && consumed == envelope.Length - at - 10)
        {
            return true;
        }
        ticks = 0;
        return false;
    }

    /// <summary>
    /// Hands the stored record of every event of <paramref name="range"/>'s profiles to <paramref name="visit"/>
    /// (by profile position and event index in its <see cref="EvaluationSource.Events"/>), with one scan of the
    /// range's events; as <see cref="ReadEventRecords(string, IReadOnlyList{EvaluationEvent}, EventRecordVisitor)"/>,
    /// an event not stored any more (or whose record is null) is not visited.
    /// </summary>
    public void ReadEventRecords(EvaluationRange range, RangeEventRecordVisitor visit)
    {
        var wanted = new Dictionary<string, int>?[range.Identities.Count];
        for (var i = 0; i < wanted.Length; i++)
        {
            if (range.Sources[i] is { Events.Count: > 0 } source)
            {
                var byKey = new Dictionary<string, int>(source.Events.Count, StringComparer.Ordinal);
                for (var e = 0; e < source.Events.Count; e++)
                {
                    byKey[EventKeyTail(source.Events[e])] = e;
                }
                wanted[i] = byKey;
            }
        }
        range.ScanAll(_store, FactKeys.EventTag, (at, key, value) =>
        {
            if (wanted[at] is { } byKey && TryFindEvent(byKey, key[range.PrefixLength(at)..], out var index) && TryGetEventRecord(value, out var record))
            {
                visit(at, index, record);
            }
        });
    }

    /// <summary>How an event's key ends (dataset, a zero byte, _id): what a scan of its member's events knows it by.</summary>
    private static string EventKeyTail(in EvaluationEvent stored) => stored.Dataset + "\0" + stored.EventId;

    /// <summary>The index <paramref name="wanted"/> holds for the event whose key ends with <paramref name="tail"/> (UTF-8), looked up without a string.</summary>
    private static bool TryFindEvent(Dictionary<string, int> wanted, ReadOnlySpan<byte> tail, out int index) =>
        wanted.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(Utf16(tail), out index);

    [ThreadStatic]
    private static char[]? t_chars;

    /// <summary>UTF-8 as UTF-16 in a buffer of the thread's, valid until the next call.</summary>
    private static ReadOnlySpan<char> Utf16(ReadOnlySpan<byte> utf8)
    {
        var buffer = t_chars is { } existing && existing.Length >= utf8.Length ? existing : t_chars = new char[Math.Max(256, utf8.Length)];
        var length = System.Text.Encoding.UTF8.GetChars(utf8, buffer);
        return buffer.AsSpan(0, length);
    }

    /// <summary>
    /// Reads the view of the graph with <paramref name="members"/> with <paramref name="read"/>, under
    /// the sandbox's lock (facts arriving mutate views), but reads the store outside it, so that cold
    /// reads run in parallel and commits do not wait behind them. A cache miss registers a pending
    /// load of the identities no view holds and releases the lock; facts committed meanwhile for them
    /// are recorded and applied to the loaded view, and an eviction (a deletion, an invalidation)
    /// makes the load stale, read again under the lock. Two readers may load one profile at once:
    /// the later completion regroups with the view the earlier one cached.
    /// </summary>
    private T Read<T>(string sandbox, IReadOnlyCollection<IdentityKey> members, Func<ProfileView, T> read) => Read(sandbox, members, true, read);

    /// <summary>As <see cref="Read{T}(string, IReadOnlyCollection{IdentityKey}, Func{ProfileView, T})"/>; without <paramref name="keepInCache"/> a view not cached is read from the store and only used.</summary>
    private T Read<T>(string sandbox, IReadOnlyCollection<IdentityKey> members, bool keepInCache, Func<ProfileView, T> read)
    {
        var views = Views(sandbox);
        if (!keepInCache)
        {
            lock (views)
            {
                if (views.TryGetCached(members) is { } cached)
                {
                    return read(cached);
                }
            }
            return read(Load(sandbox, members)); // This caller's own view: no lock needed.
        }
        PendingLoad? pending;
        lock (views)
        {
            if (views.TryGet(members, out pending) is { } cached)
            {
                return read(cached);
            }
        }
        ProfileView loaded;
        try
        {
            loaded = Load(sandbox, pending!.Identities);
            AfterLoadOutsideLock?.Invoke(pending.Identities);
        }
        catch
        {
            lock (views)
            {
                views.Abandon(pending!);
            }
            throw;
        }
        lock (views)
        {
            return read(views.Complete(members, pending, loaded));
        }
    }

    /// <summary>Test seam: runs after a pending load has read the store and before it completes, outside the lock.</summary>
    internal Action<IReadOnlyList<IdentityKey>>? AfterLoadOutsideLock { get; set; }

    /// <summary>
    /// The stored records of <paramref name="events"/>, in their order (null where one is not stored
    /// any more): <see cref="ReadEventRecords(string, IReadOnlyList{EvaluationEvent}, EventRecordVisitor)"/>, each parsed.
    /// </summary>
    private JsonNode?[] ReadEventRecords(string sandbox, IReadOnlyList<EvaluationEvent> events)
    {
        var records = new JsonNode?[events.Count];
        ReadEventRecords(sandbox, events, (index, record) => records[index] = JsonNode.Parse(record));
        return records;
    }

    /// <summary>Receives the stored record of the event at <paramref name="index"/> as UTF-8 JSON, valid only during the call.</summary>
    public delegate void EventRecordVisitor(int index, ReadOnlySpan<byte> record);

    /// <summary>
    /// Hands the stored record of each of <paramref name="events"/> (by its index) to <paramref name="visit"/>
    /// as the UTF-8 JSON it is stored as, so a caller that converts it need not build nodes; an event not
    /// stored any more (or whose record is null) is not visited. A member's events share a key prefix: a
    /// member with several is read with one prefix scan instead of a point read per event (its events the
    /// timeline leaves out are skipped unread).
    /// </summary>
    public void ReadEventRecords(string sandbox, IReadOnlyList<EvaluationEvent> events, EventRecordVisitor visit)
    {
        var wantedByMember = new Dictionary<IdentityKey, Dictionary<string, int>>();
        for (var i = 0; i < events.Count; i++)
        {
            if (!wantedByMember.TryGetValue(events[i].Member, out var wanted))
            {
                wanted = new Dictionary<string, int>(StringComparer.Ordinal);
                wantedByMember[events[i].Member] = wanted;
            }
            wanted[EventKeyTail(events[i])] = i;
        }
        foreach (var (member, wanted) in wantedByMember)
        {
            if (wanted.Count == 1)
            {
                // One event: a point read.
                var only = wanted.Values.First();
                if (StoredEvent(sandbox, events[only]) is { } body && TryGetEventRecord(body, out var record))
                {
                    visit(only, record);
                }
                continue;
            }
            var identity = new IdentityValue(member.Namespace, member.Value, true);
            var prefix = FactKeys.IdentityPrefix(FactKeys.EventTag, sandbox, identity);
            var remaining = wanted.Count;
            _store.Scan(StoreSpace.Facts, FactKeys.ShardOf(sandbox, identity, _store.ShardCount), prefix, (key, value) =>
            {
                if (TryFindEvent(wanted, key[prefix.Length..], out var at))
                {
                    if (TryGetEventRecord(value, out var record))
                    {
                        visit(at, record);
                    }
                    remaining--;
                }
                return remaining > 0;
            });
        }
    }

    /// <summary>The <c>record</c> of a stored event envelope, as its JSON bytes; false when it has none or it is null.</summary>
    public static bool TryGetEventRecord(ReadOnlySpan<byte> envelope, out ReadOnlySpan<byte> record)
    {
        // Ingestion writes the record first and the identities right after it, so the record ends where the last
        // ',"identities":[' begins (a JSON string cannot hold that unescaped quote): found without reading the
        // record token by token, which was a third of reading a range's event bodies.
        if (envelope.StartsWith(RecordFirst) && envelope.LastIndexOf(IdentitiesAfter) is var end && end > RecordFirst.Length)
        {
            record = envelope[RecordFirst.Length..end];
            return !record.SequenceEqual("null"u8);
        }
        var reader = new Utf8JsonReader(envelope);
        reader.Read(); // The envelope's object.
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isRecord = reader.ValueTextEquals("record"u8);
            reader.Read();
            if (isRecord)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                record = envelope[start..(int)reader.BytesConsumed];
                return reader.TokenType != JsonTokenType.Null;
            }
            reader.Skip();
        }
        record = default;
        return false;
    }

    private static ReadOnlySpan<byte> RecordFirst => "{\"record\":"u8;

    private static ReadOnlySpan<byte> IdentitiesAfter => ",\"identities\":["u8;

    /// <summary>The envelope stored under an event's key, or null.</summary>
    private byte[]? StoredEvent(string sandbox, EvaluationEvent stored)
    {
        var identity = new IdentityValue(stored.Member.Namespace, stored.Member.Value, true);
        var key = FactKeys.EventKey(sandbox, identity, stored.Dataset, stored.EventId);
        return _store.Get(StoreSpace.Facts, FactKeys.ShardOf(sandbox, identity, _store.ShardCount), key);
    }

    /// <summary>A property's value taken out of its parsed envelope (a node has one parent: taking it is cheaper than a deep copy).</summary>
    private static JsonNode? Detach(JsonObject envelope, string property)
    {
        if (!envelope.TryGetPropertyValue(property, out var value))
        {
            return null;
        }
        envelope.Remove(property);
        return value;
    }

    /// <summary>The entries after the cursor (newest first), at most <paramref name="take"/>.</summary>
    private static List<TimelineEntry> Page(List<TimelineEntry> newestFirst, string? before, int take)
    {
        var skipped = 0;
        if (before is not null)
        {
            var at = newestFirst.FindIndex(e => Cursor(e) == before);
            if (at < 0)
            {
                throw new CatalogException("CURSOR_INVALID", $"'{before}' is not an event of this profile's timeline (pass the 'next' of a previous page)");
            }
            skipped = at + 1;
        }
        return newestFirst.Skip(skipped).Take(Math.Max(0, take)).ToList();
    }

    private static string Cursor(in TimelineEntry entry) => $"{entry.Ticks:x}.{entry.IdHash:x}";

    private TimelineEvent ReadEvent(string sandbox, TimelineEntry entry, IdentityKey member)
    {
        var identity = new IdentityValue(member.Namespace, member.Value, true);
        var key = FactKeys.EventKey(sandbox, identity, entry.Dataset, entry.EventId);
        var stored = _store.Get(StoreSpace.Facts, FactKeys.ShardOf(sandbox, identity, _store.ShardCount), key);
        JsonNode? body = null;
        string? batch = null;
        if (stored is not null)
        {
            var node = JsonNode.Parse(stored)!.AsObject();
            body = Detach(node, "record");
            batch = (string?)node["batch"];
        }
        return new TimelineEvent(entry.Dataset, entry.EventId, new DateTimeOffset(entry.Ticks, TimeSpan.Zero), member.ToString(), batch, body);
    }

    /// <summary>Merged values by dotted path, as nested JSON objects (a value at a path shadows values below it).</summary>
    private static JsonObject Nest(IEnumerable<KeyValuePair<string, MergedValue>> attributes)
    {
        var root = new JsonObject();
        if (attributes.TryGetNonEnumeratedCount(out var count) && count == 0)
        {
            return root; // A device's profile: no attributes, nothing to order.
        }
        foreach (var (path, value) in InPathOrder(attributes))
        {
            if (!path.Contains('.', StringComparison.Ordinal))
            {
                // A top-level field (most): nothing to walk.
                if (!root.ContainsKey(path))
                {
                    root[path] = JsonNode.Parse(value.Json);
                }
                continue;
            }
            var parts = path.Split('.');
            var parent = root;
            var blocked = false;
            for (var i = 0; i < parts.Length - 1 && !blocked; i++)
            {
                if (parent[parts[i]] is JsonObject child)
                {
                    parent = child;
                }
                else if (parent.ContainsKey(parts[i]))
                {
                    blocked = true;
                }
                else
                {
                    child = [];
                    parent[parts[i]] = child;
                    parent = child;
                }
            }
            if (!blocked && !parent.ContainsKey(parts[^1]))
            {
                parent[parts[^1]] = JsonNode.Parse(value.Json);
            }
        }
        return root;
    }

    /// <summary>The attributes by path, ordinal; merged attributes come sorted already, and are not sorted again.</summary>
    private static IEnumerable<KeyValuePair<string, MergedValue>> InPathOrder(IEnumerable<KeyValuePair<string, MergedValue>> attributes)
    {
        if (attributes is KeyValuePair<string, MergedValue>[] array)
        {
            var sorted = true;
            for (var i = 1; i < array.Length && sorted; i++)
            {
                sorted = string.CompareOrdinal(array[i - 1].Key, array[i].Key) < 0;
            }
            if (sorted)
            {
                return array;
            }
        }
        return attributes.OrderBy(a => a.Key, StringComparer.Ordinal);
    }

    // ------------------------------------------------------------------ expiry

    private const int ExpiryCommitBytes = 8 << 20;

    /// <summary>
    /// Deletes the events of <paramref name="sandbox"/> that are past their dataset's TTL (their
    /// event and timeline keys). Views already leave them out; this frees the store. Run hourly by
    /// the server and by <c>tessera profile expire</c>.
    /// </summary>
    public async Task<ExpiryReport> ExpireAsync(string sandbox, CancellationToken cancellationToken = default)
    {
        var datasets = Definitions(sandbox).Datasets;
        var now = _time.GetUtcNow();
        var cutoffs = datasets.EventDatasets.Where(d => d.Value is not null)
            .ToDictionary(d => d.Key, d => (now - d.Value!.Value).UtcTicks, StringComparer.Ordinal);
        long expired = 0;
        if (cutoffs.Count > 0)
        {
            var prefix = FactKeys.SandboxPrefix(FactKeys.TimelineTag, sandbox);
            for (var shard = 0; shard < _store.ShardCount; shard++)
            {
                // Deletions are committed in bounded sets; each pass scans again from the start (what it deleted is gone).
                bool full;
                do
                {
                    using var writes = new WriteSet(1 << 16);
                    full = false;
                    var current = shard;
                    _store.ScanOnce(StoreSpace.Facts, shard, prefix, (key, _) =>
                    {
                        if (FactKeys.TryParse(key, out var parsed) && cutoffs.TryGetValue(parsed.Dataset, out var cutoff) && parsed.Ticks < cutoff)
                        {
                            writes.Delete(StoreSpace.Facts, current, key);
                            writes.Delete(StoreSpace.Facts, current, FactKeys.EventKey(sandbox, parsed.Identity, parsed.Dataset, parsed.EventId!));
                            expired++;
                            full = writes.Bytes >= ExpiryCommitBytes;
                        }
                        return !full;
                    });
                    if (writes.Count > 0)
                    {
                        await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
                    }
                }
                while (full);
            }
        }
        if (expired > 0)
        {
            Invalidate(sandbox); // The cached timelines still list them (left out when read); drop them.
        }
        return new ExpiryReport(sandbox, now, expired, cutoffs.Keys.Order(StringComparer.Ordinal).ToList(),
            datasets.InvalidTtl.Count > 0 ? datasets.InvalidTtl : null);
    }

    // ------------------------------------------------------------------ keeping views current

    public void OnCommitted(string sandbox, WriteSet committed)
    {
        var views = Views(sandbox);
        lock (views)
        {
            if (!views.IsTracking)
            {
                return; // Nothing cached or being loaded: the facts are on disk for whoever reads them.
            }
            for (var i = 0; i < committed.Count; i++)
            {
                var operation = committed[i];
                if (operation.Space != StoreSpace.Facts || operation.Key.Span[0] is not (FactKeys.RecordTag or FactKeys.TimelineTag)
                    || !FactKeys.TryParse(operation.Key.Span, out var key))
                {
                    continue;
                }
                var identity = new IdentityKey(key.Identity.Namespace, key.Identity.Value);
                if (operation.IsDelete)
                {
                    views.Evict(identity);
                }
                else if (key.Tag == FactKeys.TimelineTag || views.Tracks(identity))
                {
                    // An event costs one lookup in the view set either way; a version is parsed only if something holds it.
                    Apply(views, key, identity, operation.Value.Span);
                }
            }
        }
    }

    /// <summary>Estimated managed bytes of a sandbox's cached views (the benchmark's report).</summary>
    public long CachedViewBytes(string sandbox)
    {
        var views = Views(sandbox);
        lock (views)
        {
            return views.Views.Sum(v => v.EstimatedBytes());
        }
    }

    /// <summary>Forgets cached views of a sandbox (after a deletion or an expiry changed facts underneath them).</summary>
    public void Invalidate(string sandbox, IEnumerable<IdentityKey>? identities = null)
    {
        var views = Views(sandbox);
        lock (views)
        {
            if (identities is null)
            {
                views.Clear();
                return;
            }
            foreach (var identity in identities)
            {
                views.Evict(identity);
            }
        }
    }

    private void Apply(ProfileView view, in ParsedFactKey key, IdentityKey identity, ReadOnlySpan<byte> value)
    {
        if (key.Tag == FactKeys.TimelineTag)
        {
            view.AddEvent(identity, Intern(key.Dataset), key.EventId!, key.Ticks);
        }
        else
        {
            view.ApplyVersion(Intern(key.Dataset), identity, RecordVersion.Parse(value, ShapeOf(key.Sandbox, key.Dataset)));
        }
    }

    /// <summary>Applies a committed fact to the view that holds its identity and records it for loads of it in flight.</summary>
    private void Apply(ProfileViewSet views, in ParsedFactKey key, IdentityKey identity, ReadOnlySpan<byte> value)
    {
        if (key.Tag == FactKeys.TimelineTag)
        {
            views.AddEvent(identity, Intern(key.Dataset), key.EventId!, key.Ticks);
        }
        else
        {
            views.ApplyVersion(Intern(key.Dataset), identity, RecordVersion.Parse(value, ShapeOf(key.Sandbox, key.Dataset)));
        }
    }

    private ProfileView Load(string sandbox, IReadOnlyCollection<IdentityKey> members)
    {
        var view = new ProfileView(members);
        Interlocked.Add(ref _identitiesLoaded, members.Count);
        var datasets = new List<(byte[] Utf8, string Name)>();
        foreach (var member in members)
        {
            var identity = new IdentityValue(member.Namespace, member.Value, true);
            var shard = FactKeys.ShardOf(sandbox, identity, _store.ShardCount);
            foreach (var (keyBytes, value) in _store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.RecordTag, sandbox, identity)))
            {
                if (FactKeys.TryParse(keyBytes, out var key))
                {
                    Apply(view, key, member, value);
                }
            }
            // A profile's events are most of its keys: visit the timeline's tails (time, dataset, _id) in place.
            var prefixLength = FactKeys.IdentityPrefix(FactKeys.TimelineTag, sandbox, identity).Length;
            _store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.TimelineTag, sandbox, identity), (key, _) =>
            {
                AddTimelineEntry(view, member, key[prefixLength..], datasets);
                return true;
            });
        }
        return view;
    }

    /// <summary>Adds the event of a timeline key's tail (time, dataset, _id) to the view.</summary>
    private void AddTimelineEntry(ProfileView view, IdentityKey member, ReadOnlySpan<byte> tail, List<(byte[] Utf8, string Name)> datasets)
    {
        if (tail.Length > 8)
        {
            AddEvent(view, member, tail[8..], System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(tail), datasets);
        }
    }

    /// <summary>Adds the event named by <paramref name="datasetAndId"/> (dataset, a zero byte, _id: how its keys end) at <paramref name="ticks"/>.</summary>
    private void AddEvent(ProfileView view, IdentityKey member, ReadOnlySpan<byte> datasetAndId, long ticks, List<(byte[] Utf8, string Name)> datasets)
    {
        if (TryReadEvent(datasetAndId, ticks, datasets, out var entry))
        {
            view.AddEvent(member, entry.Dataset, entry.EventId, entry.IdHash, ticks);
        }
    }

    /// <summary>The timeline entry (of the view's first member) of the event named by <paramref name="datasetAndId"/>; false when malformed.</summary>
    private bool TryReadEvent(ReadOnlySpan<byte> datasetAndId, long ticks, List<(byte[] Utf8, string Name)> datasets, out TimelineEntry entry)
    {
        var separator = datasetAndId.IndexOf((byte)0);
        if (separator < 0)
        {
            entry = default;
            return false;
        }
        var dataset = DatasetName(datasets, datasetAndId[..separator]);
        var eventId = System.Text.Encoding.UTF8.GetString(datasetAndId[(separator + 1)..]);
        // The key's own bytes are what the hash reads: no need to encode the strings again.
        entry = new TimelineEntry(ticks, TimelineEntry.Hash(datasetAndId), dataset, eventId, 0);
        return true;
    }

    private string DatasetName(List<(byte[] Utf8, string Name)> seen, ReadOnlySpan<byte> utf8)
    {
        foreach (var (bytes, name) in seen)
        {
            if (utf8.SequenceEqual(bytes))
            {
                return name;
            }
        }
        var added = Intern(System.Text.Encoding.UTF8.GetString(utf8));
        seen.Add((utf8.ToArray(), added));
        return added;
    }

    private FieldShape ShapeOf(string sandbox, string dataset) => Definitions(sandbox).Shapes.GetOrAdd(dataset, static (name, context) =>
        context.Catalog.GetDataset(context.Sandbox, name) is { } definition
            ? FieldShape.Of(context.Catalog.Compiled(context.Sandbox, definition.Schema))
            : FieldShape.Flat, (Catalog: _catalog, Sandbox: sandbox));

    /// <summary>What the sandbox's definitions say, derived once per change of them (datasets, merge rules, record shapes).</summary>
    private SandboxDefinitions Definitions(string sandbox)
    {
        var version = _catalog.DefinitionsVersion; // Read before the definitions: a change after it makes the next call derive again.
        if (_definitions.TryGetValue(sandbox, out var known) && known.Version == version)
        {
            return known;
        }
        var derived = new SandboxDefinitions(version, sandbox, _catalog, Datasets(sandbox));
        _definitions[sandbox] = derived;
        return derived;
    }

    private readonly ConcurrentDictionary<string, string> _datasetNames = new(StringComparer.Ordinal);

    /// <summary>One string per dataset name, so that a view's timeline entries share it.</summary>
    private string Intern(string dataset) => _datasetNames.GetOrAdd(dataset, dataset);

    private DatasetTable Datasets(string sandbox)
    {
        var profile = new List<string>();
        var events = new Dictionary<string, TimeSpan?>(StringComparer.Ordinal);
        var invalidTtl = new List<string>();
        foreach (var dataset in _catalog.ListDatasets(sandbox))
        {
            if (!dataset.ProfileEnabled)
            {
                continue;
            }
            if (_catalog.Compiled(sandbox, dataset.Schema).Class == SchemaClass.Profile)
            {
                profile.Add(dataset.Name);
            }
            else if (dataset.EventTtl is { } ttl && !TesseraCatalog.IsEventTtlInBounds(ttl))
            {
                // Refused at creation since, but a workspace made by an older build can hold one: zero or less would expire
                // every event (future ones too), beyond the bound the cutoff steps off the calendar. Kept as no TTL, and said.
                invalidTtl.Add($"{dataset.Name} (event TTL {ttl}: must be more than zero and at most {TesseraCatalog.MaxEventTtl.TotalDays:0} days)");
                events[dataset.Name] = null;
            }
            else
            {
                events[dataset.Name] = dataset.EventTtl;
            }
        }
        return new DatasetTable(profile, events, invalidTtl);
    }

    /// <summary>A sandbox's cached views; the set is also the lock that serializes access to them (see <see cref="Read{T}(string, IReadOnlyCollection{IdentityKey}, Func{ProfileView, T})"/>).</summary>
    private ProfileViewSet Views(string sandbox) =>
        _sandboxes.GetOrAdd(sandbox, name => new ProfileViewSet(_settings.CachedProfiles, members => Load(name, members)));

    private sealed class SandboxDefinitions(long version, string sandbox, TesseraCatalog catalog, DatasetTable datasets)
    {
        private readonly ConcurrentDictionary<string, MergeRule> _rules = new(StringComparer.Ordinal);
        private MergeRule? _default;

        public long Version { get; } = version;

        public DatasetTable Datasets { get; } = datasets;

        public ConcurrentDictionary<string, FieldShape> Shapes { get; } = new(StringComparer.Ordinal);

        /// <summary>The rule of the named policy, or of the sandbox's default.</summary>
        public MergeRule RuleFor(string? policy) => policy is null
            ? _default ??= new MergeRule(catalog.ResolveMergePolicy(sandbox, null), Datasets.ProfileDatasets)
            : _rules.GetOrAdd(policy, name => new MergeRule(catalog.ResolveMergePolicy(sandbox, name), Datasets.ProfileDatasets));
    }

    /// <param name="InvalidTtl">Event datasets whose stored TTL is out of bounds (each named with it), read as having none.</param>
    private sealed record DatasetTable(IReadOnlyList<string> ProfileDatasets, Dictionary<string, TimeSpan?> EventDatasets, IReadOnlyList<string> InvalidTtl)
    {
        public bool IsEventDataset(string dataset) => EventDatasets.ContainsKey(dataset);

        public TimeSpan? TtlOf(string dataset) => EventDatasets.GetValueOrDefault(dataset);
    }
}

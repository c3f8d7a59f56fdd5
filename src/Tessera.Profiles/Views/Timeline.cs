namespace Tessera.Profiles.Views;

/// <summary>
/// One stored event as a profile's timeline holds it: its time, a 64-bit hash of (dataset, _id) to
/// deduplicate, its dataset and _id, and which identity of the profile it is stored under. The body
/// stays on disk.
/// </summary>
public readonly record struct TimelineEntry(long Ticks, ulong IdHash, string Dataset, string EventId, int Member)
{
    public static ulong Hash(string dataset, string eventId)
    {
        var hash = new System.IO.Hashing.XxHash64();
        hash.Append(System.Text.Encoding.UTF8.GetBytes(dataset));
        hash.Append([0]);
        hash.Append(System.Text.Encoding.UTF8.GetBytes(eventId));
        return hash.GetCurrentHashAsUInt64();
    }
}

/// <summary>A profile's events as a merge policy and the clock see them.</summary>
public readonly record struct TimelineSummary(int Events, bool CapReached, DateTimeOffset? Newest, DateTimeOffset? Oldest)
{
    public static TimelineSummary Empty => default;
}

/// <summary>
/// How a timeline is read: the same event stored under two identities of one profile (its
/// <c>_id</c> in one dataset) counts once, at its newest time; events older than their dataset's
/// TTL are gone (measured from event time, at the moment of reading, so a TTL set later applies to
/// old data at once); of the rest, the newest <c>cap</c> are kept and the profile is flagged when
/// it has reached the cap.
/// </summary>
public static class TimelineReader
{
    public static TimelineSummary Summarize(IEnumerable<TimelineEntry> entries, TimelinePolicy policy) => Read(entries, policy).Summary;

    /// <summary>The timeline newest first (deduplicated, unexpired, capped) and its summary.</summary>
    public static (List<TimelineEntry> NewestFirst, TimelineSummary Summary) Read(IEnumerable<TimelineEntry> entries, TimelinePolicy policy)
    {
        var newest = new Dictionary<ulong, TimelineEntry>();
        foreach (var entry in entries)
        {
            if (policy.Contributes(entry.Dataset) && (!newest.TryGetValue(entry.IdHash, out var seen) || Newer(entry, seen)))
            {
                newest[entry.IdHash] = entry;
            }
        }
        var live = new List<TimelineEntry>(newest.Count);
        foreach (var entry in newest.Values)
        {
            if (!policy.Expired(entry))
            {
                live.Add(entry);
            }
        }
        if (live.Count == 0)
        {
            return (live, TimelineSummary.Empty);
        }
        live.Sort(static (a, b) => Newer(a, b) ? -1 : Newer(b, a) ? 1 : 0);
        var capReached = live.Count >= policy.Cap;
        if (live.Count > policy.Cap)
        {
            live.RemoveRange(policy.Cap, live.Count - policy.Cap);
        }
        return (live, new TimelineSummary(live.Count, capReached, new DateTimeOffset(live[0].Ticks, TimeSpan.Zero), new DateTimeOffset(live[^1].Ticks, TimeSpan.Zero)));
    }

    /// <summary>Newest first: by time, then (for equal times) by dataset, _id and member, so the order is total.</summary>
    private static bool Newer(in TimelineEntry a, in TimelineEntry b)
    {
        if (a.Ticks != b.Ticks)
        {
            return a.Ticks > b.Ticks;
        }
        var byDataset = string.CompareOrdinal(a.Dataset, b.Dataset);
        if (byDataset != 0)
        {
            return byDataset < 0;
        }
        var byId = string.CompareOrdinal(a.EventId, b.EventId);
        return byId != 0 ? byId < 0 : a.Member < b.Member;
    }
}

/// <summary>What a timeline is read with: contributing datasets, their TTLs, the time now, the event cap.</summary>
public sealed class TimelinePolicy(Func<string, bool> contributes, Func<string, TimeSpan?> ttl, DateTimeOffset now, int cap)
{
    public int Cap { get; } = cap;

    public DateTimeOffset Now { get; } = now;

    public bool Contributes(string dataset) => contributes(dataset);

    public bool Expired(in TimelineEntry entry) => ttl(entry.Dataset) is { } life && entry.Ticks < (Now - life).UtcTicks;

    public TimeSpan? TtlOf(string dataset) => ttl(dataset);
}

namespace Tessera.Profiles.Views;

/// <summary>
/// One stored event as a profile's timeline holds it: its time, a 64-bit hash of (dataset, _id) to
/// deduplicate, its dataset and which identity of the profile it is stored under. The body stays on
/// disk; a timeline in memory costs a few dozen bytes per event.
/// </summary>
public readonly record struct TimelineEntry(long Ticks, ulong IdHash, string Dataset, int Member);

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
    public static TimelineSummary Summarize(IEnumerable<TimelineEntry> entries, TimelinePolicy policy)
    {
        var newest = new Dictionary<ulong, TimelineEntry>();
        foreach (var entry in entries)
        {
            if (policy.Contributes(entry.Dataset) && (!newest.TryGetValue(entry.IdHash, out var seen) || entry.Ticks > seen.Ticks))
            {
                newest[entry.IdHash] = entry;
            }
        }
        var live = new List<long>(newest.Count);
        foreach (var entry in newest.Values)
        {
            if (!policy.Expired(entry))
            {
                live.Add(entry.Ticks);
            }
        }
        if (live.Count == 0)
        {
            return TimelineSummary.Empty;
        }
        live.Sort();
        var kept = Math.Min(live.Count, policy.Cap);
        return new TimelineSummary(kept, live.Count >= policy.Cap,
            new DateTimeOffset(live[^1], TimeSpan.Zero), new DateTimeOffset(live[^kept], TimeSpan.Zero));
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

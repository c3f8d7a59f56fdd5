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
        var length = System.Text.Encoding.UTF8.GetMaxByteCount(dataset.Length + eventId.Length) + 1;
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[length] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length));
        var written = System.Text.Encoding.UTF8.GetBytes(dataset, buffer);
        buffer[written++] = 0;
        written += System.Text.Encoding.UTF8.GetBytes(eventId, buffer[written..]);
        var hash = System.IO.Hashing.XxHash64.HashToUInt64(buffer[..written]);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
        return hash;
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
    public static TimelineSummary Summarize(IEnumerable<TimelineEntry> entries, TimelinePolicy policy) => Read(Deduplicate(entries), policy).Summary;

    /// <summary>Each event once, at its newest time, newest first (what every read of the same events starts from).</summary>
    public static List<TimelineEntry> Deduplicate(IEnumerable<TimelineEntry> entries)
    {
        // Sorted by hash (newest first within one), the first of each hash is the one kept: no set needed.
        var byHash = entries.ToArray();
        Array.Sort(byHash, static (a, b) => a.IdHash != b.IdHash ? a.IdHash.CompareTo(b.IdHash) : Newer(a, b) ? -1 : Newer(b, a) ? 1 : 0);
        var kept = new List<TimelineEntry>(byHash.Length);
        for (var i = 0; i < byHash.Length; i++)
        {
            if (i == 0 || byHash[i].IdHash != byHash[i - 1].IdHash)
            {
                kept.Add(byHash[i]);
            }
        }
        kept.Sort(static (a, b) => Newer(a, b) ? -1 : Newer(b, a) ? 1 : 0);
        return kept;
    }

    /// <summary>
    /// The timeline newest first (contributing, unexpired, capped) and its summary, from
    /// <see cref="Deduplicate"/>'s list (returned as is, not copied, when nothing is left out).
    /// </summary>
    public static (List<TimelineEntry> NewestFirst, TimelineSummary Summary) Read(List<TimelineEntry> deduplicated, TimelinePolicy policy)
    {
        var live = deduplicated;
        var kept = 0;
        var capReached = false;
        for (var i = 0; i < deduplicated.Count; i++)
        {
            var entry = deduplicated[i];
            if (!policy.Contributes(entry.Dataset) || policy.Expired(entry))
            {
                if (ReferenceEquals(live, deduplicated))
                {
                    live = deduplicated.GetRange(0, i); // The first entry left out: copy from here on.
                }
                continue;
            }
            if (kept == policy.Cap)
            {
                capReached = true;
                break;
            }
            kept++;
            if (!ReferenceEquals(live, deduplicated))
            {
                live.Add(entry);
            }
        }
        if (ReferenceEquals(live, deduplicated) && kept < deduplicated.Count)
        {
            live = deduplicated.GetRange(0, kept); // Stopped at the cap.
        }
        capReached |= kept >= policy.Cap;
        return kept == 0
            ? ([], TimelineSummary.Empty)
            : (live, new TimelineSummary(kept, capReached, new DateTimeOffset(live[0].Ticks, TimeSpan.Zero), new DateTimeOffset(live[^1].Ticks, TimeSpan.Zero)));
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

namespace Tessera.Profiles.Views;

/// <summary>
/// One stored event as a profile's timeline holds it: its time, a 64-bit hash of (dataset, _id) to
/// deduplicate, its dataset and _id, and which identity of the profile it is stored under. The body
/// stays on disk.
/// </summary>
public readonly record struct TimelineEntry(long Ticks, ulong IdHash, string Dataset, string EventId, int Member)
{
    /// <summary>The hash of (dataset, _id): XxHash64 of their UTF-8 with a zero byte between them, as an event's key ends.</summary>
    public static ulong Hash(string dataset, string eventId)
    {
        var length = System.Text.Encoding.UTF8.GetMaxByteCount(dataset.Length + eventId.Length) + 1;
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[length] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length));
        var written = System.Text.Encoding.UTF8.GetBytes(dataset, buffer);
        buffer[written++] = 0;
        written += System.Text.Encoding.UTF8.GetBytes(eventId, buffer[written..]);
        var hash = Hash(buffer[..written]);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
        return hash;
    }

    /// <summary>The hash of an event from how its key ends (dataset, a zero byte, _id), as <see cref="Hash(string, string)"/> gives it.</summary>
    public static ulong Hash(ReadOnlySpan<byte> datasetAndId) => System.IO.Hashing.XxHash64.HashToUInt64(datasetAndId);
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
        var all = entries as List<TimelineEntry> ?? [.. entries];
        // A view's entries are runs already in time order (each identity's timeline scan, then events
        // as they arrive): merge the runs from their newest ends instead of sorting, when there are few.
        var runEnds = new List<int>();
        for (var i = 1; i < all.Count && runEnds.Count <= MaxMergedRuns; i++)
        {
            if (!Newer(all[i], all[i - 1]))
            {
                runEnds.Add(i);
            }
        }
        runEnds.Add(all.Count);
        var seen = new HashSet<ulong>(all.Count);
        if (runEnds.Count > MaxMergedRuns)
        {
            // Sorted in a copy, then each event's first (newest) kept in place.
            var sorted = new List<TimelineEntry>(all);
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sorted);
            span.Sort(new NewestFirst());
            var count = 0;
            foreach (var entry in span)
            {
                if (seen.Add(entry.IdHash))
                {
                    span[count++] = entry;
                }
            }
            sorted.RemoveRange(count, sorted.Count - count);
            return sorted;
        }
        var kept = new List<TimelineEntry>(all.Count);
        // Each run is read backwards, from its end (its newest) to its start.
        Span<int> next = stackalloc int[runEnds.Count];
        Span<int> start = stackalloc int[runEnds.Count];
        for (var r = 0; r < runEnds.Count; r++)
        {
            next[r] = runEnds[r] - 1;
            start[r] = r == 0 ? 0 : runEnds[r - 1];
        }
        while (true)
        {
            var best = -1;
            for (var r = 0; r < runEnds.Count; r++)
            {
                if (next[r] >= start[r] && (best < 0 || Newer(all[next[r]], all[next[best]])))
                {
                    best = r;
                }
            }
            if (best < 0)
            {
                return kept;
            }
            var entry = all[next[best]--];
            if (seen.Add(entry.IdHash)) // The first of an event met newest first is its newest.
            {
                kept.Add(entry);
            }
        }
    }

    /// <summary>
    /// Puts <paramref name="entry"/> into <paramref name="deduplicated"/> (as <see cref="Deduplicate"/> made it) where
    /// <see cref="Deduplicate"/> of every entry would have it: in time order, and in place of an older sighting of the same
    /// event (left out when a newer one is there). A view keeps its list this way as events arrive instead of deduplicating
    /// all of them again at its next read, which was a list and a set per streaming evaluation.
    /// </summary>
    internal static void Insert(List<TimelineEntry> deduplicated, in TimelineEntry entry)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(deduplicated);
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i].IdHash == entry.IdHash)
            {
                if (!Newer(entry, span[i]))
                {
                    return;
                }
                deduplicated.RemoveAt(i);
                break;
            }
        }
        var position = 0;
        while (position < deduplicated.Count && Newer(deduplicated[position], entry))
        {
            position++;
        }
        deduplicated.Insert(position, entry);
    }

    /// <summary>Above this many time-ordered runs, sorting beats merging them.</summary>
    private const int MaxMergedRuns = 16;

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

    /// <summary>The order of <see cref="Newer"/> for a sort (a struct, so that its comparisons are not delegate calls).</summary>
    private readonly struct NewestFirst : IComparer<TimelineEntry>
    {
        public int Compare(TimelineEntry a, TimelineEntry b) => Newer(a, b) ? -1 : Newer(b, a) ? 1 : 0;
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

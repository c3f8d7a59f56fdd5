using Tessera.Pql.Evaluation;
using Tessera.Profiles;

namespace Tessera.Segmentation.Engines;

/// <summary>Profiles converted for compiled evaluation, as the batch and edge engines read them.</summary>
internal static class EvaluationProfiles
{
    /// <summary>
    /// The profile as <c>PqlProfile.FromJson(ForEvaluation(...).Profile)</c> gives it, its events
    /// converted straight from their stored bytes: building JSON nodes for every event first cost more
    /// than the conversion itself. An event no longer stored is left out, as ForEvaluation leaves it out.
    /// </summary>
    public static PqlProfile Converted(this ProfileService profiles, string sandbox, EvaluationSource profile)
    {
        var events = new StoredEvents(profile.Events.Count);
        profiles.ReadEventRecords(sandbox, profile.Events, events.Convert);
        return events.Profile(profile);
    }

    /// <summary>A profile's events as they are read from the store, converted; then the profile with them.</summary>
    public sealed class StoredEvents(int count)
    {
        private readonly PqlValue[] _events = new PqlValue[count];
        private readonly bool[] _stored = new bool[count];

        public void Convert(int index, ReadOnlySpan<byte> record)
        {
            _events[index] = PqlProfile.Convert(record, TimeZoneInfo.Utc);
            _stored[index] = true;
        }

        /// <summary>The profile with the events read (an event no longer stored is left out).</summary>
        public PqlProfile Profile(EvaluationSource profile)
        {
            var kept = _stored.AsSpan().IndexOf(false) < 0 ? _events : [.. _events.Where((_, i) => _stored[i])];
            return PqlProfile.WithEvents(PqlProfile.Convert(profile.Attributes, TimeZoneInfo.Utc), kept, TimeZoneInfo.Utc);
        }
    }
}

using System.Text.Json.Nodes;
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
    /// Only the event fields <paramref name="projection"/> keeps are converted (all when null).
    /// </summary>
    public static PqlProfile Converted(this ProfileService profiles, string sandbox, EvaluationSource profile, EventProjection? projection)
    {
        var events = new StoredEvents(profile.Events.Count, projection);
        profiles.ReadEventRecords(sandbox, profile.Events, events.Convert);
        return events.Profile(profile);
    }

    /// <summary>
    /// As <see cref="Converted(ProfileService, string, EvaluationSource, EventProjection?)"/>, taking what <paramref name="last"/> (the
    /// streaming engine's last evaluation of the same profile) converted: its attributes when they are the same, and each
    /// of its events the profile still holds under the same reference (an event's body never changes under it), found
    /// walking both lists in timeline order, when it kept the same fields of them. Only the other events are read from
    /// the store: for an edge request, the events it just stored, instead of every event of the profile.
    /// </summary>
    public static PqlProfile Converted(this ProfileService profiles, string sandbox, EvaluationSource profile, EventProjection? projection, EvaluatedProfile? last)
    {
        if (last is null || !EventProjection.Same(last.Projection, projection))
        {
            return profiles.Converted(sandbox, profile, projection);
        }
        var refs = profile.Events;
        var events = new StoredEvents(refs.Count, projection);
        List<EvaluationEvent>? unread = null;
        List<int>? positions = null;
        var j = 0;
        for (var i = 0; i < refs.Count; i++)
        {
            if (j < last.Refs.Length && last.Refs[j] == refs[i])
            {
                events.Set(i, last.Values[j++]);
                continue;
            }
            (unread ??= []).Add(refs[i]);
            (positions ??= []).Add(i);
        }
        if (unread is not null)
        {
            profiles.ReadEventRecords(sandbox, unread, (at, record) => events.Convert(positions![at], record));
        }
        return events.Profile(profile, JsonNode.DeepEquals(last.Attributes, profile.Attributes) ? last.AttributesValue : null);
    }

    /// <summary>The profile's attributes converted, with no events: for audiences that read its events from columns.</summary>
    public static PqlProfile AttributesOnly(EvaluationSource profile) =>
        PqlProfile.WithEvents(PqlProfile.Convert(profile.Attributes, TimeZoneInfo.Utc), [], TimeZoneInfo.Utc);

    /// <summary>A profile's events as they are read from the store, converted (the fields <paramref name="projection"/> keeps); then the profile with them.</summary>
    public sealed class StoredEvents(int count, EventProjection? projection)
    {
        private readonly PqlValue[] _events = new PqlValue[count];
        private readonly bool[] _stored = new bool[count];

        public void Convert(int index, ReadOnlySpan<byte> record) => Set(index, PqlProfile.Convert(record, TimeZoneInfo.Utc, projection));

        /// <summary>An event converted before.</summary>
        public void Set(int index, PqlValue converted)
        {
            _events[index] = converted;
            _stored[index] = true;
        }

        /// <summary>The profile with the events read (an event no longer stored is left out); <paramref name="attributes"/>: converted before.</summary>
        public PqlProfile Profile(EvaluationSource profile, PqlValue? attributes = null)
        {
            var kept = _stored.AsSpan().IndexOf(false) < 0 ? _events : [.. _events.Where((_, i) => _stored[i])];
            return PqlProfile.WithEvents(attributes ?? PqlProfile.Convert(profile.Attributes, TimeZoneInfo.Utc), kept, TimeZoneInfo.Utc);
        }
    }
}

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
        var events = new PqlValue[profile.Events.Count];
        var stored = new bool[events.Length];
        profiles.ReadEventRecords(sandbox, profile.Events, (index, record) =>
        {
            events[index] = PqlProfile.Convert(record, TimeZoneInfo.Utc);
            stored[index] = true;
        });
        var kept = stored.AsSpan().IndexOf(false) < 0 ? events : [.. events.Where((_, i) => stored[i])];
        return PqlProfile.WithEvents(PqlProfile.Convert(profile.Attributes, TimeZoneInfo.Utc), kept, TimeZoneInfo.Utc);
    }
}

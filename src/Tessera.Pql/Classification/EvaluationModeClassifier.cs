using Tessera.Pql.Syntax;

namespace Tessera.Pql.Classification;

/// <summary>
/// Decides the most immediate engine that can evaluate a query (edge before streaming before batch)
/// and says why; docs/pql.md ("Evaluation modes") lists every rule and the decisions on the pages'
/// contradictions.
/// </summary>
public static class EvaluationModeClassifier
{
    /// <param name="audiences">
    /// What is known of an audience named in <c>inSegment("id")</c>; with none (or a null answer) the
    /// audience is taken to be a streaming audience that reads events, the least that is safe to assume.
    /// </param>
    public static ModeClassification Classify(PqlNode expression, Func<string, AudienceReference?>? audiences = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var analysis = QueryAnalysis.Of(expression);
        var findings = new List<(EvaluationMode Mode, string Reason)>();
        void Find(EvaluationMode mode, string reason) => findings.Add((mode, $"{reason}: {Name(mode)}"));

        var events = analysis.Events;
        if (events.Count == 0 && analysis.Segments.Count == 0)
        {
            Find(EvaluationMode.Edge, "profile attributes only");
        }

        foreach (var read in events)
        {
            Classify(read, Find);
        }
        if (events.Count > 1)
        {
            Find(EvaluationMode.Streaming, $"{events.Count} event conditions (the edge takes one)");
        }
        if (events.Count > 0 && events.All(read => read.Negated) && !analysis.ReadsProfile && analysis.Segments.Count == 0)
        {
            Find(EvaluationMode.Batch, "only negated event conditions (the streaming guide: a query cannot consist only of a negation; "
                + "it holds for profiles that send nothing, which no incoming record re-evaluates)");
        }

        foreach (var id in analysis.Segments)
        {
            var name = id is null ? "inSegment with a computed id" : $"inSegment(\"{id}\")";
            var target = id is null ? null : audiences?.Invoke(id);
            if (target is null)
            {
                Find(EvaluationMode.Streaming, $"{name}: audience not known, taken as a streaming audience that reads events");
            }
            else if (target.Mode == EvaluationMode.Streaming)
            {
                Find(EvaluationMode.Streaming, $"{name} refers to a streaming audience (its membership moves after the incoming event, too late for the edge's answer)");
            }
            else
            {
                var kind = target.Mode == EvaluationMode.Batch ? "a batch" : "an edge";
                Find(EvaluationMode.Edge, $"{name} refers to {kind} audience, read as its stored membership (which changes on that audience's own schedule)");
            }
            if (events.Count > 0)
            {
                if (target is { ProfileOnly: true })
                {
                    Find(EvaluationMode.Edge, $"{name} is profile-only, so beside an event condition it counts as a profile attribute");
                }
                else
                {
                    Find(EvaluationMode.Batch, $"{name} ({(target is null ? "not known" : "an audience that reads events")}) combined with an event condition "
                        + "(the streaming guide's exclusion; only a profile-only audience may be combined)");
                }
            }
        }

        if ((events.Count > 0 || analysis.Segments.Count > 0) && analysis.ReadsProfile)
        {
            Find(EvaluationMode.Edge, "profile attributes beside the other conditions");
        }

        var mode = findings.Max(finding => finding.Mode);
        // The deciding reasons first, then the rest in the order found.
        var reasons = findings.Where(f => f.Mode == mode).Concat(findings.Where(f => f.Mode != mode)).Select(f => f.Reason).Distinct().ToList();
        return new ModeClassification(mode, reasons);
    }

    /// <summary>Parses and classifies.</summary>
    public static ModeClassification Classify(string pql, Func<string, AudienceReference?>? audiences = null) =>
        Classify(Parser.Parse(pql), audiences);

    public static string Name(EvaluationMode mode) => mode switch
    {
        EvaluationMode.Edge => "edge",
        EvaluationMode.Streaming => "streaming",
        _ => "batch",
    };

    private static void Classify(EventRead read, Action<EvaluationMode, string> find)
    {
        var what = read.Use switch
        {
            EventUse.Sequence => $"{read.Steps} events in strict time order",
            EventUse.Count => read.Count is { } count ? $"{count} events" : "a count of events",
            EventUse.Computed => "a value computed from events",
            EventUse.Universal => "forall over events",
            _ => read.Negated ? "a negated event" : "one event",
        };
        switch (read.Window)
        {
            case null:
                find(EvaluationMode.Batch, $"{what} with no time window ({read.Text}) (May 2025 rule)");
                return;
            case { Length: null } window:
                find(EvaluationMode.Batch, $"{what} in a window with no bound on the events' age ({window.Text})");
                return;
            case { FitsInADay: false } window:
                find(EvaluationMode.Batch, $"{what}: event window of {window.Describe()} ({window.Text}) is longer than 24 hours (May 2025 rule)");
                return;
        }
        var text = read.Window.Text;
        switch (read.Use)
        {
            case EventUse.Universal:
                find(EvaluationMode.Batch, $"forall over events ({read.Text}) holds for a profile with none, so no incoming event can decide it");
                break;
            case EventUse.Existence when !read.Negated:
                find(EvaluationMode.Edge, $"one event within 24 hours ({text})");
                break;
            case EventUse.Existence:
                find(EvaluationMode.Streaming, $"a negated event within 24 hours ({text}); a durable timer re-admits the profile when the event leaves the window");
                break;
            case EventUse.Sequence:
                find(EvaluationMode.Streaming, $"{what} within 24 hours ({text}); the chain's progress is kept per profile");
                break;
            default:
                find(EvaluationMode.Streaming, $"{what} within 24 hours ({text}), maintained incrementally over the profile's last 24 hours of events");
                break;
        }
        if (read.Negated && read.Use != EventUse.Existence)
        {
            find(EvaluationMode.Streaming, $"negated: {read.Text}");
        }
    }
}

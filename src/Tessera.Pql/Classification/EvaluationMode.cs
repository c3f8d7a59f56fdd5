namespace Tessera.Pql.Classification;

/// <summary>
/// The engines that can evaluate an audience, most immediate first: the edge endpoint (on the request,
/// from the incoming event and the stored profile), streaming (re-evaluation on every ingested record
/// or event, with durable timers for window exits), batch (scheduled or on-demand scans).
/// </summary>
public enum EvaluationMode
{
    Edge,
    Streaming,
    Batch,
}

/// <summary>The mode chosen for a query and the rules that decided it, the deciding ones first.</summary>
public sealed record ModeClassification(EvaluationMode Mode, IReadOnlyList<string> Reasons);

/// <summary>
/// What the classifier needs to know of an audience that a query names in <c>inSegment("id")</c>: the
/// mode it is evaluated in, and whether it reads profile attributes only (no events, no other audiences).
/// </summary>
public sealed record AudienceReference(EvaluationMode Mode, bool ProfileOnly);

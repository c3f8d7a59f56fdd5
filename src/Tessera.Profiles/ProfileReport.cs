using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Tessera.Profiles;

/// <summary>A unified profile as a lookup returns it (CLI <c>profile show</c>, HTTP <c>GET /profile/v1/profile</c>).</summary>
public sealed record ProfileReport
{
    public required string Sandbox { get; init; }
    /// <summary>The identity the profile was looked up by.</summary>
    public required string Identity { get; init; }
    public required string MergePolicy { get; init; }
    /// <summary>The graph's primary identity (the looked-up identity itself without stitching).</summary>
    public required string Primary { get; init; }
    /// <summary>The identities whose facts form the profile.</summary>
    public required IReadOnlyList<string> Identities { get; init; }
    /// <summary>The merged attributes, nested as the schemas nest them.</summary>
    public required JsonObject Attributes { get; init; }
    /// <summary>Where each merged value came from, by dotted path.</summary>
    public required IReadOnlyList<AttributeSource> Sources { get; init; }
    public required IReadOnlyList<FragmentInfo> Fragments { get; init; }
    public required TimelineInfo Timeline { get; init; }
    /// <summary>Audience memberships (filled in once segmentation exists).</summary>
    public IReadOnlyList<JsonObject> Memberships { get; init; } = [];
}

public sealed record AttributeSource(string Path, string Dataset, string Batch, DateTimeOffset Time, string Identity);

public sealed record FragmentInfo(string Dataset, string Identity, int Versions, DateTimeOffset Updated);

public sealed record TimelineInfo
{
    /// <summary>Events in the timeline (deduplicated, unexpired, at most the cap).</summary>
    public int Count { get; init; }
    /// <summary>The profile has reached the event cap (<c>profiles.maxEventsPerProfile</c>): older events are left out.</summary>
    public bool CapReached { get; init; }
    public DateTimeOffset? Newest { get; init; }
    public DateTimeOffset? Oldest { get; init; }
    /// <summary>The newest events (after <c>before</c> when given), newest first.</summary>
    public IReadOnlyList<TimelineEvent> Events { get; init; } = [];
    /// <summary>Pass as <c>before</c> for the next page; null on the last page.</summary>
    public string? Next { get; init; }
}

public sealed record TimelineEvent(string Dataset, string Id, DateTimeOffset Timestamp, string Identity, string? Batch, JsonNode? Event);

/// <summary>
/// What an expiry pass deleted: events past their dataset's TTL as of <see cref="Time"/>. <see cref="DatasetsWithInvalidTtl"/> names
/// the datasets whose stored TTL is out of bounds (zero or less, or beyond <see cref="Tessera.Catalog.TesseraCatalog.MaxEventTtl"/>: made
/// by a build that did not check it), each with its TTL: their events are kept as if they had no TTL until it is corrected.
/// </summary>
public sealed record ExpiryReport(string Sandbox, DateTimeOffset Time, long EventsExpired, IReadOnlyList<string> DatasetsWithTtl,
    IReadOnlyList<string>? DatasetsWithInvalidTtl = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProfileReport))]
[JsonSerializable(typeof(ExpiryReport))]
[JsonSerializable(typeof(List<ExpiryReport>))]
public sealed partial class ProfileJson : JsonSerializerContext;

/// <summary>
/// A profile as audiences read it (<see cref="ProfileService.ForEvaluation"/>): its primary identity
/// (what memberships are kept under), all its identities, and the attributes with events under <c>xEvent</c>.
/// </summary>
public sealed record EvaluationProfile(string Primary, IReadOnlyList<string> Identities, JsonObject Profile);

/// <summary>
/// A profile as audiences read it, before its events are read (<see cref="ProfileService.ForEvaluationSource"/>):
/// the nested attributes without <c>xEvent</c>, and the kept events, oldest first.
/// </summary>
public sealed record EvaluationSource(string Primary, IReadOnlyList<string> Identities, System.Text.Json.Nodes.JsonObject Attributes, IReadOnlyList<EvaluationEvent> Events);

/// <summary>One event of a profile's timeline: where its body is stored (dataset, the member identity that holds it, its <c>_id</c>) and its time.</summary>
public readonly record struct EvaluationEvent(string Dataset, string EventId, Tessera.Identity.Graph.IdentityKey Member, long Ticks);

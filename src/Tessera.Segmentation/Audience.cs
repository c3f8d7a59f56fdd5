using System.Text.Json.Serialization;

namespace Tessera.Segmentation;

[JsonConverter(typeof(JsonStringEnumConverter<AudienceState>))]
public enum AudienceState
{
    [JsonStringEnumMemberName("draft")] Draft,
    [JsonStringEnumMemberName("published")] Published,
    [JsonStringEnumMemberName("inactive")] Inactive,
    [JsonStringEnumMemberName("deleted")] Deleted,
}

/// <summary>
/// An audience: a PQL condition over merged profiles, the merge policy it reads them with, its
/// state, and the evaluation mode the classifier chose for it (with the reasons), plus the audiences
/// it reads through <c>inSegment</c>.
/// </summary>
public sealed record Audience
{
    /// <summary>Stable id (a UUID unless given), what <c>inSegment("id")</c> and memberships name.</summary>
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string? Description { get; init; }

    /// <summary>The expression as the user wrote it (its canonical text is what is evaluated).</summary>
    public required string Pql { get; init; }

    /// <summary>The expression in canonical form (<c>Printer.Print</c> of the parsed tree): what the engines compile.</summary>
    public string? Canonical { get; init; }

    /// <summary>The merge policy the audience reads profiles with (null: the sandbox's default).</summary>
    public string? MergePolicy { get; init; }

    public AudienceState State { get; init; } = AudienceState.Draft;

    /// <summary>"edge", "streaming" or "batch": the most immediate engine that can run it.</summary>
    public string Mode { get; init; } = "batch";

    public IReadOnlyList<string> Reasons { get; init; } = [];

    /// <summary>Ids of the audiences it reads through <c>inSegment</c>.</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = [];

    /// <summary>
    /// Reads profile attributes only (no events, no <c>inSegment</c>): beside an event condition in
    /// another audience it counts as a profile attribute (the classifier's <c>AudienceReference</c>).
    /// </summary>
    public bool ProfileOnly { get; init; }

    /// <summary>1 when created, one more on every change (definition or state): what a cache of one audience keys on.</summary>
    public int Version { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<MembershipStatus>))]
public enum MembershipStatus
{
    /// <summary>Qualified now and did not before.</summary>
    [JsonStringEnumMemberName("realized")] Realized,
    /// <summary>Qualified before and still does.</summary>
    [JsonStringEnumMemberName("existing")] Existing,
    /// <summary>Qualified before and no longer does.</summary>
    [JsonStringEnumMemberName("exited")] Exited,
}

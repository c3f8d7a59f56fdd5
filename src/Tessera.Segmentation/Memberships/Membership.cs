namespace Tessera.Segmentation.Memberships;

/// <summary>
/// One engine's verdict for one profile and one audience. A struct, so that the streaming engine can
/// hand over a batch per event without allocating per verdict.
/// </summary>
/// <param name="ProfileId">The graph's primary identity, <c>Namespace:value</c>.</param>
/// <param name="Identities">Every identity of the profile (<c>Namespace:value</c>), what activation sends.</param>
public readonly record struct Evaluation(string ProfileId, IReadOnlyList<string> Identities, string AudienceId, bool Qualifies);

/// <summary>
/// A profile's membership of an audience. <see cref="ChangedAt"/> is when the status last changed
/// (for an exit: the exit, which retention counts from).
/// </summary>
public sealed record Membership(
    string AudienceId,
    string ProfileId,
    IReadOnlyList<string> Identities,
    MembershipStatus Status,
    DateTimeOffset LastQualifiedAt,
    DateTimeOffset ChangedAt)
{
    public bool IsMember => Status != MembershipStatus.Exited;
}

/// <summary>One entry of a sandbox's membership change feed: a profile entered (realized) or left (exited) an audience.</summary>
public sealed record MembershipChange(
    long Sequence,
    string Sandbox,
    string AudienceId,
    string ProfileId,
    IReadOnlyList<string> Identities,
    MembershipStatus Status,
    DateTimeOffset At);

/// <summary>Memberships of one audience by status; exited ones count until they are purged.</summary>
public readonly record struct MembershipCounts(long Realized, long Existing, long Exited)
{
    /// <summary>Profiles in the audience now (realized or existing).</summary>
    public long Members => Realized + Existing;
}

/// <summary>What one <see cref="MembershipStore.PurgeAsync"/> removed.</summary>
public readonly record struct PurgeResult(int Memberships, int Changes);

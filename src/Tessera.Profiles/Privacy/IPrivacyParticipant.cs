using System.Text.Json.Nodes;
using Tessera.Identity.Graph;

namespace Tessera.Profiles.Privacy;

/// <summary>
/// A store outside this assembly that holds personal data (audience memberships and their feed):
/// privacy requests reach it through this, since the stores depend on profiles, not the reverse.
/// Registered with <see cref="PrivacyService.AddParticipant"/>.
/// </summary>
public interface IPrivacyParticipant
{
    /// <summary>The key of this participant's section in exports and counts in receipts (<c>memberships</c>).</summary>
    string Name { get; }

    /// <summary>What the participant holds about the person (their identities), and counts of it by name.</summary>
    PrivacyParticipantAccess Access(string sandbox, IReadOnlyList<IdentityKey> person);

    /// <summary>
    /// Removes what the participant holds about the person and returns counts of what it did, by name.
    /// Runs after facts and links are gone, and again when a crash interrupted the request: it must be
    /// idempotent (a second run finds nothing, or only what it could not finish).
    /// </summary>
    Task<IReadOnlyDictionary<string, long>> DeleteAsync(string sandbox, IReadOnlyList<IdentityKey> person, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>A participant's part of an access export: its section and counts of what it holds.</summary>
public sealed record PrivacyParticipantAccess(JsonObject Section, IReadOnlyDictionary<string, long> Counts);

/// <summary>Count names participants report that the receipt also shows as fields of its own.</summary>
public static class PrivacyCounts
{
    /// <summary>Audience memberships of the person (removed, or exported).</summary>
    public const string Memberships = "memberships";

    /// <summary>Memberships the person was a member of that a delete exited (each an <c>exited</c> change in the feed).</summary>
    public const string MembershipsExited = "membershipsExited";

    /// <summary>Membership feed changes naming the person: scrubbed by a delete, exported by access.</summary>
    public const string FeedEntries = "feedEntries";

    /// <summary>Feed exits kept with their identities until every registered consumer has read them.</summary>
    public const string FeedEntriesHeld = "feedEntriesHeld";
}

namespace Tessera.Activation;

/// <summary>What a destination is told about one profile of one audience.</summary>
public enum DeliveryOperation
{
    /// <summary>The profile entered the audience (or is a current member sent by a backfill or full export).</summary>
    Add,

    /// <summary>The profile left the audience, was deleted, or withdrew the consent the destination needs.</summary>
    Remove,

    /// <summary>A member's identities or mapped attributes changed.</summary>
    Update,
}

/// <summary>
/// One match key of a profile as the destination's identity mapping names it: <see cref="Target"/>
/// is the destination's key (for example <c>EMAIL</c> for Meta, <c>hashedEmail</c> for Google,
/// <c>email</c> for a webhook) and <see cref="Value"/> the value as Tessera stores it (normalized by
/// its namespace, not yet by the platform's rules, and not hashed unless the source was a hashed namespace).
/// </summary>
public readonly record struct MatchKey(string Target, string Value);

/// <summary>
/// One profile's change for one audience, mapped for a destination: its match keys and mapped
/// attributes at the time it is sent. Records of one profile keep their feed order.
/// </summary>
/// <param name="Sequence">The membership feed sequence it came from (0 for backfills and attribute updates).</param>
public sealed record DeliveryRecord(
    long Sequence,
    string AudienceId,
    string ProfileId,
    DeliveryOperation Operation,
    DateTimeOffset At,
    IReadOnlyList<MatchKey> Keys,
    IReadOnlyList<KeyValuePair<string, string?>> Attributes);

/// <summary>One HTTP request a connector wants sent, relative to the destination's endpoint.</summary>
/// <param name="Path">Path and query appended to the destination's <c>endpoint</c> setting.</param>
/// <param name="Records">How many delivery records the request carries (for monitoring).</param>
public sealed record OutgoingRequest(HttpMethod Method, string Path, string ContentType, byte[] Body, int Records)
{
    /// <summary>
    /// Headers the platform's API requires besides authentication (LinkedIn's <c>X-RestLi-Method</c>,
    /// Klaviyo's <c>revision</c>, ...) and the request's own <c>Idempotency-Key</c>; empty for most.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}

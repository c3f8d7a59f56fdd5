namespace Tessera.Abstractions;

/// <summary>Profile limits and cache sizes of a workspace (<c>profiles</c> in <c>tessera.json</c>, docs/limits.md).</summary>
public sealed record ProfileSettings
{
    /// <summary>Merge policies per sandbox (<c>MERGE_POLICY_LIMIT</c> beyond).</summary>
    public int MaxMergePolicies { get; set; } = 5;

    /// <summary>Newest events a profile's timeline keeps; a profile that reaches it is flagged.</summary>
    public int MaxEventsPerProfile { get; set; } = 5_000;

    /// <summary>Profiles whose merged view is kept in memory; the rest are rebuilt from the store when read.</summary>
    public int CachedProfiles { get; set; } = 100_000;

    /// <summary>Minutes between the server's passes that delete events past their dataset's TTL (0: never).</summary>
    public int ExpiryIntervalMinutes { get; set; } = 60;
}

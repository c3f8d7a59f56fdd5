namespace Tessera.Generator;

/// <summary>
/// What to generate. The same (<see cref="Profiles"/>, <see cref="Seed"/>, <see cref="Now"/>) gives
/// byte-identical files: every timestamp is an offset back from <see cref="Now"/>, so with the real
/// clock there are customers updated, orders placed and events sent in the last 24 hours.
/// </summary>
public sealed record RetailOptions
{
    public const int MinProfiles = 1;
    public const int MaxProfiles = 10_000_000;

    /// <summary>Customers in the CRM (1 to 10,000,000).</summary>
    public int Profiles { get; init; } = 5_000;

    public int Seed { get; init; } = 20261128;

    /// <summary>The instant the data is generated "at"; nothing is later. Default: the current time.</summary>
    public DateTimeOffset Now { get; init; } = TimeProvider.System.GetUtcNow();
}

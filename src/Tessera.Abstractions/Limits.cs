namespace Tessera.Abstractions;

/// <summary>
/// Explicit, configurable limits (docs/limits.md). Loaded from <c>tessera.json</c> in the workspace;
/// every breach produces a named error.
/// </summary>
public sealed record IngestionLimits
{
    /// <summary>Largest accepted record, in bytes of its input form.</summary>
    public int MaxRecordBytes { get; init; } = 1024 * 1024;
    public int MaxIdentitiesPerRecord { get; init; } = 20;
    public int MaxIdentityValueLength { get; init; } = 1024;
    /// <summary>Leaf values (scalars, including array elements) per record.</summary>
    public int MaxFieldsPerRecord { get; init; } = 2000;
    /// <summary>A file batch fails as a whole when more than this share of its records is rejected.</summary>
    public double BatchFailureThreshold { get; init; } = 0.05;
    /// <summary>Largest HTTP request body (413 beyond it).</summary>
    public long MaxRequestBodyBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>Largest number of records in one streaming request.</summary>
    public int MaxRecordsPerRequest { get; init; } = 10_000;
}

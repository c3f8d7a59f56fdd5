using System.Text.Json.Serialization;

namespace Tessera.Abstractions;

[JsonConverter(typeof(JsonStringEnumConverter<IdentityType>))]
public enum IdentityType
{
    [JsonStringEnumMemberName("cookie")] Cookie,
    [JsonStringEnumMemberName("device")] Device,
    [JsonStringEnumMemberName("cross-device")] CrossDevice,
    [JsonStringEnumMemberName("email")] Email,
    [JsonStringEnumMemberName("phone")] Phone,
    [JsonStringEnumMemberName("partner")] Partner,
    [JsonStringEnumMemberName("non-people")] NonPeople,
}

/// <summary>An identity namespace: a code such as <c>Email</c> and the kind of identity it holds.</summary>
public sealed record IdentityNamespace
{
    public required string Code { get; init; }
    public required string Name { get; init; }
    public required IdentityType Type { get; init; }
    public bool Standard { get; init; }
    public string? Description { get; init; }
    /// <summary>
    /// Adobe's integer namespace id, when the namespace has one (ECID 4, Email 6, Phone 7, ...):
    /// XDM identityMaps may name a namespace as <c>https://data.adobe.io/entities/namespace/{id}</c>.
    /// </summary>
    public int? NumericId { get; init; }
}

/// <summary>A named stream of batches bound to one schema.</summary>
public sealed record DatasetDefinition
{
    public required string Name { get; init; }
    public required string Schema { get; init; }
    public bool ProfileEnabled { get; set; } = true;
    /// <summary>Events older than this (by event time) expire; null keeps them.</summary>
    public TimeSpan? EventTtl { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<BatchStatus>))]
public enum BatchStatus
{
    /// <summary>Accepted and being processed; nothing of it is visible yet.</summary>
    [JsonStringEnumMemberName("loading")] Loading,
    /// <summary>Passed validation; good records are being written (re-run on restart if interrupted).</summary>
    [JsonStringEnumMemberName("writing")] Writing,
    [JsonStringEnumMemberName("success")] Success,
    /// <summary>Failed as a whole: nothing of it was stored; its quarantine says why.</summary>
    [JsonStringEnumMemberName("failed")] Failed,
}

[JsonConverter(typeof(JsonStringEnumConverter<BatchKind>))]
public enum BatchKind
{
    [JsonStringEnumMemberName("file")] File,
    [JsonStringEnumMemberName("stream")] Stream,
    [JsonStringEnumMemberName("replay")] Replay,
}

public sealed record BatchCounts
{
    public long Input { get; init; }
    public long Accepted { get; init; }
    public long Failed { get; init; }
    /// <summary>Events whose <c>_id</c> was already stored (accepted, stored once).</summary>
    public long Duplicates { get; init; }
    /// <summary>Identities dropped from a stored record (blocked or invalid values).</summary>
    public long IdentitiesDropped { get; init; }
}

/// <summary>One ingestion: a file, an HTTP request, or a replay of quarantined records.</summary>
public sealed record BatchInfo
{
    public required string Id { get; init; }
    public required string Sandbox { get; init; }
    public required string Dataset { get; init; }
    public required BatchKind Kind { get; init; }
    public required string Format { get; init; }
    public BatchStatus Status { get; init; }
    public BatchCounts Counts { get; set; } = new();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? Source { get; init; }
    public string? ReplayOf { get; init; }
    public string? FailureReason { get; init; }
    /// <summary>Schema version the batch was validated against.</summary>
    public int SchemaVersion { get; init; }
    /// <summary>The mapping used (JSON), kept so that a replay or a restart reads the source the same way.</summary>
    public string? Mapping { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<ApiRole>))]
public enum ApiRole
{
    /// <summary>May only send events and records (safe to ship in a web page).</summary>
    [JsonStringEnumMemberName("collect")] Collect,
    [JsonStringEnumMemberName("admin")] Admin,
}

/// <summary>A stored API key: only the SHA-256 of the secret is kept.</summary>
public sealed record ApiKeyRecord
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Sandbox { get; init; }
    public required ApiRole Role { get; init; }
    public required string SecretSha256 { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
}

public sealed record SandboxInfo
{
    public required string Name { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

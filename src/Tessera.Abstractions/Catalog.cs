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

/// <summary>How the values of a namespace are checked and normalized before they are linked (docs/identity.md).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<IdentityFormat>))]
public enum IdentityFormat
{
    /// <summary>Any value: trimmed, case kept; only blocked values are refused.</summary>
    [JsonStringEnumMemberName("text")] Text,
    /// <summary>Trimmed, lower-cased, <c>local@domain.tld</c> syntax.</summary>
    [JsonStringEnumMemberName("email")] Email,
    /// <summary>A valid phone number (libphonenumber), written in E.164.</summary>
    [JsonStringEnumMemberName("phone")] Phone,
    /// <summary>A SHA-256 digest: 64 hex digits, lower-cased.</summary>
    [JsonStringEnumMemberName("sha256")] Sha256,
    /// <summary>A UUID in its 8-4-4-4-12 form, lower-cased (IDFA, GAID).</summary>
    [JsonStringEnumMemberName("uuid")] Uuid,
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
    /// <summary>How values are checked and normalized; null takes the type's (<see cref="DefaultFormat"/>).</summary>
    public IdentityFormat? Format { get; init; }
    /// <summary>
    /// Phone format only: the ISO 3166 alpha-2 region (e.g. <c>US</c>) that numbers written without a
    /// <c>+</c> country code are read in; null takes the workspace's (<c>identity.defaultPhoneRegion</c>).
    /// </summary>
    public string? DefaultRegion { get; init; }
    /// <summary>Values refused in this namespace besides the default blocked values (compared case-insensitively, trimmed).</summary>
    public IReadOnlyList<string>? BlockedValues { get; init; }
    /// <summary>
    /// Whether the default blocked values (<c>null</c>, <c>unknown</c>, <c>n/a</c>, all zeros, ...) apply;
    /// null means yes. False leaves only <see cref="BlockedValues"/> and the format's own checks.
    /// </summary>
    public bool? DefaultBlockedValues { get; init; }

    /// <summary>The format in force: <see cref="Format"/>, or the one <see cref="Type"/> implies.</summary>
    [JsonIgnore]
    public IdentityFormat EffectiveFormat => Format ?? DefaultFormat(Type);

    /// <summary>Email-type namespaces hold email addresses, phone-type ones phone numbers, the rest any text.</summary>
    public static IdentityFormat DefaultFormat(IdentityType type) => type switch
    {
        IdentityType.Email => IdentityFormat.Email,
        IdentityType.Phone => IdentityFormat.Phone,
        _ => IdentityFormat.Text,
    };
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
    /// <summary>Identities dropped from accepted records (blocked or invalid values); the records were stored without them.</summary>
    public long IdentitiesDropped { get; init; }
    /// <summary><see cref="IdentitiesDropped"/> by reason code (<c>IDENTITY_BLOCKED</c>, <c>IDENTITY_INVALID_EMAIL</c>, ...); null when none.</summary>
    public IReadOnlyDictionary<string, long>? IdentitiesDroppedByReason { get; init; }
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

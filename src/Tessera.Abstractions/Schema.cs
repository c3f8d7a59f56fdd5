using System.Text.Json.Serialization;

namespace Tessera.Abstractions;

/// <summary>The two XDM-style behaviours a schema can have.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SchemaClass>))]
public enum SchemaClass
{
    [JsonStringEnumMemberName("profile")] Profile,
    [JsonStringEnumMemberName("event")] Event,
}

[JsonConverter(typeof(JsonStringEnumConverter<FieldType>))]
public enum FieldType
{
    [JsonStringEnumMemberName("string")] String,
    [JsonStringEnumMemberName("int")] Int,
    [JsonStringEnumMemberName("long")] Long,
    [JsonStringEnumMemberName("double")] Double,
    [JsonStringEnumMemberName("bool")] Bool,
    [JsonStringEnumMemberName("date")] Date,
    [JsonStringEnumMemberName("date-time")] DateTime,
    [JsonStringEnumMemberName("object")] Object,
    [JsonStringEnumMemberName("array")] Array,
    [JsonStringEnumMemberName("map")] Map,
}

/// <summary>What to do with a field that the schema does not declare.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<UnknownFieldPolicy>))]
public enum UnknownFieldPolicy
{
    /// <summary>Reject the record with <c>UNKNOWN_FIELD</c>.</summary>
    [JsonStringEnumMemberName("reject")] Reject,
    /// <summary>Drop the field silently and store the rest.</summary>
    [JsonStringEnumMemberName("drop")] Drop,
}

/// <summary>Marks a field as an identity of a namespace.</summary>
public sealed record IdentityDescriptor(string Namespace, bool Primary = false);

/// <summary>
/// One field of a schema. Objects have <see cref="Fields"/>, arrays <see cref="Items"/>, maps
/// <see cref="Values"/> (keys are always strings). An object with <see cref="Open"/> accepts any
/// content below it unchecked (for free-form bags such as Segment's <c>context</c>).
/// </summary>
public sealed record FieldDefinition
{
    public required FieldType Type { get; init; }
    public bool Required { get; init; }
    public string? Description { get; init; }
    public IReadOnlyList<string>? Enum { get; init; }
    public string? Pattern { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public int? MaxLength { get; init; }
    public IReadOnlyDictionary<string, FieldDefinition>? Fields { get; init; }
    public FieldDefinition? Items { get; init; }
    public FieldDefinition? Values { get; init; }
    public bool Open { get; init; }
    public IdentityDescriptor? Identity { get; init; }
    /// <summary>Arrays and maps of profile schemas: how values merge across records (null: replace).</summary>
    public FieldMerge? Merge { get; init; }
    /// <summary>
    /// A date-time field of a profile schema that holds the record's own last-updated time: the newer
    /// record (and the timestamp merge policy) is decided by it instead of the ingestion time. At most one per schema.
    /// </summary>
    public bool LastUpdated { get; init; }
}

/// <summary>A named, reusable set of fields mixed into a schema's root.</summary>
public sealed record FieldGroup
{
    public required string Name { get; init; }
    public required IReadOnlyDictionary<string, FieldDefinition> Fields { get; init; }
}

/// <summary>
/// A schema as the user writes it (a JSON document). The registry assigns <see cref="Version"/>;
/// evolution is additive only.
/// </summary>
public sealed record SchemaDocument
{
    public required string Name { get; init; }
    public required SchemaClass Class { get; init; }
    public int Version { get; init; }
    public string? Description { get; init; }
    public IReadOnlyList<FieldGroup>? FieldGroups { get; init; }
    public IReadOnlyDictionary<string, FieldDefinition>? Fields { get; init; }
    public UnknownFieldPolicy UnknownFields { get; set; } = UnknownFieldPolicy.Reject;
}

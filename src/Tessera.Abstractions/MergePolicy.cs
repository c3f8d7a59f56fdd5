using System.Text.Json.Serialization;

namespace Tessera.Abstractions;

/// <summary>How a merge policy picks a profile attribute's value among fragments (docs/profiles.md).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttributeMerge>))]
public enum AttributeMerge
{
    /// <summary>The newest value wins: a record's own last-updated field when its schema declares one, else its ingestion time.</summary>
    [JsonStringEnumMemberName("timestamp")] Timestamp,
    /// <summary>The value of the first dataset in <see cref="MergePolicy.Datasets"/> that has one; unlisted datasets are left out.</summary>
    [JsonStringEnumMemberName("datasetPrecedence")] DatasetPrecedence,
}

/// <summary>Which fragments form one profile.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<IdentityStitching>))]
public enum IdentityStitching
{
    /// <summary>Every identity of the identity graph: one profile per graph.</summary>
    [JsonStringEnumMemberName("graph")] Graph,
    /// <summary>No stitching: one profile per primary identity (the facts stored under it).</summary>
    [JsonStringEnumMemberName("none")] None,
}

/// <summary>A named way of merging fragments and events into a unified profile; one per sandbox is the default.</summary>
public sealed record MergePolicy
{
    public required string Name { get; init; }
    public AttributeMerge AttributeMerge { get; init; } = AttributeMerge.Timestamp;
    /// <summary>Dataset precedence, highest first; required for <see cref="AttributeMerge.DatasetPrecedence"/>, ignored otherwise.</summary>
    public IReadOnlyList<string>? Datasets { get; init; }
    public IdentityStitching Stitching { get; init; } = IdentityStitching.Graph;
    /// <summary>The policy a lookup or audience uses when it names none; exactly one per sandbox.</summary>
    public bool Default { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The policy in force when a sandbox defines none: timestamp-ordered, stitched over the graph.</summary>
    public static MergePolicy BuiltInDefault { get; } = new() { Name = "default", Default = true };
}

/// <summary>How an array or map field of a profile schema merges across records and fragments.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FieldMerge>))]
public enum FieldMerge
{
    /// <summary>The newer value replaces the older one whole.</summary>
    [JsonStringEnumMemberName("replace")] Replace,
    /// <summary>Arrays: the distinct elements of all values; maps: the union of keys, the newer value per key.</summary>
    [JsonStringEnumMemberName("union")] Union,
}

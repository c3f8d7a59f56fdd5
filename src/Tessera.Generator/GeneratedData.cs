using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tessera.Generator;

/// <summary>
/// What a <see cref="RetailGenerator"/> wrote and what it planted, with exact counts: what Tessera
/// should accept, quarantine (by error code) and count as duplicates for every file and for the
/// online events. <c>manifest.json</c> holds the same document (camelCase).
/// </summary>
public sealed record GeneratedData
{
    public const string ManifestFile = "manifest.json";

    public required int Profiles { get; init; }

    public required int Seed { get; init; }

    public required DateTimeOffset Now { get; init; }

    /// <summary>Schema documents under <c>schemas/</c>, in the order to register them.</summary>
    public required IReadOnlyList<GeneratedSchema> Schemas { get; init; }

    /// <summary>The datasets to create before ingesting (every file's and the online events').</summary>
    public required IReadOnlyList<GeneratedDataset> Datasets { get; init; }

    /// <summary>Every data file written, with its dataset, mapping and expected outcome.</summary>
    public required IReadOnlyList<GeneratedFile> Files { get; init; }

    /// <summary>The online events (<see cref="RetailGenerator.OnlineEventBatches"/>, <c>web_events.jsonl</c>).</summary>
    public required OnlineSummary Online { get; init; }

    /// <summary>The file of <paramref name="dataset"/>.</summary>
    public GeneratedFile File(string dataset) =>
        Files.FirstOrDefault(f => f.Dataset == dataset) ?? throw new KeyNotFoundException($"no generated file for dataset '{dataset}'");

    public string ToJson() => JsonSerializer.Serialize(this, GeneratorJson.Default.GeneratedData);

    public static GeneratedData Load(string directory) =>
        JsonSerializer.Deserialize(System.IO.File.ReadAllText(Path.Combine(directory, ManifestFile)), GeneratorJson.Default.GeneratedData)
        ?? throw new InvalidDataException("empty manifest");
}

/// <param name="Path">Relative to the output directory, '/' separated.</param>
public sealed record GeneratedSchema(string Name, string Class, string Path);

/// <param name="EventTtlDays">The dataset's event TTL, when it has one.</param>
public sealed record GeneratedDataset(string Name, string Schema, string Class, int? EventTtlDays);

/// <summary>
/// One data file. <see cref="Rows"/> counts records as Tessera reads them (data rows, JSON lines);
/// Tessera should report input = <see cref="Rows"/>, accepted = <see cref="Accepted"/>, failed =
/// <see cref="Failed"/> (with <see cref="Invalid"/> by error code), duplicates = <see cref="Duplicates"/>
/// (events re-sent with the same id; profile rows re-exported are new versions, not duplicates) and
/// identitiesDropped = <see cref="IdentitiesDropped"/> (blocked junk values on accepted records).
/// </summary>
public sealed record GeneratedFile
{
    /// <summary>Relative to the output directory, '/' separated.</summary>
    public required string Path { get; init; }

    public required string Dataset { get; init; }

    public required string Schema { get; init; }

    /// <summary>csv, jsonl or parquet.</summary>
    public required string Format { get; init; }

    /// <summary>The mapping file (relative path), or null when the file's fields are the schema's.</summary>
    public string? Mapping { get; init; }

    public required long Rows { get; init; }

    public required long Accepted { get; init; }

    public required long Failed { get; init; }

    public required long Duplicates { get; init; }

    public required long IdentitiesDropped { get; init; }

    /// <summary>Invalid rows by planted reason, with the error code Tessera quarantines them with.</summary>
    public required IReadOnlyList<InvalidCount> Invalid { get; init; }

    /// <summary>Other planted defects that Tessera accepts: duplicates, junk emails by value, late events.</summary>
    public required IReadOnlyList<DefectCount> Defects { get; init; }
}

/// <param name="Reason">What was planted, e.g. <c>malformed-crm-id</c>.</param>
/// <param name="Code">The error code Tessera quarantines such a record with, e.g. <c>PATTERN_VIOLATION</c>.</param>
public sealed record InvalidCount(string Reason, string Code, long Count);

/// <param name="Kind">e.g. <c>duplicate</c>, <c>late</c>, <c>junk-email:test@test.com</c>, <c>shared-device</c>.</param>
public sealed record DefectCount(string Kind, long Count);

/// <summary>
/// The online events: <see cref="Events"/> sent in all (duplicates and invalid ones included);
/// Tessera should accept <see cref="Accepted"/> (of which <see cref="Duplicates"/> are duplicates,
/// stored once) and quarantine the <see cref="Invalid"/> ones.
/// </summary>
public sealed record OnlineSummary
{
    public required string Dataset { get; init; }

    public required string Schema { get; init; }

    /// <summary>The JSON Lines copy, when written (<see cref="RetailGenerator.WriteOnline"/>).</summary>
    public string? Path { get; init; }

    public required long Events { get; init; }

    public required long Accepted { get; init; }

    public required long Failed { get; init; }

    /// <summary>Events re-sent with the same <c>_id</c> (and the same content).</summary>
    public required long Duplicates { get; init; }

    /// <summary>Events whose timestamp is days before their device's other events, sent at the end.</summary>
    public required long Late { get; init; }

    /// <summary>Login events: each carries the device's ECID and the person's CRMID (app) or Email (web).</summary>
    public required long Logins { get; init; }

    /// <summary>Identities dropped from accepted events (all-zero IDFAs: IDENTITY_BLOCKED).</summary>
    public required long IdentitiesDropped { get; init; }

    public required long Devices { get; init; }

    public required long WebDevices { get; init; }

    public required long AppDevices { get; init; }

    /// <summary>Devices with at least one login event (stitching cookie to person).</summary>
    public required long DevicesLoggingIn { get; init; }

    /// <summary>Devices that log in as two different people.</summary>
    public required long SharedDevices { get; init; }

    /// <summary>Devices that never log in (anonymous visitors).</summary>
    public required long AnonymousDevices { get; init; }

    /// <summary>iOS devices with ad tracking limited: their IDFA is the all-zero UUID.</summary>
    public required long ZeroedIdfaDevices { get; init; }

    public required IReadOnlyList<InvalidCount> Invalid { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GeneratedData))]
internal sealed partial class GeneratorJson : JsonSerializerContext;

/// <summary>Counts planted while a file is written.</summary>
internal sealed class Tally
{
    private readonly SortedDictionary<string, (string Code, long Count)> _invalid = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _defects = new(StringComparer.Ordinal);

    public long Rows { get; set; }

    public long Duplicates { get; set; }

    public long IdentitiesDropped { get; set; }

    public long Failed { get; private set; }

    public void Invalid(string reason, string code)
    {
        Failed++;
        _invalid[reason] = (code, (_invalid.TryGetValue(reason, out var seen) ? seen.Count : 0) + 1);
    }

    public void Defect(string kind, long count = 1) => _defects[kind] = _defects.GetValueOrDefault(kind) + count;

    public IReadOnlyList<InvalidCount> InvalidCounts => [.. _invalid.Select(p => new InvalidCount(p.Key, p.Value.Code, p.Value.Count))];

    public IReadOnlyList<DefectCount> DefectCounts => [.. _defects.Select(p => new DefectCount(p.Key, p.Value))];

    public GeneratedFile ToFile(string path, string dataset, string schema, string format, string? mapping, bool events) => new()
    {
        Path = path,
        Dataset = dataset,
        Schema = schema,
        Format = format,
        Mapping = mapping,
        Rows = Rows,
        Accepted = Rows - Failed,
        Failed = Failed,
        Duplicates = events ? Duplicates : 0,
        IdentitiesDropped = IdentitiesDropped,
        Invalid = InvalidCounts,
        Defects = DefectCounts,
    };
}

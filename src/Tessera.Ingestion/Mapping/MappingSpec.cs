using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Abstractions;

namespace Tessera.Ingestion.Mapping;

/// <summary>
/// How a source file maps onto a dataset's schema (docs/ingestion.md). Everything is optional:
/// by default columns map to fields of the same name, the format comes from the file extension,
/// and CSV has a header with the delimiter detected from it.
/// </summary>
public sealed record MappingSpec
{
    /// <summary><c>csv</c>, <c>jsonl</c>, <c>json</c> (one object, an array, or XDM documents) or <c>parquet</c>.</summary>
    public string? Format { get; init; }

    /// <summary>A single character, <c>\t</c>, or <c>whitespace</c> for runs of spaces and tabs.</summary>
    public string? Delimiter { get; init; }

    public bool Header { get; set; } = true;

    /// <summary>Column names for a file without a header (or to rename a header's columns by position).</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>Column → field path (dotted). A column mapped to null, or listed in <see cref="Ignore"/>, is skipped.</summary>
    public IReadOnlyDictionary<string, string?>? Fields { get; init; }

    public IReadOnlyList<string>? Ignore { get; init; }

    /// <summary>Column → .NET date format for date and date-time fields, e.g. <c>yyyyMMdd</c> or <c>M/d/yyyy</c>.</summary>
    public IReadOnlyDictionary<string, string>? Formats { get; init; }

    /// <summary>Namespace whose identityMap entry is marked primary when columns map to <c>identityMap.NS</c>.</summary>
    public string? PrimaryIdentity { get; init; }

    public static MappingSpec Load(string path)
    {
        if (Directory.Exists(path))
        {
            throw new CatalogException(ErrorCodes.MappingError, $"mapping file '{path}' is a directory, not a file");
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), MappingJson.Default.MappingSpec)
                ?? throw new CatalogException(ErrorCodes.MappingError, $"mapping file '{path}' is empty");
        }
        catch (JsonException error)
        {
            throw new CatalogException(ErrorCodes.MappingError, $"mapping file '{path}': {error.Message}");
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CatalogException(ErrorCodes.MappingError, $"mapping file '{path}' does not exist");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CatalogException(ErrorCodes.MappingError, $"mapping file '{path}' cannot be read: {error.Message}");
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, MappingJson.Default.MappingSpec);

    public static MappingSpec FromJson(string json) => JsonSerializer.Deserialize(json, MappingJson.Default.MappingSpec)!;

    /// <summary>The format to use for <paramref name="path"/>: the mapping's, else the extension's.</summary>
    public string ResolveFormat(string path)
    {
        if (Format is { } format)
        {
            return format.ToLowerInvariant();
        }
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return Path.GetExtension(name).ToLowerInvariant() switch
        {
            ".csv" or ".tsv" or ".txt" => "csv",
            ".jsonl" or ".ndjson" => "jsonl",
            ".json" => "json",
            ".parquet" => "parquet",
            var other => throw new CatalogException(ErrorCodes.MappingError,
                $"cannot tell the format of '{path}' from its extension '{other}'; set \"format\" in the mapping (csv, jsonl, json, parquet)"),
        };
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(MappingSpec))]
internal sealed partial class MappingJson : JsonSerializerContext;

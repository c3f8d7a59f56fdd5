using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Abstractions;

namespace Tessera.Catalog;

/// <summary>Source-generated JSON for every catalog object (the stored form and the CLI/API form).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = false)]
[JsonSerializable(typeof(SchemaDocument))]
[JsonSerializable(typeof(FieldDefinition))]
[JsonSerializable(typeof(IdentityType))]
[JsonSerializable(typeof(IdentityFormat))]
[JsonSerializable(typeof(IdentityNamespace))]
[JsonSerializable(typeof(DatasetDefinition))]
[JsonSerializable(typeof(BatchInfo))]
[JsonSerializable(typeof(ApiKeyRecord))]
[JsonSerializable(typeof(SandboxInfo))]
[JsonSerializable(typeof(IngestionLimits))]
[JsonSerializable(typeof(ValidationError))]
[JsonSerializable(typeof(MergePolicy))]
[JsonSerializable(typeof(AttributeMerge))]
[JsonSerializable(typeof(IdentityStitching))]
[JsonSerializable(typeof(List<SchemaDocument>))]
[JsonSerializable(typeof(List<IdentityNamespace>))]
[JsonSerializable(typeof(List<DatasetDefinition>))]
[JsonSerializable(typeof(List<BatchInfo>))]
[JsonSerializable(typeof(List<ApiKeyRecord>))]
[JsonSerializable(typeof(List<SandboxInfo>))]
[JsonSerializable(typeof(List<MergePolicy>))]
public sealed partial class CatalogJson : JsonSerializerContext
{
    /// <summary>Indented variant for files and CLI output.</summary>
    public static CatalogJson Indented => s_indented ??= new CatalogJson(new JsonSerializerOptions(Default.Options) { WriteIndented = true });

    private static CatalogJson? s_indented;
}

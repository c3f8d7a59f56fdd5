using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tessera.Segmentation.Audiences;

/// <summary>Source-generated JSON for audiences: the stored form and the CLI/API form.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = false)]
[JsonSerializable(typeof(Audience))]
[JsonSerializable(typeof(List<Audience>))]
[JsonSerializable(typeof(AudienceRequest))]
[JsonSerializable(typeof(Engines.BatchRunReport))]
[JsonSerializable(typeof(List<Memberships.Membership>))]
[JsonSerializable(typeof(Estimates.SizeEstimate))]
[JsonSerializable(typeof(Estimates.Preview))]
[JsonSerializable(typeof(Estimates.AudienceOverlap))]
[JsonSerializable(typeof(List<Estimates.AudienceSize>))]
public sealed partial class AudienceJson : JsonSerializerContext
{
    /// <summary>Indented variant for CLI output, with quotes and '&lt;' left as they are (PQL is full of them; no HTML here).</summary>
    public static AudienceJson Indented => s_indented ??= new AudienceJson(new JsonSerializerOptions(Default.Options)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private static AudienceJson? s_indented;
}

/// <summary>
/// The body of a create (name and pql required) or an update (every field optional: what is absent
/// stays as it is). <see cref="Publish"/> on create publishes it in the same request.
/// </summary>
public sealed record AudienceRequest
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    public string? Description { get; set; }

    public string? Pql { get; set; }

    public string? MergePolicy { get; set; }

    public bool Publish { get; set; }
}

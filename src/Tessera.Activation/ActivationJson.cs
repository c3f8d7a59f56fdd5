using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;

namespace Tessera.Activation;

/// <summary>Source-generated JSON for destinations and activation records: the stored form and the CLI/API form.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = false)]
[JsonSerializable(typeof(Destination))]
[JsonSerializable(typeof(List<Destination>))]
[JsonSerializable(typeof(DestinationState))]
[JsonSerializable(typeof(DeliveryRun))]
[JsonSerializable(typeof(List<DeliveryRun>))]
[JsonSerializable(typeof(DeliveryAudit))]
[JsonSerializable(typeof(List<DeliveryAudit>))]
[JsonSerializable(typeof(DeadLetter))]
[JsonSerializable(typeof(List<DeadLetter>))]
[JsonSerializable(typeof(Governance.DataLabels))]
[JsonSerializable(typeof(Governance.LabelRequest))]
[JsonSerializable(typeof(Governance.UsagePolicy))]
[JsonSerializable(typeof(List<Governance.UsagePolicy>))]
public sealed partial class ActivationJson : JsonSerializerContext
{
    /// <summary>Indented variant for CLI output.</summary>
    public static ActivationJson Indented => s_indented ??= new ActivationJson(new JsonSerializerOptions(Default.Options)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private static ActivationJson? s_indented;
}

using System.Buffers;
using System.Text.Json;

namespace Tessera.Activation.Connectors;

/// <summary>
/// A streaming HTTP webhook (docs/destinations.md, "Webhook"): one <c>POST</c> per micro-batch to the
/// destination's <c>endpoint</c> (plus its optional <c>path</c>), a JSON document with the batch's
/// idempotency key and its records in feed order, each with a stable id a receiver can de-duplicate on.
/// Identities and attributes are sent under the mapping's target keys, identities as arrays (a profile
/// can hold several values of one namespace).
/// </summary>
public sealed class WebhookConnector : IHttpConnector
{
    public string Type => "webhook";

    /// <summary>Any key: a webhook's receiver defines its own.</summary>
    public IReadOnlyList<string> Keys => [];

    public IReadOnlyList<OutgoingRequest> Build(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        if (records.Count == 0)
        {
            return [];
        }
        var buffer = new ArrayBufferWriter<byte>(256 + (records.Count * 256));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("destination", context.Destination);
            json.WriteString("idempotencyKey", context.IdempotencyKey);
            json.WriteStartArray("records");
            foreach (var record in records)
            {
                json.WriteStartObject();
                json.WriteString("id", RecordId(record));
                json.WriteString("operation", OperationName(record.Operation));
                json.WriteString("audienceId", record.AudienceId);
                json.WriteString("externalAudienceId", context.ExternalAudienceId(record.AudienceId));
                json.WriteString("profileId", record.ProfileId);
                json.WriteString("at", record.At);
                json.WriteStartObject("identities");
                foreach (var group in record.Keys.GroupBy(k => k.Target, StringComparer.Ordinal))
                {
                    json.WriteStartArray(group.Key);
                    foreach (var key in group)
                    {
                        json.WriteStringValue(key.Value);
                    }
                    json.WriteEndArray();
                }
                json.WriteEndObject();
                json.WriteStartObject("attributes");
                foreach (var (name, value) in record.Attributes)
                {
                    json.WriteString(name, value);
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return [new OutgoingRequest(HttpMethod.Post, context.Setting("path") ?? "", "application/json", buffer.WrittenSpan.ToArray(), records.Count)];
    }

    /// <summary>The same change always has the same id: its feed sequence, or for backfills and updates its audience, profile and time.</summary>
    public static string RecordId(DeliveryRecord record) => record.Sequence > 0
        ? $"{record.AudienceId}:{record.Sequence}"
        : $"{record.AudienceId}:{record.ProfileId}:{OperationName(record.Operation)}:{record.At.UtcTicks}";

    public static string OperationName(DeliveryOperation operation) => operation switch
    {
        DeliveryOperation.Add => "add",
        DeliveryOperation.Remove => "remove",
        _ => "update",
    };
}

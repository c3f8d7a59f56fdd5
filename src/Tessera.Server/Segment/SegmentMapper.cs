using System.Buffers;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tessera.Ingestion.Validation;

namespace Tessera.Server.Segment;

/// <summary>
/// Turns Segment-spec messages into Tessera records: identify calls into profile records, every
/// other call into event records (see <see cref="SegmentSchemas"/>). It does not validate: a
/// message that does not fit (not an object, unknown type, no userId nor anonymousId, a bad
/// timestamp) becomes a record that the dataset's schema rejects, so it lands in the quarantine
/// with its field path and error, like any other bad record.
/// </summary>
/// <remarks>
/// <para>Timestamps follow Segment: a message's <c>timestamp</c> (or <c>originalTimestamp</c>) is
/// corrected for the sender's clock skew when <c>sentAt</c> is known (on the message or the batch):
/// <c>timestamp = receivedAt − (sentAt − originalTimestamp)</c>; without one it is
/// <c>receivedAt</c>.</para>
/// <para>A missing <c>messageId</c> is generated from the message itself (xxHash128 of its type and
/// top-level fields, without <c>sentAt</c>, <c>writeKey</c> and <c>_metadata</c>), so a retried
/// message gets the same id and is stored once. A message without any timestamp also hashes in
/// the receive time and its position, so that two identical events sent apart are both kept.</para>
/// </remarks>
public sealed class SegmentMapper : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SegmentBinding _binding;
    private readonly DateTimeOffset _receivedAt;
    private readonly string _receivedAtText;
    private readonly ArrayBufferWriter<byte> _events = new(4096);
    private readonly ArrayBufferWriter<byte> _profiles = new(1024);
    private readonly Utf8JsonWriter _eventWriter;
    private readonly Utf8JsonWriter _profileWriter;
    private readonly List<int> _eventIndexes = [];
    private readonly List<int> _profileIndexes = [];

    public SegmentMapper(SegmentBinding binding, DateTimeOffset receivedAt)
    {
        _binding = binding;
        _receivedAt = receivedAt;
        _receivedAtText = TemporalParsing.Format(receivedAt);
        _eventWriter = new Utf8JsonWriter(_events, WriterOptions);
        _profileWriter = new Utf8JsonWriter(_profiles, WriterOptions);
        _eventWriter.WriteStartArray();
        _profileWriter.WriteStartArray();
    }

    /// <summary>Request positions of the messages that became event records, in record order.</summary>
    public IReadOnlyList<int> EventIndexes => _eventIndexes;

    /// <summary>Request positions of the messages that became profile records, in record order.</summary>
    public IReadOnlyList<int> ProfileIndexes => _profileIndexes;

    public int Count => _eventIndexes.Count + _profileIndexes.Count;

    /// <summary>
    /// Maps one message. <paramref name="type"/> is the call (from the URL) or null to read the
    /// message's own <c>type</c> (batch). <paramref name="batchContext"/> and
    /// <paramref name="batchSentAt"/> are a batch's top-level <c>context</c> (merged under each
    /// message's) and <c>sentAt</c>; pass <c>default</c> when there are none.
    /// </summary>
    public void Add(JsonElement message, string? type, int index, JsonElement batchContext = default, JsonElement batchSentAt = default)
    {
        var raw = JsonMarshal.GetRawUtf8Value(message);
        if (message.ValueKind != JsonValueKind.Object || JsonText.NotUnicodeText(raw) is not null)
        {
            // Not a message at all, or one with a string that is not Unicode text (it cannot be read): handed to the event
            // schema as it was sent, and the ingestion rejects it by name while the request's other messages are stored.
            _eventIndexes.Add(index);
            _eventWriter.WriteRawValue(raw, skipInputValidation: true);
            return;
        }
        JsonElement typeElement = default;
        if (type is null && message.TryGetProperty("type", out typeElement) && typeElement.ValueKind == JsonValueKind.String)
        {
            type = typeElement.GetString()!.ToLowerInvariant();
        }
        if (type == "identify")
        {
            _profileIndexes.Add(index);
            WriteProfile(message, index, batchContext, batchSentAt);
        }
        else
        {
            _eventIndexes.Add(index);
            WriteEvent(message, type, typeElement, index, batchContext, batchSentAt);
        }
    }

    /// <summary>The event records (a JSON array), valid until the next <see cref="Add"/>.</summary>
    public ReadOnlyMemory<byte> EventRecords()
    {
        _eventWriter.WriteEndArray();
        _eventWriter.Flush();
        return _events.WrittenMemory;
    }

    /// <summary>The profile records (a JSON array).</summary>
    public ReadOnlyMemory<byte> ProfileRecords()
    {
        _profileWriter.WriteEndArray();
        _profileWriter.Flush();
        return _profiles.WrittenMemory;
    }

    private void WriteEvent(JsonElement message, string? type, JsonElement typeElement, int index, JsonElement batchContext, JsonElement batchSentAt)
    {
        var w = _eventWriter;
        w.WriteStartObject();
        WriteMessageId(w, "_id", message, type, index);
        WriteTimestamps(w, message, batchSentAt);
        if (type is not null)
        {
            w.WriteString("eventType", type);
        }
        else if (typeElement.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            w.WritePropertyName("eventType");
            typeElement.WriteTo(w);
        }
        var nameField = type is "page" or "screen" ? "name" : "event";
        if (TryGet(message, nameField, out var name) || TryGet(message, type is "page" or "screen" ? "event" : "name", out name))
        {
            w.WritePropertyName("event");
            name.WriteTo(w);
        }
        CopyIfPresent(w, message, "category");
        var userId = WriteId(w, message, "userId");
        var anonymousId = WriteId(w, message, "anonymousId");
        WriteId(w, message, "groupId");
        WriteId(w, message, "previousId");
        CopyIfPresent(w, message, "properties");
        CopyIfPresent(w, message, "traits");
        WriteContext(w, message, batchContext);
        WriteIdentityMap(w, userId, anonymousId);
        w.WriteEndObject();
    }

    private void WriteProfile(JsonElement message, int index, JsonElement batchContext, JsonElement batchSentAt)
    {
        var w = _profileWriter;
        w.WriteStartObject();
        var userId = WriteId(w, message, "userId");
        var anonymousId = WriteId(w, message, "anonymousId");
        CopyIfPresent(w, message, "traits");
        WriteContext(w, message, batchContext);
        WriteMessageId(w, "messageId", message, "identify", index);
        WriteTimestamps(w, message, batchSentAt);
        WriteIdentityMap(w, userId, anonymousId);
        w.WriteEndObject();
    }

    private void WriteIdentityMap(Utf8JsonWriter w, string? userId, string? anonymousId)
    {
        if (userId is null && anonymousId is null)
        {
            return; // The schema's validator rejects the record: it has no identity.
        }
        w.WriteStartObject("identityMap");
        if (userId is not null && anonymousId is not null && _binding.UserIdNamespace == _binding.AnonymousIdNamespace)
        {
            w.WriteStartArray(_binding.UserIdNamespace);
            WriteIdentity(w, userId, primary: true);
            WriteIdentity(w, anonymousId, primary: false);
            w.WriteEndArray();
        }
        else
        {
            if (userId is not null)
            {
                w.WriteStartArray(_binding.UserIdNamespace);
                WriteIdentity(w, userId, primary: true);
                w.WriteEndArray();
            }
            if (anonymousId is not null)
            {
                w.WriteStartArray(_binding.AnonymousIdNamespace);
                WriteIdentity(w, anonymousId, primary: userId is null);
                w.WriteEndArray();
            }
        }
        w.WriteEndObject();
    }

    private static void WriteIdentity(Utf8JsonWriter w, string id, bool primary)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteBoolean("primary", primary);
        w.WriteEndObject();
    }

    /// <summary>
    /// Writes an id field: strings as they are, numbers as their text (senders do send numeric
    /// user ids), anything else as it is for the validator to reject. Returns the usable identity value.
    /// </summary>
    private static string? WriteId(Utf8JsonWriter w, JsonElement message, string field)
    {
        if (!TryGet(message, field, out var value))
        {
            return null;
        }
        string? text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        if (text is null)
        {
            w.WritePropertyName(field);
            value.WriteTo(w);
            return null;
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        w.WriteString(field, text);
        return text;
    }

    private void WriteTimestamps(Utf8JsonWriter w, JsonElement message, JsonElement batchSentAt)
    {
        if (!TryGet(message, "timestamp", out var original))
        {
            TryGet(message, "originalTimestamp", out original);
        }
        if (original.ValueKind == JsonValueKind.Undefined)
        {
            w.WriteString("timestamp", _receivedAtText);
        }
        else if (original.ValueKind == JsonValueKind.String && TemporalParsing.TryParseDateTime(original.GetString()!, out var instant))
        {
            if (!TryGet(message, "sentAt", out var sentAt))
            {
                sentAt = batchSentAt;
            }
            if (sentAt.ValueKind == JsonValueKind.String && TemporalParsing.TryParseDateTime(sentAt.GetString()!, out var sent))
            {
                w.WriteString("timestamp", TemporalParsing.Format(_receivedAt - (sent - instant)));
                w.WriteString("originalTimestamp", TemporalParsing.Format(instant));
            }
            else
            {
                w.WriteString("timestamp", TemporalParsing.Format(instant));
            }
        }
        else
        {
            // Not a date-time: stored as sent, so that the validator names the problem.
            w.WritePropertyName("timestamp");
            original.WriteTo(w);
        }
        w.WriteString("receivedAt", _receivedAtText);
    }

    private void WriteMessageId(Utf8JsonWriter w, string field, JsonElement message, string? type, int index)
    {
        if (TryGet(message, "messageId", out var given))
        {
            if (given.ValueKind == JsonValueKind.Number)
            {
                w.WriteString(field, given.GetRawText());
                return;
            }
            if (given.ValueKind != JsonValueKind.String || given.GetString()!.Length > 0)
            {
                w.WritePropertyName(field);
                given.WriteTo(w);
                return;
            }
        }
        w.WriteString(field, GenerateMessageId(message, type, index));
    }

    private string GenerateMessageId(JsonElement message, string? type, int index)
    {
        var hash = new XxHash128();
        hash.Append(Encoding.UTF8.GetBytes(type ?? ""));
        var timed = false;
        foreach (var property in message.EnumerateObject())
        {
            if (property.NameEquals("sentAt") || property.NameEquals("writeKey") || property.NameEquals("_metadata")
                || property.NameEquals("messageId") || property.NameEquals("receivedAt"))
            {
                continue;
            }
            timed |= (property.NameEquals("timestamp") || property.NameEquals("originalTimestamp")) && property.Value.ValueKind == JsonValueKind.String;
            hash.Append(Encoding.UTF8.GetBytes(property.Name));
            hash.Append([0]);
            hash.Append(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(property.Value));
            hash.Append([0]);
        }
        if (!timed)
        {
            Span<byte> extra = stackalloc byte[12];
            BitConverter.TryWriteBytes(extra, _receivedAt.UtcTicks);
            BitConverter.TryWriteBytes(extra[8..], index);
            hash.Append(extra);
        }
        return "tsm-" + Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    private static void WriteContext(Utf8JsonWriter w, JsonElement message, JsonElement batchContext)
    {
        var hasOwn = TryGet(message, "context", out var own);
        var hasBatch = batchContext.ValueKind == JsonValueKind.Object;
        if (!hasOwn && !hasBatch)
        {
            return;
        }
        w.WritePropertyName("context");
        if (!hasBatch || own.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined))
        {
            own.WriteTo(w);
            return;
        }
        if (!hasOwn)
        {
            batchContext.WriteTo(w);
            return;
        }
        // The message's own context wins; the batch's fills in what it lacks.
        w.WriteStartObject();
        foreach (var property in own.EnumerateObject())
        {
            property.WriteTo(w);
        }
        foreach (var property in batchContext.EnumerateObject())
        {
            if (!own.TryGetProperty(property.Name, out _))
            {
                property.WriteTo(w);
            }
        }
        w.WriteEndObject();
    }

    private static void CopyIfPresent(Utf8JsonWriter w, JsonElement message, string field)
    {
        if (TryGet(message, field, out var value))
        {
            w.WritePropertyName(field);
            value.WriteTo(w);
        }
    }

    /// <summary>A property that is present and not null.</summary>
    public void Dispose()
    {
        _eventWriter.Dispose();
        _profileWriter.Dispose();
    }

    private static bool TryGet(JsonElement message, string field, out JsonElement value)
    {
        if (message.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        value = default;
        return false;
    }
}

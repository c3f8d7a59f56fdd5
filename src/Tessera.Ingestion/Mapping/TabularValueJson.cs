using System.Collections;
using System.Globalization;
using System.Text.Json;
using Tessera.Ingestion.Validation;

namespace Tessera.Ingestion.Mapping;

/// <summary>
/// A tabular row's values as the quarantine keeps them, in JSON, and back for a replay: a CSV cell is text, but a Parquet
/// value is typed (a number, an instant, a struct), and its text would lose what the replay needs (an instant's
/// milliseconds, a struct's fields). Numbers and Booleans stay JSON numbers and Booleans, instants and dates become the
/// ISO 8601 text stored records hold, structs and lists JSON objects and arrays. A replay reads them back into values the
/// <see cref="TabularConverter"/> takes as it takes the reader's.
/// </summary>
internal static class TabularValueJson
{
    public static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                return;
            case string text:
                writer.WriteStringValue(text);
                return;
            case bool flag:
                writer.WriteBooleanValue(flag);
                return;
            case byte or sbyte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                return;
            case ulong large:
                writer.WriteNumberValue(large);
                return;
            case decimal exact:
                writer.WriteNumberValue(exact);
                return;
            case float or double:
                var real = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsFinite(real))
                {
                    writer.WriteNumberValue(real);
                }
                else
                {
                    writer.WriteStringValue(real.ToString("R", CultureInfo.InvariantCulture)); // JSON has no NaN or infinity
                }
                return;
            case DateTime time:
                writer.WriteStringValue(TemporalParsing.Format(new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc))));
                return;
            case DateTimeOffset instant:
                writer.WriteStringValue(TemporalParsing.Format(instant));
                return;
            case DateOnly date:
                writer.WriteStringValue(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                return;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!);
                    Write(writer, entry.Value);
                }
                writer.WriteEndObject();
                return;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                return;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
        }
    }

    public static object? Read(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var integer) ? integer : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => Read(p.Value), StringComparer.Ordinal),
        JsonValueKind.Array => element.EnumerateArray().Select(Read).ToList(),
        _ => null,
    };
}

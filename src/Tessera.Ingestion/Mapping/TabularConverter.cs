using System.Collections;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion.Validation;

namespace Tessera.Ingestion.Mapping;

/// <summary>
/// Turns a tabular row (CSV strings or Parquet values) into the JSON form of a record, following
/// the mapping and typing each value by its schema field. A value that does not convert is
/// written as the string it was, so the validator reports it against the field with the value.
/// The plan is built once per file.
/// </summary>
public sealed class TabularConverter
{
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText PrimaryName = JsonEncodedText.Encode("primary");
    private readonly Node _root = new("");
    private readonly bool _generateId;
    private readonly string? _primaryIdentity;

    public TabularConverter(IReadOnlyList<string> columns, MappingSpec mapping, CompiledSchema schema)
    {
        _primaryIdentity = mapping.PrimaryIdentity;
        var ignored = new HashSet<string>(mapping.Ignore ?? [], StringComparer.Ordinal);
        var mapsId = false;
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            if (ignored.Contains(column))
            {
                continue;
            }
            string? path = column;
            if (mapping.Fields is { } fields && fields.TryGetValue(column, out var target))
            {
                path = target;
            }
            if (string.IsNullOrWhiteSpace(path))
            {
                continue;
            }
            var parts = path.Split('.');
            if (parts.Any(p => p.Length == 0))
            {
                throw new CatalogException(ErrorCodes.MappingError, $"column '{column}': field path '{path}' has an empty segment");
            }
            var node = _root;
            foreach (var part in parts)
            {
                node = node.Child(part);
            }
            if (node.Column >= 0 || node.Children.Count > 0)
            {
                throw new CatalogException(ErrorCodes.MappingError, $"column '{column}': field '{path}' is already mapped from another column");
            }
            node.Column = i;
            node.Field = schema.Resolve(path);
            node.IdentityNamespace = parts.Length == 2 && parts[0] is "identityMap" ? parts[1] : null;
            node.Format = mapping.Formats is { } formats && formats.TryGetValue(column, out var format) ? format : null;
            mapsId |= path == CompiledSchema.IdField;
        }
        _generateId = schema.Class == SchemaClass.Event && !mapsId;
    }

    /// <summary>Writes <paramref name="values"/> as a JSON object (row number feeds a generated <c>_id</c>).</summary>
    public void Write(object?[] values, long row, Utf8JsonWriter output)
    {
        output.WriteStartObject();
        if (_generateId)
        {
            output.WriteString(CompiledSchema.IdField, GeneratedId(values, row));
        }
        WriteChildren(_root, values, output);
        output.WriteEndObject();
    }

    /// <summary>
    /// Rows without an event id get one derived from their content and position, so re-ingesting
    /// the same file yields the same ids (and stores nothing twice).
    /// </summary>
    private static string GeneratedId(object?[] values, long row)
    {
        var hash = new XxHash128();
        Span<byte> scratch = stackalloc byte[256];
        foreach (var value in values)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            var bytes = Encoding.UTF8.GetByteCount(text) <= scratch.Length ? scratch[..Encoding.UTF8.GetBytes(text, scratch)] : Encoding.UTF8.GetBytes(text);
            hash.Append(bytes);
            hash.Append([0x1f]);
        }
        return $"r{row}-{Convert.ToHexStringLower(hash.GetCurrentHash())}";
    }

    private void WriteChildren(Node node, object?[] values, Utf8JsonWriter output)
    {
        foreach (var child in node.Children)
        {
            if (!child.HasValue(values))
            {
                continue;
            }
            if (child.Column >= 0)
            {
                output.WritePropertyName(child.EncodedName);
                if (child.IdentityNamespace is { } ns)
                {
                    output.WriteStartArray();
                    output.WriteStartObject();
                    output.WritePropertyName(IdName);
                    WriteScalar(values[child.Column], null, null, output);
                    if (ns == _primaryIdentity)
                    {
                        output.WriteBoolean(PrimaryName, true);
                    }
                    output.WriteEndObject();
                    output.WriteEndArray();
                }
                else
                {
                    WriteScalar(values[child.Column], child.Field, child.Format, output);
                }
                continue;
            }
            output.WritePropertyName(child.EncodedName);
            output.WriteStartObject();
            WriteChildren(child, values, output);
            output.WriteEndObject();
        }
    }

    private static void WriteScalar(object? value, CompiledField? field, string? format, Utf8JsonWriter output)
    {
        var type = field?.Type ?? FieldType.String;
        switch (value)
        {
            case string text:
                WriteText(text, type, format, output);
                return;
            case bool flag:
                output.WriteBooleanValue(flag);
                return;
            case DateTime dateTime:
                WriteInstant(new DateTimeOffset(DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)), type, output);
                return;
            case DateTimeOffset instant:
                WriteInstant(instant, type, output);
                return;
            case DateOnly date:
                output.WriteStringValue(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                return;
            case byte or sbyte or short or ushort or int or uint or long:
                var integer = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                if (type == FieldType.String)
                {
                    output.WriteStringValue(integer.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    output.WriteNumberValue(integer);
                }
                return;
            case float or double or decimal:
                var real = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (type == FieldType.String)
                {
                    output.WriteStringValue(real.ToString("R", CultureInfo.InvariantCulture));
                }
                else
                {
                    output.WriteNumberValue(real);
                }
                return;
            case IDictionary dictionary:
                output.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (entry.Value is null)
                    {
                        continue;
                    }
                    output.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!);
                    WriteScalar(entry.Value, field?.Children?.GetValueOrDefault(Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!), null, output);
                }
                output.WriteEndObject();
                return;
            case IEnumerable list:
                output.WriteStartArray();
                foreach (var item in list)
                {
                    if (item is null)
                    {
                        output.WriteNullValue();
                        continue;
                    }
                    WriteScalar(item, field?.Items, format, output);
                }
                output.WriteEndArray();
                return;
            default:
                output.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
        }
    }

    private static void WriteInstant(DateTimeOffset instant, FieldType type, Utf8JsonWriter output)
    {
        if (type == FieldType.Date)
        {
            output.WriteStringValue(instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }
        else
        {
            TemporalParsing.Write(output, instant);
        }
    }

    private static void WriteText(string text, FieldType type, string? format, Utf8JsonWriter output)
    {
        switch (type)
        {
            case FieldType.Int or FieldType.Long when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer):
                output.WriteNumberValue(integer);
                return;
            case FieldType.Double when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real):
                output.WriteNumberValue(real);
                return;
            case FieldType.Bool when ParseBool(text) is { } flag:
                output.WriteBooleanValue(flag);
                return;
            case FieldType.Date when format is not null
                && DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date):
                output.WriteStringValue(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                return;
            case FieldType.DateTime when format is not null
                && DateTimeOffset.TryParseExact(text, format, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant):
                TemporalParsing.Write(output, instant);
                return;
            case FieldType.DateTime when format is null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var epochMillis) && text.Length >= 12:
                TemporalParsing.Write(output, DateTimeOffset.FromUnixTimeMilliseconds(epochMillis));
                return;
            default:
                output.WriteStringValue(text);
                return;
        }
    }

    private static bool? ParseBool(string text) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "y" or "t" => true,
        "false" or "0" or "no" or "n" or "f" => false,
        _ => null,
    };

    private sealed class Node(string name)
    {
        public string Name { get; } = name;

        /// <summary>Encoded once (a writer transcodes and escapes a string name on every row), as the stored form's writer escapes.</summary>
        public JsonEncodedText EncodedName { get; } = JsonEncodedText.Encode(name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);

        public int Column { get; set; } = -1;

        public CompiledField? Field { get; set; }

        public string? Format { get; set; }

        public string? IdentityNamespace { get; set; }

        public List<Node> Children { get; } = [];

        public Node Child(string childName)
        {
            foreach (var child in Children)
            {
                if (child.Name == childName)
                {
                    return child;
                }
            }
            var created = new Node(childName);
            Children.Add(created);
            return created;
        }

        /// <summary>Empty cells are absent values; an object with no present value is left out.</summary>
        public bool HasValue(object?[] values)
        {
            if (Column >= 0)
            {
                return values[Column] is not (null or "");
            }
            foreach (var child in Children)
            {
                if (child.HasValue(values))
                {
                    return true;
                }
            }
            return false;
        }
    }
}

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
    private readonly CompiledSchema _schema;
    private readonly CompiledField? _idField;

    /// <summary>Whether <see cref="Validate"/> can check this mapping's rows (else <see cref="Write"/> and the JSON validator do).</summary>
    private readonly bool _direct;

    /// <summary>The JSON a row becomes is at most this many bytes plus six for each character of its mapped cells.</summary>
    private readonly int _jsonOverhead;

    private readonly int[] _mappedColumns;

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
            CompiledField? field = schema.Root;
            foreach (var part in parts)
            {
                node = node.Child(part);
                field = field?.Children?.GetValueOrDefault(part);
                node.Field = field; // what the validator finds for the node (null: not in the schema)
            }
            if (node.Column >= 0 || node.Children.Count > 0)
            {
                throw new CatalogException(ErrorCodes.MappingError, $"column '{column}': field '{path}' is already mapped from another column");
            }
            node.Column = i;
            node.IdentityNamespace = parts.Length == 2 && parts[0] is "identityMap" ? parts[1] : null;
            node.Format = mapping.Formats is { } formats && formats.TryGetValue(column, out var format) ? CheckFormat(column, format) : null;
            mapsId |= path == CompiledSchema.IdField;
        }
        _generateId = schema.Class == SchemaClass.Event && !mapsId;
        _schema = schema;
        _idField = schema.Root.Children?.GetValueOrDefault(CompiledSchema.IdField);
        _direct = (!_generateId || _idField is { Type: FieldType.String }) && Classify(_root, schema.Root);
        _jsonOverhead = 128 + Overhead(_root); // 128: the braces and a generated _id
        _mappedColumns = [.. Leaves(_root).Select(n => n.Column)];
    }

    /// <summary>
    /// Gives each node the way <see cref="Validate"/> takes it (by the schema field the validator finds for it); false when a
    /// part of the mapping is read by the validator in a way only the JSON form shows (an alias, a column into an object,
    /// an array or a map, an identity map the schema declares), and its rows take the JSON way.
    /// </summary>
    private static bool Classify(Node node, CompiledField field)
    {
        foreach (var child in node.Children)
        {
            var known = child.Field;
            if (known is null)
            {
                if (field.Path.Length == 0 && child.Name is "@id" or "xdm:timestamp" or "xdm:identityMap")
                {
                    return false;
                }
                if (field.Path.Length == 0 && child.Name == "identityMap")
                {
                    child.Kind = NodeKind.IdentityMap;
                    if (child.Column >= 0 || child.Children.Any(c => c.IdentityNamespace is null))
                    {
                        return false;
                    }
                    continue;
                }
                child.Kind = NodeKind.Unknown;
                continue;
            }
            if (child.Column >= 0)
            {
                child.Kind = NodeKind.Scalar;
                if (child.IdentityNamespace is not null || known.Type is FieldType.Object or FieldType.Array or FieldType.Map)
                {
                    return false;
                }
                continue;
            }
            child.Kind = NodeKind.Object;
            if (known.Type != FieldType.Object || (known.Open && (known.Children is null || known.Children.Count == 0)) || !Classify(child, known))
            {
                return false;
            }
        }
        return true;
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

    /// <summary>A column's date format, refused before the batch starts when .NET cannot read it (a parse would throw on every row).</summary>
    private static string CheckFormat(string column, string format)
    {
        try
        {
            _ = DateTimeOffset.UnixEpoch.ToString(format, CultureInfo.InvariantCulture);
            return format;
        }
        catch (FormatException)
        {
            throw new CatalogException(ErrorCodes.MappingError,
                $"column '{column}': '{format}' is not a .NET date and time format (formats.{column}; e.g. yyyyMMdd or M/d/yyyy H:mm)");
        }
    }

    private static int Overhead(Node node) => node.Children.Sum(c => c.EncodedName.EncodedUtf8Bytes.Length + 64 + Overhead(c));

    private static IEnumerable<Node> Leaves(Node node) => node.Children.SelectMany(c => c.Column >= 0 ? [c] : Leaves(c));

    /// <summary>
    /// Whether <see cref="Validate"/> checks this row: a mapping it can read, text cells only (CSV; Parquet's typed values take
    /// the JSON way) and a row whose JSON form cannot reach <paramref name="maxRecordBytes"/> (else that form is measured).
    /// </summary>
    public bool CanValidate(object?[] values, int maxRecordBytes)
    {
        if (!_direct)
        {
            return false;
        }
        long chars = 0;
        foreach (var column in _mappedColumns)
        {
            switch (values[column])
            {
                case null:
                    break;
                case string text:
                    chars += text.Length;
                    break;
                default:
                    return false;
            }
        }
        return _jsonOverhead + 6 * chars <= maxRecordBytes; // a UTF-16 character escapes to at most six bytes
    }

    /// <summary>
    /// Validates a row straight from its cells into its stored form: the same bytes, errors, identities and key fields as
    /// <paramref name="validator"/> gives for the JSON object <see cref="Write"/> makes of it, without writing and parsing that
    /// JSON (a tenth of a CSV batch's CPU). Only where <see cref="CanValidate"/> says so; a property test holds the two ways equal.
    /// </summary>
    public void Validate(object?[] values, long row, RecordValidator validator, Utf8JsonWriter output, ValidationResult result)
    {
        if (!ReferenceEquals(validator.Schema, _schema))
        {
            throw new ArgumentException("the validator must check the schema this mapping was planned for", nameof(validator));
        }
        validator.BeginRow(result);
        ValidateObject(_root, _schema.Root, values, row, validator, output, result);
        validator.EndRow(result);
    }

    private void ValidateObject(Node node, CompiledField field, object?[] values, long row, RecordValidator validator, Utf8JsonWriter output,
        ValidationResult result)
    {
        output.WriteStartObject();
        var seenRequired = 0;
        var root = node == _root;
        if (root && _generateId)
        {
            output.WritePropertyName(_idField!.EncodedName);
            validator.WriteCell(GeneratedId(values, row), _idField, null, output, result);
            seenRequired += _idField.Definition.Required ? 1 : 0;
        }
        foreach (var child in node.Children)
        {
            if (!child.HasValue(values))
            {
                continue;
            }
            switch (child.Kind)
            {
                case NodeKind.Scalar:
                    output.WritePropertyName(child.Field!.EncodedName);
                    validator.WriteCell((string)values[child.Column]!, child.Field, child.Format, output, result);
                    break;
                case NodeKind.Object:
                    output.WritePropertyName(child.Field!.EncodedName);
                    ValidateObject(child, child.Field, values, row, validator, output, result);
                    break;
                case NodeKind.IdentityMap:
                    output.WritePropertyName(child.EncodedName);
                    WriteObject(child, values, output);
                    foreach (var entry in child.Children)
                    {
                        if (entry.HasValue(values))
                        {
                            validator.IdentityMapCell(entry.IdentityNamespace!, (string)values[entry.Column]!, entry.IdentityNamespace == _primaryIdentity, result);
                        }
                    }
                    continue;
                default:
                    // A field the schema does not have: kept as written under an open object, else refused or dropped by policy.
                    if (field.Open)
                    {
                        output.WritePropertyName(child.EncodedName);
                        WriteNode(child, values, output);
                        result.LeafCount++;
                    }
                    else if (validator.RejectsUnknownFields)
                    {
                        validator.UnknownField(field.Path.Length == 0 ? child.Name : $"{field.Path}.{child.Name}", result);
                    }
                    continue;
            }
            seenRequired += child.Field.Definition.Required ? 1 : 0;
        }
        if (seenRequired < field.RequiredChildren.Length)
        {
            foreach (var required in field.RequiredChildren)
            {
                if (!(root && _generateId && required == CompiledSchema.IdField) && !node.Children.Any(c => c.Name == required && c.HasValue(values)))
                {
                    RecordValidator.RequiredMissing(field.Path.Length == 0 ? required : $"{field.Path}.{required}", result);
                }
            }
        }
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
            output.WritePropertyName(child.EncodedName);
            WriteNode(child, values, output);
        }
    }

    private void WriteObject(Node node, object?[] values, Utf8JsonWriter output)
    {
        output.WriteStartObject();
        WriteChildren(node, values, output);
        output.WriteEndObject();
    }

    private void WriteNode(Node node, object?[] values, Utf8JsonWriter output)
    {
        if (node.Column < 0)
        {
            WriteObject(node, values, output);
        }
        else if (node.IdentityNamespace is { } ns)
        {
            output.WriteStartArray();
            output.WriteStartObject();
            output.WritePropertyName(IdName);
            WriteScalar(values[node.Column], null, null, output);
            if (ns == _primaryIdentity)
            {
                output.WriteBoolean(PrimaryName, true);
            }
            output.WriteEndObject();
            output.WriteEndArray();
        }
        else
        {
            WriteScalar(values[node.Column], node.Field, node.Format, output);
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
                if (type == FieldType.String || !double.IsFinite(real)) // JSON has no NaN or infinity: validated as the text
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
            case FieldType.Int or FieldType.Long when TryParseInteger(text, out var integer):
                output.WriteNumberValue(integer);
                return;
            case FieldType.Double when TryParseReal(text, out var real):
                output.WriteNumberValue(real);
                return;
            case FieldType.Bool when ParseBool(text) is { } flag:
                output.WriteBooleanValue(flag);
                return;
            case FieldType.Date when TryConvertDate(text, format, out var date):
                output.WriteStringValue(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                return;
            case FieldType.DateTime when TryConvertInstant(text, format, out var instant):
                TemporalParsing.Write(output, instant);
                return;
            default:
                output.WriteStringValue(text);
                return;
        }
    }

    // How a text cell becomes a typed value; a cell none of these reads is validated as the text it is (and refused with it).

    internal static bool TryParseInteger(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>A finite number: <c>NaN</c> or <c>1e999</c> parse, but JSON has no such number (the writer refuses them).</summary>
    internal static bool TryParseReal(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    internal static bool? ParseBool(string text) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "y" or "t" => true,
        "false" or "0" or "no" or "n" or "f" => false,
        _ => null,
    };

    /// <summary>A date read by the column's format (without one, the validator reads <c>yyyy-MM-dd</c>).</summary>
    internal static bool TryConvertDate(string text, string? format, out DateOnly date)
    {
        date = default;
        DateTime parsed;
        try
        {
            if (format is null || !DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out parsed))
            {
                return false;
            }
        }
        catch (FormatException)
        {
            return false; // a format .NET writes but cannot read with this text: the text is validated as written
        }
        date = DateOnly.FromDateTime(parsed);
        return true;
    }

    /// <summary>
    /// A date-time read by the column's format, or without one, twelve digits or more as Unix epoch milliseconds (in the range
    /// of dates); else the validator reads ISO 8601.
    /// </summary>
    internal static bool TryConvertInstant(string text, string? format, out DateTimeOffset instant)
    {
        if (format is not null)
        {
            try
            {
                return DateTimeOffset.TryParseExact(text, format, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
            }
            catch (FormatException)
            {
                instant = default;
                return false;
            }
        }
        instant = default;
        if (text.Length < 12 || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var epochMillis)
            || epochMillis > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }
        instant = DateTimeOffset.FromUnixTimeMilliseconds(epochMillis);
        return true;
    }

    private enum NodeKind
    {
        Unknown,
        Scalar,
        Object,
        IdentityMap,
    }

    private sealed class Node(string name)
    {
        public string Name { get; } = name;

        /// <summary>Encoded once (a writer transcodes and escapes a string name on every row), as the stored form's writer escapes.</summary>
        public JsonEncodedText EncodedName { get; } = JsonEncodedText.Encode(name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);

        public int Column { get; set; } = -1;

        /// <summary>The schema field at this node's path, found as the validator finds it (null: the schema has none).</summary>
        public CompiledField? Field { get; set; }

        public string? Format { get; set; }

        public string? IdentityNamespace { get; set; }

        /// <summary>How <see cref="Validate"/> takes this node (with <see cref="Field"/>, the schema field the validator finds for it).</summary>
        public NodeKind Kind { get; set; }

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

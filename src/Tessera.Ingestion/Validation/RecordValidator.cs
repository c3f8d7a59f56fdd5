using System.Globalization;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Catalog;

namespace Tessera.Ingestion.Validation;

/// <summary>The outcome of validating one record: its identities and key fields, or why it was rejected.</summary>
public sealed class ValidationResult
{
    public List<ValidationError> Errors { get; } = [];

    public List<IdentityValue> Identities { get; } = [];

    public string? EventId { get; set; }

    public DateTimeOffset? Timestamp { get; set; }

    public int LeafCount { get; set; }

    public bool IsValid => Errors.Count == 0;

    public IdentityValue? Primary
    {
        get
        {
            foreach (var identity in Identities)
            {
                if (identity.Primary)
                {
                    return identity;
                }
            }
            return Identities.Count > 0 ? Identities[0] : null;
        }
    }

    public void Reset()
    {
        Errors.Clear();
        Identities.Clear();
        EventId = null;
        Timestamp = null;
        LeafCount = 0;
    }
}

/// <summary>
/// Checks a JSON record against a compiled schema and the ingestion limits, and writes the
/// canonical stored form (unknown fields dropped when the schema says so, dates normalized).
/// One instance per ingestion thread: it reuses its buffers.
/// </summary>
public sealed class RecordValidator(CompiledSchema schema, IngestionLimits limits, Func<string, bool> namespaceExists)
{
    private const int MaxErrorsPerRecord = 20;
    private static readonly string[] IdentityMapNames = ["identityMap", "xdm:identityMap"];

    public CompiledSchema Schema => schema;

    /// <summary>Validates <paramref name="record"/>; when valid, its canonical form is in <paramref name="output"/>.</summary>
    public void Validate(JsonElement record, Utf8JsonWriter output, ValidationResult result)
    {
        result.Reset();
        if (record.ValueKind != JsonValueKind.Object)
        {
            result.Errors.Add(new ValidationError("", ErrorCodes.TypeMismatch, $"a record must be a JSON object, found {Describe(record.ValueKind)}"));
            return;
        }
        WriteObject(record, schema.Root, "", output, result);
        if (result.LeafCount > limits.MaxFieldsPerRecord)
        {
            result.Errors.Add(new ValidationError("", ErrorCodes.TooManyFields,
                $"record has {result.LeafCount} values, more than the limit of {limits.MaxFieldsPerRecord} (limits.maxFieldsPerRecord)"));
        }
        if (result.Identities.Count > limits.MaxIdentitiesPerRecord)
        {
            result.Errors.Add(new ValidationError("", ErrorCodes.TooManyIdentities,
                $"record has {result.Identities.Count} identities, more than the limit of {limits.MaxIdentitiesPerRecord} (limits.maxIdentitiesPerRecord)"));
        }
        if (result.Errors.Count == 0 && result.Identities.Count == 0)
        {
            result.Errors.Add(new ValidationError("", ErrorCodes.NoPrimaryIdentity,
                "record has no identity: set a field that the schema marks as an identity, or an identityMap entry"));
        }
        if (schema.PrimaryIdentityField is { } primaryField && result.Errors.Count == 0)
        {
            // A schema-declared primary identity wins over identityMap flags.
            var declared = result.Identities.FindIndex(i => i.Primary && i.Namespace == primaryField.Identity!.Namespace);
            if (declared < 0)
            {
                for (var i = 0; i < result.Identities.Count; i++)
                {
                    if (result.Identities[i].Namespace == primaryField.Identity!.Namespace)
                    {
                        result.Identities[i] = result.Identities[i] with { Primary = true };
                        break;
                    }
                }
            }
        }
    }

    private void WriteObject(JsonElement element, CompiledField field, string path, Utf8JsonWriter output, ValidationResult result)
    {
        output.WriteStartObject();
        var seenRequired = 0;
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            var childPath = path.Length == 0 ? name : $"{path}.{name}";
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            if (field.Children is null || !field.Children.TryGetValue(name, out var child))
            {
                if (path.Length == 0 && Array.IndexOf(IdentityMapNames, name) >= 0)
                {
                    output.WritePropertyName(name);
                    WriteIdentityMap(property.Value, childPath, output, result);
                    continue;
                }
                if (field.Open)
                {
                    output.WritePropertyName(name);
                    property.Value.WriteTo(output);
                    result.LeafCount++;
                    continue;
                }
                if (schema.UnknownFields == UnknownFieldPolicy.Reject)
                {
                    AddError(result, childPath, ErrorCodes.UnknownField, $"field '{childPath}' is not in schema '{schema.Name}' v{schema.Version}");
                }
                continue;
            }
            if (child.Definition.Required)
            {
                seenRequired++;
            }
            output.WritePropertyName(name);
            WriteValue(property.Value, child, childPath, output, result);
        }
        if (seenRequired < field.RequiredChildren.Length)
        {
            foreach (var required in field.RequiredChildren)
            {
                if (!element.TryGetProperty(required, out var value) || value.ValueKind == JsonValueKind.Null)
                {
                    var requiredPath = path.Length == 0 ? required : $"{path}.{required}";
                    AddError(result, requiredPath, ErrorCodes.RequiredMissing, $"required field '{requiredPath}' is missing");
                }
            }
        }
        output.WriteEndObject();
    }

    private void WriteValue(JsonElement value, CompiledField field, string path, Utf8JsonWriter output, ValidationResult result)
    {
        switch (field.Type)
        {
            case FieldType.Object:
                if (value.ValueKind != JsonValueKind.Object)
                {
                    Mismatch(result, path, field, value);
                    output.WriteNullValue();
                    return;
                }
                if (field.Open && (field.Children is null || field.Children.Count == 0))
                {
                    value.WriteTo(output);
                    result.LeafCount++;
                    return;
                }
                WriteObject(value, field, path, output, result);
                return;
            case FieldType.Array:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    Mismatch(result, path, field, value);
                    output.WriteNullValue();
                    return;
                }
                output.WriteStartArray();
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    WriteValue(item, field.Items!, $"{path}[{index++}]", output, result);
                }
                output.WriteEndArray();
                return;
            case FieldType.Map:
                if (value.ValueKind != JsonValueKind.Object)
                {
                    Mismatch(result, path, field, value);
                    output.WriteNullValue();
                    return;
                }
                output.WriteStartObject();
                foreach (var entry in value.EnumerateObject())
                {
                    output.WritePropertyName(entry.Name);
                    WriteValue(entry.Value, field.Values!, $"{path}.{entry.Name}", output, result);
                }
                output.WriteEndObject();
                return;
        }
        result.LeafCount++;
        switch (field.Type)
        {
            case FieldType.String:
                if (value.ValueKind != JsonValueKind.String)
                {
                    Mismatch(result, path, field, value);
                    output.WriteNullValue();
                    return;
                }
                var text = value.GetString()!;
                CheckString(text, field, path, result);
                output.WriteStringValue(text);
                if (field.Identity is { } identity)
                {
                    AddIdentity(result, identity.Namespace, text, identity.Primary, path);
                }
                if (path == CompiledSchema.IdField)
                {
                    result.EventId = text;
                }
                return;
            case FieldType.Int or FieldType.Long:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var integer)
                    || (field.Type == FieldType.Int && integer is < int.MinValue or > int.MaxValue))
                {
                    Mismatch(result, path, field, value);
                    output.WriteNullValue();
                    return;
                }
                CheckRange(integer, field, path, result);
                output.WriteNumberValue(integer);
                return;
            case FieldType.Double:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var real) || !double.IsFinite(real))
                {
                    Mismatch(result, path, field, value);
                    output.WriteNullValue();
                    return;
                }
                CheckRange(real, field, path, result);
                output.WriteNumberValue(real);
                return;
            case FieldType.Bool:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    Mismatch(result, path, field, value);
                    output.WriteNullValue();
                    return;
                }
                output.WriteBooleanValue(value.GetBoolean());
                return;
            case FieldType.Date:
                if (value.ValueKind != JsonValueKind.String
                    || !DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    AddError(result, path, ErrorCodes.FormatInvalid, $"field '{path}': expected a date as yyyy-MM-dd, found {Show(value)}");
                    output.WriteNullValue();
                    return;
                }
                output.WriteStringValue(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                return;
            case FieldType.DateTime:
                if (value.ValueKind != JsonValueKind.String || !TemporalParsing.TryParseDateTime(value.GetString()!, out var instant))
                {
                    AddError(result, path, ErrorCodes.FormatInvalid, $"field '{path}': expected an ISO 8601 date-time (e.g. 2024-05-01T10:00:00Z), found {Show(value)}");
                    output.WriteNullValue();
                    return;
                }
                output.WriteStringValue(TemporalParsing.Format(instant));
                if (path == CompiledSchema.TimestampField)
                {
                    result.Timestamp = instant;
                }
                return;
        }
    }

    private void WriteIdentityMap(JsonElement map, string path, Utf8JsonWriter output, ValidationResult result)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            AddError(result, path, ErrorCodes.TypeMismatch, $"'{path}' must be an object of namespace → array of identities, found {Describe(map.ValueKind)}");
            output.WriteNullValue();
            return;
        }
        map.WriteTo(output);
        foreach (var entry in map.EnumerateObject())
        {
            var ns = entry.Name;
            var entryPath = $"{path}.{ns}";
            if (!namespaceExists(ns))
            {
                AddError(result, entryPath, ErrorCodes.UnknownNamespace, $"identity namespace '{ns}' is not defined in this sandbox");
                continue;
            }
            if (entry.Value.ValueKind != JsonValueKind.Array)
            {
                AddError(result, entryPath, ErrorCodes.TypeMismatch, $"'{entryPath}' must be an array of identity objects");
                continue;
            }
            var index = 0;
            foreach (var item in entry.Value.EnumerateArray())
            {
                var itemPath = $"{entryPath}[{index++}]";
                if (item.ValueKind != JsonValueKind.Object
                    || !(item.TryGetProperty("id", out var id) || item.TryGetProperty("xdm:id", out id))
                    || id.ValueKind != JsonValueKind.String)
                {
                    AddError(result, itemPath, ErrorCodes.TypeMismatch, $"'{itemPath}' must be an object with a string 'id'");
                    continue;
                }
                var primary = (item.TryGetProperty("primary", out var flag) || item.TryGetProperty("xdm:primary", out flag))
                    && flag.ValueKind == JsonValueKind.True;
                AddIdentity(result, ns, id.GetString()!, primary, itemPath + ".id");
            }
        }
    }

    private void AddIdentity(ValidationResult result, string ns, string value, bool primary, string path)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            return; // An empty identity is no identity; the rest of the record still counts.
        }
        if (trimmed.Length > limits.MaxIdentityValueLength)
        {
            AddError(result, path, ErrorCodes.IdentityTooLong,
                $"identity '{ns}' at '{path}' is {trimmed.Length} characters, more than the limit of {limits.MaxIdentityValueLength} (limits.maxIdentityValueLength)");
            return;
        }
        foreach (var existing in result.Identities)
        {
            if (existing.Namespace == ns && existing.Value == trimmed)
            {
                return;
            }
        }
        result.Identities.Add(new IdentityValue(ns, trimmed, primary));
    }

    private static void CheckString(string text, CompiledField field, string path, ValidationResult result)
    {
        if (field.Definition.MaxLength is { } maxLength && text.Length > maxLength)
        {
            AddError(result, path, ErrorCodes.TooLong, $"field '{path}': {text.Length} characters, more than maxLength {maxLength}");
        }
        if (field.Enum is { } allowed && !allowed.Contains(text))
        {
            AddError(result, path, ErrorCodes.EnumViolation, $"field '{path}': '{Truncate(text)}' is not one of [{string.Join(", ", field.Definition.Enum!)}]");
        }
        if (field.Pattern is { } pattern && !pattern.IsMatch(text))
        {
            AddError(result, path, ErrorCodes.PatternViolation, $"field '{path}': '{Truncate(text)}' does not match pattern {field.Definition.Pattern}");
        }
    }

    private static void CheckRange(double number, CompiledField field, string path, ValidationResult result)
    {
        if (field.Definition.Min is { } min && number < min)
        {
            AddError(result, path, ErrorCodes.BelowMinimum, $"field '{path}': {number.ToString(CultureInfo.InvariantCulture)} is below the minimum {min.ToString(CultureInfo.InvariantCulture)}");
        }
        if (field.Definition.Max is { } max && number > max)
        {
            AddError(result, path, ErrorCodes.AboveMaximum, $"field '{path}': {number.ToString(CultureInfo.InvariantCulture)} is above the maximum {max.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static void Mismatch(ValidationResult result, string path, CompiledField field, JsonElement value) =>
        AddError(result, path, ErrorCodes.TypeMismatch, $"field '{path}': expected {SchemaCompiler.TypeName(field.Type)}, found {Show(value)}");

    private static void AddError(ValidationResult result, string path, string code, string message)
    {
        if (result.Errors.Count < MaxErrorsPerRecord)
        {
            result.Errors.Add(new ValidationError(path, code, message));
        }
    }

    private static string Show(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"string '{Truncate(value.GetString()!)}'",
        JsonValueKind.Number => $"number {value.GetRawText()}",
        _ => Describe(value.ValueKind),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..61] + "...";
}

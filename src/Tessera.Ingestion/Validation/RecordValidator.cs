using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity.Normalization;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Validation;

/// <summary>
/// An identity left out of a record because its value is blocked or invalid for its namespace:
/// where it was (<see cref="Path"/>), why (<see cref="Reason"/>, e.g. <c>IDENTITY_BLOCKED</c>) and
/// in words. The record is stored without it (or rejected when no identity remains).
/// </summary>
public sealed record DroppedIdentity(string Namespace, string Path, string Reason, string Message);

/// <summary>The outcome of validating one record: its identities and key fields, or why it was rejected.</summary>
public sealed class ValidationResult
{
    public List<ValidationError> Errors { get; } = [];

    /// <summary>The record's identities, normalized (docs/identity.md), without duplicates.</summary>
    public List<IdentityValue> Identities { get; } = [];

    /// <summary>Identities dropped from <see cref="Identities"/> (blocked or invalid values).</summary>
    public List<DroppedIdentity> DroppedIdentities { get; } = [];

    public string? EventId { get; set; }

    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>The value of the schema's <c>lastUpdated</c> field, when it declares one and the record has it.</summary>
    public DateTimeOffset? LastUpdated { get; set; }

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
        DroppedIdentities.Clear();
        EventId = null;
        Timestamp = null;
        LastUpdated = null;
        LeafCount = 0;
    }
}

/// <summary>
/// Checks a JSON record against a compiled schema and the ingestion limits, and writes the
/// canonical stored form (unknown fields dropped when the schema says so, dates normalized).
/// Identity values are normalized by their namespace's <see cref="IdentityNormalizer"/>; a blocked
/// or invalid one is dropped from the identities (the record keeps the field as written).
/// One instance per ingestion thread: it reuses its buffers.
/// </summary>
/// <remarks>
/// The hot path allocates nothing for a valid value that is not an identity or a key field: names
/// are matched as spans against the schema, field paths are the schema's own strings (a path is
/// built only for an error, or below an array or map), and unescaped strings are copied as UTF-8.
/// </remarks>
public sealed class RecordValidator(CompiledSchema schema, IngestionLimits limits, NamespaceResolver namespaces)
{
    private const int MaxErrorsPerRecord = 20;
    /// <summary>Longest value decoded on the stack for a constraint check; longer ones use a pooled buffer.</summary>
    private const int StackChars = 256;
    private static readonly string[] IdentityMapNames = ["identityMap", "xdm:identityMap"];
    private readonly CompiledField? _idField = schema.Root.Children?.GetValueOrDefault(CompiledSchema.IdField);
    private readonly CompiledField? _timestampField = schema.Root.Children?.GetValueOrDefault(CompiledSchema.TimestampField);
    private readonly CompiledField? _lastUpdatedField = schema.LastUpdatedField;
    private readonly Dictionary<string, string> _namespaceNames = new(StringComparer.Ordinal);
    private bool _explicitNulls;

    public CompiledSchema Schema => schema;

    /// <summary>Validates <paramref name="record"/>; when valid, its canonical form is in <paramref name="output"/>.</summary>
    /// <param name="explicitNulls">
    /// Keep a null on a declared field of a profile record (it erases the field); false for tabular
    /// sources, where an empty cell means absent.
    /// </param>
    public void Validate(JsonElement record, Utf8JsonWriter output, ValidationResult result, bool explicitNulls = false)
    {
        _explicitNulls = explicitNulls && schema.Class == SchemaClass.Profile;
        result.Reset();
        if (record.ValueKind != JsonValueKind.Object)
        {
            result.Errors.Add(new ValidationError("", ErrorCodes.TypeMismatch, $"a record must be a JSON object, found {Describe(record.ValueKind)}"));
            return;
        }
        WriteObject(record, schema.Root, "", exactPath: true, output, result);
        CheckRecord(result);
    }

    /// <summary>The checks of a whole record, once its values are walked: limits, an identity at all, the one primary identity.</summary>
    private void CheckRecord(ValidationResult result)
    {
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
            result.Errors.Add(result.DroppedIdentities.Count > 0
                ? NoUsableIdentity(result.DroppedIdentities)
                : new ValidationError("", ErrorCodes.NoPrimaryIdentity,
                    "record has no identity: set a field that the schema marks as an identity, or an identityMap entry"));
        }
        if (schema.PrimaryIdentityField is { } primaryField && result.Errors.Count == 0)
        {
            // A schema-declared primary identity wins over identityMap flags: one identity of its
            // namespace (a flagged one first) becomes the only primary, so that a record is keyed
            // the same way whatever order its properties come in.
            var ns = primaryField.Identity!.Namespace;
            var chosen = -1;
            for (var i = 0; i < result.Identities.Count; i++)
            {
                if (result.Identities[i].Namespace == ns && (chosen < 0 || (result.Identities[i].Primary && !result.Identities[chosen].Primary)))
                {
                    chosen = i;
                }
            }
            if (chosen >= 0)
            {
                for (var i = 0; i < result.Identities.Count; i++)
                {
                    if (result.Identities[i].Primary != (i == chosen))
                    {
                        result.Identities[i] = result.Identities[i] with { Primary = i == chosen };
                    }
                }
            }
        }
    }

    /// <param name="exactPath">Whether <paramref name="path"/> is <paramref name="field"/>'s schema path (no array or map above it).</param>
    private void WriteObject(JsonElement element, CompiledField field, string path, bool exactPath, Utf8JsonWriter output, ValidationResult result)
    {
        output.WriteStartObject();
        var seenRequired = 0;
        var children = field.Children;
        Span<char> nameBuffer = stackalloc char[128];
        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                // A profile record's explicit null erases that field of the fragment (docs/profiles.md);
                // anywhere else, and for identity or required fields, null means absent.
                if (_explicitNulls && children is not null && TryGetChild(field, property, nameBuffer, out var erased)
                    && erased.Identity is null && !erased.Definition.Required)
                {
                    output.WritePropertyName(erased.EncodedName);
                    output.WriteNullValue();
                }
                continue;
            }
            if ((children is null || !TryGetChild(field, property, nameBuffer, out var child))
                && !TryXdmAlias(element, property, path, out child))
            {
                var name = property.Name;
                var childPath = path.Length == 0 ? name : $"{path}.{name}";
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
                if (RejectsUnknownFields)
                {
                    UnknownField(childPath, result);
                }
                continue;
            }
            if (child.Definition.Required)
            {
                seenRequired++;
            }
            output.WritePropertyName(child.EncodedName);
            WriteValue(property.Value, child, exactPath ? child.Path : path.Length == 0 ? child.Name : $"{path}.{child.Name}", exactPath, output, result);
        }
        if (seenRequired < field.RequiredChildren.Length)
        {
            foreach (var required in field.RequiredChildren)
            {
                if ((!element.TryGetProperty(required, out var value) || value.ValueKind == JsonValueKind.Null)
                    && !(path.Length == 0 && XdmAliasOf(required) is { } alias && element.TryGetProperty(alias, out var aliased) && aliased.ValueKind != JsonValueKind.Null))
                {
                    RequiredMissing(path.Length == 0 ? required : $"{path}.{required}", result);
                }
            }
        }
        output.WriteEndObject();
    }

    /// <summary>
    /// XDM documents in their JSON-LD form name an event's id <c>@id</c> and its time
    /// <c>xdm:timestamp</c> (the XDM ExperienceEvent requires both). At the root of an event record
    /// that does not declare them, they stand for <c>_id</c> and <c>timestamp</c> (and are stored
    /// under those names), unless the record has <c>_id</c> or <c>timestamp</c> itself.
    /// </summary>
    private bool TryXdmAlias(JsonElement record, JsonProperty property, string path, out CompiledField child)
    {
        child = null!;
        if (path.Length != 0 || schema.Class != SchemaClass.Event)
        {
            return false;
        }
        var canonical = property.NameEquals("@id") ? _idField : property.NameEquals("xdm:timestamp") ? _timestampField : null;
        if (canonical is null || (record.TryGetProperty(canonical.Name, out var own) && own.ValueKind != JsonValueKind.Null))
        {
            return false;
        }
        child = canonical;
        return true;
    }

    private string? XdmAliasOf(string required) => schema.Class != SchemaClass.Event ? null : required switch
    {
        CompiledSchema.IdField => "@id",
        CompiledSchema.TimestampField => "xdm:timestamp",
        _ => null,
    };

    /// <summary>Finds the schema field a property names without allocating its name (escaped names take the slow way).</summary>
    private static bool TryGetChild(CompiledField parent, JsonProperty property, Span<char> buffer, out CompiledField child)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Length <= buffer.Length && raw.IndexOf((byte)'\\') < 0 && parent.ChildrenBySpan is { } lookup)
        {
            var length = Encoding.UTF8.GetChars(raw, buffer);
            return lookup.TryGetValue(buffer[..length], out child!);
        }
        return parent.Children!.TryGetValue(property.Name, out child!);
    }

    private void WriteValue(JsonElement value, CompiledField field, string path, bool exactPath, Utf8JsonWriter output, ValidationResult result)
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
                WriteObject(value, field, path, exactPath, output, result);
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
                    WriteValue(item, field.Items!, $"{path}[{index++}]", exactPath: false, output, result);
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
                    WriteValue(entry.Value, field.Values!, $"{path}.{entry.Name}", exactPath: false, output, result);
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
                var isId = ReferenceEquals(field, _idField) && path == CompiledSchema.IdField;
                if (field.Identity is null && !isId && TryWriteUnescapedString(value, field, path, output, result))
                {
                    return;
                }
                var text = value.GetString()!;
                CheckString(text.AsSpan(), field, path, result);
                output.WriteStringValue(text);
                if (field.Identity is { } identity)
                {
                    AddIdentity(result, identity.Namespace, text, identity.Primary, path);
                }
                if (isId)
                {
                    SetEventId(text, path, result);
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
                if (value.ValueKind != JsonValueKind.String || !TryParseDate(value, out var date))
                {
                    DateInvalid(result, path, Show(value));
                    output.WriteNullValue();
                    return;
                }
                WriteDate(date, output);
                return;
            case FieldType.DateTime:
                if (value.ValueKind != JsonValueKind.String || !TryParseDateTime(value, out var instant))
                {
                    InstantInvalid(result, path, Show(value));
                    output.WriteNullValue();
                    return;
                }
                WriteInstant(instant, field, path, output, result);
                return;
        }
    }

    private static void WriteDate(DateOnly date, Utf8JsonWriter output)
    {
        Span<char> formatted = stackalloc char[16];
        output.WriteStringValue(date.TryFormat(formatted, out var written, "yyyy-MM-dd", CultureInfo.InvariantCulture)
            ? formatted[..written]
            : date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    private void SetEventId(string text, string path, ValidationResult result)
    {
        if (string.IsNullOrWhiteSpace(text) && schema.Class == SchemaClass.Event)
        {
            // Every event without an id would share one key: all but the first would be dropped as duplicates.
            AddError(result, path, ErrorCodes.RequiredMissing, $"field '{path}' is empty: an event needs an id");
        }
        result.EventId = text;
    }

    private void WriteInstant(DateTimeOffset instant, CompiledField field, string path, Utf8JsonWriter output, ValidationResult result)
    {
        TemporalParsing.Write(output, instant);
        if (ReferenceEquals(field, _timestampField) && path == CompiledSchema.TimestampField)
        {
            result.Timestamp = instant;
        }
        else if (ReferenceEquals(field, _lastUpdatedField))
        {
            result.LastUpdated = instant; // never inside an array or map, so at most once per record
        }
    }

    /// <summary>Starts a tabular row checked from its cells (<see cref="TabularConverter.Validate"/>) as <see cref="Validate"/> starts a tabular record.</summary>
    internal void BeginRow(ValidationResult result)
    {
        _explicitNulls = false;
        result.Reset();
    }

    /// <summary>Ends a row begun with <see cref="BeginRow"/> with the checks that end <see cref="Validate"/>.</summary>
    internal void EndRow(ValidationResult result) => CheckRecord(result);

    internal bool RejectsUnknownFields => schema.UnknownFields == UnknownFieldPolicy.Reject;

    /// <summary>
    /// Checks and writes a text cell mapped to the scalar <paramref name="field"/> (no array or map above it): the value, errors,
    /// identities and key fields that <see cref="Validate"/> gives for the JSON value <see cref="TabularConverter"/> makes of the
    /// cell, found the same way (the converter's own parsers), without writing that JSON and parsing it again.
    /// </summary>
    internal void WriteCell(string text, CompiledField field, string? format, Utf8JsonWriter output, ValidationResult result)
    {
        var path = field.Path;
        result.LeafCount++;
        switch (field.Type)
        {
            case FieldType.String:
                CheckString(text, field, path, result);
                output.WriteStringValue(text);
                if (field.Identity is { } identity)
                {
                    AddIdentity(result, identity.Namespace, text, identity.Primary, path);
                }
                if (ReferenceEquals(field, _idField))
                {
                    SetEventId(text, path, result);
                }
                return;
            case FieldType.Int or FieldType.Long:
                if (!TabularConverter.TryParseInteger(text, out var integer))
                {
                    Mismatch(result, path, field, ShowText(text));
                    output.WriteNullValue();
                }
                else if (field.Type == FieldType.Int && integer is < int.MinValue or > int.MaxValue)
                {
                    Mismatch(result, path, field, $"number {integer.ToString(CultureInfo.InvariantCulture)}");
                    output.WriteNullValue();
                }
                else
                {
                    CheckRange(integer, field, path, result);
                    output.WriteNumberValue(integer);
                }
                return;
            case FieldType.Double:
                if (!TabularConverter.TryParseReal(text, out var real))
                {
                    Mismatch(result, path, field, ShowText(text));
                    output.WriteNullValue();
                    return;
                }
                CheckRange(real, field, path, result);
                output.WriteNumberValue(real);
                return;
            case FieldType.Bool:
                if (TabularConverter.ParseBool(text) is not { } flag)
                {
                    Mismatch(result, path, field, ShowText(text));
                    output.WriteNullValue();
                    return;
                }
                output.WriteBooleanValue(flag);
                return;
            case FieldType.Date:
                if (!TabularConverter.TryConvertDate(text, format, out var date) && !TemporalParsing.TryParseDate(text, out date))
                {
                    DateInvalid(result, path, ShowText(text));
                    output.WriteNullValue();
                    return;
                }
                WriteDate(date, output);
                return;
            case FieldType.DateTime:
                if (TabularConverter.TryConvertInstant(text, format, out var instant))
                {
                    // The converter writes it in the stored form, to the millisecond, and that is what is read back.
                    instant = new DateTimeOffset(instant.UtcTicks - instant.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
                }
                else if (!TemporalParsing.TryParseDateTime(text, out instant))
                {
                    InstantInvalid(result, path, ShowText(text));
                    output.WriteNullValue();
                    return;
                }
                WriteInstant(instant, field, path, output, result);
                return;
            default:
                throw new ArgumentException($"field '{path}' is not a scalar", nameof(field));
        }
    }

    /// <summary>A cell of an <c>identityMap.NAMESPACE</c> column, as <see cref="Validate"/> reads the identity map the converter writes of it.</summary>
    internal void IdentityMapCell(string ns, string text, bool primary, ValidationResult result)
    {
        if (namespaces.Resolve(ns) is not { } code)
        {
            AddError(result, $"{IdentityMapNames[0]}.{ns}", ErrorCodes.UnknownNamespace, $"identity namespace '{ns}' is not defined in this sandbox");
            return;
        }
        AddIdentity(result, code, text, primary, new IdentityPath(null, IdentityMapNames[0], ns, 0));
    }

    internal void UnknownField(string path, ValidationResult result) =>
        AddError(result, path, ErrorCodes.UnknownField, $"field '{path}' is not in schema '{schema.Name}' v{schema.Version}");

    internal static void RequiredMissing(string path, ValidationResult result) =>
        AddError(result, path, ErrorCodes.RequiredMissing, $"required field '{path}' is missing");

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
            var ns = NamespaceName(entry);
            if (namespaces.Resolve(ns) is not { } code)
            {
                var entryPath = $"{path}.{ns}";
                AddError(result, entryPath, ErrorCodes.UnknownNamespace, $"identity namespace '{ns}' is not defined in this sandbox");
                continue;
            }
            if (entry.Value.ValueKind != JsonValueKind.Array)
            {
                var entryPath = $"{path}.{ns}";
                AddError(result, entryPath, ErrorCodes.TypeMismatch, $"'{entryPath}' must be an array of identity objects");
                continue;
            }
            var index = 0;
            foreach (var item in entry.Value.EnumerateArray())
            {
                var itemIndex = index++;
                if (item.ValueKind != JsonValueKind.Object
                    || !(item.TryGetProperty("id", out var id) || item.TryGetProperty("xdm:id", out id))
                    || id.ValueKind != JsonValueKind.String)
                {
                    var itemPath = $"{path}.{ns}[{itemIndex}]";
                    AddError(result, itemPath, ErrorCodes.TypeMismatch, $"'{itemPath}' must be an object with a string 'id'");
                    continue;
                }
                var primary = (item.TryGetProperty("primary", out var flag) || item.TryGetProperty("xdm:primary", out flag))
                    && flag.ValueKind == JsonValueKind.True;
                AddIdentity(result, code, id.GetString()!, primary, new IdentityPath(null, path, ns, itemIndex));
            }
        }
    }

    /// <summary>An identityMap key as a string, shared across records (namespaces are few and repeat on every record).</summary>
    private string NamespaceName(JsonProperty entry)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(entry);
        Span<char> buffer = stackalloc char[64];
        if (raw.Length <= buffer.Length && raw.IndexOf((byte)'\\') < 0)
        {
            var lookup = _namespaceNames.GetAlternateLookup<ReadOnlySpan<char>>();
            var chars = buffer[..Encoding.UTF8.GetChars(raw, buffer)];
            if (lookup.TryGetValue(chars, out var known))
            {
                return known;
            }
            if (_namespaceNames.Count < 256)
            {
                var name = chars.ToString();
                _namespaceNames[name] = name;
                return name;
            }
        }
        return entry.Name;
    }

    /// <summary>Where an identity came from; its text is built only for an error message.</summary>
    private readonly record struct IdentityPath(string? Field, string? MapPath, string? Namespace, int Index)
    {
        public override string ToString() => Field ?? $"{MapPath}.{Namespace}[{Index}].id";
    }

    private void AddIdentity(ValidationResult result, string ns, string value, bool primary, string path) =>
        AddIdentity(result, ns, value, primary, new IdentityPath(path, null, null, 0));

    private void AddIdentity(ValidationResult result, string ns, string value, bool primary, IdentityPath where)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            return; // An empty identity is no identity; the rest of the record still counts.
        }
        if (trimmed.Length > limits.MaxIdentityValueLength)
        {
            var path = where.ToString();
            AddError(result, path, ErrorCodes.IdentityTooLong,
                $"identity '{ns}' at '{path}' is {trimmed.Length} characters, more than the limit of {limits.MaxIdentityValueLength} (limits.maxIdentityValueLength)");
            return;
        }
        var normalized = trimmed;
        if (namespaces.NormalizerOf(ns) is { } normalizer)
        {
            var outcome = normalizer.Normalize(trimmed);
            if (!outcome.IsNormalized)
            {
                result.DroppedIdentities.Add(new DroppedIdentity(ns, where.ToString(), outcome.Reason!, outcome.Message!));
                return;
            }
            normalized = outcome.Value!;
        }
        foreach (var existing in result.Identities)
        {
            if (existing.Namespace == ns && existing.Value == normalized)
            {
                return;
            }
        }
        result.Identities.Add(new IdentityValue(ns, normalized, primary));
    }

    /// <summary>The error of a record whose every identity was dropped: each one, where, and why.</summary>
    private static ValidationError NoUsableIdentity(List<DroppedIdentity> dropped)
    {
        var reasons = string.Join("; ", dropped.Select(d => $"{d.Namespace} at '{d.Path}': {d.Message} ({d.Reason})"));
        return new ValidationError(dropped.Count == 1 ? dropped[0].Path : "", ErrorCodes.NoUsableIdentity,
            $"record has no usable identity, every identity was dropped: {reasons}");
    }

    /// <summary>
    /// Checks and writes a string value straight from its UTF-8 bytes when it has no escapes: the
    /// written bytes are the same as writing the decoded string. Returns false when the caller must
    /// take the general way (escaped value).
    /// </summary>
    private static bool TryWriteUnescapedString(JsonElement value, CompiledField field, string path, Utf8JsonWriter output, ValidationResult result)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        var content = raw[1..^1];
        if (content.IndexOf((byte)'\\') >= 0)
        {
            return false;
        }
        if (field.Enum is not null || field.Pattern is not null)
        {
            char[]? rented = null;
            var buffer = content.Length <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(content.Length));
            try
            {
                CheckString(buffer[..Encoding.UTF8.GetChars(content, buffer)], field, path, result);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<char>.Shared.Return(rented);
                }
            }
        }
        else if (field.Definition.MaxLength is { } maxLength && content.Length > maxLength)
        {
            // UTF-16 length is at most the UTF-8 length; count it only when it may be too long.
            var length = Encoding.UTF8.GetCharCount(content);
            if (length > maxLength)
            {
                AddError(result, path, ErrorCodes.TooLong, $"field '{path}': {length} characters, more than maxLength {maxLength}");
            }
        }
        output.WriteStringValue(content);
        return true;
    }

    private static void CheckString(ReadOnlySpan<char> text, CompiledField field, string path, ValidationResult result)
    {
        if (field.Definition.MaxLength is { } maxLength && text.Length > maxLength)
        {
            AddError(result, path, ErrorCodes.TooLong, $"field '{path}': {text.Length} characters, more than maxLength {maxLength}");
        }
        if (field.EnumBySpan is { } allowed && !allowed.Contains(text))
        {
            AddError(result, path, ErrorCodes.EnumViolation, $"field '{path}': '{Truncate(text.ToString())}' is not one of [{string.Join(", ", field.Definition.Enum!)}]");
        }
        if (field.Pattern is { } pattern && !pattern.IsMatch(text))
        {
            AddError(result, path, ErrorCodes.PatternViolation, $"field '{path}': '{Truncate(text.ToString())}' does not match pattern {field.Definition.Pattern}");
        }
    }

    /// <summary>A date-time string value, read from its UTF-8 without making a string when it is short and unescaped.</summary>
    private static bool TryParseDateTime(JsonElement value, out DateTimeOffset instant)
    {
        Span<char> buffer = stackalloc char[64];
        return TemporalParsing.TryParseDateTime(ShortText(value, buffer), out instant);
    }

    /// <summary><c>yyyy-MM-dd</c> exactly, parsed from the value's UTF-8 without allocating.</summary>
    private static bool TryParseDate(JsonElement value, out DateOnly date)
    {
        Span<char> buffer = stackalloc char[64];
        return TemporalParsing.TryParseDate(ShortText(value, buffer), out date);
    }

    /// <summary>A string value's text: decoded into <paramref name="buffer"/> when it fits and has no escapes, else as a string.</summary>
    private static ReadOnlySpan<char> ShortText(JsonElement value, Span<char> buffer)
    {
        var content = JsonMarshal.GetRawUtf8Value(value)[1..^1];
        return content.Length <= buffer.Length && content.IndexOf((byte)'\\') < 0
            ? buffer[..Encoding.UTF8.GetChars(content, buffer)]
            : value.GetString();
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
        Mismatch(result, path, field, Show(value));

    private static void Mismatch(ValidationResult result, string path, CompiledField field, string found) =>
        AddError(result, path, ErrorCodes.TypeMismatch, $"field '{path}': expected {SchemaCompiler.TypeName(field.Type)}, found {found}");

    private static void DateInvalid(ValidationResult result, string path, string found) =>
        AddError(result, path, ErrorCodes.FormatInvalid, $"field '{path}': expected a date as yyyy-MM-dd, found {found}");

    private static void InstantInvalid(ValidationResult result, string path, string found) =>
        AddError(result, path, ErrorCodes.FormatInvalid, $"field '{path}': expected an ISO 8601 date-time (e.g. 2024-05-01T10:00:00Z), found {found}");

    private static void AddError(ValidationResult result, string path, string code, string message)
    {
        if (result.Errors.Count < MaxErrorsPerRecord)
        {
            result.Errors.Add(new ValidationError(path, code, message));
        }
    }

    private static string Show(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => ShowText(value.GetString()!),
        JsonValueKind.Number => $"number {value.GetRawText()}",
        _ => Describe(value.ValueKind),
    };

    private static string ShowText(string text) => $"string '{Truncate(text)}'";

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

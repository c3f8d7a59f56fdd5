using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Tessera.Abstractions;

namespace Tessera.Pql.Binding;

/// <summary>
/// Where the profile type an expression is checked against comes from: the schema registry's documents,
/// or (with no schema) a sample profile. Events live in the profile's <c>xEvent</c> array.
/// </summary>
public static partial class PqlTypes
{
    /// <summary>The profile's field that holds its events.</summary>
    public const string EventsField = "xEvent";

    /// <summary>
    /// The profile type of a set of schemas: profile-class schemas' fields (their field groups mixed into
    /// the root) merge into the profile, event-class schemas' into the item of <c>xEvent</c> (with the
    /// <c>_id</c> and <c>timestamp</c> every event has). A field two schemas define differently is unknown below the difference.
    /// </summary>
    public static ObjectType FromSchemas(IEnumerable<SchemaDocument> schemas)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        PqlType profile = new ObjectType(new Dictionary<string, PqlType>(StringComparer.Ordinal));
        PqlType? events = null;
        foreach (var schema in schemas)
        {
            var fields = new Dictionary<string, PqlType>(StringComparer.Ordinal);
            foreach (var (name, field) in (schema.FieldGroups ?? []).SelectMany(g => g.Fields).Concat(schema.Fields ?? new Dictionary<string, FieldDefinition>()))
            {
                var type = FromField(field);
                fields[name] = fields.TryGetValue(name, out var existing) ? Binder.Join(existing, type) : type;
            }
            if (schema.Class == SchemaClass.Event)
            {
                fields.TryAdd("_id", PqlType.String);
                fields.TryAdd("timestamp", PqlType.DateTime);
                events = Binder.Join(events ?? PqlType.Null, new ObjectType(fields));
            }
            else
            {
                profile = Binder.Join(profile, new ObjectType(fields));
            }
        }
        var root = (ObjectType)profile;
        if (events is null)
        {
            return root;
        }
        var withEvents = new Dictionary<string, PqlType>(root.Fields, StringComparer.Ordinal) { [EventsField] = new ArrayType(events) };
        return root with { Fields = withEvents };
    }

    /// <summary>The type of one schema field.</summary>
    public static PqlType FromField(FieldDefinition field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.Type switch
        {
            FieldType.String => PqlType.String,
            FieldType.Int => PqlType.Int,
            FieldType.Long => PqlType.Long,
            FieldType.Double => PqlType.Double,
            FieldType.Bool => PqlType.Boolean,
            FieldType.Date => PqlType.Date,
            FieldType.DateTime => PqlType.DateTime,
            FieldType.Object => new ObjectType(
                (field.Fields ?? new Dictionary<string, FieldDefinition>()).ToDictionary(f => f.Key, f => FromField(f.Value), StringComparer.Ordinal),
                field.Open),
            FieldType.Array => new ArrayType(field.Items is { } items ? FromField(items) : PqlType.Unknown),
            FieldType.Map => new MapType(field.Values is { } values ? FromField(values) : PqlType.Unknown),
            _ => PqlType.Unknown,
        };
    }

    /// <summary>
    /// Reads a schema file: the JSON of one schema document or an array of them, as the registry accepts
    /// them (camelCase). Throws <see cref="InvalidDataException"/> naming the file when it cannot be read.
    /// </summary>
    public static IReadOnlyList<SchemaDocument> ReadSchemaFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            var bytes = File.ReadAllBytes(path);
            var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
            using var document = JsonDocument.Parse(bytes, options);
            return document.RootElement.ValueKind switch
            {
                JsonValueKind.Array => document.RootElement.Deserialize(SchemaJson.Default.ListSchemaDocument) is { } list && list.All(s => s is not null)
                    ? list
                    : throw new InvalidDataException($"{path}: a schema in the array is null"),
                JsonValueKind.Object => [document.RootElement.Deserialize(SchemaJson.Default.SchemaDocument)!],
                _ => throw new InvalidDataException($"{path}: expected a schema document or an array of them, found {document.RootElement.ValueKind}"),
            };
        }
        catch (Exception error) when (error is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: {error.Message}", error);
        }
    }

    /// <summary>
    /// The profile type a sample profile shows (attributes, and events under <c>xEvent</c>): strings (typed
    /// date or date-time when they are ISO text), integers as long, other numbers as double, booleans, objects,
    /// arrays whose item type merges all items. Conflicting kinds are unknown; a field absent from the sample is unknown to the checker.
    /// </summary>
    public static ObjectType FromSample(JsonObject profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return (ObjectType)Finish(Infer(profile));
    }

    private static PqlType Infer(JsonNode? node) => node switch
    {
        null => PqlType.Null,
        JsonObject obj => new ObjectType(obj.ToDictionary(p => p.Key, p => Infer(p.Value), StringComparer.Ordinal)),
        JsonArray array => new ArrayType(array.Select(Infer).Aggregate((PqlType)PqlType.Null, Binder.Join)),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => TextType(value.GetValue<string>()),
            JsonValueKind.True or JsonValueKind.False => PqlType.Boolean,
            JsonValueKind.Number when value.TryGetValue<long>(out _) => PqlType.Long,
            JsonValueKind.Number => PqlType.Double,
            _ => PqlType.Null,
        },
        _ => PqlType.Unknown,
    };

    /// <summary>Only null seen: nothing is known of the value.</summary>
    private static PqlType Finish(PqlType type) => type switch
    {
        ScalarType { Name: "null" } => PqlType.Unknown,
        ArrayType array => new ArrayType(Finish(array.Item)),
        MapType map => new MapType(Finish(map.Value)),
        ObjectType obj => obj with { Fields = obj.Fields.ToDictionary(f => f.Key, f => Finish(f.Value), StringComparer.Ordinal) },
        _ => type,
    };

    private static PqlType TextType(string text)
    {
        if (IsoDate().IsMatch(text) && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            return PqlType.Date;
        }
        if (IsoDateTime().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
        {
            return PqlType.DateTime;
        }
        return PqlType.String;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDateTime();
}

/// <summary>Schema documents as the registry reads them (camelCase; comments and trailing commas allowed).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(SchemaDocument))]
[JsonSerializable(typeof(List<SchemaDocument>))]
internal sealed partial class SchemaJson : JsonSerializerContext;

using System.Text.Json;
using System.Text.RegularExpressions;
using Tessera.Abstractions;

namespace Tessera.Catalog;

/// <summary>Checks a schema document for internal consistency and compiles it for validation.</summary>
public static partial class SchemaCompiler
{
    [GeneratedRegex("^[A-Za-z_@][A-Za-z0-9_:@\\-]*$")]
    private static partial Regex FieldNamePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_\\-]{0,127}$")]
    public static partial Regex ObjectNamePattern();

    /// <summary>
    /// Resolves field groups and implicit event fields into one root. Throws
    /// <see cref="CatalogException"/> with code <c>SCHEMA_INVALID</c> naming the field at fault.
    /// </summary>
    public static CompiledSchema Compile(SchemaDocument document, Func<string, bool> namespaceExists)
    {
        if (document.Name is null || !ObjectNamePattern().IsMatch(document.Name))
        {
            throw Invalid($"schema name '{document.Name}' must start with a letter and use letters, digits, '_' or '-'");
        }
        var fields = MergedFields(document);
        var root = new CompiledField("", "", new FieldDefinition { Type = FieldType.Object, Fields = fields });
        var context = new BuildContext(document.Class, namespaceExists);
        Build(root, context, insideCollection: false);
        var identities = context.Identities;
        if (context.LastUpdated.Count > 1)
        {
            throw Invalid($"fields '{context.LastUpdated[0].Path}' and '{context.LastUpdated[1].Path}' are both marked lastUpdated; at most one may be");
        }
        var primaries = identities.Where(f => f.Identity!.Primary).ToList();
        if (primaries.Count > 1)
        {
            throw Invalid($"fields '{primaries[0].Path}' and '{primaries[1].Path}' are both marked primary identity; at most one may be");
        }
        return new CompiledSchema(document, root, identities, context.LastUpdated.FirstOrDefault());
    }

    /// <summary>
    /// Reads a schema document as a user writes it (comments and trailing commas allowed), refusing the members that
    /// must not be <c>null</c> by name (<see cref="RefuseNullMembers"/>); malformed JSON throws <see cref="JsonException"/>.
    /// </summary>
    public static SchemaDocument? Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        using var document = JsonDocument.ParseValue(ref reader);
        RefuseNullMembers(document.RootElement);
        return document.RootElement.Deserialize(CatalogJson.Default.SchemaDocument);
    }

    /// <summary>
    /// Refuses a schema document whose <c>fields</c> or <c>fieldGroups</c> is written as <c>null</c>, naming the member: left
    /// out, either means none; written as null it is a mistake (a template's empty variable) that would register a schema
    /// without the fields it was meant to have. (The deserialized document cannot tell the two apart.)
    /// </summary>
    public static void RefuseNullMembers(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        foreach (var (member, what) in (ReadOnlySpan<(string, string)>)[("fields", "an object of fields"), ("fieldGroups", "an array of field groups")])
        {
            if (root.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.Null)
            {
                var name = root.TryGetProperty("name", out var named) && named.ValueKind == JsonValueKind.String ? $"schema '{named.GetString()}'" : "the schema";
                throw Invalid($"{name}: '{member}' is null; give it as {what} or leave it out");
            }
        }
    }

    /// <summary>The schema's own fields plus its field groups' (plus <c>_id</c>/<c>timestamp</c> for events).</summary>
    public static Dictionary<string, FieldDefinition> MergedFields(SchemaDocument document)
    {
        var fields = new Dictionary<string, FieldDefinition>(StringComparer.Ordinal);
        var origin = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string name, FieldDefinition field, string source)
        {
            if (fields.TryGetValue(name, out var existing))
            {
                if (!SameDefinition(existing, field))
                {
                    throw Invalid($"field '{name}' is defined by both {origin[name]} and {source} with different definitions");
                }
                return;
            }
            fields[name] = field;
            origin[name] = source;
        }
        var groupNumber = 0;
        foreach (var group in document.FieldGroups ?? [])
        {
            groupNumber++;
            // A JSON null reaches here although the members are required: refuse it by name.
            if (group is null || group.Name is null || group.Fields is null)
            {
                throw Invalid($"field group {groupNumber} must be an object with a 'name' and 'fields', found "
                    + (group is null ? "null" : group.Name is null ? "a null 'name'" : $"'{group.Name}' with null 'fields'"));
            }
            foreach (var (name, field) in group.Fields)
            {
                Add(name, RequireDefinition(field, name, $"field group '{group.Name}'"), $"field group '{group.Name}'");
            }
        }
        foreach (var (name, field) in document.Fields ?? new Dictionary<string, FieldDefinition>())
        {
            Add(name, RequireDefinition(field, name, "the schema"), "the schema");
        }
        if (document.Class == SchemaClass.Event)
        {
            RequireEventField(fields, CompiledSchema.IdField, FieldType.String);
            RequireEventField(fields, CompiledSchema.TimestampField, FieldType.DateTime);
        }
        return fields;
    }

    /// <summary>A field written as <c>null</c> (or an array's items, a map's values) is refused naming it.</summary>
    private static FieldDefinition RequireDefinition(FieldDefinition? field, string name, string where) =>
        field ?? throw Invalid($"{where}: field '{name}' is null; give its definition, e.g. {{\"type\": \"string\"}}");

    private static bool SameDefinition(FieldDefinition a, FieldDefinition b) =>
        System.Text.Json.JsonSerializer.Serialize(a, CatalogJson.Default.FieldDefinition) ==
        System.Text.Json.JsonSerializer.Serialize(b, CatalogJson.Default.FieldDefinition);

    private static void RequireEventField(Dictionary<string, FieldDefinition> fields, string name, FieldType type)
    {
        if (fields.TryGetValue(name, out var declared))
        {
            if (declared.Type != type)
            {
                throw Invalid($"field '{name}' of an event schema must be of type {TypeName(type)}, not {TypeName(declared.Type)}");
            }
            fields[name] = declared with { Required = true };
            return;
        }
        fields[name] = new FieldDefinition { Type = type, Required = true };
    }

    /// <summary>What compiling one schema collects across its fields.</summary>
    private sealed class BuildContext(SchemaClass schemaClass, Func<string, bool> namespaceExists)
    {
        public SchemaClass Class { get; } = schemaClass;

        public Func<string, bool> NamespaceExists { get; } = namespaceExists;

        public List<CompiledField> Identities { get; } = [];

        public List<CompiledField> LastUpdated { get; } = [];
    }

    private static void Build(CompiledField field, BuildContext context, bool insideCollection)
    {
        var definition = field.Definition;
        var where = field.Path.Length == 0 ? "the schema root" : $"field '{field.Path}'";
        foreach (var (bound, value) in new[] { ("min", definition.Min), ("max", definition.Max) })
        {
            if (value is { } number && !double.IsFinite(number))
            {
                throw Invalid($"{where}: {bound} must be a finite number (a JSON number beyond ±1.7976931348623157E+308 reads as infinity)");
            }
        }
        if (definition.Min is { } min && definition.Max is { } max && min > max)
        {
            throw Invalid($"{where}: min {min} is greater than max {max}");
        }
        if (definition.MaxLength is < 0)
        {
            throw Invalid($"{where}: maxLength must not be negative");
        }
        if (definition.Identity is { } identity)
        {
            if (definition.Type != FieldType.String)
            {
                throw Invalid($"{where}: only string fields can be identities (found {TypeName(definition.Type)})");
            }
            if (!context.NamespaceExists(identity.Namespace))
            {
                throw Invalid($"{where}: identity namespace '{identity.Namespace}' is not defined");
            }
            context.Identities.Add(field);
        }
        CheckMergeAnnotations(field, where, context, insideCollection);
        switch (definition.Type)
        {
            case FieldType.Object:
                var children = new Dictionary<string, CompiledField>(StringComparer.Ordinal);
                foreach (var (name, child) in definition.Fields ?? new Dictionary<string, FieldDefinition>())
                {
                    if (!FieldNamePattern().IsMatch(name))
                    {
                        throw Invalid($"{where}: field name '{name}' is not allowed (letters, digits, '_', '-', ':', '@')");
                    }
                    var path = field.Path.Length == 0 ? name : $"{field.Path}.{name}";
                    var compiled = NewField(path, name, child ?? throw Invalid($"field '{path}' is null; give its definition, e.g. {{\"type\": \"string\"}}"));
                    Build(compiled, context, insideCollection);
                    children[name] = compiled;
                }
                field.Children = System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(children, StringComparer.Ordinal);
                field.RequiredChildren = [.. children.Values.Where(c => c.Definition.Required).Select(c => c.Name)];
                break;
            case FieldType.Array:
                if (definition.Items is null)
                {
                    throw Invalid($"{where}: an array needs 'items'");
                }
                field.Items = NewField(field.Path + "[]", "[]", definition.Items);
                Build(field.Items, context, insideCollection: true);
                break;
            case FieldType.Map:
                if (definition.Values is null)
                {
                    throw Invalid($"{where}: a map needs 'values'");
                }
                field.Values = NewField(field.Path + "{}", "{}", definition.Values);
                Build(field.Values, context, insideCollection: true);
                break;
        }
    }

    /// <summary>
    /// <c>merge</c> and <c>lastUpdated</c> say how profile records merge, so they mean nothing on an
    /// event schema; a value inside an array or map has no single place in a record to merge at or to
    /// date the record by.
    /// </summary>
    private static void CheckMergeAnnotations(CompiledField field, string where, BuildContext context, bool insideCollection)
    {
        var definition = field.Definition;
        if (definition.Merge is not null)
        {
            if (context.Class != SchemaClass.Profile)
            {
                throw Invalid($"{where}: 'merge' applies only to profile schemas (events are not merged across records)");
            }
            if (definition.Type is not (FieldType.Array or FieldType.Map))
            {
                throw Invalid($"{where}: 'merge' applies only to array or map fields (found {TypeName(definition.Type)})");
            }
            if (insideCollection)
            {
                throw Invalid($"{where}: 'merge' cannot be set inside an array or map (the outer field's value merges as a whole)");
            }
        }
        if (definition.LastUpdated)
        {
            if (context.Class != SchemaClass.Profile)
            {
                throw Invalid($"{where}: 'lastUpdated' applies only to profile schemas (an event's time is its 'timestamp')");
            }
            if (definition.Type != FieldType.DateTime)
            {
                throw Invalid($"{where}: 'lastUpdated' must be on a date-time field (found {TypeName(definition.Type)})");
            }
            if (insideCollection)
            {
                throw Invalid($"{where}: 'lastUpdated' cannot be inside an array or map (a record has one last-updated time)");
            }
            context.LastUpdated.Add(field);
        }
    }

    /// <summary>
    /// Compiles a field; its pattern is compiled here, so a pattern that does not parse, or that
    /// the linear-time engine cannot run (look-arounds, back-references), is refused naming the field.
    /// </summary>
    private static CompiledField NewField(string path, string name, FieldDefinition definition)
    {
        try
        {
            return new CompiledField(path, name, definition);
        }
        catch (Exception error) when (definition.Pattern is not null && error is ArgumentException or NotSupportedException)
        {
            throw Invalid($"field '{path}': pattern is not a valid regular expression: {error.Message}");
        }
    }

    public static string TypeName(FieldType type) => type switch
    {
        FieldType.DateTime => "date-time",
        _ => type.ToString().ToLowerInvariant(),
    };

    private static CatalogException Invalid(string message) => new("SCHEMA_INVALID", message);
}

using System.Collections.Frozen;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tessera.Abstractions;

namespace Tessera.Catalog;

/// <summary>
/// A schema resolved for validation: field groups mixed in, event fields added, patterns compiled,
/// identity fields listed. Immutable and shared by every ingestion of its version.
/// </summary>
public sealed class CompiledSchema
{
    public const string IdField = "_id";
    public const string TimestampField = "timestamp";

    internal CompiledSchema(SchemaDocument document, CompiledField root, IReadOnlyList<CompiledField> identities, CompiledField? lastUpdated)
    {
        LastUpdatedField = lastUpdated;
        Document = document;
        Root = root;
        IdentityFields = identities;
        PrimaryIdentityField = identities.FirstOrDefault(f => f.Identity!.Primary);
    }

    public SchemaDocument Document { get; }

    public string Name => Document.Name;

    public int Version => Document.Version;

    public SchemaClass Class => Document.Class;

    public UnknownFieldPolicy UnknownFields => Document.UnknownFields;

    public CompiledField Root { get; }

    /// <summary>Scalar fields with an identity descriptor, in declaration order.</summary>
    public IReadOnlyList<CompiledField> IdentityFields { get; }

    public CompiledField? PrimaryIdentityField { get; }

    /// <summary>
    /// The date-time field marked <c>lastUpdated</c> (profile schemas, at most one, never inside an
    /// array or map): a record's own time, which orders its versions instead of the ingestion time.
    /// </summary>
    public CompiledField? LastUpdatedField { get; }

    /// <summary>Finds a field by dotted path (<c>loyalty.tier</c>); null when the schema has none.</summary>
    public CompiledField? Resolve(string dottedPath)
    {
        var field = Root;
        foreach (var part in dottedPath.Split('.'))
        {
            if (field.Children is null || !field.Children.TryGetValue(part, out var child))
            {
                return null;
            }
            field = child;
        }
        return field;
    }
}

/// <summary>One field of a compiled schema, with its dotted path and compiled constraints.</summary>
public sealed class CompiledField
{
    internal CompiledField(string path, string name, FieldDefinition definition)
    {
        Path = path;
        Name = name;
        EncodedName = JsonEncodedText.Encode(name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
        Definition = definition;
        Pattern = definition.Pattern is null ? null : new Regex(definition.Pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        Enum = definition.Enum?.ToFrozenSet(StringComparer.Ordinal);
        EnumBySpan = Enum?.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Path { get; }

    public string Name { get; }

    /// <summary>
    /// <see cref="Name"/> encoded once for JSON writers, which otherwise transcode and escape it on every write;
    /// with the relaxed escaping of the stored form's writer, so that the bytes are those it would write.
    /// </summary>
    public JsonEncodedText EncodedName { get; }

    public FieldDefinition Definition { get; }

    public FieldType Type => Definition.Type;

    public Regex? Pattern { get; }

    public FrozenSet<string>? Enum { get; }

    /// <summary><see cref="Enum"/> asked with a span (no string), resolved once: asking the set for it costs a type test and a delegate per call.</summary>
    public FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>>? EnumBySpan { get; }

    public IdentityDescriptor? Identity => Definition.Identity;

    /// <summary>How this field's values merge across profile records (arrays and maps; <see cref="FieldMerge.Replace"/> when unset).</summary>
    public FieldMerge Merge => Definition.Merge ?? FieldMerge.Replace;

    public FrozenDictionary<string, CompiledField>? Children
    {
        get;
        internal set
        {
            field = value;
            ChildrenBySpan = value?.GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }

    /// <summary><see cref="Children"/> looked up by a span of the name (no string), resolved once as <see cref="EnumBySpan"/>.</summary>
    public FrozenDictionary<string, CompiledField>.AlternateLookup<ReadOnlySpan<char>>? ChildrenBySpan { get; private set; }

    /// <summary>Names of required children (objects only).</summary>
    public string[] RequiredChildren { get; internal set; } = [];

    public CompiledField? Items { get; internal set; }

    public CompiledField? Values { get; internal set; }

    public bool Open => Definition.Open;

    public override string ToString() => Path;
}

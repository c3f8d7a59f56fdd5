using System.Collections.Frozen;
using Tessera.Abstractions;
using Tessera.Catalog;

namespace Tessera.Profiles.Fragments;

/// <summary>How a field's values fold: objects field by field, everything else whole, or as a union.</summary>
public enum FieldKind : byte
{
    /// <summary>A scalar, an array, a map or an open object: a newer value replaces the older one whole.</summary>
    Value,
    /// <summary>An object of declared fields: each field folds on its own.</summary>
    Object,
    /// <summary>An array whose schema says <c>union</c>: the distinct elements of every value.</summary>
    UnionArray,
    /// <summary>A map whose schema says <c>union</c>: key by key, the newer value per key.</summary>
    UnionMap,
}

/// <summary>
/// What a profile schema says about folding its records: the kind of each field by dotted path.
/// Paths the schema does not know (a record stored under an older version, an open object's
/// content) are folded whole.
/// </summary>
public sealed class FieldShape
{
    private readonly FrozenDictionary<string, FieldKind> _kinds;

    private FieldShape(FrozenDictionary<string, FieldKind> kinds) => _kinds = kinds;

    /// <summary>A shape that folds every top-level field whole (no schema knowledge).</summary>
    public static FieldShape Flat { get; } = new(FrozenDictionary<string, FieldKind>.Empty);

    public static FieldShape Of(CompiledSchema schema)
    {
        var kinds = new Dictionary<string, FieldKind>(StringComparer.Ordinal);
        if (schema.Root.Children is { } children)
        {
            foreach (var child in children.Values)
            {
                Add(child, kinds);
            }
        }
        return new FieldShape(kinds.ToFrozenDictionary(StringComparer.Ordinal));
    }

    public static FieldShape Of(IReadOnlyDictionary<string, FieldKind> kinds) => new(kinds.ToFrozenDictionary(StringComparer.Ordinal));

    public FieldKind KindOf(string path) => _kinds.TryGetValue(path, out var kind) ? kind : FieldKind.Value;

    private static void Add(CompiledField field, Dictionary<string, FieldKind> kinds)
    {
        switch (field.Type)
        {
            case FieldType.Object when !field.Definition.Open && field.Children is { } children:
                kinds[field.Path] = FieldKind.Object;
                foreach (var child in children.Values)
                {
                    Add(child, kinds);
                }
                break;
            case FieldType.Array when field.Merge == FieldMerge.Union:
                kinds[field.Path] = FieldKind.UnionArray;
                break;
            case FieldType.Map when field.Merge == FieldMerge.Union:
                kinds[field.Path] = FieldKind.UnionMap;
                break;
        }
    }
}

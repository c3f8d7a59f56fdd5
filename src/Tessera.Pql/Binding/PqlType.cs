namespace Tessera.Pql.Binding;

/// <summary>
/// The shape of a value as the checker knows it: an object of named fields, an array of items, a map
/// of values, a scalar, or <see cref="Unknown"/> (compatible with everything; nothing below it is checked).
/// </summary>
public abstract record PqlType
{
    public static PqlType Unknown { get; } = new ScalarType("unknown");
    public static ScalarType String { get; } = new("string");
    public static ScalarType Int { get; } = new("int");
    public static ScalarType Long { get; } = new("long");
    public static ScalarType Double { get; } = new("double");
    public static ScalarType Boolean { get; } = new("boolean");
    public static ScalarType Date { get; } = new("date");
    public static ScalarType DateTime { get; } = new("date-time");
    /// <summary>The type of the literal <c>null</c>: compatible with everything, like <see cref="Unknown"/>.</summary>
    public static ScalarType Null { get; } = new("null");

    public bool IsUnknown => this is ScalarType { Name: "unknown" or "null" };

    public bool IsNumber => this is ScalarType { Name: "int" or "long" or "double" };

    public bool IsInteger => this is ScalarType { Name: "int" or "long" };

    public bool IsTemporal => this is ScalarType { Name: "date" or "date-time" };
}

public sealed record ScalarType(string Name) : PqlType
{
    public override string ToString() => Name;
}

public sealed record ArrayType(PqlType Item) : PqlType
{
    public override string ToString() => $"array of {Item}";
}

public sealed record MapType(PqlType Value) : PqlType
{
    public override string ToString() => $"map of {Value}";
}

/// <summary>An object; <see cref="Open"/> accepts any field below it unchecked (a free-form bag).</summary>
public sealed record ObjectType(IReadOnlyDictionary<string, PqlType> Fields, bool Open = false) : PqlType
{
    /// <summary>The profile to check against when there is neither a schema nor a sample: every field is accepted, unchecked.</summary>
    public static ObjectType OpenProfile { get; } = new(new Dictionary<string, PqlType>(StringComparer.Ordinal), Open: true);

    public override string ToString() => "object";
}

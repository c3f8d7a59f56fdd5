namespace Tessera.Pql.Binding;

/// <summary>
/// The shape of a value as the binder knows it: an object of named fields, an array of items, a map
/// of values, a scalar, or <see cref="Unknown"/> (what a function returns until the checker types it;
/// nothing below an unknown is checked).
/// </summary>
public abstract record PqlType
{
    public static PqlType Unknown { get; } = new ScalarType("unknown");
}

public sealed record ScalarType(string Name) : PqlType;

public sealed record ArrayType(PqlType Item) : PqlType;

public sealed record MapType(PqlType Value) : PqlType;

/// <summary>An object; <see cref="Open"/> accepts any field below it unchecked (a free-form bag).</summary>
public sealed record ObjectType(IReadOnlyDictionary<string, PqlType> Fields, bool Open = false) : PqlType;

namespace Tessera.Abstractions;

/// <summary>An identity found in a record: namespace code and value as written (normalization is the identity stage's).</summary>
public readonly record struct IdentityValue(string Namespace, string Value, bool Primary)
{
    public override string ToString() => $"{Namespace}:{Value}";
}

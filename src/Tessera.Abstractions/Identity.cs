namespace Tessera.Abstractions;

/// <summary>An identity found in a record: namespace code and value, normalized by its namespace (docs/identity.md).</summary>
public readonly record struct IdentityValue(string Namespace, string Value, bool Primary)
{
    public override string ToString() => $"{Namespace}:{Value}";
}

/// <summary>
/// The rules a sandbox's identity graph is derived under (see docs/identity.md): namespaces a graph
/// may hold at most one identity of, the order that picks a graph's primary identity, and the size cap.
/// </summary>
public sealed record IdentityGraphRules
{
    public const int DefaultMaxIdentities = 50;

    /// <summary>At most one identity of each of these namespaces per graph (a person id such as CRMID).</summary>
    public List<string> UniqueNamespaces { get; set; } = [];

    /// <summary>Highest first; decides the primary identity. Unlisted namespaces follow, ordered by their type.</summary>
    public List<string> Priority { get; set; } = [];

    /// <summary>Most identities in one graph; links that would exceed it are cut, oldest first.</summary>
    public int MaxIdentities { get; set; } = DefaultMaxIdentities;

    /// <summary>What a new sandbox starts with: a CRM id is a person, so two of them never share a graph.</summary>
    public static IdentityGraphRules Default() => new() { UniqueNamespaces = ["CRMID"] };
}

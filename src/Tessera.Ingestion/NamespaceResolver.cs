using Tessera.Abstractions;

namespace Tessera.Ingestion;

/// <summary>
/// Resolves an identityMap key to a namespace code of the sandbox: the code itself, or Adobe's
/// numeric form <c>https://data.adobe.io/entities/namespace/{id}</c> for a namespace that carries
/// that <see cref="IdentityNamespace.NumericId"/> (so XDM documents written for Adobe ingest as they are).
/// </summary>
public sealed class NamespaceResolver
{
    public const string AdobeNamespacePrefix = "https://data.adobe.io/entities/namespace/";

    private readonly Dictionary<string, string> _codes = new(StringComparer.Ordinal);

    public NamespaceResolver(IEnumerable<IdentityNamespace> namespaces)
    {
        foreach (var ns in namespaces)
        {
            _codes[ns.Code] = ns.Code;
            if (ns.NumericId is { } id)
            {
                _codes[AdobeNamespacePrefix + id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = ns.Code;
            }
        }
    }

    /// <summary>The namespace code <paramref name="key"/> names, or null when the sandbox has none.</summary>
    public string? Resolve(string key) => _codes.GetValueOrDefault(key);
}

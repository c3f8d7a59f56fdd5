using Tessera.Abstractions;
using Tessera.Identity.Normalization;

namespace Tessera.Ingestion;

/// <summary>
/// The identity namespaces of a sandbox as ingestion uses them: resolves an identityMap key to a
/// namespace code (the code itself, or Adobe's numeric form
/// <c>https://data.adobe.io/entities/namespace/{id}</c> for a namespace that carries that
/// <see cref="IdentityNamespace.NumericId"/>, so XDM documents written for Adobe ingest as they
/// are), and holds each namespace's <see cref="IdentityNormalizer"/>. Built once per batch or
/// request; read-only after construction, so parallel validation workers share it.
/// </summary>
public sealed class NamespaceResolver
{
    public const string AdobeNamespacePrefix = "https://data.adobe.io/entities/namespace/";

    private readonly Dictionary<string, string> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IdentityNormalizer> _normalizers = new(StringComparer.Ordinal);

    /// <param name="phoneRegion">The workspace's default phone region (namespaces may set their own).</param>
    public NamespaceResolver(IEnumerable<IdentityNamespace> namespaces, string? phoneRegion = null)
    {
        foreach (var ns in namespaces)
        {
            _codes[ns.Code] = ns.Code;
            if (ns.NumericId is { } id)
            {
                _codes[AdobeNamespacePrefix + id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = ns.Code;
            }
            _normalizers[ns.Code] = new IdentityNormalizer(ns, phoneRegion);
        }
    }

    /// <summary>The namespace code <paramref name="key"/> names, or null when the sandbox has none.</summary>
    public string? Resolve(string key) => _codes.GetValueOrDefault(key);

    /// <summary>The normalizer of namespace <paramref name="code"/>, or null when the sandbox has no such namespace.</summary>
    public IdentityNormalizer? NormalizerOf(string code) => _normalizers.GetValueOrDefault(code);
}

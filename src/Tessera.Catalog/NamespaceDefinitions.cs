using PhoneNumbers;
using Tessera.Abstractions;

namespace Tessera.Catalog;

/// <summary>Checks and canonical forms of a namespace's normalization settings (format, default region, blocked values).</summary>
public static class NamespaceDefinitions
{
    public const int MaxBlockedValues = 1000;
    public const int MaxBlockedValueLength = 256;

    /// <summary>
    /// Namespaces stored before formats existed carry none; a standard one takes its format from the
    /// standard set (the hashed and device namespaces would otherwise fall back to their type's).
    /// </summary>
    public static IdentityNamespace WithStandardFormat(IdentityNamespace ns) =>
        ns is { Standard: true, Format: null } && StandardNamespaces.Find(ns.Code) is { Format: { } format } ? ns with { Format = format } : ns;

    /// <summary>Whether libphonenumber knows <paramref name="region"/> (an upper-case ISO 3166 alpha-2 code).</summary>
    public static bool IsPhoneRegion(string region) =>
        region.Length == 2 && char.IsAsciiLetterUpper(region[0]) && char.IsAsciiLetterUpper(region[1])
        && PhoneNumberUtil.GetInstance().GetSupportedRegions().Contains(region);

    /// <summary>
    /// The definition as it is stored: region upper-cased, blocked values trimmed and deduplicated
    /// (an empty one is dropped: the empty value is always blocked). Refuses, with
    /// <c>NAMESPACE_INVALID</c>, a region that is not a known one or is set for a format other
    /// than phone, and too many or too long blocked values.
    /// </summary>
    public static IdentityNamespace Checked(IdentityNamespace ns)
    {
        if (ns.NumericId is <= 0 and var id)
        {
            // Adobe numbers its namespaces from 1 (ECID is 4, Email 6): zero or less names no namespace an identityMap could use.
            throw Invalid(ns, $"numeric id {id} must be a positive integer, as Adobe's namespace ids are");
        }
        var region = ns.DefaultRegion?.Trim().ToUpperInvariant();
        if (region is not null)
        {
            if (ns.EffectiveFormat != IdentityFormat.Phone)
            {
                throw Invalid(ns, $"a default region applies to the phone format only, the namespace's format is {FormatName(ns.EffectiveFormat)}");
            }
            if (!IsPhoneRegion(region))
            {
                throw Invalid(ns, $"default region '{ns.DefaultRegion}' is not an ISO 3166 alpha-2 region known to libphonenumber (e.g. US, GB, DE)");
            }
        }
        List<string>? blocked = null;
        if (ns.BlockedValues is { } values)
        {
            if (values.Count > MaxBlockedValues)
            {
                throw Invalid(ns, $"{values.Count} blocked values, more than {MaxBlockedValues}");
            }
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            blocked = [];
            foreach (var value in values)
            {
                var trimmed = value?.Trim() ?? "";
                if (trimmed.Length > MaxBlockedValueLength)
                {
                    throw Invalid(ns, $"blocked value '{trimmed[..32]}...' is longer than {MaxBlockedValueLength} characters");
                }
                if (trimmed.Length > 0 && seen.Add(trimmed))
                {
                    blocked.Add(trimmed);
                }
            }
        }
        return ns with { DefaultRegion = region, BlockedValues = blocked is { Count: > 0 } ? blocked : null };
    }

    /// <summary>
    /// What <paramref name="requested"/> sets differently from <paramref name="existing"/> (only the
    /// settings the request gives are compared), or null when nothing differs.
    /// </summary>
    public static string? Difference(IdentityNamespace existing, IdentityNamespace requested)
    {
        if (requested.Format is { } format && format != existing.EffectiveFormat)
        {
            return $"format {FormatName(existing.EffectiveFormat)}, not {FormatName(format)}";
        }
        if (requested.DefaultRegion is { } region && region != existing.DefaultRegion)
        {
            return $"default region {existing.DefaultRegion ?? "(the workspace's)"}, not {region}";
        }
        if (requested.BlockedValues is { } blocked
            && !new HashSet<string>(blocked, StringComparer.OrdinalIgnoreCase).SetEquals(existing.BlockedValues ?? []))
        {
            return $"other blocked values ([{string.Join(", ", existing.BlockedValues ?? [])}])";
        }
        if (requested.DefaultBlockedValues is { } defaults && defaults != (existing.DefaultBlockedValues ?? true))
        {
            return $"the default blocked values {(defaults ? "off" : "on")}";
        }
        return null;
    }

    public static string FormatName(IdentityFormat format) => format switch
    {
        IdentityFormat.Text => "text",
        IdentityFormat.Email => "email",
        IdentityFormat.Phone => "phone",
        IdentityFormat.Sha256 => "sha256",
        IdentityFormat.Uuid => "uuid",
        _ => format.ToString(),
    };

    private static CatalogException Invalid(IdentityNamespace ns, string message) => new("NAMESPACE_INVALID", $"namespace '{ns.Code}': {message}");
}

using Tessera.Abstractions;

namespace Tessera.Catalog;

/// <summary>The namespaces every sandbox starts with (codes follow Adobe's standard set where one exists).</summary>
public static class StandardNamespaces
{
    public const string Ecid = "ECID";
    public const string Email = "Email";
    public const string Phone = "Phone";
    public const string EmailSha256 = "Email_LC_SHA256";
    public const string PhoneSha256 = "Phone_SHA256";
    public const string CrmId = "CRMID";
    public const string LoyaltyId = "LoyaltyID";
    public const string Idfa = "IDFA";
    public const string Gaid = "GAID";

    /// <remarks>
    /// ECID keeps the text format: it holds whatever first-party id the web or app SDK sets (a
    /// Segment <c>anonymousId</c> is a UUID, Adobe's ECID a long run of digits), so only blocked
    /// values are refused there.
    /// </remarks>
    public static IReadOnlyList<IdentityNamespace> All { get; } =
    [
        Make(Ecid, "First-party device id", IdentityType.Cookie, "First-party cookie/device id set by the web or app SDK (like Adobe's ECID).", IdentityFormat.Text, 4),
        Make(Email, "Email", IdentityType.Email, "Email address; normalized by trimming and lower-casing.", IdentityFormat.Email, 6),
        Make(Phone, "Phone", IdentityType.Phone, "Phone number in E.164.", IdentityFormat.Phone, 7),
        Make(EmailSha256, "Email (SHA-256, lower-cased)", IdentityType.Email, "SHA-256 of the normalized email, 64 lowercase hex.", IdentityFormat.Sha256),
        Make(PhoneSha256, "Phone (SHA-256)", IdentityType.Phone, "SHA-256 of the E.164 phone number, 64 lowercase hex.", IdentityFormat.Sha256),
        Make(CrmId, "CRM id", IdentityType.CrossDevice, "Customer id from the CRM.", IdentityFormat.Text),
        Make(LoyaltyId, "Loyalty id", IdentityType.CrossDevice, "Loyalty programme member id.", IdentityFormat.Text),
        Make(Idfa, "Apple IDFA", IdentityType.Device, "Apple identifier for advertisers (UUID).", IdentityFormat.Uuid, 20915),
        Make(Gaid, "Google Advertising ID", IdentityType.Device, "Google advertising id (UUID).", IdentityFormat.Uuid, 20914),
    ];

    /// <summary>The standard namespace of <paramref name="code"/>, or null.</summary>
    public static IdentityNamespace? Find(string code)
    {
        foreach (var ns in All)
        {
            if (ns.Code == code)
            {
                return ns;
            }
        }
        return null;
    }

    /// <param name="numericId">Adobe's integer id for the same standard namespace, where it has one.</param>
    private static IdentityNamespace Make(string code, string name, IdentityType type, string description, IdentityFormat format, int? numericId = null) =>
        new() { Code = code, Name = name, Type = type, Standard = true, Description = description, Format = format, NumericId = numericId };
}

namespace Tessera.Activation.Connectors;

/// <summary>The connector types a destination may name, and what each needs.</summary>
public static class ConnectorTypes
{
    public const string File = "file";

    private static readonly Dictionary<string, IHttpConnector> s_http = Register([new WebhookConnector(), .. Platforms.PlatformConnectors.All]);

    /// <summary>Every type: the HTTP connectors and <c>file</c>.</summary>
    public static IEnumerable<string> All => s_http.Keys.Append(File).Order(StringComparer.Ordinal);

    public static IHttpConnector? Http(string type) => s_http.GetValueOrDefault(type);

    /// <summary>The consent purpose a connector needs unless its destination names another.</summary>
    public static string DefaultConsent(string type) => type switch
    {
        "email" => "email",
        "sms" => "sms",
        "meta" or "google" or "tiktok" or "ttd" or "linkedin" => "adTargeting",
        _ => "none",
    };

    /// <summary>Connectors that hash by the platform's rules (a mapping's own <c>hash</c> is for webhook and file destinations).</summary>
    public static bool HashesByPlatformRules(string type) => type is not ("webhook" or File);

    private static Dictionary<string, IHttpConnector> Register(IHttpConnector[] connectors) =>
        connectors.ToDictionary(c => c.Type, StringComparer.Ordinal);
}

using System.Collections.Frozen;

namespace Tessera.Activation.Connectors.Platforms;

/// <summary>The platform connectors by the type a destination names (<c>meta</c>, <c>google</c>, <c>tiktok</c>, <c>ttd</c>, <c>linkedin</c>, <c>email</c>, <c>sms</c>).</summary>
public static class PlatformConnectors
{
    /// <summary>Every platform connector, each once (they are stateless).</summary>
    public static IReadOnlyList<IHttpConnector> All { get; } =
    [
        new MetaCustomAudienceConnector(),
        new GoogleCustomerMatchConnector(),
        new TikTokAudienceConnector(),
        new TradeDeskDataConnector(),
        new LinkedInDmpSegmentConnector(),
        new EmailServiceConnector(),
        new SmsServiceConnector(),
    ];

    public static FrozenDictionary<string, IHttpConnector> ByType { get; } = All.ToFrozenDictionary(c => c.Type, StringComparer.OrdinalIgnoreCase);

    public static IHttpConnector? Find(string type) => ByType.TryGetValue(type, out var connector) ? connector : null;
}

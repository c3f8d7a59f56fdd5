using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tessera.Activation.Connectors;

namespace Tessera.Activation.Tests.Platforms;

internal static class ConnectorTestKit
{
    public static readonly DateTimeOffset At = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    public static DeliveryRecord Record(string profile, DeliveryOperation operation, params (string Target, string Value)[] keys) =>
        RecordIn("aud-1", profile, operation, keys);

    public static DeliveryRecord RecordIn(string audience, string profile, DeliveryOperation operation, params (string Target, string Value)[] keys) =>
        new(1, audience, profile, operation, At, [.. keys.Select(k => new MatchKey(k.Target, k.Value))], []);

    public static ConnectorContext Context(params (string Name, string Value)[] settings) =>
        new("dest", "batch-42", settings.ToDictionary(s => s.Name, s => s.Value), new Dictionary<string, string> { ["aud-1"] = "ext-1" });

    public static JsonElement Body(OutgoingRequest request)
    {
        Assert.Equal("application/json", request.ContentType);
        using var document = JsonDocument.Parse(request.Body);
        return document.RootElement.Clone();
    }

    public static string Sha256Hex(string normalized) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));

    public static string Header(OutgoingRequest request, string name) => request.Headers.Single(h => h.Key == name).Value;

    public static List<string?> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString())];
}

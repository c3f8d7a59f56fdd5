using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>Platform connectors through the whole delivery path (feed, mapping, consent, HTTP) against a local receiver.</summary>
public sealed class PlatformDeliveryTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Meta_gets_hashed_keys_on_its_users_edge_and_removals_as_DELETE_only_for_consenting_profiles()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        // 1–6 consent to ad targeting, 7–8 refuse.
        await ws.CustomersAsync(Enumerable.Range(1, 8), _ => "gold", i => i <= 6);
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", new Destination
        {
            Name = "meta-ads",
            Connector = "meta",
            Settings = new(StringComparer.Ordinal) { ["endpoint"] = receiver.Address.ToString(), ["authHeader"] = "Authorization", ["authValue"] = "Bearer meta-token" },
            Audiences = [new ActivatedAudience { AudienceId = ws.GoldId, ExternalId = "23850000000001" }],
            Identities = [new FieldMapping { Source = "Email", Target = "EMAIL" }, new FieldMapping { Source = "Phone", Target = "PHONE" }],
            MarketingAction = "onsiteAdvertising",
        }, Token);

        var backfill = Assert.Single(await ws.Activation.DrainAsync("prod", "meta-ads", Token));
        Assert.Equal(6, backfill.Activated);
        Assert.Equal(2, backfill.Excluded[ExclusionReasons.Consent]);
        var add = Assert.Single(receiver.Accepted);
        Assert.Equal("POST", add.Method);
        Assert.EndsWith("/23850000000001/users", add.Path, StringComparison.Ordinal);
        Assert.Equal("Bearer meta-token", add.Authorization);
        using (var body = JsonDocument.Parse(add.Body))
        {
            var payload = body.RootElement.GetProperty("payload");
            Assert.Equal(["EMAIL", "PHONE"], payload.GetProperty("schema").EnumerateArray().Select(e => e.GetString()));
            var rows = payload.GetProperty("data").EnumerateArray().ToList();
            Assert.Equal(6, rows.Count);
            var emails = rows.Select(r => r[0].GetString()).ToHashSet();
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("user1@example.com"))), emails);
            Assert.DoesNotContain(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("user7@example.com"))), emails);
            // Meta's phone rule: digits with the country code, no '+'.
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("16505550001"))), rows.Select(r => r[1].GetString()));
        }

        // 2 leaves: a removal is sent (no consent needed to be forgotten).
        await ws.CustomersAsync([2], _ => "silver", _ => true);
        ws.Time.Advance(TimeSpan.FromMinutes(1));
        await ws.EvaluateAsync();
        var feed = Assert.Single(await ws.Activation.DrainAsync("prod", "meta-ads", Token));
        Assert.Equal(1, feed.Activated);
        var remove = receiver.Accepted.Last();
        Assert.Equal("DELETE", remove.Method);
        Assert.EndsWith("/23850000000001/users", remove.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Platform_keys_are_checked_when_the_destination_is_saved()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var error = await Assert.ThrowsAsync<Tessera.Abstractions.CatalogException>(() => ws.Activation.CreateAsync("prod", new Destination
        {
            Name = "meta-ads",
            Connector = "meta",
            Settings = new(StringComparer.Ordinal) { ["endpoint"] = "http://127.0.0.1:9/" },
            Audiences = [new ActivatedAudience { AudienceId = ws.GoldId }],
            Identities = [new FieldMapping { Source = "Email", Target = "email_address" }],
        }, Token));
        Assert.Contains("identities[0].target 'email_address' is not a key meta accepts", error.Message, StringComparison.Ordinal);
    }
}

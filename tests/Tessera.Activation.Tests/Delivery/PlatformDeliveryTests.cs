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

/// <summary>
/// Every HTTP connector through the whole delivery path against a local receiver that checks the
/// documented request: method, path, headers and JSON shape (docs/destinations-hashing.md), for a
/// backfill of three members and then one exit.
/// </summary>
public sealed class ConnectorConformanceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string> Connectors => ["google", "tiktok", "ttd", "linkedin", "email", "sms"];

    private static (Dictionary<string, string> Settings, List<FieldMapping> Identities) Setup(string connector) => connector switch
    {
        "google" => (new() { ["customerId"] = "1234567890" }, [new() { Source = "Email", Target = "hashedEmail" }, new() { Source = "Phone", Target = "hashedPhoneNumber" }]),
        "tiktok" => (new() { ["advertiserIds"] = "7000000000001" }, [new() { Source = "Email", Target = "EMAIL_SHA256" }, new() { Source = "Phone", Target = "PHONE_SHA256" }]),
        "ttd" => (new() { ["advertiserId"] = "adv123" }, [new() { Source = "CRMID", Target = "TDID" }]),
        "linkedin" => (new(), [new() { Source = "Email", Target = "SHA256_EMAIL" }]),
        "email" => (new() { ["unsubscribeGroupId"] = "42" }, [new() { Source = "Email", Target = "email" }]),
        _ => (new(), [new() { Source = "Phone", Target = "phone_number" }]),
    };

    /// <summary>The documented request of each connector: method and path of an add and of a remove, and what the body holds.</summary>
    private static void Check(string connector, ReceivedRequest request, bool remove)
    {
        using var document = JsonDocument.Parse(request.Body);
        var body = document.RootElement;
        Assert.False(string.IsNullOrEmpty(request.IdempotencyKey));
        switch (connector)
        {
            case "google":
                Assert.Equal("POST", request.Method);
                Assert.EndsWith("/customers/1234567890/offlineUserDataJobs/987:addOperations", request.Path, StringComparison.Ordinal);
                var operation = body.GetProperty("operations")[0];
                var identifiers = operation.GetProperty(remove ? "remove" : "create").GetProperty("userIdentifiers");
                Assert.Matches("^[0-9a-f]{64}$", identifiers.EnumerateArray().First(i => i.TryGetProperty("hashedEmail", out _)).GetProperty("hashedEmail").GetString()!);
                break;
            case "tiktok":
                Assert.Equal("POST", request.Method);
                Assert.EndsWith("/segment/mapping/", request.Path, StringComparison.Ordinal);
                Assert.Equal(remove ? "delete" : "add", body.GetProperty("action").GetString());
                Assert.Equal("7000000000001", body.GetProperty("advertiser_ids")[0].GetString());
                Assert.True(body.GetProperty("batch_data").GetArrayLength() > 0);
                break;
            case "ttd":
                Assert.Equal("POST", request.Method);
                Assert.EndsWith("/data/advertiser", request.Path, StringComparison.Ordinal);
                Assert.Equal("adv123", body.GetProperty("AdvertiserId").GetString());
                var item = body.GetProperty("Items")[0];
                Assert.StartsWith("c", item.GetProperty("TDID").GetString(), StringComparison.Ordinal);
                Assert.Equal(remove ? 0 : 43_200, item.GetProperty("Data")[0].GetProperty("TTLInMinutes").GetInt32());
                break;
            case "linkedin":
                Assert.Equal("POST", request.Method);
                Assert.Contains("/rest/dmpSegments/ext-gold/users", request.Path, StringComparison.Ordinal);
                var element = body.GetProperty("elements")[0];
                Assert.Equal(remove ? "REMOVE" : "ADD", element.GetProperty("action").GetString());
                Assert.Equal("SHA256_EMAIL", element.GetProperty("userIds")[0].GetProperty("idType").GetString());
                break;
            case "email":
                if (remove)
                {
                    Assert.Equal("POST", request.Method);
                    Assert.EndsWith("/v3/asm/groups/42/suppressions", request.Path, StringComparison.Ordinal);
                    Assert.Contains("@example.com", body.GetProperty("recipient_emails")[0].GetString(), StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal("PUT", request.Method);
                    Assert.EndsWith("/v3/marketing/contacts", request.Path, StringComparison.Ordinal);
                    Assert.Equal("ext-gold", body.GetProperty("list_ids")[0].GetString());
                    Assert.Equal(3, body.GetProperty("contacts").GetArrayLength());
                }
                break;
            default:
                Assert.Equal("POST", request.Method);
                Assert.EndsWith(remove ? "/api/profile-subscription-bulk-delete-jobs" : "/api/profile-subscription-bulk-create-jobs", request.Path, StringComparison.Ordinal);
                Assert.Contains("phone_number", Encoding.UTF8.GetString(request.Body), StringComparison.Ordinal);
                break;
        }
    }

    /// <summary>
    /// The requests carrying members. Google's come between creating an offline user data job
    /// (answered with its resource name) and running it, each batch its own job.
    /// </summary>
    private static List<ReceivedRequest> Operations(string connector, LocalReceiver receiver)
    {
        var accepted = receiver.Accepted.ToList();
        if (connector != "google")
        {
            return accepted;
        }
        Assert.Equal(0, accepted.Count % 3);
        for (var i = 0; i < accepted.Count; i += 3)
        {
            Assert.EndsWith("/customers/1234567890/offlineUserDataJobs:create", accepted[i].Path, StringComparison.Ordinal);
            Assert.EndsWith("/offlineUserDataJobs/987:addOperations", accepted[i + 1].Path, StringComparison.Ordinal);
            Assert.EndsWith("/offlineUserDataJobs/987:run", accepted[i + 2].Path, StringComparison.Ordinal);
        }
        return [.. accepted.Where(r => r.Path.EndsWith(":addOperations", StringComparison.Ordinal))];
    }

    [Theory]
    [MemberData(nameof(Connectors))]
    public async Task Each_connector_sends_its_documented_requests_through_delivery(string connector)
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Body = path => path.EndsWith(":create", StringComparison.Ordinal) ? "{\"resourceName\": \"customers/1234567890/offlineUserDataJobs/987\"}" : "{}";
        await ws.CustomersAsync(Enumerable.Range(1, 3), _ => "gold", _ => true);
        await ws.EvaluateAsync();
        var (settings, identities) = Setup(connector);
        settings["endpoint"] = receiver.Address.ToString();
        await ws.Activation.CreateAsync("prod", new Destination
        {
            Name = connector + "-dest",
            Connector = connector,
            Settings = settings,
            Audiences = [new ActivatedAudience { AudienceId = ws.GoldId, ExternalId = "ext-gold" }],
            Identities = identities,
            Consent = "none",
        }, Token);

        var backfill = Assert.Single(await ws.Activation.DrainAsync("prod", connector + "-dest", Token));
        Assert.Equal(RunStatuses.Delivered, backfill.Status);
        Assert.Equal(3, backfill.Activated);
        Check(connector, Operations(connector, receiver).Single(), remove: false);

        await ws.CustomersAsync([1], _ => "silver", _ => true);
        ws.Time.Advance(TimeSpan.FromMinutes(1));
        await ws.EvaluateAsync();
        var exit = Assert.Single(await ws.Activation.DrainAsync("prod", connector + "-dest", Token));
        Assert.Equal(1, exit.Activated);
        Check(connector, Operations(connector, receiver).Last(), remove: true);
    }
}

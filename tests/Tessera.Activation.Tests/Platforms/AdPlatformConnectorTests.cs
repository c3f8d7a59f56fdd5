using System.Text.Json;
using Tessera.Activation.Connectors.Platforms;
using static Tessera.Activation.Tests.Platforms.ConnectorTestKit;

namespace Tessera.Activation.Tests.Platforms;

public sealed class GoogleCustomerMatchConnectorTests
{
    private readonly GoogleCustomerMatchConnector _connector = new();

    [Fact]
    public void Create_and_remove_operations_with_hashed_identifiers_and_address_info()
    {
        var build = _connector.BuildWithReport(Context(("customerId", "1234567890"), ("jobId:ext-1", "555")), [
            Record("p1", DeliveryOperation.Add, ("hashedEmail", "Jane.Doe+news@GoogleMail.com"), ("hashedPhoneNumber", "(800) 555-0100")),
            Record("p2", DeliveryOperation.Add, ("hashedFirstName", " Jane "), ("hashedLastName", "Doe"), ("countryCode", "us"), ("postalCode", "94016")),
            Record("p3", DeliveryOperation.Remove, ("hashedEmail", "x@example.com"), ("hashedFirstName", "Partial")),
        ]);

        Assert.Empty(build.Skipped);
        var request = Assert.Single(build.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v22/customers/1234567890/offlineUserDataJobs/555:addOperations", request.Path);
        Assert.Equal(3, request.Records);
        var body = Body(request);
        Assert.True(body.GetProperty("enablePartialFailure").GetBoolean());
        var operations = body.GetProperty("operations").EnumerateArray().ToList();

        var first = operations[0].GetProperty("create").GetProperty("userIdentifiers").EnumerateArray().ToList();
        Assert.Equal(Sha256Hex("janedoe@googlemail.com"), first[0].GetProperty("hashedEmail").GetString());
        Assert.Equal(Sha256Hex("+18005550100"), first[1].GetProperty("hashedPhoneNumber").GetString());

        var address = operations[1].GetProperty("create").GetProperty("userIdentifiers")[0].GetProperty("addressInfo");
        Assert.Equal(Sha256Hex("jane"), address.GetProperty("hashedFirstName").GetString());
        Assert.Equal(Sha256Hex("doe"), address.GetProperty("hashedLastName").GetString());
        Assert.Equal("US", address.GetProperty("countryCode").GetString());
        Assert.Equal("94016", address.GetProperty("postalCode").GetString());

        // An incomplete address is left out; the email still matches.
        var removed = operations[2].GetProperty("remove").GetProperty("userIdentifiers").EnumerateArray().ToList();
        Assert.Equal(Sha256Hex("x@example.com"), Assert.Single(removed).GetProperty("hashedEmail").GetString());
    }

    [Fact]
    public void Records_wait_for_a_job_and_operations_are_batched()
    {
        var noJob = _connector.BuildWithReport(Context(("customerId", "1")), [Record("p1", DeliveryOperation.Add, ("hashedEmail", "a@example.com"))]);
        Assert.Empty(noJob.Requests);
        Assert.Contains("jobId", Assert.Single(noJob.Skipped).Reason, StringComparison.Ordinal);

        var many = Enumerable.Range(0, 10_001).Select(i => Record($"p{i}", DeliveryOperation.Add, ("hashedEmail", $"p{i}@example.com"))).ToList();
        var requests = _connector.Build(Context(("customerId", "1"), ("jobId", "9")), many);
        Assert.Equal([10_000, 1], requests.Select(r => r.Records));

        var create = GoogleCustomerMatchConnector.CreateJob("1", "ext-1");
        Assert.Equal("customers/1/userLists/ext-1", Body(create).GetProperty("job").GetProperty("customerMatchUserListMetadata").GetProperty("userList").GetString());
        Assert.Equal("/v22/customers/1/offlineUserDataJobs/9:run", GoogleCustomerMatchConnector.RunJob("1", "9").Path);
    }
}

public sealed class TikTokAudienceConnectorTests
{
    [Fact]
    public void Segment_mapping_adds_and_deletes_grouped_by_id_schema()
    {
        var build = new TikTokAudienceConnector().BuildWithReport(Context(("advertiserIds", "111, 222")), [
            Record("p1", DeliveryOperation.Add, ("EMAIL_SHA256", "Jane+tag@Example.com"), ("PHONE_SHA256", "+37493828222")),
            Record("p2", DeliveryOperation.Add, ("PHONE_SHA256", "+16577770000"), ("EMAIL_SHA256", "b@example.com")),
            Record("p3", DeliveryOperation.Add, ("EMAIL_SHA256", "c@example.com")),
            Record("p4", DeliveryOperation.Remove, ("EMAIL_SHA256", "d@example.com")),
            Record("p5", DeliveryOperation.Add),
        ]);

        Assert.Equal("no match key", Assert.Single(build.Skipped).Reason);
        Assert.Equal(3, build.Requests.Count);
        Assert.All(build.Requests, r => Assert.Equal("/open_api/v1.3/segment/mapping/", r.Path));
        var both = Body(build.Requests[0]);
        Assert.Equal(["111", "222"], Strings(both.GetProperty("advertiser_ids")));
        Assert.Equal("add", both.GetProperty("action").GetString());
        Assert.Equal(["EMAIL_SHA256", "PHONE_SHA256"], Strings(both.GetProperty("id_schema")));
        var users = both.GetProperty("batch_data").EnumerateArray().ToList();
        Assert.Equal(2, users.Count);
        Assert.Equal(Sha256Hex("jane@example.com"), users[0][0].GetProperty("id").GetString());
        Assert.Equal(Sha256Hex("37493828222"), users[0][1].GetProperty("id").GetString());
        Assert.Equal(["ext-1"], Strings(users[0][1].GetProperty("audience_ids")));
        Assert.Equal(Sha256Hex("b@example.com"), users[1][0].GetProperty("id").GetString());
        Assert.Equal(["EMAIL_SHA256"], Strings(Body(build.Requests[1]).GetProperty("id_schema")));
        var delete = Body(build.Requests[2]);
        Assert.Equal("delete", delete.GetProperty("action").GetString());
        Assert.Equal(1, build.Requests[2].Records);
    }
}

public sealed class TradeDeskDataConnectorTests
{
    [Fact]
    public void Items_carry_one_raw_id_and_removal_is_a_zero_ttl()
    {
        var build = new TradeDeskDataConnector().BuildWithReport(Context(("advertiserId", "adv1"), ("ttlMinutes", "1440")), [
            Record("p1", DeliveryOperation.Add, ("TDID", "cookie"), ("UID2", "AbC+raw/UID2=")),
            Record("p2", DeliveryOperation.Remove, ("DAID", "aece52e7-03ee-455a-b3c4-e57283966239")),
            Record("p3", DeliveryOperation.Add, ("EMAIL", "a@example.com")),
        ]);

        Assert.Contains("The Trade Desk takes UID2", Assert.Single(build.Skipped).Reason, StringComparison.Ordinal);
        var request = Assert.Single(build.Requests);
        Assert.Equal("/data/advertiser", request.Path);
        Assert.Equal(2, request.Records);
        var body = Body(request);
        Assert.Equal("adv1", body.GetProperty("AdvertiserId").GetString());
        var items = body.GetProperty("Items").EnumerateArray().ToList();
        Assert.Equal("AbC+raw/UID2=", items[0].GetProperty("UID2").GetString());
        Assert.False(items[0].TryGetProperty("TDID", out _));
        Assert.Equal("ext-1", items[0].GetProperty("Data")[0].GetProperty("Name").GetString());
        Assert.Equal(1440, items[0].GetProperty("Data")[0].GetProperty("TTLInMinutes").GetInt32());
        Assert.Equal(0, items[1].GetProperty("Data")[0].GetProperty("TTLInMinutes").GetInt32());
    }
}

public sealed class LinkedInDmpSegmentConnectorTests
{
    [Fact]
    public void Batch_create_elements_with_sha256_emails_and_restli_headers()
    {
        var build = new LinkedInDmpSegmentConnector().BuildWithReport(Context(), [
            Record("p1", DeliveryOperation.Add, ("SHA256_EMAIL", " Ann@Example.com"), ("firstName", "Ann"), ("lastName", "Lee")),
            Record("p2", DeliveryOperation.Remove, ("SHA256_EMAIL", "bob@example.com")),
            Record("p3", DeliveryOperation.Add, ("firstName", "Only")),
        ]);

        Assert.Single(build.Skipped);
        var request = Assert.Single(build.Requests);
        Assert.Equal("/rest/dmpSegments/ext-1/users", request.Path);
        Assert.Equal("BATCH_CREATE", Header(request, "X-RestLi-Method"));
        Assert.Equal("2.0.0", Header(request, "X-Restli-Protocol-Version"));
        var elements = Body(request).GetProperty("elements").EnumerateArray().ToList();
        Assert.Equal("ADD", elements[0].GetProperty("action").GetString());
        Assert.Equal("SHA256_EMAIL", elements[0].GetProperty("userIds")[0].GetProperty("idType").GetString());
        Assert.Equal(Sha256Hex("ann@example.com"), elements[0].GetProperty("userIds")[0].GetProperty("idValue").GetString());
        Assert.Equal("Ann", elements[0].GetProperty("firstName").GetString());
        Assert.Equal("REMOVE", elements[1].GetProperty("action").GetString());

        var many = Enumerable.Range(0, 5_001).Select(i => Record($"p{i}", DeliveryOperation.Add, ("SHA256_EMAIL", $"p{i}@example.com"))).ToList();
        Assert.Equal([5_000, 1], new LinkedInDmpSegmentConnector().Build(Context(), many).Select(r => r.Records));
    }
}

public sealed class PlatformConnectorsTests
{
    [Fact]
    public void Registry_lists_every_platform_by_type()
    {
        Assert.Equal(["meta", "google", "tiktok", "ttd", "linkedin", "email", "sms"], PlatformConnectors.All.Select(c => c.Type));
        Assert.IsType<MetaCustomAudienceConnector>(PlatformConnectors.Find("META"));
        Assert.Null(PlatformConnectors.Find("webhook"));
        Assert.All(PlatformConnectors.All, c => Assert.NotEmpty(c.Keys));
        Assert.All(PlatformConnectors.All, c => Assert.Empty(c.Build(Context(), [])));
    }

    [Fact]
    public void Bodies_are_valid_json_for_every_connector()
    {
        var context = Context(("customerId", "1"), ("jobId", "2"), ("advertiserIds", "3"), ("advertiserId", "3"), ("unsubscribeGroupId", "4"));
        foreach (var connector in PlatformConnectors.All)
        {
            var records = connector.Keys.Select((k, i) => Record($"p{i}", i % 2 == 0 ? DeliveryOperation.Add : DeliveryOperation.Remove, (k, KeyValue(k)))).ToList();
            foreach (var request in connector.Build(context, records))
            {
                using var document = JsonDocument.Parse(request.Body);
                Assert.True(request.Records > 0, connector.Type);
            }
        }
    }

    private static string KeyValue(string target) => target.ToUpperInvariant() switch
    {
        var t when t.Contains("EMAIL", StringComparison.Ordinal) => "someone@example.com",
        var t when t.Contains("PHONE", StringComparison.Ordinal) => "+14155552671",
        "COUNTRY" or "COUNTRYCODE" => "US",
        "DOBY" => "1980",
        "DOBM" or "DOBD" => "7",
        "GEN" => "f",
        _ => "value1",
    };
}

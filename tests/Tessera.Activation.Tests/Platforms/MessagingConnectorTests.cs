using Tessera.Activation.Connectors.Platforms;
using static Tessera.Activation.Tests.Platforms.ConnectorTestKit;

namespace Tessera.Activation.Tests.Platforms;

public sealed class EmailServiceConnectorTests
{
    [Fact]
    public void Upserts_contacts_into_the_list_and_unsubscribes_removed_members()
    {
        var records = new[]
        {
            new DeliveryRecord(1, "aud-1", "p1", DeliveryOperation.Add, At,
                [new MatchKey("email", " Ann@Example.com "), new MatchKey("phone_number", "(415) 555-2671"), new MatchKey("first_name", "Ann")],
                [new("city", "Paris"), new("e1_T", "gold"), new("nothing", null)]),
            Record("p2", DeliveryOperation.Remove, ("email", "bob@example.com")),
            Record("p3", DeliveryOperation.Add, ("email", "broken@")),
        };
        var build = new EmailServiceConnector().BuildWithReport(Context(("unsubscribeGroupId", "77")), records);

        Assert.Contains("email:", Assert.Single(build.Skipped).Reason, StringComparison.Ordinal);
        Assert.Equal(2, build.Requests.Count);
        var upsert = build.Requests[0];
        Assert.Equal(HttpMethod.Put, upsert.Method);
        Assert.Equal("/v3/marketing/contacts", upsert.Path);
        var body = Body(upsert);
        Assert.Equal(["ext-1"], Strings(body.GetProperty("list_ids")));
        var contact = body.GetProperty("contacts")[0];
        Assert.Equal("ann@example.com", contact.GetProperty("email").GetString());
        Assert.Equal("+14155552671", contact.GetProperty("phone_number").GetString());
        Assert.Equal("Ann", contact.GetProperty("first_name").GetString());
        Assert.Equal("Paris", contact.GetProperty("city").GetString());
        Assert.Equal("gold", contact.GetProperty("custom_fields").GetProperty("e1_T").GetString());

        var unsubscribe = build.Requests[1];
        Assert.Equal(HttpMethod.Post, unsubscribe.Method);
        Assert.Equal("/v3/asm/groups/77/suppressions", unsubscribe.Path);
        Assert.Equal(["bob@example.com"], Strings(Body(unsubscribe).GetProperty("recipient_emails")));
    }

    [Fact]
    public void Removals_without_an_unsubscribe_group_are_skipped_and_upserts_are_batched()
    {
        var build = new EmailServiceConnector().BuildWithReport(Context(), [Record("p1", DeliveryOperation.Remove, ("email", "a@example.com"))]);
        Assert.Empty(build.Requests);
        Assert.Contains("unsubscribeGroupId", Assert.Single(build.Skipped).Reason, StringComparison.Ordinal);

        var many = Enumerable.Range(0, 30_001).Select(i => Record($"p{i}", DeliveryOperation.Add, ("email", $"p{i}@example.com"))).ToList();
        Assert.Equal([30_000, 1], new EmailServiceConnector().Build(Context(), many).Select(r => r.Records));
    }
}

public sealed class SmsServiceConnectorTests
{
    [Fact]
    public void Subscribes_and_unsubscribes_e164_numbers_in_jobs_of_at_most_100()
    {
        var records = Enumerable.Range(0, 101).Select(i => Record($"a{i}", DeliveryOperation.Add, ("phone_number", $"+1415555{i:0000}"))).ToList();
        records.Add(Record("r1", DeliveryOperation.Remove, ("phone_number", "(415) 555-2671"), ("email", "R@example.com")));
        records.Add(Record("r2", DeliveryOperation.Remove, ("phone_number", "12")));
        var build = new SmsServiceConnector().BuildWithReport(Context(("phoneRegion", "US")), records);

        Assert.Contains("phone_number:", Assert.Single(build.Skipped).Reason, StringComparison.Ordinal);
        Assert.Equal([100, 1, 1], build.Requests.Select(r => r.Records));
        var subscribe = build.Requests[0];
        Assert.Equal("/api/profile-subscription-bulk-create-jobs", subscribe.Path);
        Assert.Equal("2025-01-15", Header(subscribe, "revision"));
        var data = Body(subscribe).GetProperty("data");
        Assert.Equal("profile-subscription-bulk-create-job", data.GetProperty("type").GetString());
        Assert.Equal("ext-1", data.GetProperty("relationships").GetProperty("list").GetProperty("data").GetProperty("id").GetString());
        var profile = data.GetProperty("attributes").GetProperty("profiles").GetProperty("data")[0].GetProperty("attributes");
        Assert.Equal("+14155550000", profile.GetProperty("phone_number").GetString());
        Assert.Equal("SUBSCRIBED", profile.GetProperty("subscriptions").GetProperty("sms").GetProperty("marketing").GetProperty("consent").GetString());

        var unsubscribe = build.Requests[2];
        Assert.Equal("/api/profile-subscription-bulk-delete-jobs", unsubscribe.Path);
        var removed = Body(unsubscribe).GetProperty("data").GetProperty("attributes").GetProperty("profiles").GetProperty("data")[0].GetProperty("attributes");
        Assert.Equal("+14155552671", removed.GetProperty("phone_number").GetString());
        Assert.Equal("r@example.com", removed.GetProperty("email").GetString());
        Assert.Equal("UNSUBSCRIBED", removed.GetProperty("subscriptions").GetProperty("sms").GetProperty("marketing").GetProperty("consent").GetString());
    }
}

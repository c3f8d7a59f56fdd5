using Tessera.Activation.Connectors.Platforms;
using static Tessera.Activation.Tests.Platforms.ConnectorTestKit;

namespace Tessera.Activation.Tests.Platforms;

public sealed class MetaCustomAudienceConnectorTests
{
    private readonly MetaCustomAudienceConnector _connector = new();

    [Fact]
    public void Adds_are_posted_and_removes_deleted_with_the_documented_payload()
    {
        var build = _connector.BuildWithReport(Context(), [
            Record("p1", DeliveryOperation.Add, ("EMAIL", " Ann@Example.com "), ("PHONE", "+14155552671")),
            Record("p2", DeliveryOperation.Update, ("EMAIL", "bob@example.com")),
            Record("p3", DeliveryOperation.Remove, ("PHONE", "(415) 555-2672"), ("MADID", "AECE52E7-03EE-455A-B3C4-E57283966239")),
        ]);

        Assert.Empty(build.Skipped);
        Assert.Equal(2, build.Requests.Count);
        var add = build.Requests[0];
        Assert.Equal(HttpMethod.Post, add.Method);
        Assert.Equal("/v25.0/ext-1/users", add.Path);
        Assert.Equal(2, add.Records);
        var payload = Body(add).GetProperty("payload");
        Assert.Equal(["EMAIL", "PHONE"], Strings(payload.GetProperty("schema")));
        var rows = payload.GetProperty("data").EnumerateArray().Select(Strings).ToList();
        Assert.Equal([Sha256Hex("ann@example.com"), Sha256Hex("14155552671")], rows[0]);
        Assert.Equal([Sha256Hex("bob@example.com"), ""], rows[1]);
        var session = Body(add).GetProperty("session");
        Assert.True(session.GetProperty("session_id").GetInt64() > 0);
        Assert.Equal(1, session.GetProperty("batch_seq").GetInt32());
        Assert.True(session.GetProperty("last_batch_flag").GetBoolean());

        var remove = build.Requests[1];
        Assert.Equal(HttpMethod.Delete, remove.Method);
        Assert.Equal(1, remove.Records);
        var removed = Body(remove).GetProperty("payload");
        Assert.Equal(["PHONE", "MADID"], Strings(removed.GetProperty("schema")));
        // MADID is sent unhashed, lower-cased; the phone as digits with its country code.
        Assert.Equal([Sha256Hex("14155552672"), "aece52e7-03ee-455a-b3c4-e57283966239"], Strings(removed.GetProperty("data")[0]));
        Assert.False(Body(remove).TryGetProperty("session", out _));
        Assert.Equal("batch-42:0", Header(add, "Idempotency-Key"));
        Assert.Equal("batch-42:1", Header(remove, "Idempotency-Key"));
    }

    [Fact]
    public void At_most_ten_thousand_users_per_request_in_one_session()
    {
        var records = Enumerable.Range(0, 10_001).Select(i => Record($"p{i}", DeliveryOperation.Add, ("EMAIL", $"person{i}@example.com"))).ToList();
        var requests = _connector.Build(Context(), records);

        Assert.Equal([10_000, 1], requests.Select(r => r.Records));
        Assert.Equal(10_000, Body(requests[0]).GetProperty("payload").GetProperty("data").GetArrayLength());
        var sessions = requests.Select(r => Body(r).GetProperty("session")).ToList();
        Assert.Equal(sessions[0].GetProperty("session_id").GetInt64(), sessions[1].GetProperty("session_id").GetInt64());
        Assert.Equal([1, 2], sessions.Select(s => s.GetProperty("batch_seq").GetInt32()));
        Assert.Equal([false, true], sessions.Select(s => s.GetProperty("last_batch_flag").GetBoolean()));
        Assert.Equal(Sha256Hex("person10000@example.com"), Body(requests[1]).GetProperty("payload").GetProperty("data")[0][0].GetString());
    }

    [Fact]
    public void Same_batch_gives_the_same_bytes()
    {
        var records = new[] { Record("p1", DeliveryOperation.Add, ("EMAIL", "a@example.com"), ("FN", "Zoë"), ("ST", "California"), ("ZIP", "94016-1234")) };
        var first = _connector.Build(Context(), records);
        var second = _connector.Build(Context(), records);
        Assert.Equal(first[0].Body, second[0].Body);
        var row = Strings(Body(first[0]).GetProperty("payload").GetProperty("data")[0]);
        Assert.Equal([Sha256Hex("a@example.com"), Sha256Hex("zoë"), Sha256Hex("ca"), Sha256Hex("94016")], row);
    }

    [Fact]
    public void Records_without_a_usable_key_are_skipped_with_the_reason_and_prehashed_values_pass_through()
    {
        const string Hashed = "B4C9A289323B21A01C3E940F150EB9B8C542587F1ABFD8F0E1CC1FFC5E475514";
        var build = _connector.BuildWithReport(Context(), [
            Record("p1", DeliveryOperation.Add, ("EMAIL", "not an email")),
            Record("p2", DeliveryOperation.Add, ("EMAIL", Hashed)),
            Record("p3", DeliveryOperation.Add, ("EMAIL", "c@example.com")),
            Record("p3", DeliveryOperation.Remove, ("EMAIL", "c@example.com")),
            Record("p4", DeliveryOperation.Add, ("email", "d@example.com")),
        ]);

        Assert.Equal(3, build.Skipped.Count);
        Assert.Contains(build.Skipped, s => s.Record.ProfileId == "p1" && s.Reason.Contains("EMAIL: 'not an email' is not an email address", StringComparison.Ordinal));
        Assert.Contains(build.Skipped, s => s.Record.ProfileId == "p3" && s.Record.Operation == DeliveryOperation.Add && s.Reason.Contains("superseded", StringComparison.Ordinal));
        Assert.Contains(build.Skipped, s => s.Record.ProfileId == "p4" && s.Reason.Contains("email: not a key this destination accepts", StringComparison.Ordinal));
        var add = Assert.Single(build.Requests, r => r.Method == HttpMethod.Post);
        Assert.Equal(1, add.Records);
        Assert.Equal(Hashed.ToLowerInvariant(), Body(add).GetProperty("payload").GetProperty("data")[0][0].GetString());
        Assert.Equal(1, Assert.Single(build.Requests, r => r.Method == HttpMethod.Delete).Records);
    }
}

using System.Net;

namespace Tessera.Server.Tests;

/// <summary>Profile lookup over HTTP: merged attributes with sources, identities, paged events, and its errors.</summary>
public sealed class ProfileApiTests
{
    private static async Task SendAsync(ApiServer server, string dataset, string kind, string records)
    {
        using var response = await server.Client(server.Key.ProdCollect).PostAsync($"/collection/v1/datasets/{dataset}/{kind}", Http.Json(records), TestContext.Current.CancellationToken);
        await response.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_profile_is_looked_up_by_any_identity_with_sources_and_paged_events()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        await SendAsync(server, "crm", "records", """[{"crmId":"c1","email":"Ann@Example.com","age":40}]""");
        server.Time.Advance(TimeSpan.FromMinutes(1));
        await SendAsync(server, "crm", "records", """[{"crmId":"c1","age":41}]""");
        await SendAsync(server, "web", "events", """
            [{"_id":"v1","timestamp":"2026-01-01T10:00:00Z","ecid":"K1","page":"home"},
             {"_id":"v2","timestamp":"2026-01-01T11:00:00Z","ecid":"K1","page":"cart"}]
            """);

        using var response = await admin.GetAsync("/profile/v1/profile?identity=Email:ANN@example.com", ct);
        var profile = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("CRMID:c1", profile.Str("primary"));
        // Attributes are as the record wrote them; only identities are normalized.
        Assert.Equal("""{"age":41,"crmId":"c1","email":"Ann@Example.com"}""", profile.GetProperty("attributes").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        var age = profile.GetProperty("sources").EnumerateArray().Single(s => s.Str("path") == "age");
        Assert.Equal("crm", age.Str("dataset"));

        using var first = await admin.GetAsync("/profile/v1/profile?identity=ECID:K1&events=1", ct);
        var page = (await first.ExpectAsync(HttpStatusCode.OK)).GetProperty("timeline");
        Assert.Equal(2, page.GetProperty("count").GetInt32());
        var newest = Assert.Single(page.GetProperty("events").EnumerateArray().ToList());
        Assert.Equal(("v2", "cart"), (newest.Str("id"), newest.GetProperty("event").Str("page")));
        using var second = await admin.GetAsync($"/profile/v1/profile?identity=ECID:K1&events=1&before={Uri.EscapeDataString(page.Str("next"))}", ct);
        var rest = (await second.ExpectAsync(HttpStatusCode.OK)).GetProperty("timeline");
        Assert.Equal("v1", Assert.Single(rest.GetProperty("events").EnumerateArray().ToList()).Str("id"));
        Assert.False(rest.TryGetProperty("next", out _));
    }

    [Theory]
    [InlineData("/profile/v1/profile?identity=CRMID:nobody", HttpStatusCode.NotFound, "PROFILE_NOT_FOUND")]
    [InlineData("/profile/v1/profile", HttpStatusCode.BadRequest, "PARAMETER_MISSING")]
    [InlineData("/profile/v1/profile?identity=CRMID:c1&events=5000", HttpStatusCode.BadRequest, "PARAMETER_INVALID")]
    [InlineData("/profile/v1/profile?identity=Nope:c1", HttpStatusCode.NotFound, "NAMESPACE_NOT_FOUND")]
    [InlineData("/profile/v1/profile?identity=CRMID:c1&policy=missing", HttpStatusCode.NotFound, "MERGE_POLICY_NOT_FOUND")]
    public async Task Lookup_errors_are_named(string path, HttpStatusCode status, string code)
    {
        await using var server = await ApiServer.StartAsync();
        await SendAsync(server, "crm", "records", """[{"crmId":"c1"}]""");
        using var response = await server.Client(server.Key.ProdAdmin).GetAsync(path, TestContext.Current.CancellationToken);
        await response.ExpectErrorAsync(status, code);
    }

    [Fact]
    public async Task A_collect_key_cannot_read_profiles()
    {
        await using var server = await ApiServer.StartAsync();
        using var response = await server.Client(server.Key.ProdCollect).GetAsync("/profile/v1/profile?identity=CRMID:c1", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}

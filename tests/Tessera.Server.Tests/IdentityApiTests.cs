using System.Net;
using System.Text.Json;

namespace Tessera.Server.Tests;

/// <summary>The identity graph over HTTP: lookup, explain, rules with a dry run, ledger deletion.</summary>
public sealed class IdentityApiTests
{
    private static async Task<string> SendCrmAsync(ApiServer server, string records)
    {
        using var response = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/crm/records", Http.Json(records), TestContext.Current.CancellationToken);
        return (await response.ExpectAsync(HttpStatusCode.OK)).Str("batchId");
    }

    private static async Task<JsonElement> GetAsync(HttpClient admin, string path)
    {
        using var response = await admin.GetAsync(path, TestContext.Current.CancellationToken);
        return await response.ExpectAsync(HttpStatusCode.OK);
    }

    private static async Task RefusedAsync(HttpClient admin, string path, HttpStatusCode status, string code)
    {
        using var response = await admin.GetAsync(path, TestContext.Current.CancellationToken);
        await response.ExpectErrorAsync(status, code);
    }

    private static List<string> Identities(JsonElement graph) => [.. graph.GetProperty("identities").EnumerateArray().Select(i => i.GetString()!)];

    [Fact]
    public async Task An_email_shared_by_two_crm_ids_stays_with_the_newest_until_its_batch_is_deleted()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        await SendCrmAsync(server, """[{"crmId":"c1","email":"Shared@Example.com"}]""");
        server.Time.Advance(TimeSpan.FromMinutes(5));
        var second = await SendCrmAsync(server, """[{"crmId":"c2","email":"shared@example.com"}]""");

        // Looked up as typed: the email is normalized as ingestion does.
        var graph = await GetAsync(admin, "/identity/v1/graph?identity=Email:SHARED@example.com");
        Assert.Equal("CRMID:c2", graph.Str("primary"));
        Assert.Equal(["CRMID:c2", "Email:shared@example.com"], Identities(graph));
        var links = graph.GetProperty("links").EnumerateArray().Select(l => $"{l.Str("from")}-{l.Str("to")} {l.Str("state")} {l.Str("batch") == second}").ToList();
        Assert.Equal(["CRMID:c2-Email:shared@example.com kept True", "CRMID:c1-Email:shared@example.com cut-unique-namespace False"], links);

        var why = await GetAsync(admin, "/identity/v1/explain?a=CRMID:c1&b=CRMID:c2");
        Assert.False(why.GetProperty("joined").GetBoolean());
        var cut = Assert.Single(why.GetProperty("cuts").EnumerateArray().ToList());
        Assert.Equal("unique-namespace", cut.Str("rule"));
        Assert.Contains("CRMID:c1 and CRMID:c2", cut.Str("detail"));

        using (var dryRun = await admin.PutAsync("/identity/v1/rules?dryRun=true", Http.Json("""{"uniqueNamespaces":[],"priority":[],"maxIdentities":50}"""), ct))
        {
            var change = await dryRun.ExpectAsync(HttpStatusCode.OK);
            Assert.False(change.GetProperty("applied").GetBoolean());
            var changes = change.GetProperty("changes");
            Assert.Equal((2, 1, 1, 0), (changes.GetProperty("graphsBefore").GetInt32(), changes.GetProperty("graphsAfter").GetInt32(),
                changes.GetProperty("merged").GetInt32(), changes.GetProperty("split").GetInt32()));
        }
        Assert.Equal(["CRMID:c2", "Email:shared@example.com"], Identities(await GetAsync(admin, "/identity/v1/graph?identity=CRMID:c2")));
        using (var refused = await admin.PutAsync("/identity/v1/rules", Http.Json("""{"priority":["ECID","CRMID"]}"""), ct))
        {
            await refused.ExpectErrorAsync(HttpStatusCode.BadRequest, "INVALID_GRAPH_RULES");
        }

        using (var deletion = await admin.PostAsync("/identity/v1/deletions", Http.Json($$"""{"batch":"{{second}}"}"""), ct))
        {
            var receipt = await deletion.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(1, receipt.GetProperty("entriesRemoved").GetInt32());
        }
        Assert.Equal(["CRMID:c1", "Email:shared@example.com"], Identities(await GetAsync(admin, "/identity/v1/graph?identity=Email:shared@example.com")));
        await RefusedAsync(admin, "/identity/v1/graph?identity=CRMID:c2", HttpStatusCode.NotFound, "IDENTITY_NOT_FOUND");
    }

    [Fact]
    public async Task Bad_identities_and_requests_are_refused_by_name()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        await RefusedAsync(admin, "/identity/v1/graph?identity=nonsense", HttpStatusCode.BadRequest, "IDENTITY_INVALID");
        await RefusedAsync(admin, "/identity/v1/graph?identity=Nope:1", HttpStatusCode.NotFound, "NAMESPACE_NOT_FOUND");
        await RefusedAsync(admin, "/identity/v1/graph?identity=Email:not-an-email", HttpStatusCode.BadRequest, "IDENTITY_INVALID");
        using var both = await admin.PostAsync("/identity/v1/deletions", Http.Json("""{"batch":"b","dataset":"crm"}"""), TestContext.Current.CancellationToken);
        await both.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        using var forbidden = await server.Client(server.Key.ProdCollect).GetAsync("/identity/v1/rules", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}

using System.Net;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles.Privacy;
using Tessera.Storage;

namespace Tessera.Server.Tests;

/// <summary>Privacy requests over HTTP: access with its export, delete with its receipt, listing, named errors, scope.</summary>
public sealed class PrivacyApiTests
{
    private static async Task SendAsync(ApiServer server, string dataset, string kind, string records)
    {
        using var response = await server.Client(server.Key.ProdCollect).PostAsync($"/collection/v1/datasets/{dataset}/{kind}", Http.Json(records), TestContext.Current.CancellationToken);
        await response.ExpectAsync(HttpStatusCode.OK);
    }

    private static async Task<ApiServer> StartWithAnnAndBobAsync()
    {
        var server = await ApiServer.StartAsync();
        await SendAsync(server, "crm", "records", """[{"crmId":"c1","email":"ann@example.com","age":40},{"crmId":"c2","email":"bob@example.com","age":50}]""");
        await SendAsync(server, "web", "events", """[{"_id":"v1","timestamp":"2026-01-01T10:00:00Z","ecid":"K1","page":"home"}]""");
        return server;
    }

    [Fact]
    public async Task An_access_request_answers_with_its_export_which_stays_readable()
    {
        await using var server = await StartWithAnnAndBobAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;

        using var created = await admin.PostAsync("/privacy/v1/requests", Http.Json("""{"type":"access","identities":["Email:ANN@example.com"]}"""), ct);
        var request = await created.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(("access", "completed"), (request.Str("type"), request.Str("status")));
        Assert.Equal(["Email:ann@example.com"], request.GetProperty("identities").EnumerateArray().Select(i => i.GetString()));
        var export = request.GetProperty("export");
        var crm = export.GetProperty("identities").EnumerateArray().Single(i => i.Str("identity") == "CRMID:c1");
        Assert.Equal(40, crm.GetProperty("recordVersions")[0].GetProperty("stored").GetProperty("record").GetProperty("age").GetInt32());
        Assert.Equal("CRMID:c1", export.GetProperty("profiles")[0].Str("primary"));
        Assert.Equal(1, request.GetProperty("receipt").GetProperty("recordVersions").GetInt32());

        var id = request.Str("id");
        using var stored = await admin.GetAsync($"/privacy/v1/requests/{id}/export", ct);
        Assert.Equal(export.GetRawText(), (await stored.ExpectAsync(HttpStatusCode.OK)).GetRawText());
        using var one = await admin.GetAsync($"/privacy/v1/requests/{id}", ct);
        var shown = await one.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("completed", shown.Str("status"));
        Assert.False(shown.TryGetProperty("export", out _)); // Only from .../export.
    }

    [Fact]
    public async Task A_delete_request_removes_the_person_and_answers_with_its_receipt()
    {
        await using var server = await StartWithAnnAndBobAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;

        using var created = await admin.PostAsync("/privacy/v1/requests", Http.Json("""{"type":"delete","identities":["CRMID:c1","ECID:K1"]}"""), ct);
        var request = await created.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("completed", request.Str("status"));
        var receipt = request.GetProperty("receipt");
        Assert.Equal(("removed", 1, 1, 1), (receipt.Str("action"), receipt.GetProperty("recordVersions").GetInt32(), receipt.GetProperty("events").GetInt32(),
            receipt.GetProperty("timelineKeys").GetInt32()));
        Assert.Equal(0, receipt.GetProperty("graphIdentitiesAfter").GetInt32());
        Assert.False(request.TryGetProperty("export", out _));

        // Gone from the facts, the ledger and the profile; Bob is still there.
        var store = server.Workspace.Store;
        string[] ann = ["CRMID:c1", "Email:ann@example.com", "ECID:K1"];
        for (var shard = 0; shard < store.ShardCount; shard++)
        {
            foreach (var (key, value) in store.Scan(StoreSpace.Facts, shard, []))
            {
                var named = key[0] == LedgerCodec.Tag
                    ? LedgerCodec.Decode(key, value).Identities.Select(i => i.ToString())
                    : FactKeys.TryParse(key, out var fact) ? [fact.Identity.ToString()] : [];
                Assert.DoesNotContain(named, ann.Contains);
            }
        }
        using (var profile = await admin.GetAsync("/profile/v1/profile?identity=Email:ann@example.com", ct))
        {
            await profile.ExpectErrorAsync(HttpStatusCode.NotFound, "PROFILE_NOT_FOUND");
        }
        using (var bob = await admin.GetAsync("/profile/v1/profile?identity=Email:bob@example.com", ct))
        {
            await bob.ExpectAsync(HttpStatusCode.OK);
        }
        using (var export = await admin.GetAsync($"/privacy/v1/requests/{request.Str("id")}/export", ct))
        {
            await export.ExpectErrorAsync(HttpStatusCode.NotFound, "PRIVACY_EXPORT_NOT_FOUND");
        }

        server.Time.Advance(TimeSpan.FromSeconds(1));
        using var second = await admin.PostAsync("/privacy/v1/requests", Http.Json("""{"type":"access","identities":["Email:bob@example.com"]}"""), ct);
        var bobAccess = await second.ExpectAsync(HttpStatusCode.Created);
        using var list = await admin.GetAsync("/privacy/v1/requests", ct);
        Assert.Equal([bobAccess.Str("id"), request.Str("id")], (await list.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().Select(r => r.Str("id")));
        using var limited = await admin.GetAsync("/privacy/v1/requests?limit=1", ct);
        Assert.Equal(1, (await limited.ExpectAsync(HttpStatusCode.OK)).GetArrayLength());
        // Another sandbox sees none of them.
        using var dev = await server.Client(server.Key.DevAdmin).GetAsync("/privacy/v1/requests", ct);
        Assert.Equal(0, (await dev.ExpectAsync(HttpStatusCode.OK)).GetArrayLength());
    }

    [Fact]
    public async Task The_server_runs_a_request_a_crash_left_processing_before_it_listens()
    {
        var crashed = new PrivacyRequest
        {
            Id = "p0000000000000000000001",
            Sandbox = "prod",
            Type = PrivacyRequestTypes.Delete,
            Identities = ["CRMID:c1"],
            Status = PrivacyRequestStatus.Processing,
            CreatedAt = ApiServer.Start,
        };
        await using var server = await ApiServer.StartAsync(beforeStart: async workspace =>
        {
            using var document = System.Text.Json.JsonDocument.Parse("""{"crmId":"c1","email":"ann@example.com"}""");
            var stored = await workspace.Ingestion.IngestRecordsAsync("prod", "crm", [document.RootElement], "test");
            Assert.Equal(1, stored.Batch.Counts.Accepted);
            using var writes = new WriteSet();
            PrivacyService.Put(writes, crashed);
            await workspace.Store.CommitAsync(writes);
        });
        using var response = await server.Client(server.Key.ProdAdmin).GetAsync($"/privacy/v1/requests/{crashed.Id}", TestContext.Current.CancellationToken);
        var request = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("completed", 1), (request.Str("status"), request.GetProperty("receipt").GetProperty("recordVersions").GetInt32()));
        Assert.Null(server.Workspace.Identity.Find("prod", new IdentityKey("Email", "ann@example.com")));
    }

    [Theory]
    [InlineData("""{"type":"erase","identities":["CRMID:c1"]}""", HttpStatusCode.BadRequest, "PRIVACY_REQUEST_INVALID")]
    [InlineData("""{"type":"delete","identities":[]}""", HttpStatusCode.BadRequest, "PRIVACY_REQUEST_INVALID")]
    [InlineData("""{"type":"delete"}""", HttpStatusCode.BadRequest, "PRIVACY_REQUEST_INVALID")]
    [InlineData("""{"type":"delete","identities":["c1"]}""", HttpStatusCode.BadRequest, "IDENTITY_INVALID")]
    [InlineData("""{"type":"delete","identities":["Nope:c1"]}""", HttpStatusCode.NotFound, "NAMESPACE_NOT_FOUND")]
    [InlineData("""{"type":"delete","identities":["Email:not-an-email"]}""", HttpStatusCode.BadRequest, "IDENTITY_INVALID")]
    [InlineData("""[1]""", HttpStatusCode.BadRequest, "BODY_INVALID")]
    public async Task Refused_requests_are_named_and_store_nothing(string body, HttpStatusCode status, string code)
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        using var response = await admin.PostAsync("/privacy/v1/requests", Http.Json(body), TestContext.Current.CancellationToken);
        await response.ExpectErrorAsync(status, code);
        Assert.Empty(server.Workspace.Privacy.List("prod"));
    }

    [Fact]
    public async Task Unknown_requests_are_named_and_a_collect_key_is_refused()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using (var missing = await server.Client(server.Key.ProdAdmin).GetAsync("/privacy/v1/requests/p-nope", ct))
        {
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "PRIVACY_REQUEST_NOT_FOUND");
        }
        using (var export = await server.Client(server.Key.ProdAdmin).GetAsync("/privacy/v1/requests/p-nope/export", ct))
        {
            await export.ExpectErrorAsync(HttpStatusCode.NotFound, "PRIVACY_REQUEST_NOT_FOUND");
        }
        using var collect = await server.Client(server.Key.ProdCollect).PostAsync("/privacy/v1/requests", Http.Json("""{"type":"access","identities":["CRMID:c1"]}"""), ct);
        await collect.ExpectErrorAsync(HttpStatusCode.Forbidden, "ROLE_FORBIDDEN");
    }
}

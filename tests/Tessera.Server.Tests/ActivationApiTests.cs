using System.Net;
using Tessera.Tests.Shared;

namespace Tessera.Server.Tests;

/// <summary>Destinations through the real server: create, deliver, runs, audit, dead letters; refusals by code.</summary>
public sealed class ActivationApiTests
{
    [Fact]
    public async Task A_webhook_destination_is_created_delivered_and_monitored_over_HTTP()
    {
        // The receiver standing in for the platform is on 127.0.0.1, which destinations may call only when allowed.
        await using var server = await ApiServer.StartAsync("""{"activation": {"allowedPrivateNetworks": ["127.0.0.0/8"]}}""");
        await using var receiver = await LocalReceiver.StartAsync(TestContext.Current.CancellationToken);
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using (var created = await admin.PostAsync("/segmentation/v1/audiences", Http.Json("""
            {"id":"home","name":"home","publish":true,"pql":"xEvent.exists(page = \"home\")"}
            """), ct))
        {
            await created.ExpectAsync(HttpStatusCode.Created);
        }
        using (var posted = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/web/events",
            Http.Json("""[{"_id":"e1","timestamp":"2026-11-01T11:30:00Z","ecid":"K1","page":"home"},{"_id":"e2","timestamp":"2026-11-01T11:31:00Z","ecid":"K2","page":"home"}]"""), ct))
        {
            await posted.ExpectAsync(HttpStatusCode.OK);
        }
        await server.Workspace.Streaming!.WhenIdleAsync();
        using (var evaluated = await admin.PostAsync("/segmentation/v1/evaluate", null, ct))
        {
            await evaluated.ExpectAsync(HttpStatusCode.OK); // no time window: a batch audience
        }
        using (var members = await admin.GetAsync("/segmentation/v1/audiences/home/members", ct))
        {
            Assert.Equal(2, (await members.ExpectAsync(HttpStatusCode.OK)).GetArrayLength());
        }

        using (var invalid = await admin.PostAsync("/activation/v1/destinations", Http.Json("""{"name":"bad","connector":"fax","identities":[{"source":"ECID","target":"id"}]}"""), ct))
        {
            await invalid.ExpectErrorAsync(HttpStatusCode.BadRequest, "DESTINATION_INVALID");
        }
        using (var forbidden = await server.Client(server.Key.ProdCollect).GetAsync("/activation/v1/destinations", ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }
        using (var created = await admin.PostAsync("/activation/v1/destinations", Http.Json($$"""
            {"name":"hook","connector":"webhook","settings":{"endpoint":"{{receiver.Address}}"},
             "audiences":[{"audienceId":"home"}],"identities":[{"source":"ECID","target":"ecid"}]}
            """), ct))
        {
            var destination = await created.ExpectAsync(HttpStatusCode.Created);
            Assert.Equal(1, destination.GetProperty("version").GetInt32());
        }
        // The server delivers in the background; deliver-now sends whatever is still pending (by then, nothing or the backfill).
        using (var delivered = await admin.PostAsync("/activation/v1/destinations/hook/deliver", null, ct))
        {
            Assert.True((await delivered.ExpectAsync(HttpStatusCode.OK)).GetArrayLength() <= 1);
        }
        await receiver.WaitUntilAsync(r => r.Accepted.Any(), TimeSpan.FromMinutes(1), ct);
        Assert.Single(receiver.Accepted);
        using (var runs = await admin.GetAsync("/activation/v1/destinations/hook/runs", ct))
        {
            var run = Assert.Single((await runs.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
            Assert.Equal(("delivered", "backfill", 2L), (run.Str("status"), run.Str("kind"), run.Long("activated")));
        }
        using (var audit = await admin.GetAsync("/activation/v1/destinations/hook/audit", ct))
        {
            var entry = Assert.Single((await audit.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(receiver.Accepted.Single().Body)), entry.Str("payloadSha256"));
        }
        using (var dead = await admin.GetAsync("/activation/v1/destinations/hook/dead-letters", ct))
        {
            Assert.Empty((await dead.ExpectAsync(HttpStatusCode.OK)).EnumerateArray());
        }
        using (var missing = await admin.GetAsync("/activation/v1/destinations/nope/runs", ct))
        {
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "DESTINATION_NOT_FOUND");
        }
        // Governance over HTTP: a label and a policy make the same destination, re-saved for export, refused with its lineage.
        using (var labelled = await admin.PostAsync("/governance/v1/labels", Http.Json("""{"dataset":"web","field":"ecid","labels":["C2"]}"""), ct))
        {
            await labelled.ExpectAsync(HttpStatusCode.OK);
        }
        using (var policy = await admin.PutAsync("/governance/v1/policies/no-export", Http.Json("""{"labels":["C2"],"actions":["exportToThirdParty"]}"""), ct))
        {
            Assert.Equal("no-export", (await policy.ExpectAsync(HttpStatusCode.OK)).Str("name"));
        }
        using (var refused = await admin.PutAsync("/activation/v1/destinations/hook", Http.Json($$"""
            {"connector":"webhook","settings":{"endpoint":"{{receiver.Address}}"},"marketingAction":"exportToThirdParty",
             "audiences":[{"audienceId":"home"}],"identities":[{"source":"ECID","target":"ecid"}]}
            """), ct))
        {
            var error = await refused.ExpectErrorAsync(HttpStatusCode.BadRequest, "POLICY_VIOLATION");
            Assert.Contains("field ecid [C2]", error.ToString(), StringComparison.Ordinal);
        }
        using (var removed = await admin.DeleteAsync("/governance/v1/policies/no-export", ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }
        using (var deleted = await admin.DeleteAsync("/activation/v1/destinations/hook", ct))
        {
            await deleted.ExpectAsync(HttpStatusCode.OK);
        }
    }
}

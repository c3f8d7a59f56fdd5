using System.Net;
using Tessera.Abstractions;

namespace Tessera.Server.Tests;

/// <summary>Namespace normalization settings over HTTP, and dropped identities in the batch JSON.</summary>
public sealed class IdentityNormalizationApiTests
{
    [Fact]
    public async Task A_namespace_is_created_with_its_format_region_and_blocked_values()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        const string body = """{"code":"UkPhone","name":"UK phone","type":"phone","defaultRegion":"gb","blockedValues":["07400 000000"],"defaultBlockedValues":false}""";

        using (var created = await admin.PostAsync("/catalog/v1/namespaces", Http.Json(body), ct))
        {
            var ns = await created.ExpectAsync(HttpStatusCode.Created);
            Assert.Equal(("phone", "GB", false), (ns.Str("format"), ns.Str("defaultRegion"), ns.GetProperty("defaultBlockedValues").GetBoolean()));
            Assert.Equal("07400 000000", Assert.Single(ns.GetProperty("blockedValues").EnumerateArray()).GetString());
        }
        using (var same = await admin.PostAsync("/catalog/v1/namespaces", Http.Json(body), ct))
        {
            await same.ExpectAsync(HttpStatusCode.OK);
        }
        using (var other = await admin.PostAsync("/catalog/v1/namespaces", Http.Json(body.Replace("\"gb\"", "\"FR\"", StringComparison.Ordinal)), ct))
        {
            await other.ExpectErrorAsync(HttpStatusCode.Conflict, "NAMESPACE_EXISTS");
        }
        using (var badRegion = await admin.PostAsync("/catalog/v1/namespaces", Http.Json("""{"code":"P2","name":"P2","type":"phone","defaultRegion":"XX"}"""), ct))
        {
            await badRegion.ExpectErrorAsync(HttpStatusCode.BadRequest, "NAMESPACE_INVALID");
        }
        using (var badFormat = await admin.PostAsync("/catalog/v1/namespaces", Http.Json("""{"code":"P3","name":"P3","type":"phone","format":"md5"}"""), ct))
        {
            await badFormat.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        }
        using (var shown = await admin.GetAsync("/catalog/v1/namespaces/IDFA", ct))
        {
            Assert.Equal("uuid", (await shown.ExpectAsync(HttpStatusCode.OK)).Str("format"));
        }
    }

    [Fact]
    public async Task Dropped_identities_are_counted_in_the_response_and_the_batch()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        const string records = """[{"crmId":"c1","email":"unknown"},{"crmId":"c2","email":"Ann@Example.com"},{"crmId":"c3","email":"bad@"}]""";

        using var response = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/crm/records", Http.Json(records), ct);
        var body = await response.ExpectAsync(HttpStatusCode.OK);

        var counts = body.GetProperty("counts");
        Assert.Equal((3, 2), (counts.Long("accepted"), counts.Long("identitiesDropped")));
        Assert.Equal(1, counts.GetProperty("identitiesDroppedByReason").Long(ErrorCodes.IdentityBlocked));
        Assert.Equal(1, counts.GetProperty("identitiesDroppedByReason").Long(ErrorCodes.IdentityInvalidEmail));
        using var shown = await server.Client(server.Key.ProdAdmin).GetAsync($"/batches/v1/{body.Str("batchId")}", ct);
        var batch = await shown.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, batch.GetProperty("counts").Long("identitiesDropped"));
        Assert.Equal(1, batch.GetProperty("counts").GetProperty("identitiesDroppedByReason").Long(ErrorCodes.IdentityBlocked));
        var ann = StoredFacts.Record(server.Workspace, "prod", "crm", new IdentityValue("CRMID", "c2", true));
        Assert.Equal("ann@example.com", ann!.Value.GetProperty("identities")[1].Str("id"));
    }
}

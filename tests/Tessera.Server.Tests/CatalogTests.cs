using System.Net;

namespace Tessera.Server.Tests;

public sealed class CatalogTests
{
    private const string Loyalty = """
        {"name":"loyalty","class":"profile","fields":{
          "memberId":{"type":"string","required":true,"identity":{"namespace":"LoyaltyID","primary":true}},
          "tier":{"type":"string","enum":["silver","gold"]}}}
        """;

    [Fact]
    public async Task Schemas_are_registered_versioned_and_a_breaking_change_is_refused()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using (var created = await admin.PostAsync("/catalog/v1/schemas", Http.Json(Loyalty), ct))
        {
            Assert.Equal(1, (await created.ExpectAsync(HttpStatusCode.Created)).GetProperty("version").GetInt32());
            Assert.Equal("/catalog/v1/schemas/loyalty", created.Headers.Location?.OriginalString);
        }
        using (var same = await admin.PostAsync("/catalog/v1/schemas", Http.Json(Loyalty), ct))
        {
            Assert.Equal(1, (await same.ExpectAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
        }
        var added = Loyalty.Replace("\"tier\":", "\"points\":{\"type\":\"long\"},\"tier\":", StringComparison.Ordinal);
        using (var additive = await admin.PostAsync("/catalog/v1/schemas", Http.Json(added), ct))
        {
            Assert.Equal(2, (await additive.ExpectAsync(HttpStatusCode.Created)).GetProperty("version").GetInt32());
        }
        var breaking = added.Replace("\"points\":{\"type\":\"long\"}", "\"points\":{\"type\":\"string\"}", StringComparison.Ordinal);
        using (var refused = await admin.PostAsync("/catalog/v1/schemas", Http.Json(breaking), ct))
        {
            var error = await refused.ExpectErrorAsync(HttpStatusCode.Conflict, "SCHEMA_BREAKING_CHANGE");
            Assert.Contains("points", error.Str("message"), StringComparison.Ordinal);
        }
        using (var latest = await admin.GetAsync("/catalog/v1/schemas/loyalty", ct))
        {
            var schema = await latest.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(2, schema.GetProperty("version").GetInt32());
            Assert.Equal("long", schema.GetProperty("fields").GetProperty("points").Str("type"));
        }
        using (var first = await admin.GetAsync("/catalog/v1/schemas/loyalty?version=1", ct))
        {
            Assert.False((await first.ExpectAsync(HttpStatusCode.OK)).GetProperty("fields").TryGetProperty("points", out _));
        }
        using (var versions = await admin.GetAsync("/catalog/v1/schemas/loyalty/versions", ct))
        {
            Assert.Equal(2, (await versions.ExpectAsync(HttpStatusCode.OK)).GetArrayLength());
        }
        using (var all = await admin.GetAsync("/catalog/v1/schemas", ct))
        {
            var names = (await all.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().Select(s => s.Str("name")).ToList();
            Assert.Contains("loyalty", names);
            Assert.Contains("segment-event", names);
        }
        foreach (var (path, code) in new[] { ("/catalog/v1/schemas/nope", "SCHEMA_NOT_FOUND"), ("/catalog/v1/schemas/loyalty?version=9", "SCHEMA_NOT_FOUND"), ("/catalog/v1/schemas/nope/versions", "SCHEMA_NOT_FOUND") })
        {
            using var missing = await admin.GetAsync(path, ct);
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, code);
        }
        using (var malformed = await admin.PostAsync("/catalog/v1/schemas", Http.Json("""{"name":"x"}"""), ct))
        {
            await malformed.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        }
        using (var invalid = await admin.PostAsync("/catalog/v1/schemas", Http.Json("""{"name":"9bad","class":"profile"}"""), ct))
        {
            await invalid.ExpectErrorAsync(HttpStatusCode.BadRequest, "SCHEMA_INVALID");
        }
        foreach (var member in new[] { "fields", "fieldGroups" })
        {
            using var nullMember = await admin.PostAsync("/catalog/v1/schemas", Http.Json($$"""{"name":"nulls","class":"profile","{{member}}":null}"""), ct);
            var error = await nullMember.ExpectErrorAsync(HttpStatusCode.BadRequest, "SCHEMA_INVALID");
            Assert.StartsWith($"schema 'nulls': '{member}' is null", error.Str("message"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Datasets_and_namespaces_are_created_listed_and_shown()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using (var ns = await admin.PostAsync("/catalog/v1/namespaces", Http.Json("""{"code":"StoreCard","name":"Store card","type":"cross-device"}"""), ct))
        {
            var created = await ns.ExpectAsync(HttpStatusCode.Created);
            Assert.False(created.GetProperty("standard").GetBoolean());
        }
        using (var again = await admin.PostAsync("/catalog/v1/namespaces", Http.Json("""{"code":"StoreCard","name":"Store card","type":"cross-device"}"""), ct))
        {
            await again.ExpectAsync(HttpStatusCode.OK);
        }
        using (var clash = await admin.PostAsync("/catalog/v1/namespaces", Http.Json("""{"code":"StoreCard","name":"Store card","type":"cookie"}"""), ct))
        {
            await clash.ExpectErrorAsync(HttpStatusCode.Conflict, "NAMESPACE_EXISTS");
        }
        using (var shown = await admin.GetAsync("/catalog/v1/namespaces/StoreCard", ct))
        {
            Assert.Equal("cross-device", (await shown.ExpectAsync(HttpStatusCode.OK)).Str("type"));
        }
        using (var list = await admin.GetAsync("/catalog/v1/namespaces", ct))
        {
            var codes = (await list.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().Select(n => n.Str("code")).ToList();
            Assert.Contains("StoreCard", codes);
            Assert.Contains("ECID", codes);
        }
        using (var dev = await server.Client(server.Key.DevAdmin).GetAsync("/catalog/v1/namespaces/StoreCard", ct))
        {
            await dev.ExpectErrorAsync(HttpStatusCode.NotFound, "NAMESPACE_NOT_FOUND");
        }

        using (var schema = await admin.PostAsync("/catalog/v1/schemas", Http.Json(Loyalty), ct))
        {
            await schema.ExpectAsync(HttpStatusCode.Created);
        }
        using (var dataset = await admin.PostAsync("/catalog/v1/datasets", Http.Json("""{"name":"members","schema":"loyalty","profileEnabled":false}"""), ct))
        {
            var created = await dataset.ExpectAsync(HttpStatusCode.Created);
            Assert.False(created.GetProperty("profileEnabled").GetBoolean());
            Assert.Equal(ApiServer.Start, created.GetProperty("createdAt").GetDateTimeOffset());
        }
        using (var same = await admin.PostAsync("/catalog/v1/datasets", Http.Json("""{"name":"members","schema":"loyalty"}"""), ct))
        {
            await same.ExpectAsync(HttpStatusCode.OK);
        }
        using (var rebound = await admin.PostAsync("/catalog/v1/datasets", Http.Json("""{"name":"members","schema":"crm"}"""), ct))
        {
            await rebound.ExpectErrorAsync(HttpStatusCode.Conflict, "DATASET_EXISTS");
        }
        using (var noSchema = await admin.PostAsync("/catalog/v1/datasets", Http.Json("""{"name":"orphans","schema":"nope"}"""), ct))
        {
            await noSchema.ExpectErrorAsync(HttpStatusCode.NotFound, "SCHEMA_NOT_FOUND");
        }
        using (var ttl = await admin.PostAsync("/catalog/v1/datasets", Http.Json("""{"name":"clicks","schema":"web","eventTtl":"30.00:00:00"}"""), ct))
        {
            Assert.Equal("30.00:00:00", (await ttl.ExpectAsync(HttpStatusCode.Created)).Str("eventTtl"));
        }
        using (var shown = await admin.GetAsync("/catalog/v1/datasets/members", ct))
        {
            Assert.Equal("loyalty", (await shown.ExpectAsync(HttpStatusCode.OK)).Str("schema"));
        }
        using var datasets = await admin.GetAsync("/catalog/v1/datasets", ct);
        Assert.Contains("members", (await datasets.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().Select(d => d.Str("name")));
    }
}

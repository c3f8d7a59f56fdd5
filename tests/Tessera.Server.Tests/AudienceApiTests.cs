using System.Net;

namespace Tessera.Server.Tests;

public sealed class AudienceApiTests
{
    private const string Path = "/segmentation/v1/audiences";

    [Fact]
    public async Task Audiences_are_created_listed_shown_updated_published_deactivated_and_deleted()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;

        using (var created = await admin.PostAsync(Path, Http.Json("""{"name":"adults","id":"adults","pql":"age >= 18","description":"of age"}"""), ct))
        {
            var audience = await created.ExpectAsync(HttpStatusCode.Created);
            Assert.Equal("/segmentation/v1/audiences/adults", created.Headers.Location?.OriginalString);
            Assert.Equal("draft", audience.Str("state"));
            Assert.Equal("edge", audience.Str("mode"));
            Assert.Equal(ApiServer.Start, audience.GetProperty("createdAt").GetDateTimeOffset());
        }
        using (var created = await admin.PostAsync(Path, Http.Json("""{"name":"web-adults","pql":"inSegment(\"adults\") and chain(xEvent, timestamp, [A: WHAT(page = \"home\")])"}"""), ct))
        {
            var audience = await created.ExpectAsync(HttpStatusCode.Created);
            Assert.Equal("batch", audience.Str("mode"));
            Assert.Equal(["adults"], audience.GetProperty("dependsOn").EnumerateArray().Select(d => d.GetString()));
        }
        using (var invalid = await admin.PostAsync(Path, Http.Json("""{"name":"bad","pql":"age = \"x\""}"""), ct))
        {
            var error = await invalid.ExpectErrorAsync(HttpStatusCode.BadRequest, "PQL_INVALID");
            Assert.Contains("line 1, column", error.Str("message"), StringComparison.Ordinal);
        }
        using (var taken = await admin.PostAsync(Path, Http.Json("""{"name":"adults","pql":"age >= 21"}"""), ct))
        {
            await taken.ExpectErrorAsync(HttpStatusCode.Conflict, "AUDIENCE_EXISTS");
        }
        using (var unpublished = await admin.PostAsync($"{Path}/web-adults/publish", null, ct))
        {
            await unpublished.ExpectErrorAsync(HttpStatusCode.Conflict, "AUDIENCE_DEPENDENCY_NOT_PUBLISHED");
        }
        using (var published = await admin.PostAsync($"{Path}/adults/publish", null, ct))
        {
            Assert.Equal("published", (await published.ExpectAsync(HttpStatusCode.OK)).Str("state"));
        }
        using (var listed = await admin.GetAsync($"{Path}?state=published", ct))
        {
            Assert.Equal(["adults"], (await listed.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().Select(a => a.Str("name")));
        }
        using (var listed = await admin.GetAsync($"{Path}?state=gone", ct))
        {
            await listed.ExpectErrorAsync(HttpStatusCode.BadRequest, "PARAMETER_INVALID");
        }
        using (var inUse = await admin.DeleteAsync($"{Path}/adults", ct))
        {
            var error = await inUse.ExpectErrorAsync(HttpStatusCode.Conflict, "AUDIENCE_IN_USE");
            Assert.Contains("'web-adults'", error.Str("message"), StringComparison.Ordinal);
        }
        using (var patched = await admin.PatchAsync($"{Path}/web-adults", Http.Json("""{"description":"home page visitors"}"""), ct))
        {
            var audience = await patched.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal("home page visitors", audience.Str("description"));
            Assert.Equal(2, audience.GetProperty("version").GetInt32());
        }
        using (var replaced = await admin.PutAsync($"{Path}/web-adults", Http.Json("""{"pql":"xEvent[page = \"home\"]"}"""), ct))
        {
            var audience = await replaced.ExpectAsync(HttpStatusCode.OK);
            Assert.False(audience.TryGetProperty("description", out _)); // PUT replaces: left out is cleared.
            Assert.Empty(audience.GetProperty("dependsOn").EnumerateArray());
        }
        using (var noPql = await admin.PutAsync($"{Path}/web-adults", Http.Json("""{"description":"x"}"""), ct))
        {
            await noPql.ExpectErrorAsync(HttpStatusCode.BadRequest, "AUDIENCE_INVALID");
        }
        using (var cycle = await admin.PatchAsync($"{Path}/adults", Http.Json("""{"pql":"inSegment(\"adults\")"}"""), ct))
        {
            await cycle.ExpectErrorAsync(HttpStatusCode.BadRequest, "AUDIENCE_CYCLE");
        }
        using (var deactivated = await admin.PostAsync($"{Path}/adults/deactivate", null, ct))
        {
            Assert.Equal("inactive", (await deactivated.ExpectAsync(HttpStatusCode.OK)).Str("state"));
        }
        using (var deleted = await admin.DeleteAsync($"{Path}/adults", ct))
        {
            Assert.Equal("deleted", (await deleted.ExpectAsync(HttpStatusCode.OK)).Str("state"));
        }
        using (var missing = await admin.GetAsync($"{Path}/nope", ct))
        {
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "AUDIENCE_NOT_FOUND");
        }
        using (var shown = await admin.GetAsync($"{Path}/web-adults", ct))
        {
            Assert.Equal("xEvent[page = \"home\"]", (await shown.ExpectAsync(HttpStatusCode.OK)).Str("pql"));
        }
    }

    [Fact]
    public async Task Audiences_belong_to_the_key_sandbox_and_need_an_admin_key()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using (var created = await server.Client(server.Key.ProdAdmin).PostAsync(Path, Http.Json("""{"name":"adults","pql":"age >= 18","publish":true}"""), ct))
        {
            Assert.Equal("published", (await created.ExpectAsync(HttpStatusCode.Created)).Str("state"));
        }
        using (var collect = await server.Client(server.Key.ProdCollect).GetAsync(Path, ct))
        {
            await collect.ExpectErrorAsync(HttpStatusCode.Forbidden, "ROLE_FORBIDDEN");
        }
        using (var dev = await server.Client(server.Key.DevAdmin).GetAsync($"{Path}/adults", ct))
        {
            await dev.ExpectErrorAsync(HttpStatusCode.NotFound, "AUDIENCE_NOT_FOUND");
        }
    }
}

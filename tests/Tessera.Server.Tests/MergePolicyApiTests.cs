using System.Net;

namespace Tessera.Server.Tests;

public sealed class MergePolicyApiTests
{
    private const string Path = "/profile/v1/merge-policies";

    [Fact]
    public async Task Policies_are_created_listed_shown_updated_made_default_and_deleted()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;

        using (var none = await admin.GetAsync(Path, ct))
        {
            Assert.Equal(0, (await none.ExpectAsync(HttpStatusCode.OK)).GetArrayLength());
        }
        using (var created = await admin.PostAsync(Path, Http.Json("""{"name":"newest"}"""), ct))
        {
            var policy = await created.ExpectAsync(HttpStatusCode.Created);
            Assert.Equal("/profile/v1/merge-policies/newest", created.Headers.Location?.OriginalString);
            Assert.Equal("timestamp", policy.Str("attributeMerge"));
            Assert.Equal("graph", policy.Str("stitching"));
            Assert.True(policy.GetProperty("default").GetBoolean());
            Assert.Equal(ApiServer.Start, policy.GetProperty("createdAt").GetDateTimeOffset());
        }
        using (var created = await admin.PostAsync(Path, Http.Json("""{"name":"crm-first","attributeMerge":"datasetPrecedence","datasets":["crm","web"],"stitching":"none"}"""), ct))
        {
            Assert.False((await created.ExpectAsync(HttpStatusCode.Created)).GetProperty("default").GetBoolean());
        }
        using (var shown = await admin.GetAsync($"{Path}/crm-first", ct))
        {
            var policy = await shown.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(["crm", "web"], policy.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()));
            Assert.Equal("none", policy.Str("stitching"));
        }
        using (var updated = await admin.PutAsync($"{Path}/crm-first", Http.Json("""{"name":"crm-first","attributeMerge":"datasetPrecedence","datasets":["web"],"default":true}"""), ct))
        {
            var policy = await updated.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(["web"], policy.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()));
            Assert.Equal("graph", policy.Str("stitching"));
            Assert.True(policy.GetProperty("default").GetBoolean());
        }
        using (var listed = await admin.GetAsync(Path, ct))
        {
            var policies = (await listed.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().ToList();
            Assert.Equal(["crm-first", "newest"], policies.Select(p => p.Str("name")));
            Assert.Equal(["crm-first"], policies.Where(p => p.GetProperty("default").GetBoolean()).Select(p => p.Str("name")));
        }
        using (var refused = await admin.DeleteAsync($"{Path}/crm-first", ct))
        {
            var error = await refused.ExpectErrorAsync(HttpStatusCode.Conflict, "MERGE_POLICY_IS_DEFAULT");
            Assert.Contains("newest", error.Str("message"), StringComparison.Ordinal);
        }
        using (var deleted = await admin.DeleteAsync($"{Path}/newest", ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        using (var gone = await admin.GetAsync($"{Path}/newest", ct))
        {
            await gone.ExpectErrorAsync(HttpStatusCode.NotFound, "MERGE_POLICY_NOT_FOUND");
        }
        // The last policy may go, default or not.
        using (var last = await admin.DeleteAsync($"{Path}/crm-first", ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        }
    }

    [Fact]
    public async Task Bad_policies_are_refused_with_named_errors()
    {
        await using var server = await ApiServer.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var ct = TestContext.Current.CancellationToken;
        using (var created = await admin.PostAsync(Path, Http.Json("""{"name":"p"}"""), ct))
        {
            await created.ExpectAsync(HttpStatusCode.Created);
        }

        foreach (var (body, status, code, says) in new[]
        {
            ("""{"name":"p"}""", HttpStatusCode.Conflict, "MERGE_POLICY_EXISTS", "'p'"),
            ("""{"name":"bad name"}""", HttpStatusCode.BadRequest, "NAME_INVALID", "'bad name'"),
            ("""{"name":"q","attributeMerge":"datasetPrecedence"}""", HttpStatusCode.BadRequest, "MERGE_POLICY_INVALID", "needs datasets"),
            ("""{"name":"q","attributeMerge":"datasetPrecedence","datasets":["crm","crm"]}""", HttpStatusCode.BadRequest, "MERGE_POLICY_INVALID", "'crm' is listed twice"),
            // web-dev is the dev sandbox's dataset.
            ("""{"name":"q","attributeMerge":"datasetPrecedence","datasets":["crm","web-dev"]}""", HttpStatusCode.BadRequest, "MERGE_POLICY_INVALID", "'web-dev' does not exist"),
            ("""{"name":"q","attributeMerge":"newest"}""", HttpStatusCode.BadRequest, "BODY_INVALID", "MergePolicy"),
            ("""{"attributeMerge":"timestamp"}""", HttpStatusCode.BadRequest, "BODY_INVALID", "name"),
        })
        {
            using var response = await admin.PostAsync(Path, Http.Json(body), ct);
            var error = await response.ExpectErrorAsync(status, code);
            Assert.Contains(says, error.Str("message"), StringComparison.Ordinal);
        }
        using (var renamed = await admin.PutAsync($"{Path}/p", Http.Json("""{"name":"other"}"""), ct))
        {
            await renamed.ExpectErrorAsync(HttpStatusCode.BadRequest, "MERGE_POLICY_INVALID");
        }
        using (var missing = await admin.PutAsync($"{Path}/zz", Http.Json("""{"name":"zz"}"""), ct))
        {
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "MERGE_POLICY_NOT_FOUND");
        }
        using (var missing = await admin.DeleteAsync($"{Path}/zz", ct))
        {
            await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "MERGE_POLICY_NOT_FOUND");
        }
        using (var listed = await admin.GetAsync(Path, ct))
        {
            Assert.Equal(1, (await listed.ExpectAsync(HttpStatusCode.OK)).GetArrayLength());
        }
    }

    [Fact]
    public async Task The_limit_comes_from_the_workspace_config_and_applies_per_sandbox()
    {
        await using var server = await ApiServer.StartAsync(config: """{"profiles":{"maxMergePolicies":1}}""");
        var ct = TestContext.Current.CancellationToken;
        var admin = server.Client(server.Key.ProdAdmin);
        using (var first = await admin.PostAsync(Path, Http.Json("""{"name":"a"}"""), ct))
        {
            await first.ExpectAsync(HttpStatusCode.Created);
        }

        using (var second = await admin.PostAsync(Path, Http.Json("""{"name":"b"}"""), ct))
        {
            var error = await second.ExpectErrorAsync(HttpStatusCode.Conflict, "MERGE_POLICY_LIMIT");
            Assert.Contains("profiles.maxMergePolicies = 1", error.Str("message"), StringComparison.Ordinal);
        }
        using (var dev = await server.Client(server.Key.DevAdmin).PostAsync(Path, Http.Json("""{"name":"b"}"""), ct))
        {
            await dev.ExpectAsync(HttpStatusCode.Created);
        }
    }

    [Fact]
    public async Task Policies_need_an_admin_key_of_their_sandbox()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using (var created = await server.Client(server.Key.ProdAdmin).PostAsync(Path, Http.Json("""{"name":"p"}"""), ct))
        {
            await created.ExpectAsync(HttpStatusCode.Created);
        }

        using (var collect = await server.Client(server.Key.ProdCollect).GetAsync(Path, ct))
        {
            await collect.ExpectErrorAsync(HttpStatusCode.Forbidden, "ROLE_FORBIDDEN");
        }
        using (var anonymous = await server.Client().PostAsync(Path, Http.Json("""{"name":"q"}"""), ct))
        {
            await anonymous.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
        }
        var dev = server.Client(server.Key.DevAdmin);
        using (var other = await dev.GetAsync($"{Path}/p", ct))
        {
            await other.ExpectErrorAsync(HttpStatusCode.NotFound, "MERGE_POLICY_NOT_FOUND");
        }
        using (var other = await dev.DeleteAsync($"{Path}/p", ct))
        {
            await other.ExpectErrorAsync(HttpStatusCode.NotFound, "MERGE_POLICY_NOT_FOUND");
        }
        using (var crossing = await dev.GetAsync($"{Path}?sandbox=prod", ct))
        {
            await crossing.ExpectErrorAsync(HttpStatusCode.Forbidden, "SANDBOX_FORBIDDEN");
        }
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Tessera.Server.Tests;

/// <summary>
/// Hostile input that once got a 5xx or ended the server, each refused now with a named 4xx; and the helpers that
/// send a request and note any answer that is not a success or a JSON error with a 4xx status.
/// </summary>
public sealed class HostileInputTests
{

    [Theory]
    [InlineData("POST", "/catalog/v1/schemas", """{"name":null,"class":"profile","fields":{}}""", "'name'")]
    [InlineData("POST", "/catalog/v1/schemas", """{"name":"s1","class":"profile","fields":{"a":null}}""", "'fields'")]
    [InlineData("POST", "/catalog/v1/datasets", """{"name":null,"schema":"crm"}""", "'name'")]
    [InlineData("POST", "/profile/v1/merge-policies", """{"name":null}""", "'name'")]
    [InlineData("POST", "/profile/v1/merge-policies", """{"name":"m","attributeMerge":"datasetPrecedence","datasets":[null]}""", "'datasets'")]
    [InlineData("PUT", "/activation/v1/destinations/files", """{"name":"files","connector":null}""", "'connector'")]
    [InlineData("PUT", "/activation/v1/destinations/files", """{"name":"files","connector":"file","audiences":[null]}""", "'audiences'")]
    [InlineData("POST", "/activation/v1/destinations", """{"name":null,"connector":"file"}""", "'name'")]
    [InlineData("POST", "/activation/v1/destinations", """{"name":"w","connector":"webhook","settings":{"endpoint":null}}""", "'settings'")]
    [InlineData("POST", "/governance/v1/labels", """{"dataset":"crm","labels":null}""", "'labels'")]
    [InlineData("POST", "/governance/v1/labels", """{"dataset":"crm","field":"age","labels":[null]}""", "'labels'")]
    [InlineData("PUT", "/governance/v1/policies/p1", """{"labels":null,"actions":["email"]}""", "'labels'")]
    [InlineData("POST", "/edge/v1/evaluate", """{"identity":"ECID:K1","attributes":[null]}""", "'attributes'")]
    [InlineData("PUT", "/identity/v1/rules", """{"uniqueNamespaces":null}""", "'uniqueNamespaces'")]
    [InlineData("PUT", "/identity/v1/rules", """{"priority":["ECID",null]}""", "'priority'")]
    [InlineData("PUT", "/identity/v1/rules", """{"priority":""", "JSON")]
    [InlineData("POST", "/identity/v1/deletions", """[]""", "LedgerDeletionRequest")]
    public async Task A_null_where_the_contract_has_none_is_a_400_naming_the_member(string method, string path, string body, string named)
    {
        await using var server = await StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Http.Json(body) };
        using var response = await server.Client(server.Key.ProdAdmin).SendAsync(request, ct);
        var error = await response.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        Assert.Contains(named, error.Str("message"), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/catalog/v1/schemas/crm?version=nope", "version")]
    [InlineData("/catalog/v1/schemas/crm?version=2147483648", "version")]
    [InlineData("/segmentation/v1/memberships/changes?after=1e400", "after")]
    [InlineData("/segmentation/v1/memberships/changes?max=NaN", "max")]
    [InlineData("/profile/v1/profile?identity=ECID:K1&events=ten", "events")]
    [InlineData("/privacy/v1/requests?limit=-2147483649", "limit")]
    [InlineData("/batches/v1/?limit=true", "limit")]
    [InlineData("/activation/v1/destinations/files/runs?take=x", "take")]
    [InlineData("/activation/v1/destinations/files/audit?run=9223372036854775808", "run")]
    [InlineData("/batches/v1/?status=done", "status")]
    [InlineData("/segmentation/v1/audiences?state=gone", "state")]
    [InlineData("/batches/v1/?limit=1&limit=2", "limit")]
    public async Task A_query_parameter_that_is_not_of_its_type_is_PARAMETER_INVALID_naming_it(string path, string parameter)
    {
        await using var server = await StartAsync();
        using var response = await server.Client(server.Key.ProdAdmin).GetAsync(path, TestContext.Current.CancellationToken);
        var error = await response.ExpectErrorAsync(HttpStatusCode.BadRequest, "PARAMETER_INVALID");
        Assert.Contains(parameter, error.Str("message"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/catalog/v1/schemas")]
    [InlineData("/segmentation/v1/audiences")]
    [InlineData("/collection/v1/datasets/crm/records")]
    [InlineData("/batches/v1/datasets/crm")]
    public async Task A_body_of_a_content_type_the_endpoint_does_not_take_is_a_415_with_an_error_code(string path)
    {
        await using var server = await StartAsync();
        using var content = new StringContent("{}", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await server.Client(server.Key.ProdAdmin).PostAsync(path, content, TestContext.Current.CancellationToken);
        var error = await response.ExpectErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        Assert.Contains("application/x-www-form-urlencoded", error.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pattern_that_is_not_a_regular_expression_is_PQL_INVALID_and_one_from_data_fails_no_run()
    {
        await using var server = await StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var admin = server.Client(server.Key.ProdAdmin);
        foreach (var path in new[] { "/segmentation/v1/estimate", "/segmentation/v1/preview", "/segmentation/v1/audiences" })
        {
            using var refused = await admin.PostAsync(path, Http.Json("""{"name":"bad","pql":"xEvent.exists(page.matches(\"[\"))"}"""), ct);
            var error = await refused.ExpectErrorAsync(HttpStatusCode.BadRequest, "PQL_INVALID");
            Assert.Contains("not a regular expression", error.Str("message"), StringComparison.Ordinal);
        }
        // A pattern read from the data reaches the engines: one that is not a regular expression does not match (nor does
        // one that backtracks past its budget: Tessera.Pql.Tests); the run goes on for every other profile and audience.
        using (var posted = await server.Client(server.Key.ProdCollect).PostAsync("/collection/v1/datasets/web/events",
            Http.Json("""[{"_id":"p1","timestamp":"2026-11-01T11:40:00Z","ecid":"K7","page":"["}]"""), ct))
        {
            await posted.ExpectAsync(HttpStatusCode.OK);
        }
        await server.Workspace.Streaming!.WhenIdleAsync();
        using (var created = await admin.PostAsync("/segmentation/v1/audiences", Http.Json("""
            {"id":"self","name":"self","publish":true,"pql":"xEvent.exists(page.matches(page))"}
            """), ct))
        {
            await created.ExpectAsync(HttpStatusCode.Created);
        }
        using (var estimate = await admin.PostAsync("/segmentation/v1/estimate", Http.Json("""{"audience":"self"}"""), ct))
        {
            await estimate.ExpectAsync(HttpStatusCode.OK);
        }
        using (var evaluated = await admin.PostAsync("/segmentation/v1/evaluate", null, ct))
        {
            await evaluated.ExpectAsync(HttpStatusCode.OK);
        }
        using var members = await admin.GetAsync("/segmentation/v1/audiences/home/members", ct);
        Assert.Equal(1, (await members.ExpectAsync(HttpStatusCode.OK)).GetArrayLength());
    }

    [Theory]
    [InlineData("/batches/v1/datasets/crm?format=parquet", "application/octet-stream", "garbage", HttpStatusCode.BadRequest, "FILE_UNREADABLE")]
    [InlineData("/batches/v1/datasets/crm?format=parquet", "application/octet-stream", "PAR1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxPAR1", HttpStatusCode.BadRequest, "FILE_UNREADABLE")]
    [InlineData("/batches/v1/datasets/crm?format=csv&mapping=%7B%22columns%22%3A%5Bnull%5D%2C%22header%22%3Afalse%7D", "text/csv", "m1\n", HttpStatusCode.BadRequest, "MAPPING_ERROR")]
    [InlineData("/batches/v1/datasets/crm?format=csv&mapping=%7B%22delimiter%22%3A%22%5Cn%22%7D", "text/csv", "crmId\nm1\n", HttpStatusCode.BadRequest, "MAPPING_ERROR")]
    [InlineData("/batches/v1/datasets/crm?format=csv&mapping=%7B%22delimiter%22%3A%22%5C%22%22%7D", "text/csv", "crmId\nm1\n", HttpStatusCode.BadRequest, "MAPPING_ERROR")]
    [InlineData("/batches/v1/datasets/crm", "multipart/form-data; boundary=zz", "x", HttpStatusCode.BadRequest, "BODY_INVALID")]
    [InlineData("/batches/v1/datasets/crm", "multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\ncrmId\nm1\n", HttpStatusCode.BadRequest, "BODY_INVALID")]
    [InlineData("/batches/v1/datasets/crm", "multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"mapping\"\r\n\r\n{\"columns\"", HttpStatusCode.BadRequest, "BODY_INVALID")]
    [InlineData("/batches/v1/datasets/crm", "multipart/form-data; boundary=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "--zz", HttpStatusCode.BadRequest, "BODY_INVALID")]
    public async Task An_upload_that_cannot_be_read_is_a_named_4xx_and_its_batch_failed(string path, string contentType, string body, HttpStatusCode status, string code)
    {
        await using var server = await StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var admin = server.Client(server.Key.ProdAdmin);
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await admin.PostAsync(path, content, ct);
        var error = await response.ExpectErrorAsync(status, code);
        Assert.DoesNotContain(server.Directory, error.Str("message"), StringComparison.Ordinal);
        // Nothing is left loading, and no staged copy is left behind.
        using var batches = await admin.GetAsync("/batches/v1/?limit=100", ct);
        Assert.All((await batches.ExpectAsync(HttpStatusCode.OK)).EnumerateArray(), batch => Assert.NotEqual("loading", batch.Str("status")));
        var uploads = Path.Combine(server.Directory, "uploads");
        Assert.True(!Directory.Exists(uploads) || Directory.GetFiles(uploads).Length == 0, "a staged upload was left behind");
    }

    [Fact]
    public async Task The_edge_stores_events_in_an_event_dataset_only()
    {
        await using var server = await StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using (var response = await server.Client(server.Key.ProdCollect).PostAsync("/edge/v1/evaluate",
            Http.Json("""{"identity":"CRMID:c7","dataset":"crm","events":[{"crmId":"c7","age":99}]}"""), ct))
        {
            await response.ExpectErrorAsync(HttpStatusCode.BadRequest, "DATASET_CLASS_MISMATCH");
        }
        // Nothing was written to the profile dataset through the edge.
        using var profile = await server.Client(server.Key.ProdAdmin).GetAsync("/profile/v1/profile?identity=CRMID:c7", ct);
        await profile.ExpectErrorAsync(HttpStatusCode.NotFound, "PROFILE_NOT_FOUND");
    }

    /// <summary>PQL that does not parse, does not type-check, or is built to exhaust the parser, the checker or an engine.</summary>
    public static readonly TheoryData<string> HostilePql =
    [
        "", " ", "age >", "age > \"", "(((", ")))", "age > 1e400", "age > 99999999999999999999999", "age > -99999999999999999999999",
        "age = \"\ud800\"", "\ud800 = 1", "nope = 1", "age = \"x\"", "age.foo = 1", "xEvent[", "xEvent[page = 1]", "age / 0 > 1",
        "age % 0 = 1", "inSegment(\"nope\")", "inSegment(\"home\", \"x\")", "age in [1, \"a\"]", "age > 1 and", "@@@", "\u0000",
        "xEvent.timestamp occurs < 99999999999999 days before now", "xEvent.timestamp occurs < -1 days before now",
        "xEvent.timestamp occurs between 2026-13-45 and 2026-01-01", "age.matches(\"(\")", "email.matches(\"(a+)+$\")",
        "xEvent.count() > 2147483648", "xEvent.exists(x => x.page = 1 and)", "let x = 1 in x > 0",
        string.Join(" or ", Enumerable.Repeat("age > 1", 1_000)),
        string.Join(" or ", Enumerable.Repeat("xEvent.exists(page = \"a\")", 1_000)),
        string.Join(" + ", Enumerable.Repeat("age", 1_000)) + " > 1",
        string.Join(" or ", Enumerable.Repeat("age > 1", 3_000)),
        string.Join(" or ", Enumerable.Repeat("xEvent.exists(page = \"a\")", 3_000)),
        string.Join(" + ", Enumerable.Repeat("age", 3_000)) + " > 1",
        string.Join(" or ", Enumerable.Repeat("age > 1", 50_000)),
        string.Join("+", Enumerable.Repeat("1", 200_000)) + " > 0",
        "age" + string.Concat(Enumerable.Repeat(".a", 200_000)) + " = 1",
        new string('(', 100_000) + "age > 1" + new string(')', 100_000),
        string.Concat(Enumerable.Repeat("not ", 100_000)) + "age > 1",
        string.Concat(Enumerable.Repeat("-", 100_000)) + "age > 1",
        // Just within the parser's height limit (Parser.MaxHeight): accepted, and walked on a request thread by the checker,
        // the classifier, the compiler and the engines (tests/Tessera.Pql.Tests HeightLimitTests does it on a small stack).
        "email" + string.Concat(Enumerable.Repeat(".lower()", 497)) + " = \"a\"",
        "xEvent" + string.Concat(Enumerable.Repeat("[page = \"a\"]", 496)) + ".count() > 0",
        string.Join(" or ", Enumerable.Repeat("age > 1", 497)),
    ];

    [Theory]
    [MemberData(nameof(HostilePql))]
    public async Task Hostile_pql_is_refused_with_a_named_error(string pql)
    {
        await using var server = await StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        var failures = new List<string>();
        var body = new JsonObject { ["pql"] = pql }.ToJsonString();
        await ProbeAsync(admin, "POST", "/segmentation/v1/estimate", body, "application/json", failures);
        await ProbeAsync(admin, "POST", "/segmentation/v1/preview", body, "application/json", failures);
        await ProbeAsync(admin, "POST", "/segmentation/v1/audiences", new JsonObject { ["name"] = "x1", ["pql"] = pql, ["publish"] = true }.ToJsonString(), "application/json", failures);
        await ProbeAsync(admin, "PATCH", "/segmentation/v1/audiences/adults", new JsonObject { ["pql"] = pql }.ToJsonString(), "application/json", failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    internal static async Task ProbeAsync(HttpClient client, string method, string path, string? body, string? contentType, List<string> failures)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
            }
        }
        var shown = body is null ? "" : body.Length > 200 ? body[..200] + "..." : body;
        try
        {
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"{method} {path} [{contentType}] {shown} -> {(int)response.StatusCode} {Short(text)}");
            }
            else if ((int)response.StatusCode >= 400 && !text.Contains("\"code\"", StringComparison.Ordinal)
                // Kestrel refuses a path holding an encoded NUL itself, before any middleware runs: a bare 400.
                && !(response.StatusCode == HttpStatusCode.BadRequest && path.Contains("%00", StringComparison.Ordinal) && text.Length == 0))
            {
                failures.Add($"{method} {path} [{contentType}] {shown} -> {(int)response.StatusCode} without an error code: {Short(text)}");
            }
        }
        catch (HttpRequestException error)
        {
            failures.Add($"{method} {Short(path)} [{contentType}] {shown} -> {error.GetType().Name}: {error.Message}");
        }
        catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            failures.Add($"{method} {Short(path)} [{contentType}] {shown} -> no answer within a minute");
        }
    }

    private static string Short(string text) => text.Length > 300 ? text[..300] + "..." : text;

    /// <summary>A server holding a record, an event, a merge policy, two audiences (one published) and a file destination.</summary>
    internal static async Task<ApiServer> StartAsync()
    {
        var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var admin = server.Client(server.Key.ProdAdmin);
        foreach (var (path, body) in new[]
        {
            ("/collection/v1/datasets/crm/records", """[{"crmId":"c1","email":"ann@example.com","age":30},{"crmId":"c2","age":200}]"""),
            ("/collection/v1/datasets/web/events", """[{"_id":"e1","timestamp":"2026-11-01T11:30:00Z","ecid":"K1","page":"home"}]"""),
            ("/profile/v1/merge-policies", """{"name":"base"}"""),
            ("/segmentation/v1/audiences", """{"id":"home","name":"home","publish":true,"pql":"xEvent.exists(page = \"home\")"}"""),
            ("/segmentation/v1/audiences", """{"id":"adults","name":"adults","pql":"age > 17"}"""),
            ("/activation/v1/destinations", """{"name":"files","connector":"file","audiences":[{"audienceId":"home"}],"identities":[{"source":"CRMID","target":"crm_id"}],"schedule":{"frequency":"daily","at":"02:00","mode":"full"},"file":{"format":"csv","folder":"exports"}}"""),
        })
        {
            using var response = await admin.PostAsync(path, Http.Json(body), ct);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        return server;
    }
}

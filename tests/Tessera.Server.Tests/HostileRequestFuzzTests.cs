using System.Net;
using System.Text.Json.Nodes;

namespace Tessera.Server.Tests;

/// <summary>
/// Every endpoint with a valid admin key and hostile input — malformed bodies, values of the wrong kind, nulls, numbers out of
/// range, lone surrogates, deep nesting, bad route and query parameters, wrong content types — derived from one valid
/// request per endpoint: each answer must be a success or a JSON error with a 4xx status, never a 5xx, a cut connection or a hang.
/// </summary>
public sealed class HostileRequestFuzzTests
{

    /// <summary>A request body template per endpoint that takes one: a valid body that the mutations start from.</summary>
    private static readonly (string Method, string Path, string Body)[] BodyEndpoints =
    [
        ("POST", "/catalog/v1/schemas", """{"name":"s1","class":"profile","fields":{"id":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},"n":{"type":"int","min":0,"max":5},"t":{"type":"string","pattern":"^a+$","maxLength":9,"enum":["a"]}}}"""),
        ("POST", "/catalog/v1/datasets", """{"name":"d1","schema":"crm"}"""),
        ("POST", "/catalog/v1/namespaces", """{"code":"Custom1","name":"Custom one","type":"crossDevice"}"""),
        ("POST", "/profile/v1/merge-policies", """{"name":"m1","attributeMerge":"datasetPrecedence","datasets":["crm","web"],"stitching":"none"}"""),
        ("PUT", "/profile/v1/merge-policies/base", """{"name":"base","attributeMerge":"datasetPrecedence","datasets":["crm"],"default":true}"""),
        ("POST", "/segmentation/v1/audiences", """{"id":"a1","name":"a1","pql":"age > 3","description":"d","mergePolicy":"base"}"""),
        ("PUT", "/segmentation/v1/audiences/home", """{"pql":"xEvent.exists(page = \"home\")","description":"d"}"""),
        ("PATCH", "/segmentation/v1/audiences/adults", """{"pql":"age > 20"}"""),
        ("POST", "/segmentation/v1/estimate", """{"pql":"age > 3","sample":100,"seed":1}"""),
        ("POST", "/segmentation/v1/preview", """{"pql":"age > 3","count":5}"""),
        ("POST", "/edge/v1/evaluate", """{"identity":"ECID:K1","dataset":"web","events":[{"_id":"x1","timestamp":"2026-11-01T11:59:00Z","ecid":"K1","page":"home"}],"attributes":["age"]}"""),
        ("PUT", "/identity/v1/rules", """{"uniqueNamespaces":["CRMID"],"priority":["CRMID","ECID"],"maxIdentities":50}"""),
        ("POST", "/identity/v1/deletions", """{"identity":"ECID:nobody"}"""),
        ("POST", "/privacy/v1/requests", """{"type":"access","identities":["CRMID:c1"]}"""),
        ("POST", "/activation/v1/destinations", """{"name":"f1","connector":"file","audiences":[{"audienceId":"home"}],"identities":[{"source":"CRMID","target":"crm_id"}],"attributes":[{"source":"age","target":"age"}],"schedule":{"frequency":"daily","at":"02:00","mode":"full"},"file":{"format":"csv","folder":"exports"}}"""),
        ("PUT", "/activation/v1/destinations/files", """{"name":"files","connector":"file","audiences":[{"audienceId":"home"}],"identities":[{"source":"CRMID","target":"crm_id"}],"batching":{"maxRecords":10,"maxAgeSeconds":5},"file":{"format":"jsonl","folder":"exports"}}"""),
        ("POST", "/governance/v1/labels", """{"dataset":"crm","field":"age","labels":["C1"]}"""),
        ("PUT", "/governance/v1/policies/p1", """{"labels":["C1"],"marketingActions":["email"]}"""),
        ("POST", "/collection/v1/datasets/crm/records", """[{"crmId":"c9","age":5}]"""),
        ("POST", "/collection/v1/datasets/web/events", """[{"_id":"z1","timestamp":"2026-11-01T11:00:00Z","ecid":"K9","value":3}]"""),
        ("POST", "/v1/batch", """{"batch":[{"type":"track","event":"e","userId":"u1","messageId":"m1","timestamp":"2026-11-01T11:00:00Z"}]}"""),
        ("POST", "/v1/identify", """{"userId":"u1","traits":{"a":1},"messageId":"m2"}"""),
        ("POST", "/batches/v1/datasets/crm?format=jsonl", """{"crmId":"c8","age":5}"""),
        ("POST", "/batches/v1/{batch}/replay", """{"format":"csv","delimiter":";","header":false,"columns":["id","age"],"fields":{"id":"crmId","junk":null},"ignore":["x"],"formats":{"age":"yyyyMMdd"},"primaryIdentity":"CRMID"}"""),
    ];

    /// <summary>Endpoints without a body, with route and query parameters to vary.</summary>
    private static readonly (string Method, string Template)[] BodilessEndpoints =
    [
        ("GET", "/catalog/v1/schemas/{x}"),
        ("GET", "/catalog/v1/schemas/crm?version={x}"),
        ("GET", "/catalog/v1/schemas/{x}/versions"),
        ("GET", "/catalog/v1/datasets/{x}"),
        ("GET", "/catalog/v1/namespaces/{x}"),
        ("GET", "/profile/v1/merge-policies/{x}"),
        ("DELETE", "/profile/v1/merge-policies/{x}"),
        ("GET", "/segmentation/v1/audiences?state={x}"),
        ("GET", "/segmentation/v1/audiences/{x}"),
        ("DELETE", "/segmentation/v1/audiences/{x}"),
        ("POST", "/segmentation/v1/audiences/{x}/publish"),
        ("POST", "/segmentation/v1/audiences/{x}/deactivate"),
        ("POST", "/segmentation/v1/evaluate?audience={x}"),
        ("GET", "/segmentation/v1/memberships/changes?after={x}"),
        ("GET", "/segmentation/v1/memberships/changes?max={x}"),
        ("GET", "/segmentation/v1/audiences/{x}/members"),
        ("GET", "/segmentation/v1/audiences/{x}/overlap/home"),
        ("GET", "/segmentation/v1/audiences/home/overlap/{x}"),
        ("GET", "/segmentation/v1/audiences/{x}/history"),
        ("GET", "/identity/v1/graph?identity={x}"),
        ("GET", "/identity/v1/explain?a={x}&b=ECID:K1"),
        ("GET", "/profile/v1/profile?identity={x}"),
        ("GET", "/profile/v1/profile?identity=ECID:K1&policy={x}"),
        ("GET", "/profile/v1/profile?identity=ECID:K1&events={x}"),
        ("GET", "/profile/v1/profile?identity=ECID:K1&before={x}"),
        ("GET", "/privacy/v1/requests?limit={x}"),
        ("GET", "/privacy/v1/requests/{x}"),
        ("GET", "/privacy/v1/requests/{x}/export"),
        ("GET", "/activation/v1/destinations/{x}"),
        ("DELETE", "/activation/v1/destinations/{x}"),
        ("POST", "/activation/v1/destinations/files/audiences/{x}"),
        ("POST", "/activation/v1/destinations/files/audiences/home?externalId={x}"),
        ("DELETE", "/activation/v1/destinations/files/audiences/{x}"),
        ("POST", "/activation/v1/destinations/{x}/deliver"),
        ("POST", "/activation/v1/destinations/{x}/export"),
        ("GET", "/activation/v1/destinations/{x}/runs"),
        ("GET", "/activation/v1/destinations/files/runs?take={x}"),
        ("GET", "/activation/v1/destinations/files/audit?run={x}"),
        ("GET", "/activation/v1/destinations/{x}/dead-letters"),
        ("POST", "/activation/v1/destinations/{x}/replay"),
        ("PUT", "/governance/v1/policies/{x}"),
        ("DELETE", "/governance/v1/policies/{x}"),
        ("GET", "/batches/v1/?limit={x}"),
        ("GET", "/batches/v1/?status={x}"),
        ("GET", "/batches/v1/?before={x}"),
        ("GET", "/batches/v1/?dataset={x}"),
        ("GET", "/batches/v1/{x}"),
        ("GET", "/batches/v1/{x}/quarantine"),
        ("GET", "/batches/v1/{batch}/quarantine?offset={x}"),
        ("GET", "/batches/v1/{batch}/quarantine?limit={x}"),
        ("POST", "/batches/v1/{x}/replay"),
        ("POST", "/batches/v1/datasets/{x}?format=jsonl"),
        ("POST", "/batches/v1/datasets/crm?format={x}"),
        ("POST", "/batches/v1/datasets/crm?format=jsonl&mapping={x}"),
        ("POST", "/collection/v1/datasets/{x}/records"),
        ("POST", "/collection/v1/datasets/crm/records?outcomes={x}"),
    ];

    /// <summary>Route and query values: escaped slashes, NULs, lone surrogates, numbers out of range, another sandbox's names.</summary>
    private static readonly string[] ParameterValues =
    [
        "", "%20", "a%2Fb", "a/b", "%00", "%ED%A0%80", "%FF", "%C0%AF", "%25", "..", "%2E%2E", "nope", "web-dev",
        "-1", "0", "2147483648", "-2147483649", "9223372036854775808", "1e400", "NaN", "true", "ECID", "ECID:", ":x", "ECID:%00",
        "Email:%ED%A0%80", "Nope:x", "Phone:abc", "CRMID:" + new string('x', 5000), new string('a', 5000),
    ];

    private static readonly string[] WholeBodies =
    [
        "", " ", "{", "}", "[", "nul", "null", "true", "1", "1e400", "-1", "\"x\"", "\"\\ud800\"", "[]", "[null]", "[1]", "{}",
        "{\"a\":1,}", "{\"a\":1}{\"b\":2}", "\u0000", "\uFEFF{}", Deep(1000), Deep(100), "{\"" + new string('k', 70_000) + "\":1}",
    ];

    private static readonly string[] MemberValues =
    [
        "null", "[null]", "[]", "{}", "\"\"", "\"\\ud800\"", "\"a\\ud800\"", "\"\\u0000\"", "1e400", "-1e400", "-1", "0", "2147483648", "-2147483649",
        "9223372036854775808", "1.5", "true", "\"x\"", "[\"\\ud800\"]", "{\"\\ud800\":1}", "{\"a\":null}", "[{}]", "[[]]",
        "\"" + new string('z', 100_000) + "\"", Deep(60),
    ];

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    [Fact]
    public async Task No_hostile_request_gets_a_5xx_or_a_cut_connection()
    {
        await using var server = await HostileInputTests.StartAsync();
        var admin = server.Client(server.Key.ProdAdmin);
        admin.Timeout = TimeSpan.FromMinutes(1);
        var batch = await FirstBatchAsync(admin);
        var failures = new List<string>();
        foreach (var (method, template, body) in BodyEndpoints)
        {
            var path = template.Replace("{batch}", batch, StringComparison.Ordinal);
            foreach (var candidate in Mutations(body))
            {
                await HostileInputTests.ProbeAsync(admin, method, path, candidate, "application/json", failures);
            }
            await HostileInputTests.ProbeAsync(admin, method, path, body, "text/plain", failures);
            await HostileInputTests.ProbeAsync(admin, method, path, body, null, failures);
        }
        foreach (var (method, template) in BodilessEndpoints)
        {
            foreach (var value in ParameterValues)
            {
                var path = template.Replace("{batch}", batch, StringComparison.Ordinal).Replace("{x}", value, StringComparison.Ordinal);
                await HostileInputTests.ProbeAsync(admin, method, path, method == "GET" || method == "DELETE" ? null : "{}", "application/json", failures);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static IEnumerable<string> Mutations(string body)
    {
        foreach (var whole in WholeBodies)
        {
            yield return whole;
        }
        var root = JsonNode.Parse(body)!;
        yield return Set(root, [], "unknownField", "1");
        foreach (var (path, _) in Members(root, []))
        {
            foreach (var value in MemberValues)
            {
                yield return Replace(root, path, value);
            }
            yield return Remove(root, path);
        }
    }

    private static IEnumerable<(object[] Path, JsonNode? Node)> Members(JsonNode node, object[] path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    object[] at = [.. path, name];
                    yield return (at, child);
                    if (child is not null)
                    {
                        foreach (var inner in Members(child, at))
                        {
                            yield return inner;
                        }
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    object[] at = [.. path, i];
                    yield return (at, array[i]);
                    if (array[i] is { } child)
                    {
                        foreach (var inner in Members(child, at))
                        {
                            yield return inner;
                        }
                    }
                }
                break;
        }
    }

    private static string Replace(JsonNode root, object[] path, string value)
    {
        var copy = root.DeepClone();
        var parent = Walk(copy, path[..^1]);
        var marker = "\u0001MARK\u0001";
        switch (path[^1])
        {
            case string name:
                parent[name] = marker;
                break;
            case int index:
                parent[index] = marker;
                break;
        }
        return copy.ToJsonString().Replace("\"\\u0001MARK\\u0001\"", value, StringComparison.Ordinal);
    }

    private static string Remove(JsonNode root, object[] path)
    {
        var copy = root.DeepClone();
        var parent = Walk(copy, path[..^1]);
        switch (path[^1])
        {
            case string name:
                parent.AsObject().Remove(name);
                break;
            case int index:
                parent.AsArray().RemoveAt(index);
                break;
        }
        return copy.ToJsonString();
    }

    private static string Set(JsonNode root, object[] path, string name, string value)
    {
        var copy = root.DeepClone();
        if (Walk(copy, path) is JsonObject obj)
        {
            obj[name] = JsonNode.Parse(value);
        }
        return copy.ToJsonString();
    }

    private static JsonNode Walk(JsonNode node, object[] path)
    {
        foreach (var step in path)
        {
            node = step switch
            {
                string name => node[name]!,
                int index => node[index]!,
                _ => throw new InvalidOperationException(),
            };
        }
        return node;
    }

    private static async Task<string> FirstBatchAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/batches/v1/?limit=1", TestContext.Current.CancellationToken);
        return (await response.ExpectAsync(HttpStatusCode.OK))[0].Str("id");
    }
}

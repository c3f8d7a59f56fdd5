using System.Net;
using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Server.Segment;

namespace Tessera.Server.Tests;

public sealed class SegmentTests
{
    private static readonly IdentityValue User1 = new("CRMID", "u1", true);

    private static JsonElement StoredEvent(ApiServer server, IdentityValue primary, string id) =>
        StoredFacts.Event(server.Workspace, "prod", "segment-events", primary, id)?.GetProperty("record")
        ?? throw new Xunit.Sdk.XunitException($"event {id} of {primary} is not stored");

    private static async Task ExpectSuccessAsync(HttpResponseMessage response)
    {
        var body = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("""{"success":true}""", body.GetRawText());
    }

    [Fact]
    public async Task Track_with_basic_auth_is_stored_as_an_event_with_identities_and_a_skew_corrected_timestamp()
    {
        await using var server = await ApiServer.StartAsync();
        using var response = await server.BasicClient(server.Key.ProdCollect).PostAsync("/v1/track", Http.Json("""
            {"type":"track","messageId":"m-1","userId":"u1","anonymousId":"a1","event":"Order Completed",
             "properties":{"total":42.5,"items":[{"sku":"X"}]},"context":{"ip":"10.0.0.1","library":{"name":"analytics-node"}},
             "integrations":{"All":true},"timestamp":"2026-11-01T11:59:00Z","sentAt":"2026-11-01T11:59:30Z"}
            """), TestContext.Current.CancellationToken);
        await ExpectSuccessAsync(response);

        var stored = StoredEvent(server, User1, "m-1");
        Assert.Equal("track", stored.Str("eventType"));
        Assert.Equal("Order Completed", stored.Str("event"));
        Assert.Equal(42.5, stored.GetProperty("properties").GetProperty("total").GetDouble());
        Assert.Equal("analytics-node", stored.GetProperty("context").GetProperty("library").Str("name"));
        // receivedAt 12:00:00 − (sentAt 11:59:30 − timestamp 11:59:00) = 11:59:30.
        Assert.Equal("2026-11-01T11:59:30.000Z", stored.Str("timestamp"));
        Assert.Equal("2026-11-01T11:59:00.000Z", stored.Str("originalTimestamp"));
        Assert.Equal("2026-11-01T12:00:00.000Z", stored.Str("receivedAt"));
        Assert.Equal("u1", stored.Str("userId"));
        Assert.False(stored.TryGetProperty("integrations", out _));
        var identities = stored.GetProperty("identityMap");
        Assert.True(identities.GetProperty("CRMID")[0].GetProperty("primary").GetBoolean());
        Assert.Equal("a1", identities.GetProperty("ECID")[0].Str("id"));
        Assert.False(identities.GetProperty("ECID")[0].GetProperty("primary").GetBoolean());
    }

    [Fact]
    public async Task Every_call_type_is_mapped_onto_the_bound_datasets()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.BasicClient(server.Key.ProdCollect);
        var ct = TestContext.Current.CancellationToken;
        var calls = new (string Path, string Body)[]
        {
            ("identify", """{"messageId":"i-1","userId":"u1","anonymousId":"a1","traits":{"email":"u1@example.com","plan":"pro"}}"""),
            ("page", """{"messageId":"p-1","anonymousId":"a1","name":"Pricing","category":"Docs","properties":{"url":"https://x/pricing"}}"""),
            ("screen", """{"messageId":"s-1","userId":"u1","name":"Home","properties":{"variant":"b"}}"""),
            ("group", """{"messageId":"g-1","userId":"u1","groupId":"acme","traits":{"employees":120}}"""),
            ("alias", """{"messageId":"al-1","userId":"u1","previousId":"a1"}"""),
            ("track", """{"messageId":"t-1","userId":12345,"event":"Numeric User"}"""),
        };
        foreach (var (path, body) in calls)
        {
            using var response = await client.PostAsync("/v1/" + path, Http.Json(body), ct);
            await ExpectSuccessAsync(response);
        }

        var profile = StoredFacts.Record(server.Workspace, "prod", "segment-profiles", User1)!.Value.GetProperty("record");
        Assert.Equal("pro", profile.GetProperty("traits").Str("plan"));
        Assert.Equal("i-1", profile.Str("messageId"));
        Assert.Equal("a1", profile.Str("anonymousId"));
        Assert.Equal("a1", profile.GetProperty("identityMap").GetProperty("ECID")[0].Str("id"));

        var page = StoredEvent(server, new IdentityValue("ECID", "a1", true), "p-1");
        Assert.Equal(("page", "Pricing", "Docs"), (page.Str("eventType"), page.Str("event"), page.Str("category")));
        Assert.True(page.GetProperty("identityMap").GetProperty("ECID")[0].GetProperty("primary").GetBoolean());
        Assert.Equal("2026-11-01T12:00:00.000Z", page.Str("timestamp")); // no timestamp sent: received time

        var screen = StoredEvent(server, User1, "s-1");
        Assert.Equal(("screen", "Home", "b"), (screen.Str("eventType"), screen.Str("event"), screen.GetProperty("properties").Str("variant")));

        var group = StoredEvent(server, User1, "g-1");
        Assert.Equal(("group", "acme", 120), (group.Str("eventType"), group.Str("groupId"), group.GetProperty("traits").GetProperty("employees").GetInt32()));

        var alias = StoredEvent(server, User1, "al-1");
        Assert.Equal(("alias", "a1"), (alias.Str("eventType"), alias.Str("previousId")));

        var numeric = StoredEvent(server, new IdentityValue("CRMID", "12345", true), "t-1");
        Assert.Equal("12345", numeric.Str("userId"));
    }

    [Fact]
    public async Task Batch_splits_identify_from_events_and_merges_the_batch_context()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        foreach (var path in new[] { "/v1/batch", "/v1/import" })
        {
            using var response = await server.BasicClient(server.Key.ProdCollect).PostAsync(path, Http.Json("""
                {"batch":[
                   {"type":"identify","messageId":"b-1","userId":"u1","traits":{"name":"Ada"}},
                   {"type":"track","messageId":"b-2","userId":"u1","event":"Viewed","context":{"locale":"fr-FR"}},
                   {"type":"page","messageId":"b-3","userId":"u1","name":"Home"}],
                 "context":{"locale":"en-US","library":{"name":"analytics-python"}},
                 "sentAt":"2026-11-01T12:00:00Z"}
                """), ct);
            await ExpectSuccessAsync(response);
        }
        Assert.Equal("Ada", StoredFacts.Record(server.Workspace, "prod", "segment-profiles", User1)!.Value.GetProperty("record").GetProperty("traits").Str("name"));
        var viewed = StoredEvent(server, User1, "b-2").GetProperty("context");
        Assert.Equal("fr-FR", viewed.Str("locale"));
        Assert.Equal("analytics-python", viewed.GetProperty("library").Str("name"));
        Assert.Equal("en-US", StoredEvent(server, User1, "b-3").GetProperty("context").Str("locale"));
        Assert.Equal(2, StoredFacts.Count(server.Workspace, "prod", "segment-events"));

        using var list = await server.Client(server.Key.ProdAdmin).GetAsync("/batches/v1", ct);
        var batches = (await list.ExpectAsync(HttpStatusCode.OK)).EnumerateArray().ToList();
        Assert.Equal(4, batches.Count);
        Assert.Equal(2, batches.Count(b => b.Str("dataset") == "segment-profiles"));
        // The second send of the same messages stored nothing new.
        Assert.Equal(2, batches.Where(b => b.Str("dataset") == "segment-events").Sum(b => b.GetProperty("counts").Long("duplicates")));
    }

    [Fact]
    public async Task Analytics_js_style_calls_with_the_write_key_in_a_text_plain_body_are_accepted()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client();
        var ct = TestContext.Current.CancellationToken;
        foreach (var (path, type) in new[] { ("t", "track"), ("p", "page"), ("i", "identify"), ("s", "screen"), ("g", "group"), ("a", "alias") })
        {
            var body = $$"""
                {"type":"{{type}}","messageId":"ajs-{{path}}","anonymousId":"a9","event":"Clicked","name":"Home","groupId":"g","previousId":"p",
                 "timestamp":"2026-11-01T11:59:58.000Z","sentAt":"2026-11-01T11:59:59.000Z","writeKey":"{{server.Key.ProdCollect}}",
                 "_metadata":{"bundled":["Segment.io"]},"context":{"page":{"path":"/"} } }
                """;
            using var response = await client.PostAsync("/v1/" + path, new StringContent(body, Encoding.UTF8, "text/plain"), ct);
            await ExpectSuccessAsync(response);
        }
        using (var batch = await client.PostAsync("/v1/b", new StringContent($$"""
            {"writeKey":"{{server.Key.ProdCollect}}","batch":[{"type":"track","messageId":"ajs-b","anonymousId":"a9","event":"Batched"}],"sentAt":"2026-11-01T12:00:00Z"}
            """, Encoding.UTF8, "text/plain"), ct))
        {
            await ExpectSuccessAsync(batch);
        }
        Assert.Equal(6, StoredFacts.Count(server.Workspace, "prod", "segment-events"));
        Assert.Equal("2026-11-01T11:59:59.000Z", StoredEvent(server, new IdentityValue("ECID", "a9", true), "ajs-t").Str("timestamp"));

        using (var revoked = await client.PostAsync("/v1/t", new StringContent($$"""{"writeKey":"{{server.Key.Revoked}}","anonymousId":"a","event":"x"}""", Encoding.UTF8, "text/plain"), ct))
        {
            await revoked.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_INVALID");
        }
        using (var missing = await client.PostAsync("/v1/t", new StringContent("""{"anonymousId":"a","event":"x"}""", Encoding.UTF8, "text/plain"), ct))
        {
            var error = await missing.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
            Assert.Contains("writeKey", error.Str("message"), StringComparison.Ordinal);
        }
        using (var admin = await client.PostAsync("/catalog/v1/segment", new StringContent($$"""{"writeKey":"{{server.Key.ProdAdmin}}"}""", Encoding.UTF8, "text/plain"), ct))
        {
            // Only the Segment endpoints read a key from the body.
            await admin.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
        }
    }

    [Fact]
    public async Task Gzipped_bodies_are_accepted()
    {
        await using var server = await ApiServer.StartAsync();
        var json = """{"batch":[{"type":"track","messageId":"z-1","userId":"u1","event":"Zipped"}]}"""u8.ToArray();
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await server.BasicClient(server.Key.ProdCollect).PostAsync("/v1/batch", content, TestContext.Current.CancellationToken);
        await ExpectSuccessAsync(response);
        Assert.Equal("Zipped", StoredEvent(server, User1, "z-1").Str("event"));
    }

    [Fact]
    public async Task Browsers_get_cors_headers_on_collection_endpoints()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client();
        var ct = TestContext.Current.CancellationToken;
        using (var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/track"))
        {
            preflight.Headers.Add("Origin", "https://shop.example");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            using var response = await client.SendAsync(preflight, ct);
            Assert.True(response.IsSuccessStatusCode, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/t")
        {
            Content = new StringContent($$"""{"writeKey":"{{server.Key.ProdCollect}}","messageId":"c1","anonymousId":"a","event":"x"}""", Encoding.UTF8, "text/plain"),
        };
        request.Headers.Add("Origin", "https://shop.example");
        using var sent = await client.SendAsync(request, ct);
        await ExpectSuccessAsync(sent);
        Assert.Equal("*", sent.Headers.GetValues("Access-Control-Allow-Origin").Single());

        // Errors too, so that the page's script can read why.
        using var refused = new HttpRequestMessage(HttpMethod.Post, "/v1/t") { Content = new StringContent("{}", Encoding.UTF8, "text/plain") };
        refused.Headers.Add("Origin", "https://shop.example");
        using var error = await client.SendAsync(refused, ct);
        await error.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
        Assert.Equal("*", error.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Messages_that_do_not_fit_are_quarantined_and_named_in_a_207()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using var response = await server.BasicClient(server.Key.ProdCollect).PostAsync("/v1/batch", Http.Json("""
            {"batch":[
               {"type":"track","messageId":"ok","userId":"u1","event":"Fine"},
               {"type":"track","messageId":"no-ids","event":"Nobody"},
               {"type":"bogus","messageId":"bad-type","userId":"u1"},
               {"type":"identify","userId":"u1","timestamp":"yesterday"},
               {"type":"track","messageId":"bad-props","userId":"u1","event":"X","properties":"not an object"},
               42]}
            """), ct);
        var body = await response.ExpectAsync(HttpStatusCode.MultiStatus);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        var rejected = body.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3, 4, 5], rejected.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal("NO_PRIMARY_IDENTITY", rejected[0].GetProperty("errors")[0].Str("code"));
        Assert.Equal(("eventType", "ENUM_VIOLATION"), (rejected[1].GetProperty("errors")[0].Str("path"), rejected[1].GetProperty("errors")[0].Str("code")));
        Assert.Equal(("segment-profiles", "timestamp"), (rejected[2].Str("dataset"), rejected[2].GetProperty("errors")[0].Str("path")));
        Assert.Equal("properties", rejected[3].GetProperty("errors")[0].Str("path"));
        Assert.Equal("TYPE_MISMATCH", rejected[4].GetProperty("errors")[0].Str("code"));

        var admin = server.Client(server.Key.ProdAdmin);
        var total = 0;
        foreach (var batch in body.GetProperty("batches").EnumerateArray())
        {
            using var quarantine = await admin.GetAsync($"/batches/v1/{batch.GetString()}/quarantine", ct);
            total += (await quarantine.ExpectAsync(HttpStatusCode.OK)).GetProperty("entries").GetArrayLength();
        }
        Assert.Equal(5, total);

        using (var notBatch = await server.BasicClient(server.Key.ProdCollect).PostAsync("/v1/batch", Http.Json("""{"messages":[]}"""), ct))
        {
            await notBatch.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        }
        using (var array = await server.BasicClient(server.Key.ProdCollect).PostAsync("/v1/track", Http.Json("[]"), ct))
        {
            await array.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
        }
    }

    [Theory]
    [InlineData("track", """{"messageId":"m-1","userId":"\ud800","event":"x"}""")]
    [InlineData("identify", """{"messageId":"m-1","userId":"u1","traits":{"email":"x\udc00"}}""")]
    public async Task A_message_with_a_string_that_is_not_unicode_text_is_rejected_by_name_not_a_server_error(string type, string body)
    {
        await using var server = await ApiServer.StartAsync();
        using var response = await server.BasicClient(server.Key.ProdCollect).PostAsync("/v1/" + type, Http.Json(body), TestContext.Current.CancellationToken);
        var answer = await response.ExpectAsync(HttpStatusCode.MultiStatus);
        var error = Assert.Single(answer.GetProperty("rejected").EnumerateArray()).GetProperty("errors")[0];
        Assert.Equal("PARSE_ERROR", error.Str("code"));
        Assert.Contains("surrogate escape without its pair", error.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_stores_its_good_messages_beside_one_whose_string_is_not_unicode_text()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.BasicClient(server.Key.ProdCollect);
        var ct = TestContext.Current.CancellationToken;
        using var response = await client.PostAsync("/v1/batch", Http.Json("""
            {"batch":[{"type":"track","messageId":"m-1","userId":"u1","event":"\ud83d"},
                      {"type":"track","messageId":"m-2","userId":"u1","event":"Fine \ud83d\ude00"},
                      "\udc00"]}
            """), ct);
        var answer = await response.ExpectAsync(HttpStatusCode.MultiStatus);
        Assert.Equal(1, answer.GetProperty("accepted").GetInt32());
        var rejected = answer.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([0, 2], rejected.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal("PARSE_ERROR", rejected[0].GetProperty("errors")[0].Str("code"));
        Assert.Equal("Fine \U0001F600", StoredEvent(server, User1, "m-2").Str("event"));

        // What the request shares among its messages cannot be read for any of them: the request is refused.
        using var shared = await client.PostAsync("/v1/batch", Http.Json("""
            {"context":{"ip":"\udc00"},"batch":[{"type":"track","messageId":"m-3","userId":"u1","event":"x"}]}
            """), ct);
        await shared.ExpectErrorAsync(HttpStatusCode.BadRequest, "BODY_INVALID");
    }

    [Fact]
    public async Task A_message_without_messageId_gets_a_deterministic_one_so_a_retry_is_stored_once()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.BasicClient(server.Key.ProdCollect);
        var ct = TestContext.Current.CancellationToken;
        const string Timed = """{"userId":"u1","event":"Retried","timestamp":"2026-11-01T11:00:00Z","sentAt":"2026-11-01T11:00:05Z"}""";
        const string Retry = """{"userId":"u1","event":"Retried","timestamp":"2026-11-01T11:00:00Z","sentAt":"2026-11-01T11:07:00Z"}""";
        using (var first = await client.PostAsync("/v1/track", Http.Json(Timed), ct))
        {
            await ExpectSuccessAsync(first);
        }
        server.Time.Advance(TimeSpan.FromMinutes(7));
        using (var retry = await client.PostAsync("/v1/track", Http.Json(Retry), ct))
        {
            await ExpectSuccessAsync(retry);
        }
        Assert.Equal(1, StoredFacts.Count(server.Workspace, "prod", "segment-events"));

        // Without any timestamp, two identical calls are two events (they cannot be told from a retry, and losing one would be worse).
        const string Untimed = """{"userId":"u1","event":"Clicked"}""";
        using (var a = await client.PostAsync("/v1/track", Http.Json(Untimed), ct))
        {
            await ExpectSuccessAsync(a);
        }
        server.Time.Advance(TimeSpan.FromSeconds(1));
        using (var b = await client.PostAsync("/v1/track", Http.Json(Untimed), ct))
        {
            await ExpectSuccessAsync(b);
        }
        using (var c = await client.PostAsync("/v1/batch", Http.Json($$"""{"batch":[{{Untimed.Replace("{", "{\"type\":\"track\",", StringComparison.Ordinal)}},{{Untimed.Replace("{", "{\"type\":\"track\",", StringComparison.Ordinal)}}]}"""), ct))
        {
            await ExpectSuccessAsync(c);
        }
        Assert.Equal(5, StoredFacts.Count(server.Workspace, "prod", "segment-events"));
    }

    [Fact]
    public async Task A_sandbox_without_the_segment_datasets_says_how_to_create_them_and_the_setup_endpoint_does()
    {
        await using var server = await ApiServer.StartAsync("""{"segment":{"prod":{"eventDataset":"web-hits","profileDataset":"web-people","userIdNamespace":"AppUser"}}}""", segment: false);
        var ct = TestContext.Current.CancellationToken;
        var collect = server.BasicClient(server.Key.ProdCollect);
        using (var missing = await collect.PostAsync("/v1/track", Http.Json("""{"messageId":"m","userId":"u1","event":"x"}"""), ct))
        {
            var error = await missing.ExpectErrorAsync(HttpStatusCode.NotFound, "DATASET_NOT_FOUND");
            Assert.Contains("/catalog/v1/segment", error.Str("message"), StringComparison.Ordinal);
        }
        using (var setup = await server.Client(server.Key.ProdAdmin).PostAsync("/catalog/v1/segment", null, ct))
        {
            var body = await setup.ExpectAsync(HttpStatusCode.OK);
            Assert.Equal("web-hits", body.GetProperty("binding").Str("eventDataset"));
            Assert.Equal(SegmentSchemas.EventSchemaName, body.GetProperty("eventSchema").Str("name"));
        }
        using (var sent = await collect.PostAsync("/v1/track", Http.Json("""{"messageId":"m","userId":"u1","event":"x"}"""), ct))
        {
            await ExpectSuccessAsync(sent);
        }
        Assert.NotNull(StoredFacts.Event(server.Workspace, "prod", "web-hits", new IdentityValue("AppUser", "u1", true), "m"));
        Assert.Equal(IdentityType.CrossDevice, server.Workspace.Catalog.GetNamespace("prod", "AppUser")!.Type);
    }

    [Fact]
    public async Task Segment_schemas_are_registered_idempotently()
    {
        await using var server = await ApiServer.StartAsync();
        var binding = server.Workspace.SegmentBindingFor("prod");
        await SegmentSchemas.EnsureAsync(server.Workspace.Catalog, "prod", binding);
        await SegmentSchemas.EnsureAsync(server.Workspace.Catalog, "prod", binding);
        Assert.Equal(1, server.Workspace.Catalog.GetSchema("prod", SegmentSchemas.EventSchemaName)!.Version);
        Assert.Equal(1, server.Workspace.Catalog.GetSchema("prod", SegmentSchemas.ProfileSchemaName)!.Version);
        Assert.Equal(SegmentSchemas.ProfileSchemaName, server.Workspace.Catalog.GetDataset("prod", binding.ProfileDataset)!.Schema);
    }
}

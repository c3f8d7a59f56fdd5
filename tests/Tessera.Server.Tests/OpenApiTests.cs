using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tessera.Server.Api;

namespace Tessera.Server.Tests;

public sealed class OpenApiTests
{
    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_and_the_key_schemes()
    {
        await using var server = await ApiServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        using (var anonymous = await server.Client().GetAsync("/openapi/v1.json", ct))
        {
            await anonymous.ExpectErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_MISSING");
        }
        using var response = await server.Client(server.Key.ProdCollect).GetAsync("/openapi/v1.json", ct);
        var document = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.StartsWith("3.", document.Str("openapi"), StringComparison.Ordinal);
        Assert.Equal("Tessera API", document.GetProperty("info").Str("title"));
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in new[]
        {
            "/health", "/collection/v1/datasets/{dataset}/events", "/collection/v1/datasets/{dataset}/records",
            "/batches/v1/datasets/{dataset}", "/batches/v1", "/batches/v1/{id}", "/batches/v1/{id}/quarantine", "/batches/v1/{id}/replay",
            "/catalog/v1/schemas", "/catalog/v1/schemas/{name}", "/catalog/v1/datasets", "/catalog/v1/namespaces", "/catalog/v1/segment",
            "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch",
            "/profile/v1/merge-policies", "/profile/v1/merge-policies/{name}", "/profile/v1/profile",
            "/privacy/v1/requests", "/privacy/v1/requests/{id}", "/privacy/v1/requests/{id}/export",
        })
        {
            Assert.Contains(path, paths);
        }
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").Str("scheme"));
        Assert.Equal("basic", schemes.GetProperty("basic").Str("scheme"));
        Assert.Equal("X-Api-Key", schemes.GetProperty("apiKey").Str("name"));
        Assert.Equal(0, document.GetProperty("paths").GetProperty("/health").GetProperty("get").GetProperty("security").GetArrayLength());
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("BatchInfo", out _));
        Assert.True(schemas.TryGetProperty("IngestResponse", out _));
        Assert.True(schemas.TryGetProperty("SchemaDocument", out _));
        Assert.True(schemas.TryGetProperty("MergePolicy", out _));
        Assert.True(schemas.TryGetProperty("PrivacyRequest", out _));
        Assert.True(schemas.TryGetProperty("PrivacyExport", out _));
    }

    [Fact]
    public async Task Query_parameters_are_documented_with_their_types_bounds_and_whether_they_are_required()
    {
        await using var server = await ApiServer.StartAsync();
        var document = await DocumentAsync(server);

        var limit = Parameter(document, "/batches/v1", "get", "limit");
        Assert.False(limit.TryGetProperty("required", out var optional) && optional.GetBoolean());
        var limitSchema = limit.GetProperty("schema");
        Assert.Equal("integer", limitSchema.Str("type"));
        Assert.Equal("int32", limitSchema.Str("format"));
        Assert.Equal(1, limitSchema.GetProperty("minimum").GetInt32());
        Assert.Equal(10_000, limitSchema.GetProperty("maximum").GetInt32());
        Assert.Equal(100, limitSchema.GetProperty("default").GetInt32());
        Assert.Equal(["loading", "writing", "success", "failed"],
            Parameter(document, "/batches/v1", "get", "status").GetProperty("schema").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("int64", Parameter(document, "/segmentation/v1/memberships/changes", "get", "after").GetProperty("schema").Str("format"));
        Assert.Equal("boolean", Parameter(document, "/identity/v1/rules", "put", "dryRun").GetProperty("schema").Str("type"));
        Assert.Equal("boolean", Parameter(document, "/batches/v1/{id}/quarantine", "get", "unresolved").GetProperty("schema").Str("type"));
        Assert.Equal("int64", Parameter(document, "/activation/v1/destinations/{name}/audit", "get", "run").GetProperty("schema").Str("format"));
        var outcomes = Parameter(document, "/collection/v1/datasets/{dataset}/events", "post", "outcomes").GetProperty("schema");
        Assert.Equal(3, outcomes.GetProperty("enum").GetArrayLength());
        Assert.Equal("all", outcomes.Str("default"));
        Assert.False(Parameter(document, "/identity/v1/rules", "put", "dryRun").GetProperty("schema").GetProperty("default").GetBoolean());
        var identity = Parameter(document, "/profile/v1/profile", "get", "identity");
        Assert.True(identity.GetProperty("required").GetBoolean());
        Assert.Equal("string", identity.GetProperty("schema").Str("type"));
        Assert.True(Parameter(document, "/identity/v1/explain", "get", "b").GetProperty("required").GetBoolean());
    }

    [Fact]
    public async Task Every_query_parameter_an_endpoint_reads_is_in_the_document_with_its_type_and_the_document_has_no_other()
    {
        await using var server = await ApiServer.StartAsync();
        var document = await DocumentAsync(server);
        var paths = document.GetProperty("paths");
        var endpoints = ((IEndpointRouteBuilder)server.App).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is not null)
            .ToList();
        var checkedParameters = 0;
        foreach (var endpoint in endpoints)
        {
            var path = Regex.Replace("/" + endpoint.RoutePattern.RawText!.Trim('/'), @"\{(\w+)[^}]*\}", "{$1}");
            // What QueryParameter lets the handler read: the parameters declared on the endpoint.
            var declared = endpoint.Metadata.GetOrderedMetadata<QueryParameterSpec>().ToDictionary(spec => spec.Name, StringComparer.Ordinal);
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)
            {
                if (!paths.TryGetProperty(path, out var item) || !item.TryGetProperty(method.ToLowerInvariant(), out var operation))
                {
                    Assert.True(declared.Count == 0, $"{method} {path} reads query parameters but is not in the document");
                    continue;
                }
                var documented = operation.TryGetProperty("parameters", out var parameters)
                    ? parameters.EnumerateArray().Where(p => p.Str("in") == "query").ToDictionary(p => p.Str("name"), StringComparer.Ordinal)
                    : [];
                Assert.True(declared.Keys.Order().SequenceEqual(documented.Keys.Order()),
                    $"{method} {path}: the handler reads [{string.Join(", ", declared.Keys.Order())}], the document shows [{string.Join(", ", documented.Keys.Order())}]");
                foreach (var (name, spec) in declared)
                {
                    var schema = documented[name].GetProperty("schema");
                    var (type, format) = spec.Type switch
                    {
                        QueryType.Int32 => ("integer", "int32"),
                        QueryType.Int64 => ("integer", "int64"),
                        QueryType.Boolean => ("boolean", null),
                        _ => ("string", (string?)null),
                    };
                    Assert.True(type == schema.Str("type"), $"{method} {path} ?{name}: {schema}");
                    Assert.Equal(format, schema.TryGetProperty("format", out var f) ? f.GetString() : null);
                    Assert.Equal(spec.Required, documented[name].TryGetProperty("required", out var required) && required.GetBoolean());
                    checkedParameters++;
                }
            }
        }
        Assert.True(checkedParameters >= 25, $"only {checkedParameters} query parameters found");
    }

    [Fact]
    public void A_handler_reading_a_query_parameter_its_endpoint_does_not_declare_is_refused_on_every_request()
    {
        var http = new DefaultHttpContext();
        http.Request.QueryString = new QueryString("?limit=5&other=1");
        http.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(QueryParameterSpec.Int32("limit", "Things to list.")), "GET /things"));

        Assert.Equal(5, QueryParameter.Int(http, "limit"));
        var undeclared = Assert.Throws<InvalidOperationException>(() => QueryParameter.Int(http, "other"));
        Assert.Contains("GET /things reads query parameter 'other' without declaring it", undeclared.Message, StringComparison.Ordinal);
        // Absent or not, and whatever its type: the read is refused before the query string is looked at.
        Assert.Throws<InvalidOperationException>(() => QueryParameter.Bool(http, "missing"));
        Assert.Throws<InvalidOperationException>(() => QueryParameter.Bool(http, "limit"));
    }

    private static async Task<JsonElement> DocumentAsync(ApiServer server)
    {
        using var response = await server.Client(server.Key.ProdAdmin).GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        return await response.ExpectAsync(HttpStatusCode.OK);
    }

    private static JsonElement Parameter(JsonElement document, string path, string method, string name) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("parameters").EnumerateArray()
            .Single(p => p.Str("in") == "query" && p.Str("name") == name);
}

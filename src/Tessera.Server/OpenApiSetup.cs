using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Tessera.Server.Api;

namespace Tessera.Server;

/// <summary>The OpenAPI document (<c>/openapi/v1.json</c>): title, the three ways to present a key, and which operations need none.</summary>
internal static class OpenApiSetup
{
    private static readonly string[] Schemes = ["bearer", "apiKey", "basic"];

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Tessera API",
                Version = "v1",
                Description = "Collection (own JSON and Segment-spec), batch upload, quarantine and replay, the catalog, the identity graph and the merge policies of one sandbox. "
                    + "Every operation but /health needs an API key; the key decides the sandbox. Collect keys may only send events and records.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "Authorization: Bearer <key>",
            };
            document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyMiddleware.ApiKeyHeader,
                Description = "X-Api-Key: <key>",
            };
            document.Components.SecuritySchemes["basic"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "HTTP Basic with the key as user name (Segment's writeKey convention).",
            };
            document.Security = [.. Schemes.Select(scheme => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(scheme, document)] = [],
            })];
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var access = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiAccess>().LastOrDefault() ?? ApiAccess.Admin;
            if (access.Role is null)
            {
                operation.Security = [];
            }
            else
            {
                operation.Description = (operation.Description is null ? "" : operation.Description + " ") + $"Needs a key with role {access.Name} or higher.";
            }
            DescribeQuery(operation, context.Description.ActionDescriptor.EndpointMetadata.OfType<QueryParameterSpec>());
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// The query parameters an endpoint declares (<see cref="QueryParameterMetadata.WithQuery"/>) with their real types:
    /// the handlers read them from their text (<see cref="QueryParameter"/>), so the framework only knows them as strings, if at all.
    /// </summary>
    private static void DescribeQuery(OpenApiOperation operation, IEnumerable<QueryParameterSpec> declared)
    {
        foreach (var spec in declared)
        {
            operation.Parameters ??= [];
            var index = operation.Parameters.ToList().FindIndex(p => p.In == ParameterLocation.Query && p.Name == spec.Name);
            var parameter = new OpenApiParameter
            {
                Name = spec.Name,
                In = ParameterLocation.Query,
                Required = spec.Required,
                Description = spec.Description,
                Schema = Schema(spec),
            };
            if (index < 0)
            {
                operation.Parameters.Add(parameter);
            }
            else
            {
                operation.Parameters[index] = parameter;
            }
        }
    }

    private static OpenApiSchema Schema(QueryParameterSpec spec)
    {
        var schema = spec.Type switch
        {
            QueryType.Int32 => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            QueryType.Int64 => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
            QueryType.Boolean => new OpenApiSchema { Type = JsonSchemaType.Boolean },
            _ => new OpenApiSchema { Type = JsonSchemaType.String },
        };
        if (spec.Values is { } values)
        {
            schema.Enum = [.. values.Select(value => (JsonNode)JsonValue.Create(value))];
        }
        schema.Minimum = spec.Minimum?.ToString(CultureInfo.InvariantCulture);
        schema.Maximum = spec.Maximum?.ToString(CultureInfo.InvariantCulture);
        if (spec.Default is { } text)
        {
            schema.Default = spec.Type switch
            {
                QueryType.Int32 or QueryType.Int64 => JsonValue.Create(long.Parse(text, CultureInfo.InvariantCulture)),
                QueryType.Boolean => JsonValue.Create(bool.Parse(text)),
                _ => JsonValue.Create(text),
            };
        }
        return schema;
    }
}

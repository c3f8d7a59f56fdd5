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
            return Task.CompletedTask;
        });
    }
}

using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Mvc;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Server.Segment;

namespace Tessera.Server.Api;

/// <summary>
/// The sandbox's catalog (admin keys): schemas, datasets and identity namespaces. Creating is
/// idempotent: posting an object that already exists unchanged answers 200 with it, a new object
/// or schema version 201; a breaking schema change or a clash with an existing object is a 409.
/// </summary>
internal static class CatalogEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/catalog/v1")
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
            .WithTags("Catalog");

        group.MapGet("/schemas", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Catalog.ListSchemas(http.Caller().Sandbox), ServerJson.Default.ListSchemaDocument))
            .WithName("ListSchemas").WithSummary("Latest version of every schema.");
        group.MapGet("/schemas/{name}", GetSchema)
            .WithName("GetSchema").WithSummary("A schema: its latest version, or ?version=N.")
            .WithQuery(QueryParameterSpec.Int32("version", "A version of the schema (default: the latest).", minimum: 1))
            .Produces<SchemaDocument>();
        group.MapGet("/schemas/{name}/versions", (string name, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var sandbox = http.Caller().Sandbox;
                RequireSchema(workspace, sandbox, name);
                return TypedResults.Json(workspace.Catalog.SchemaVersions(sandbox, name), ServerJson.Default.ListSchemaDocument);
            })
            .WithName("ListSchemaVersions");
        group.MapPost("/schemas", RegisterSchemaAsync)
            .WithName("RegisterSchema").WithSummary("Registers a schema or an additive new version; a breaking change is refused (409).")
            .Accepts<SchemaDocument>("application/json")
            .Produces<SchemaDocument>(StatusCodes.Status200OK)
            .Produces<SchemaDocument>(StatusCodes.Status201Created);

        group.MapGet("/datasets", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Catalog.ListDatasets(http.Caller().Sandbox), ServerJson.Default.ListDatasetDefinition))
            .WithName("ListDatasets");
        group.MapGet("/datasets/{name}", (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Catalog.RequireDataset(http.Caller().Sandbox, name), ServerJson.Default.DatasetDefinition))
            .WithName("GetDataset");
        group.MapPost("/datasets", CreateDatasetAsync)
            .WithName("CreateDataset")
            .Accepts<DatasetDefinition>("application/json")
            .Produces<DatasetDefinition>(StatusCodes.Status200OK)
            .Produces<DatasetDefinition>(StatusCodes.Status201Created);

        group.MapGet("/namespaces", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Catalog.ListNamespaces(http.Caller().Sandbox), ServerJson.Default.ListIdentityNamespace))
            .WithName("ListNamespaces");
        group.MapGet("/namespaces/{code}", (string code, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var sandbox = http.Caller().Sandbox;
                var ns = workspace.Catalog.GetNamespace(sandbox, code)
                    ?? throw new CatalogException("NAMESPACE_NOT_FOUND", $"identity namespace '{code}' does not exist in sandbox '{sandbox}'");
                return TypedResults.Json(ns, ServerJson.Default.IdentityNamespace);
            })
            .WithName("GetNamespace");
        group.MapPost("/namespaces", CreateNamespaceAsync)
            .WithName("CreateNamespace")
            .Accepts<IdentityNamespace>("application/json")
            .Produces<IdentityNamespace>(StatusCodes.Status200OK)
            .Produces<IdentityNamespace>(StatusCodes.Status201Created);

        group.MapPost("/segment", SetupSegmentAsync)
            .WithName("SetupSegment")
            .WithSummary("Registers the Segment schemas and the datasets of the sandbox's Segment binding (idempotent).")
            .Produces<SegmentSetupResponse>();
    }

    private static IResult GetSchema(string name, HttpContext http, [FromServices] Workspace workspace)
    {
        var version = QueryParameter.Int(http, "version");
        var sandbox = http.Caller().Sandbox;
        var schema = workspace.Catalog.GetSchema(sandbox, name, version)
            ?? throw new CatalogException("SCHEMA_NOT_FOUND", version is null
                ? $"schema '{name}' does not exist in sandbox '{sandbox}'"
                : $"schema '{name}' has no version {version} in sandbox '{sandbox}'");
        return TypedResults.Json(schema, ServerJson.Default.SchemaDocument);
    }

    private static void RequireSchema(Workspace workspace, string sandbox, string name)
    {
        if (workspace.Catalog.GetSchema(sandbox, name) is null)
        {
            throw new CatalogException("SCHEMA_NOT_FOUND", $"schema '{name}' does not exist in sandbox '{sandbox}'");
        }
    }

    private static async Task<IResult> RegisterSchemaAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        // "fields": null reads as a schema without fields: refused by name from the JSON itself, then the schema read from it.
        using var json = await RequestBody.ReadJsonAsync(http);
        SchemaCompiler.RefuseNullMembers(json.RootElement);
        var document = RequestBody.Read(json.RootElement, ServerJson.Default.SchemaDocument);
        var before = workspace.Catalog.GetSchema(sandbox, document.Name);
        var stored = await workspace.Catalog.RegisterSchemaAsync(sandbox, document);
        return Created(http, $"/catalog/v1/schemas/{stored.Name}", before?.Version != stored.Version, stored, ServerJson.Default.SchemaDocument);
    }

    private static async Task<IResult> CreateDatasetAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        var dataset = await RequestBody.ReadAsync(http, ServerJson.Default.DatasetDefinition);
        var existed = workspace.Catalog.GetDataset(sandbox, dataset.Name) is not null;
        var stored = await workspace.Catalog.CreateDatasetAsync(sandbox, dataset);
        return Created(http, $"/catalog/v1/datasets/{stored.Name}", !existed, stored, ServerJson.Default.DatasetDefinition);
    }

    private static async Task<IResult> CreateNamespaceAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        var ns = await RequestBody.ReadAsync(http, ServerJson.Default.IdentityNamespace);
        var existed = workspace.Catalog.GetNamespace(sandbox, ns.Code) is not null;
        var stored = await workspace.Catalog.CreateNamespaceAsync(sandbox, ns);
        return Created(http, $"/catalog/v1/namespaces/{stored.Code}", !existed, stored, ServerJson.Default.IdentityNamespace);
    }

    private static async Task<IResult> SetupSegmentAsync(HttpContext http, [FromServices] Workspace workspace)
    {
        var sandbox = http.Caller().Sandbox;
        var binding = workspace.SegmentBindingFor(sandbox);
        await SegmentSchemas.EnsureAsync(workspace.Catalog, sandbox, binding);
        return TypedResults.Json(new SegmentSetupResponse(sandbox, binding,
            workspace.Catalog.GetSchema(sandbox, SegmentSchemas.EventSchemaName)!,
            workspace.Catalog.GetSchema(sandbox, SegmentSchemas.ProfileSchemaName)!), ServerJson.Default.SegmentSetupResponse);
    }

    private static IResult Created<T>(HttpContext http, string location, bool created, T value, JsonTypeInfo<T> typeInfo)
    {
        if (created)
        {
            http.Response.Headers.Location = location;
        }
        return TypedResults.Json(value, typeInfo, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }
}

using Microsoft.AspNetCore.Mvc;
using Tessera.Activation;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Activation.Governance;

namespace Tessera.Server.Api;

/// <summary>
/// Destinations and their monitoring (admin keys; docs/destinations.md): create, replace, delete,
/// activate and deactivate audiences, deliver now, runs, the audit log, dead letters and their replay.
/// </summary>
internal static class ActivationEndpoints
{
    private const string Base = "/activation/v1/destinations";
    private const string GovernanceBase = "/governance/v1";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Base)
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
            .WithTags("Destinations");

        group.MapGet("", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Activation.Destinations.List(http.Caller().Sandbox), ActivationJson.Default.ListDestination))
            .WithName("ListDestinations")
            .WithSummary("The sandbox's destinations.")
            .Produces<List<Destination>>();
        group.MapPost("", async (HttpContext http, [FromServices] Workspace workspace) =>
            {
                var body = await RequestBody.ReadAsync(http, ActivationJson.Default.Destination);
                var created = await workspace.Activation.CreateAsync(http.Caller().Sandbox, body, http.RequestAborted);
                http.Response.Headers.Location = $"{Base}/{Uri.EscapeDataString(created.Name)}";
                return TypedResults.Json(created, ActivationJson.Default.Destination, statusCode: StatusCodes.Status201Created);
            })
            .WithName("CreateDestination")
            .WithSummary("Creates a destination (connector, settings, audiences, identity and attribute mappings, marketing action, consent, batching or schedule). It reads the membership feed from now on and backfills its audiences' current members.")
            .Accepts<Destination>("application/json")
            .Produces<Destination>(StatusCodes.Status201Created);
        group.MapGet("/{name}", (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Activation.Destinations.Require(http.Caller().Sandbox, name), ActivationJson.Default.Destination))
            .WithName("GetDestination")
            .Produces<Destination>();
        group.MapPut("/{name}", async (string name, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var body = await RequestBody.ReadAsync(http, ActivationJson.Default.Destination);
                if (body.Name.Length > 0 && body.Name != name)
                {
                    throw ApiException.BadRequest("DESTINATION_INVALID", $"the body names destination '{body.Name}' but the route names '{name}'; a destination is not renamed");
                }
                return TypedResults.Json(await workspace.Activation.UpdateAsync(http.Caller().Sandbox, body with { Name = name }, http.RequestAborted), ActivationJson.Default.Destination);
            })
            .WithName("ReplaceDestination")
            .WithSummary("Replaces the definition; audiences new to it are backfilled.")
            .Accepts<Destination>("application/json")
            .Produces<Destination>();
        group.MapDelete("/{name}", async (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Activation.DeleteAsync(http.Caller().Sandbox, name, http.RequestAborted), ActivationJson.Default.Destination))
            .WithName("DeleteDestination")
            .WithSummary("Deletes the destination with its feed cursor, runs, audit log and dead letters.")
            .Produces<Destination>();
        group.MapPost("/{name}/audiences/{audience}", async (string name, string audience, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Activation.ActivateAsync(http.Caller().Sandbox, name, audience, QueryParameter.String(http, "externalId"), http.RequestAborted), ActivationJson.Default.Destination))
            .WithName("ActivateAudience")
            .WithSummary("Activates a published audience (id or name; ?externalId= its id on the platform); its current members are backfilled.")
            .WithQuery(QueryParameterSpec.String("externalId", "The audience's id on the platform (a list, segment or audience that exists there already)."))
            .Produces<Destination>();
        group.MapDelete("/{name}/audiences/{audience}", async (string name, string audience, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Activation.DeactivateAsync(http.Caller().Sandbox, name, audience, http.RequestAborted), ActivationJson.Default.Destination))
            .WithName("DeactivateAudienceOnDestination")
            .WithSummary("Stops sending an audience.")
            .Produces<Destination>();
        group.MapPost("/{name}/deliver", async (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Activation.DrainAsync(http.Caller().Sandbox, name, http.RequestAborted), ActivationJson.Default.ListDeliveryRun))
            .WithName("DeliverNow")
            .WithSummary("Delivers every pending change now (micro-batch age ignored) and returns the runs; stops at a transient failure.")
            .Produces<List<DeliveryRun>>();
        group.MapPost("/{name}/export", async (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Activation.ExportAsync(http.Caller().Sandbox, name, http.RequestAborted), ActivationJson.Default.DeliveryRun))
            .WithName("ExportNow")
            .WithSummary("Exports a file destination now (full or incremental, as its schedule says) and returns the run.")
            .Produces<DeliveryRun>();
        group.MapGet("/{name}/runs", (string name, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var take = QueryParameter.IntWithDefault(http, "take");
                return TypedResults.Json(workspace.Activation.Log.Runs(http.Caller().Sandbox, workspace.Activation.Destinations.Require(http.Caller().Sandbox, name).Name, take), ActivationJson.Default.ListDeliveryRun);
            })
            .WithName("DestinationRuns")
            .WithSummary("Runs newest first (?take=, 100 by default): received, activated, excluded by reason, failed, retried.")
            .WithQuery(QueryParameterSpec.Int32("take", "Runs to list.", @default: 100))
            .Produces<List<DeliveryRun>>();
        group.MapGet("/{name}/audit", (string name, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var run = QueryParameter.Long(http, "run");
                return TypedResults.Json(workspace.Activation.Log.Audit(http.Caller().Sandbox, workspace.Activation.Destinations.Require(http.Caller().Sandbox, name).Name, run).ToList(), ActivationJson.Default.ListDeliveryAudit);
            })
            .WithName("DestinationAudit")
            .WithSummary("The audit log, oldest first (?run= one run): when, audiences, records, identities, payload SHA-256, idempotency key.")
            .WithQuery(QueryParameterSpec.Int64("run", "Only this run's entries (a run's id)."))
            .Produces<List<DeliveryAudit>>();
        group.MapGet("/{name}/dead-letters", (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Activation.Log.DeadLetters(http.Caller().Sandbox, workspace.Activation.Destinations.Require(http.Caller().Sandbox, name).Name), ActivationJson.Default.ListDeadLetter))
            .WithName("DestinationDeadLetters")
            .Produces<List<DeadLetter>>();
        group.MapPost("/{name}/replay", async (string name, HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(await workspace.Activation.ReplayAsync(http.Caller().Sandbox, workspace.Activation.Destinations.Require(http.Caller().Sandbox, name).Name, http.RequestAborted), ActivationJson.Default.ListDeliveryRun))
            .WithName("ReplayDeadLetters")
            .WithSummary("Sends the dead-lettered changes again as what is true now; each delivered dead letter is removed.")
            .Produces<List<DeliveryRun>>();

        var governance = routes.MapGroup(GovernanceBase)
            .RequireAccess(ApiAccess.Admin)
            .ProducesApiErrors(StatusCodes.Status404NotFound)
            .WithTags("Governance");
        governance.MapGet("/labels", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Activation.Governance.Labels(http.Caller().Sandbox), ActivationJson.Default.DataLabels))
            .WithName("DataLabels")
            .WithSummary("The sandbox's data usage labels: on datasets, and on fields by schema.")
            .Produces<DataLabels>();
        governance.MapPost("/labels", async (HttpContext http, [FromServices] Workspace workspace) =>
            {
                var body = await RequestBody.ReadAsync(http, ActivationJson.Default.LabelRequest);
                return TypedResults.Json(await workspace.Activation.Governance.LabelAsync(http.Caller().Sandbox, body.Dataset, body.Field, body.Labels, body.Remove), ActivationJson.Default.DataLabels);
            })
            .WithName("LabelData")
            .WithSummary("Adds (or with remove=true removes) labels on a dataset, or on a field of its schema.")
            .Accepts<LabelRequest>("application/json")
            .Produces<DataLabels>();
        governance.MapGet("/policies", (HttpContext http, [FromServices] Workspace workspace) =>
                TypedResults.Json(workspace.Activation.Governance.Policies(http.Caller().Sandbox), ActivationJson.Default.ListUsagePolicy))
            .WithName("ListPolicies")
            .Produces<List<UsagePolicy>>();
        governance.MapPut("/policies/{policy}", async (string policy, HttpContext http, [FromServices] Workspace workspace) =>
            {
                var body = await RequestBody.ReadAsync(http, ActivationJson.Default.UsagePolicy);
                return TypedResults.Json(await workspace.Activation.Governance.SavePolicyAsync(http.Caller().Sandbox, body with { Name = policy }), ActivationJson.Default.UsagePolicy);
            })
            .WithName("SavePolicy")
            .WithSummary("Creates or replaces a policy: labels (any or all of them) forbidden for marketing actions.")
            .Accepts<UsagePolicy>("application/json")
            .Produces<UsagePolicy>();
        governance.MapDelete("/policies/{policy}", async (string policy, HttpContext http, [FromServices] Workspace workspace) =>
            {
                await workspace.Activation.Governance.DeletePolicyAsync(http.Caller().Sandbox, policy);
                return TypedResults.NoContent();
            })
            .WithName("DeletePolicy");
    }
}

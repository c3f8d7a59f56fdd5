using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Segmentation;
using Tessera.Segmentation.Audiences;
using Tessera.Server.Api;

namespace Tessera.Server;

/// <summary>
/// Source-generated JSON for the workspace configuration and for every HTTP request and response
/// body (no reflection serialization anywhere in the server).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(WorkspaceConfig))]
[JsonSerializable(typeof(ApiErrorResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(QuarantinePage))]
[JsonSerializable(typeof(SegmentResponse))]
[JsonSerializable(typeof(SegmentSetupResponse))]
[JsonSerializable(typeof(SchemaDocument))]
[JsonSerializable(typeof(List<SchemaDocument>))]
[JsonSerializable(typeof(DatasetDefinition))]
[JsonSerializable(typeof(List<DatasetDefinition>))]
[JsonSerializable(typeof(IdentityNamespace))]
[JsonSerializable(typeof(List<IdentityNamespace>))]
[JsonSerializable(typeof(BatchInfo))]
[JsonSerializable(typeof(List<BatchInfo>))]
[JsonSerializable(typeof(QuarantineEntry))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(IdentityGraphRules))]
[JsonSerializable(typeof(IdentityGraphResponse))]
[JsonSerializable(typeof(ExplainResponse))]
[JsonSerializable(typeof(RulesChangeResponse))]
[JsonSerializable(typeof(LedgerDeletionRequest))]
[JsonSerializable(typeof(Tessera.Identity.LedgerDeletion))]
[JsonSerializable(typeof(MergePolicy))]
[JsonSerializable(typeof(List<MergePolicy>))]
[JsonSerializable(typeof(Audience))]
[JsonSerializable(typeof(Tessera.Segmentation.Engines.BatchRunReport))]
[JsonSerializable(typeof(IReadOnlyList<Tessera.Segmentation.Memberships.MembershipChange>))]
[JsonSerializable(typeof(List<Tessera.Segmentation.Memberships.Membership>))]
[JsonSerializable(typeof(Tessera.Server.Api.EdgeRequest))]
[JsonSerializable(typeof(Tessera.Server.Api.EdgeResponse))]
[JsonSerializable(typeof(List<Audience>))]
[JsonSerializable(typeof(AudienceRequest))]
[JsonSerializable(typeof(Tessera.Server.Api.EstimateRequest))]
[JsonSerializable(typeof(Tessera.Segmentation.Estimates.SizeEstimate))]
[JsonSerializable(typeof(Tessera.Segmentation.Estimates.Preview))]
[JsonSerializable(typeof(Tessera.Segmentation.Estimates.AudienceOverlap))]
[JsonSerializable(typeof(List<Tessera.Segmentation.Estimates.AudienceSize>))]
public sealed partial class ServerJson : JsonSerializerContext;

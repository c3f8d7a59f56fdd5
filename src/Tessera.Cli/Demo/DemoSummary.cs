using System.Text.Json.Serialization;

namespace Tessera.Cli.Demo;

/// <summary>
/// What the demo did, as it prints it and as <c>--json</c> (and <c>demo/summary.json</c>) holds it;
/// every number is read back from the stores, not counted on the way in.
/// </summary>
internal sealed record DemoSummary
{
    public required string Workspace { get; init; }

    public required string Sandbox { get; init; }

    public required int Customers { get; init; }

    public required double Seconds { get; init; }

    public required List<IngestedDataset> Ingested { get; init; }

    public required List<QuarantineReason> Quarantined { get; init; }

    public required IdentitySummary Identity { get; init; }

    public required List<AudienceSummary> Audiences { get; init; }

    public required List<EdgeAnswerSummary> Edge { get; init; }

    public required List<DeliverySummary> Deliveries { get; init; }

    public required DemoOutputs Outputs { get; init; }
}

internal sealed record IngestedDataset(string Dataset, string Source, int Batches, long Input, long Stored, long Quarantined, long Duplicates, string Status);

internal sealed record QuarantineReason(string Dataset, string Code, string Field, int Records, string Example);

/// <summary>Profiles are the graphs; merged ones join identities from more than one source record.</summary>
internal sealed record IdentitySummary(int Identities, int Profiles, int MergedProfiles, int Links, int CutLinks, List<CutReason> CutReasons);

internal sealed record CutReason(string Rule, int Links, string Example);

internal sealed record AudienceSummary(string Id, string Name, string Mode, string Pql, int Members);

/// <summary>One same-page personalization answer from <c>POST /edge/v1/evaluate</c>.</summary>
internal sealed record EdgeAnswerSummary(string Identity, string? Profile, List<string> Audiences, Dictionary<string, string> Attributes, double Milliseconds);

internal sealed record DeliverySummary(string Destination, string Connector, List<string> Audiences, int Runs, long Activated,
    Dictionary<string, long> Excluded, int Requests, long Failed, string Output);

internal sealed record DemoOutputs(string SampleFiles, string Exports, string Received, string Summary);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(DemoSummary))]
internal sealed partial class DemoJson : JsonSerializerContext;

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tessera.Ingestion;

namespace Tessera.Profiles.Privacy;

/// <summary>The kinds of privacy request.</summary>
public static class PrivacyRequestTypes
{
    /// <summary>Export everything held about the person, as JSON.</summary>
    public const string Access = "access";

    /// <summary>Remove every fact, link and quarantined row of the person's identities.</summary>
    public const string Delete = "delete";

    public static bool IsKnown(string? type) => type is Access or Delete;
}

/// <summary>Where a privacy request is: <c>processing</c> (durably, before any work), then <c>completed</c> or <c>failed</c>.</summary>
public static class PrivacyRequestStatus
{
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>
/// One access or delete request about a person: the identities it names, the person's identities
/// it resolved to, its status, and once done its receipt (and, for access, its export).
/// </summary>
public sealed record PrivacyRequest
{
    /// <summary>Time-ordered (like batch ids): listing requests by key is chronological.</summary>
    public required string Id { get; init; }
    public required string Sandbox { get; init; }
    /// <summary><c>access</c> or <c>delete</c>.</summary>
    public required string Type { get; init; }
    /// <summary>The identities the request names (<c>Namespace:value</c>, normalized).</summary>
    public required IReadOnlyList<string> Identities { get; init; }
    /// <summary>
    /// The person: the named identities and every identity of their graphs, as resolved before any
    /// work. Kept with the request so that a re-run after a crash still covers identities whose links
    /// were already removed.
    /// </summary>
    public IReadOnlyList<string> Members { get; set; } = [];
    public required string Status { get; init; }
    /// <summary>Why the request failed.</summary>
    public string? Error { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    /// <summary>How many times the request was started (more than 1: re-run after an interruption).</summary>
    public int Runs { get; set; }
    public PrivacyReceipt? Receipt { get; init; }
    /// <summary>An access request's export, when the request was just run (stored apart from the request).</summary>
    public PrivacyExport? Export { get; init; }
}

/// <summary>
/// What a request read (access) or removed (delete), store by store. A delete that was re-run after an
/// interruption counts what its last run removed.
/// </summary>
public sealed record PrivacyReceipt
{
    /// <summary><c>exported</c> or <c>removed</c>.</summary>
    public required string Action { get; init; }
    /// <summary>The person's identities the request covered.</summary>
    public required IReadOnlyList<string> Identities { get; init; }
    /// <summary>Record versions ('r' keys) in the fact shards.</summary>
    public long RecordVersions { get; init; }
    /// <summary>Events ('e' keys) in the fact shards.</summary>
    public long Events { get; init; }
    /// <summary>Event timeline index keys ('t' keys) in the fact shards.</summary>
    public long TimelineKeys { get; init; }
    /// <summary>Link ledger entries naming any of the person's identities.</summary>
    public int LedgerEntries { get; init; }
    /// <summary>Ledger entries removed (they named only the person's identities).</summary>
    public int LedgerEntriesRemoved { get; init; }
    /// <summary>Ledger entries rewritten without the person's identities (they also named someone else's).</summary>
    public int LedgerEntriesRewritten { get; init; }
    /// <summary>Quarantined rows whose raw text mentions an identity value of the person.</summary>
    public int QuarantineRows { get; init; }
    /// <summary>The person's identities the identity graph knew before the request.</summary>
    public int GraphIdentitiesBefore { get; init; }
    /// <summary>The person's identities the identity graph still knows afterwards (0 after a delete).</summary>
    public int GraphIdentitiesAfter { get; init; }
    /// <summary>Audience memberships of the person: removed (delete) or exported (access).</summary>
    public int Memberships { get; init; }
    /// <summary>Of <see cref="Memberships"/>, those that were members and were exited (an <c>exited</c> change each, for destinations).</summary>
    public long MembershipsExited { get; init; }
    /// <summary>Membership feed changes naming the person that a delete scrubbed of their identities (an access request counts them under <see cref="Participants"/>).</summary>
    public long FeedEntriesScrubbed { get; init; }
    /// <summary>Feed exits that keep the person's identities until every registered consumer has read them (run the delete again then).</summary>
    public long FeedEntriesHeld { get; init; }
    public string MembershipsNote { get; set; } = PrivacyService.MembershipsNote;
    /// <summary>Counts of every registered participant (<see cref="IPrivacyParticipant"/>), by its name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Participants { get; set; } = new Dictionary<string, IReadOnlyDictionary<string, long>>();
    /// <summary>Where the facts were: per identity, its shard and counts.</summary>
    public IReadOnlyList<PrivacyShardCounts> Facts { get; set; } = [];
    /// <summary>The quarantined rows, by batch and row.</summary>
    public IReadOnlyList<PrivacyQuarantineRow> Quarantine { get; set; } = [];
}

/// <summary>One identity's facts on its shard.</summary>
public sealed record PrivacyShardCounts(string Identity, int Shard, long RecordVersions, long Events, long TimelineKeys);

/// <summary>A quarantined row, by where it is (sandbox's quarantine, batch, row).</summary>
public sealed record PrivacyQuarantineRow(string Batch, long Row, string Dataset);

/// <summary>Everything held about a person (an access request's result).</summary>
public sealed record PrivacyExport
{
    public required string RequestId { get; init; }
    public required string Sandbox { get; init; }
    public required DateTimeOffset ExportedAt { get; init; }
    /// <summary>The identities the request named.</summary>
    public required IReadOnlyList<string> Requested { get; init; }
    /// <summary>Per identity of the person: its facts and links as stored.</summary>
    public required IReadOnlyList<PrivacyIdentityExport> Identities { get; init; }
    /// <summary>The merged profiles the identities belong to (default merge policy; no events: they are under <see cref="Identities"/>).</summary>
    public required IReadOnlyList<ProfileReport> Profiles { get; init; }
    /// <summary>Quarantined rows whose raw text mentions an identity value of the person.</summary>
    public required IReadOnlyList<QuarantineEntry> Quarantine { get; init; }
    /// <summary>The person's audience memberships (the <c>memberships</c> participant's list, also under <see cref="Participants"/>).</summary>
    public IReadOnlyList<JsonObject> Memberships { get; set; } = [];
    public string MembershipsNote { get; set; } = PrivacyService.MembershipsNote;
    /// <summary>Each registered participant's section (memberships: the memberships and the feed changes naming the person).</summary>
    public IReadOnlyDictionary<string, JsonObject> Participants { get; set; } = new Dictionary<string, JsonObject>();
}

/// <summary>One identity's stored facts and the ledger entries naming it.</summary>
public sealed record PrivacyIdentityExport
{
    public required string Identity { get; init; }
    public required int Shard { get; init; }
    public required IReadOnlyList<ExportedRecordVersion> RecordVersions { get; init; }
    public required IReadOnlyList<ExportedEvent> Events { get; init; }
    public required IReadOnlyList<ExportedLink> Links { get; init; }
}

/// <summary>A record version: its key parts and the stored value (record, identities, batch, times).</summary>
public sealed record ExportedRecordVersion(string Dataset, string Batch, long Row, JsonNode? Stored);

/// <summary>An event: its key parts and the stored value.</summary>
public sealed record ExportedEvent(string Dataset, string Id, JsonNode? Stored);

/// <summary>A link ledger entry: the identities one record or event carried, and where it came from.</summary>
public sealed record ExportedLink(long Sequence, string Dataset, string Batch, string? Record, DateTimeOffset Time, IReadOnlyList<string> Identities);

/// <summary>The request body of <c>POST /privacy/v1/requests</c>.</summary>
public sealed record PrivacyRequestBody
{
    public string? Type { get; set; }
    public List<string>? Identities { get; set; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PrivacyRequest))]
[JsonSerializable(typeof(List<PrivacyRequest>))]
[JsonSerializable(typeof(PrivacyExport))]
[JsonSerializable(typeof(PrivacyRequestBody))]
public sealed partial class PrivacyJson : JsonSerializerContext
{
    /// <summary>Indented variant for files and CLI output.</summary>
    public static PrivacyJson Indented => s_indented ??= new PrivacyJson(new JsonSerializerOptions(Default.Options) { WriteIndented = true });

    private static PrivacyJson? s_indented;
}

using System.Collections.Frozen;
using Tessera.Activation.Delivery;
using Tessera.Activation.Hashing;
namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// Google Ads Customer Match through the OfflineUserDataJobService (REST):
/// <c>POST /{version}/customers/{customerId}/offlineUserDataJobs/{jobId}:addOperations</c> with
/// <c>{"enablePartialFailure": true, "operations": [{"create": {"userIdentifiers": [...]}}, {"remove": {...}}]}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each user is one <c>UserData</c>: <c>hashedEmail</c>, <c>hashedPhoneNumber</c> (SHA-256 hex of
/// the normalized value) and, when all four are there, an <c>addressInfo</c> with
/// <c>hashedFirstName</c>, <c>hashedLastName</c>, <c>countryCode</c> and <c>postalCode</c> (the last
/// two unhashed, as Google asks). Add and Update are <c>create</c> operations, Remove is
/// <c>remove</c>; they go in feed order in one request, at most <see cref="MaxOperationsPerRequest"/> each.
/// </para>
/// <para>
/// A job belongs to one user list and is created and run around the operations:
/// <see cref="CreateJob"/> and <see cref="RunJob"/> build those two requests; the job id of a list
/// comes from the setting <c>jobId:{userListId}</c> (or <c>jobId</c>). The API has no idempotency
/// token: adding the same member twice is harmless, and the <c>Idempotency-Key</c> header is set.
/// Settings: <c>customerId</c> (required), <c>jobId</c> / <c>jobId:{userListId}</c> (required),
/// <c>apiVersion</c> (default <c>v22</c>), <c>phoneRegion</c>.
/// </para>
/// </remarks>
public sealed class GoogleCustomerMatchConnector : PlatformConnector
{
    /// <summary>Operations per request: far below Google's 100,000 identifiers per request.</summary>
    public const int MaxOperationsPerRequest = 10_000;

    private static readonly FrozenDictionary<string, KeyKind> Targets = new Dictionary<string, KeyKind>
    {
        ["hashedEmail"] = KeyKind.Email,
        ["hashedPhoneNumber"] = KeyKind.Phone,
        ["hashedFirstName"] = KeyKind.FirstName,
        ["hashedLastName"] = KeyKind.LastName,
        ["countryCode"] = KeyKind.Country,
        ["postalCode"] = KeyKind.PostalCode,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] Address = ["hashedFirstName", "hashedLastName", "countryCode", "postalCode"];

    public override string Type => "google";

    public override IReadOnlyList<string> Keys { get; } = ["hashedEmail", "hashedPhoneNumber", "hashedFirstName", "hashedLastName", "countryCode", "postalCode"];

    public override ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(context);
        var skipped = new List<SkippedRecord>();
        var latest = LatestPerProfile(records, skipped);
        var customerId = context.Setting("customerId");
        var version = context.Setting("apiVersion") ?? "v22";
        var normalizer = NormalizerFor(context);
        using var batch = new KeyHashBatch(latest.Count * 2);
        var users = new List<(DeliveryRecord Record, List<(string Target, int Key)> Keys)>(latest.Count);
        foreach (var record in latest)
        {
            if (customerId is null)
            {
                skipped.Add(new SkippedRecord(record, "the destination has no customerId setting", ExclusionReasons.Settings));
                continue;
            }
            var keys = AddKeys(record, Targets, HashPlatform.Google, normalizer, batch, out var reason);
            // An address matches only with all four parts; without them the parts are left out.
            if (keys is not null && !Address.All(a => keys.Exists(k => k.Target == a)))
            {
                keys.RemoveAll(k => Address.Contains(k.Target));
                if (keys.Count == 0)
                {
                    keys = null;
                    reason = "no usable match key (an address needs hashedFirstName, hashedLastName, countryCode and postalCode)";
                }
            }
            if (keys is not null)
            {
                users.Add((record, keys));
            }
            else
            {
                skipped.Add(new SkippedRecord(record, reason!));
            }
        }
        batch.Compute();

        var requests = new List<OutgoingRequest>();
        foreach (var group in users.GroupBy(u => u.Record.AudienceId))
        {
            var userList = context.ExternalAudienceId(group.Key);
            var jobId = context.Setting($"jobId:{userList}") ?? context.Setting("jobId");
            if (jobId is null)
            {
                skipped.AddRange(group.Select(u => new SkippedRecord(u.Record, $"the destination has no jobId:{userList} or jobId setting (the offline user data job of user list {userList})", ExclusionReasons.Settings)));
                continue;
            }
            foreach (var chunk in Chunks(group.ToList(), MaxOperationsPerRequest))
            {
                var body = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteBoolean("enablePartialFailure", true);
                    w.WriteStartArray("operations");
                    foreach (var (record, keys) in chunk)
                    {
                        w.WriteStartObject();
                        w.WriteStartObject(IsRemove(record) ? "remove" : "create");
                        w.WriteStartArray("userIdentifiers");
                        foreach (var (target, key) in keys)
                        {
                            if (target is "hashedEmail" or "hashedPhoneNumber")
                            {
                                w.WriteStartObject();
                                w.WritePropertyName(target);
                                batch.WriteHex(w, key);
                                w.WriteEndObject();
                            }
                        }
                        if (keys.Exists(k => k.Target == "postalCode"))
                        {
                            w.WriteStartObject();
                            w.WriteStartObject("addressInfo");
                            foreach (var part in Address)
                            {
                                w.WritePropertyName(part);
                                batch.WriteHex(w, keys.Find(k => k.Target == part).Key);
                            }
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                requests.Add(Request(context, requests.Count, HttpMethod.Post,
                    $"/{version}/customers/{customerId}/offlineUserDataJobs/{Uri.EscapeDataString(jobId)}:addOperations", body, chunk.Count));
            }
        }
        return new ConnectorBuild(requests, skipped);
    }

    /// <summary>The request creating a Customer Match job for a user list (its response names the job).</summary>
    public static OutgoingRequest CreateJob(string customerId, string userListId, string version = "v22") =>
        new(HttpMethod.Post, $"/{version}/customers/{customerId}/offlineUserDataJobs:create", "application/json", Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("job");
            w.WriteString("type", "CUSTOMER_MATCH_USER_LIST");
            w.WriteStartObject("customerMatchUserListMetadata");
            w.WriteString("userList", $"customers/{customerId}/userLists/{userListId}");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }), 0);

    /// <summary>The request running a job once its operations are added.</summary>
    public static OutgoingRequest RunJob(string customerId, string jobId, string version = "v22") =>
        new(HttpMethod.Post, $"/{version}/customers/{customerId}/offlineUserDataJobs/{jobId}:run", "application/json", "{}"u8.ToArray(), 0);
}

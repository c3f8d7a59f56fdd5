using System.Collections.Frozen;
using Tessera.Activation.Hashing;

namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// Meta Custom Audiences (Marketing API, customer list audiences): <c>POST /{version}/{audience-id}/users</c>
/// adds, <c>DELETE</c> on the same path removes, each with
/// <c>{"payload": {"schema": [keys], "data": [[values per user]]}}</c>, at most 10,000 users per request.
/// </summary>
/// <remarks>
/// Keys follow Meta's multi-key schema; each is normalized and hashed per Meta's rules except
/// <c>MADID</c> and <c>EXTERN_ID</c>, which are sent as they are. A request's schema is the keys
/// its users have, in the order of <see cref="Keys"/>; a user without one of them has <c>""</c>
/// there. Adds carry a <c>session</c> (Meta's upload session): its <c>session_id</c> is derived
/// from the batch's idempotency key and the audience, and <c>batch_seq</c> counts the requests, so
/// a retried or replayed batch is the same session to Meta.
/// Settings: <c>apiVersion</c> (default <c>v25.0</c>), <c>phoneRegion</c>.
/// </remarks>
public sealed class MetaCustomAudienceConnector : PlatformConnector
{
    /// <summary>Meta's limit of users per request.</summary>
    public const int MaxUsersPerRequest = 10_000;

    private static readonly FrozenDictionary<string, KeyKind> Targets = new Dictionary<string, KeyKind>
    {
        ["EMAIL"] = KeyKind.Email,
        ["PHONE"] = KeyKind.Phone,
        ["FN"] = KeyKind.FirstName,
        ["LN"] = KeyKind.LastName,
        ["ZIP"] = KeyKind.PostalCode,
        ["CT"] = KeyKind.City,
        ["ST"] = KeyKind.State,
        ["COUNTRY"] = KeyKind.Country,
        ["DOBY"] = KeyKind.BirthYear,
        ["DOBM"] = KeyKind.BirthMonth,
        ["DOBD"] = KeyKind.BirthDay,
        ["GEN"] = KeyKind.Gender,
        ["MADID"] = KeyKind.MobileAdId,
        ["EXTERN_ID"] = KeyKind.ExternalId,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] Order = ["EXTERN_ID", "EMAIL", "PHONE", "GEN", "DOBY", "DOBM", "DOBD", "LN", "FN", "CT", "ST", "ZIP", "COUNTRY", "MADID"];

    public override string Type => "meta";

    public override IReadOnlyList<string> Keys => Order;

    public override ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(context);
        var skipped = new List<SkippedRecord>();
        var latest = LatestPerProfile(records, skipped);
        var normalizer = NormalizerFor(context);
        var version = context.Setting("apiVersion") ?? "v25.0";
        using var batch = new KeyHashBatch(latest.Count * 2);
        var users = new List<(DeliveryRecord Record, List<(string Target, int Key)> Keys)>(latest.Count);
        foreach (var record in latest)
        {
            if (AddKeys(record, Targets, HashPlatform.Meta, normalizer, batch, out var reason) is { } keys)
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
        foreach (var group in users.GroupBy(u => (u.Record.AudienceId, Remove: IsRemove(u.Record))))
        {
            var audience = context.ExternalAudienceId(group.Key.AudienceId);
            var members = group.ToList();
            var chunks = Chunks(members, MaxUsersPerRequest).ToList();
            var sessionId = StableNumber($"{context.IdempotencyKey}/{group.Key.AudienceId}/{(group.Key.Remove ? "remove" : "add")}");
            for (var c = 0; c < chunks.Count; c++)
            {
                var chunk = chunks[c];
                var schema = Order.Where(t => chunk.Exists(u => u.Keys.Exists(k => k.Target == t))).ToArray();
                var last = c == chunks.Count - 1;
                var sequence = c + 1;
                var body = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartObject("payload");
                    w.WriteStartArray("schema");
                    foreach (var target in schema)
                    {
                        w.WriteStringValue(target);
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("data");
                    foreach (var (_, keys) in chunk)
                    {
                        w.WriteStartArray();
                        foreach (var target in schema)
                        {
                            var index = keys.FindIndex(k => k.Target == target);
                            if (index < 0)
                            {
                                w.WriteStringValue("");
                            }
                            else
                            {
                                batch.WriteHex(w, keys[index].Key);
                            }
                        }
                        w.WriteEndArray();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                    if (!group.Key.Remove)
                    {
                        w.WriteStartObject("session");
                        w.WriteNumber("session_id", sessionId);
                        w.WriteNumber("batch_seq", sequence);
                        w.WriteBoolean("last_batch_flag", last);
                        w.WriteNumber("estimated_num_total", members.Count);
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                });
                requests.Add(Request(context, requests.Count, group.Key.Remove ? HttpMethod.Delete : HttpMethod.Post,
                    $"/{version}/{Uri.EscapeDataString(audience)}/users", body, chunk.Count));
            }
        }
        return new ConnectorBuild(requests, skipped);
    }
}

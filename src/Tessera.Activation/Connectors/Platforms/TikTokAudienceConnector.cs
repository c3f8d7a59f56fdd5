using System.Collections.Frozen;
using Tessera.Activation.Delivery;
using Tessera.Activation.Hashing;
namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// TikTok audience segments (Business API v1.3, segment mapping):
/// <c>POST /open_api/v1.3/segment/mapping/</c> with
/// <c>{"advertiser_ids": [...], "action": "add" | "delete", "id_schema": [...], "batch_data": [[{"id", "audience_ids"}, ...], ...]}</c>:
/// one inner list per user, one entry per <c>id_schema</c> type, in that order.
/// </summary>
/// <remarks>
/// Ids are SHA-256 hex of the value normalized per TikTok: email lower-cased without a <c>+tag</c>,
/// phone as digits with the country code and no <c>+</c>, mobile ad ids lower-cased. Every user
/// of a request must have every type of its <c>id_schema</c>, so users are grouped by the types they
/// have. At most <see cref="MaxUsersPerRequest"/> users per request (Tessera's choice; TikTok's
/// reference gives no lower figure). The API has no idempotency token; adds and deletes are idempotent.
/// Settings: <c>advertiserIds</c> (comma-separated, required), <c>phoneRegion</c>.
/// </remarks>
public sealed class TikTokAudienceConnector : PlatformConnector
{
    public const int MaxUsersPerRequest = 10_000;

    private static readonly FrozenDictionary<string, KeyKind> Targets = new Dictionary<string, KeyKind>
    {
        ["EMAIL_SHA256"] = KeyKind.Email,
        ["PHONE_SHA256"] = KeyKind.Phone,
        ["IDFA_SHA256"] = KeyKind.MobileAdId,
        ["GAID_SHA256"] = KeyKind.MobileAdId,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public override string Type => "tiktok";

    private static readonly string[] Order = ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "GAID_SHA256"];

    public override IReadOnlyList<string> Keys => Order;

    public override ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(context);
        var skipped = new List<SkippedRecord>();
        var latest = LatestPerProfile(records, skipped);
        var advertisers = (context.Setting("advertiserIds") ?? context.Setting("advertiserId") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var normalizer = NormalizerFor(context);
        using var batch = new KeyHashBatch(latest.Count * 2);
        var users = new List<(DeliveryRecord Record, List<(string Target, int Key)> Keys)>(latest.Count);
        foreach (var record in latest)
        {
            if (advertisers.Length == 0)
            {
                skipped.Add(new SkippedRecord(record, "the destination has no advertiserIds setting", ExclusionReasons.Settings));
            }
            else if (AddKeys(record, Targets, HashPlatform.TikTok, normalizer, batch, out var reason) is { } keys)
            {
                users.Add((record, keys.OrderBy(k => Array.IndexOf(Order, k.Target)).ToList()));
            }
            else
            {
                skipped.Add(new SkippedRecord(record, reason!));
            }
        }
        batch.Compute();

        var requests = new List<OutgoingRequest>();
        foreach (var group in users.GroupBy(u => (u.Record.AudienceId, Remove: IsRemove(u.Record), Schema: string.Join(',', u.Keys.Select(k => k.Target)))))
        {
            var audience = context.ExternalAudienceId(group.Key.AudienceId);
            var schema = group.Key.Schema.Split(',');
            foreach (var chunk in Chunks(group.ToList(), MaxUsersPerRequest))
            {
                var body = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("advertiser_ids");
                    foreach (var advertiser in advertisers)
                    {
                        w.WriteStringValue(advertiser);
                    }
                    w.WriteEndArray();
                    w.WriteString("action", group.Key.Remove ? "delete" : "add");
                    w.WriteStartArray("id_schema");
                    foreach (var type in schema)
                    {
                        w.WriteStringValue(type);
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("batch_data");
                    foreach (var (_, keys) in chunk)
                    {
                        w.WriteStartArray();
                        foreach (var (_, key) in keys)
                        {
                            w.WriteStartObject();
                            w.WritePropertyName("id");
                            batch.WriteHex(w, key);
                            w.WriteStartArray("audience_ids");
                            w.WriteStringValue(audience);
                            w.WriteEndArray();
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                requests.Add(Request(context, requests.Count, HttpMethod.Post, "/open_api/v1.3/segment/mapping/", body, chunk.Count));
            }
        }
        return new ConnectorBuild(requests, skipped);
    }
}

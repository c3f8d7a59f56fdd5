using System.Collections.Frozen;
using Tessera.Activation.Hashing;

namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// LinkedIn Matched Audiences, DMP segment users (Marketing API, Rest.li batch create):
/// <c>POST /rest/dmpSegments/{segmentId}/users</c> with header <c>X-RestLi-Method: BATCH_CREATE</c> and
/// <c>{"elements": [{"action": "ADD" | "REMOVE", "userIds": [{"idType": "SHA256_EMAIL", "idValue": "..."}], "firstName": ..., "lastName": ...}]}</c>.
/// </summary>
/// <remarks>
/// <c>SHA256_EMAIL</c> is the SHA-256 hex of the trimmed, lower-cased email; <c>GOOGLE_AID</c> is
/// sent as is (lower-cased). First and last name are plain text, used by LinkedIn only with both.
/// ADD and REMOVE elements go in one request in feed order, at most
/// <see cref="MaxElementsPerRequest"/> per request. Headers: <c>LinkedIn-Version</c> (setting
/// <c>apiVersion</c>, default <c>202510</c>), <c>X-Restli-Protocol-Version: 2.0.0</c>. No idempotency token:
/// the same element twice sets the same membership.
/// </remarks>
public sealed class LinkedInDmpSegmentConnector : PlatformConnector
{
    public const int MaxElementsPerRequest = 5_000;

    private static readonly FrozenDictionary<string, KeyKind> Targets = new Dictionary<string, KeyKind>
    {
        ["SHA256_EMAIL"] = KeyKind.Email,
        ["GOOGLE_AID"] = KeyKind.MobileAdId,
        ["firstName"] = KeyKind.FirstName,
        ["lastName"] = KeyKind.LastName,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] Order = ["SHA256_EMAIL", "GOOGLE_AID", "firstName", "lastName"];

    public override string Type => "linkedin";

    public override IReadOnlyList<string> Keys => Order;

    public override ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(context);
        var skipped = new List<SkippedRecord>();
        var latest = LatestPerProfile(records, skipped);
        var normalizer = NormalizerFor(context);
        using var batch = new KeyHashBatch(latest.Count * 2);
        var users = new List<(DeliveryRecord Record, List<(string Target, int Key)> Keys)>(latest.Count);
        foreach (var record in latest)
        {
            var keys = AddKeys(record, Targets, HashPlatform.LinkedIn, normalizer, batch, out var reason);
            var ids = keys?.Count(k => k.Target is "SHA256_EMAIL" or "GOOGLE_AID") ?? 0;
            var names = keys?.Count(k => k.Target is "firstName" or "lastName") ?? 0;
            if (keys is not null && (ids > 0 || names == 2))
            {
                users.Add((record, keys));
            }
            else
            {
                skipped.Add(new SkippedRecord(record, reason ?? "no usable match key (LinkedIn needs SHA256_EMAIL or GOOGLE_AID, or firstName with lastName)"));
            }
        }
        batch.Compute();

        var version = context.Setting("apiVersion") ?? "202510";
        var requests = new List<OutgoingRequest>();
        foreach (var group in users.GroupBy(u => u.Record.AudienceId))
        {
            var segment = context.ExternalAudienceId(group.Key);
            foreach (var chunk in Chunks(group.ToList(), MaxElementsPerRequest))
            {
                var body = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("elements");
                    foreach (var (record, keys) in chunk)
                    {
                        w.WriteStartObject();
                        w.WriteString("action", IsRemove(record) ? "REMOVE" : "ADD");
                        w.WriteStartArray("userIds");
                        foreach (var (target, key) in keys)
                        {
                            if (target is "SHA256_EMAIL" or "GOOGLE_AID")
                            {
                                w.WriteStartObject();
                                w.WriteString("idType", target);
                                w.WritePropertyName("idValue");
                                batch.WriteHex(w, key);
                                w.WriteEndObject();
                            }
                        }
                        w.WriteEndArray();
                        foreach (var (target, key) in keys)
                        {
                            if (target is "firstName" or "lastName")
                            {
                                w.WriteString(target, batch.Plain(key));
                            }
                        }
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                requests.Add(Request(context, requests.Count, HttpMethod.Post, $"/rest/dmpSegments/{Uri.EscapeDataString(segment)}/users", body, chunk.Count,
                    new("X-RestLi-Method", "BATCH_CREATE"), new("LinkedIn-Version", version), new("X-Restli-Protocol-Version", "2.0.0")));
            }
        }
        return new ConnectorBuild(requests, skipped);
    }
}

using System.Globalization;

using Tessera.Activation.Delivery;
namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// The Trade Desk first-party data (Data API): <c>POST /data/advertiser</c> with
/// <c>{"AdvertiserId": "...", "Items": [{"UID2": "...", "Data": [{"Name": "segment", "TTLInMinutes": 43200}]}]}</c>:
/// one id per item, the segment named by the audience's external id.
/// </summary>
/// <remarks>
/// <para>
/// The Data API takes ids, not hashed contact data: a raw UID2 (or <c>UID2Token</c>, <c>EUID</c>,
/// <c>TDID</c>, <c>DAID</c>, <c>RampID</c>), sent exactly as stored (UID2s are case-sensitive).
/// A raw UID2 is what the UID2 Operator returns for an email's or phone's UID2 hash (SHA-256, then
/// Base64 of the digest, <see cref="Hashing.HashPlatform.TradeDesk"/>); that mapping call is
/// encrypted per UID2 participant and is not built here (docs/destinations-hashing.md).
/// </para>
/// <para>
/// Add and Update set the segment with the destination's TTL; Remove sends the same item with
/// <c>TTLInMinutes: 0</c>, which takes the id out of the segment. At most
/// <see cref="MaxItemsPerRequest"/> items per request. No idempotency token: re-sending an item sets
/// the same membership. Settings: <c>advertiserId</c> (required), <c>ttlMinutes</c> (default 43,200, 30 days).
/// </para>
/// </remarks>
public sealed class TradeDeskDataConnector : PlatformConnector
{
    public const int MaxItemsPerRequest = 10_000;

    public const int DefaultTtlMinutes = 43_200;

    private static readonly string[] Order = ["UID2", "UID2Token", "EUID", "TDID", "DAID", "RampID"];

    public override string Type => "ttd";

    public override IReadOnlyList<string> Keys => Order;

    public override ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(context);
        var skipped = new List<SkippedRecord>();
        var latest = LatestPerProfile(records, skipped);
        var advertiser = context.Setting("advertiserId");
        var ttl = int.TryParse(context.Setting("ttlMinutes"), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) ? minutes : DefaultTtlMinutes;
        var items = new List<(DeliveryRecord Record, string Type, string Id)>(latest.Count);
        foreach (var record in latest)
        {
            if (advertiser is null)
            {
                skipped.Add(new SkippedRecord(record, "the destination has no advertiserId setting", ExclusionReasons.Settings));
                continue;
            }
            // The first key of the most specific kind the record has (a raw UID2 before a cookie id).
            var id = Order.Select(type => (Type: type, Key: record.Keys.FirstOrDefault(k => k.Target == type && !string.IsNullOrWhiteSpace(k.Value))))
                .FirstOrDefault(k => k.Key.Target is not null);
            if (id.Type is null)
            {
                var others = record.Keys.Select(k => k.Target).Distinct().ToList();
                skipped.Add(new SkippedRecord(record, others.Count == 0
                    ? "no match key"
                    : $"no usable match key (The Trade Desk takes {string.Join(", ", Order)}; the record has {string.Join(", ", others)})"));
                continue;
            }
            items.Add((record, id.Type, id.Key.Value.Trim()));
        }

        var requests = new List<OutgoingRequest>();
        foreach (var chunk in Chunks(items, MaxItemsPerRequest))
        {
            var body = Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("AdvertiserId", advertiser);
                w.WriteStartArray("Items");
                foreach (var (record, type, id) in chunk)
                {
                    w.WriteStartObject();
                    w.WriteString(type, id);
                    w.WriteStartArray("Data");
                    w.WriteStartObject();
                    w.WriteString("Name", context.ExternalAudienceId(record.AudienceId));
                    w.WriteNumber("TTLInMinutes", IsRemove(record) ? 0 : ttl);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            requests.Add(Request(context, requests.Count, HttpMethod.Post, "/data/advertiser", body, chunk.Count));
        }
        return new ConnectorBuild(requests, skipped);
    }
}

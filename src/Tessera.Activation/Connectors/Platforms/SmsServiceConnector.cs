namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// An SMS service, modelled on Klaviyo's bulk subscription API (revision <c>2025-01-15</c>). Add and
/// Update subscribe the numbers to SMS marketing on the audience's list:
/// <c>POST /api/profile-subscription-bulk-create-jobs</c>; Remove unsubscribes them:
/// <c>POST /api/profile-subscription-bulk-delete-jobs</c>. Both are JSON:API documents
/// <c>{"data": {"type": "profile-subscription-bulk-create-job", "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {"phone_number": "+1...", "subscriptions": {"sms": {"marketing": {"consent": "SUBSCRIBED"}}}}}]}}, "relationships": {"list": {"data": {"type": "list", "id": "..."}}}}}</c>.
/// </summary>
/// <remarks>
/// Numbers are sent in E.164 (libphonenumber; numbers without a country code read in the
/// <c>phoneRegion</c> setting, US by default), unhashed; an <c>email</c> key, when the record has
/// one, goes along on the profile. At most <see cref="MaxProfilesPerRequest"/> profiles per job
/// request (the smaller of Klaviyo's subscribe and unsubscribe limits). Klaviyo requires the
/// <c>revision</c> header (setting <c>revision</c>). No idempotency token: subscribing or
/// unsubscribing twice leaves the same consent.
/// </remarks>
public sealed class SmsServiceConnector : PlatformConnector
{
    public const int MaxProfilesPerRequest = 100;

    private static readonly string[] Order = ["phone_number", "email"];

    public override string Type => "sms";

    public override IReadOnlyList<string> Keys => Order;

    public override ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(context);
        var skipped = new List<SkippedRecord>();
        var latest = LatestPerProfile(records, skipped);
        var normalizer = NormalizerFor(context);
        var profiles = new List<(DeliveryRecord Record, string Phone, string? Email)>(latest.Count);
        foreach (var record in latest)
        {
            var phoneKey = record.Keys.FirstOrDefault(k => k.Target == "phone_number");
            var phone = normalizer.PlainPhone(phoneKey.Value);
            if (!phone.IsUsable)
            {
                skipped.Add(new SkippedRecord(record, phoneKey.Target is null ? "no phone_number key" : $"no usable match key (phone_number: {phone.Problem})"));
                continue;
            }
            var email = normalizer.PlainEmail(record.Keys.FirstOrDefault(k => k.Target == "email").Value);
            profiles.Add((record, phone.Value!, email.IsUsable ? email.Value : null));
        }

        var revision = context.Setting("revision") ?? "2025-01-15";
        var requests = new List<OutgoingRequest>();
        foreach (var group in profiles.GroupBy(p => (p.Record.AudienceId, Remove: IsRemove(p.Record))))
        {
            var list = context.ExternalAudienceId(group.Key.AudienceId);
            var (type, path, consent) = group.Key.Remove
                ? ("profile-subscription-bulk-delete-job", "/api/profile-subscription-bulk-delete-jobs", "UNSUBSCRIBED")
                : ("profile-subscription-bulk-create-job", "/api/profile-subscription-bulk-create-jobs", "SUBSCRIBED");
            foreach (var chunk in Chunks(group.ToList(), MaxProfilesPerRequest))
            {
                var body = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartObject("data");
                    w.WriteString("type", type);
                    w.WriteStartObject("attributes");
                    if (!group.Key.Remove)
                    {
                        w.WriteString("custom_source", "Tessera");
                    }
                    w.WriteStartObject("profiles");
                    w.WriteStartArray("data");
                    foreach (var (_, phone, email) in chunk)
                    {
                        w.WriteStartObject();
                        w.WriteString("type", "profile");
                        w.WriteStartObject("attributes");
                        w.WriteString("phone_number", phone);
                        if (email is not null)
                        {
                            w.WriteString("email", email);
                        }
                        w.WriteStartObject("subscriptions");
                        w.WriteStartObject("sms");
                        w.WriteStartObject("marketing");
                        w.WriteString("consent", consent);
                        w.WriteEndObject();
                        w.WriteEndObject();
                        w.WriteEndObject();
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteStartObject("relationships");
                    w.WriteStartObject("list");
                    w.WriteStartObject("data");
                    w.WriteString("type", "list");
                    w.WriteString("id", list);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                });
                requests.Add(Request(context, requests.Count, HttpMethod.Post, path, body, chunk.Count, new KeyValuePair<string, string>("revision", revision)));
            }
        }
        return new ConnectorBuild(requests, skipped);
    }
}

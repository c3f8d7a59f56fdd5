using Tessera.Activation.Delivery;

namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// An email service, modelled on SendGrid's Marketing Campaigns API v3. Add and Update upsert the
/// contacts into the audience's list: <c>PUT /v3/marketing/contacts</c> with
/// <c>{"list_ids": ["..."], "contacts": [{"email", "first_name", "last_name", "phone_number", "external_id", "custom_fields"}]}</c>,
/// at most <see cref="MaxContactsPerRequest"/> contacts. Remove unsubscribes them from the
/// destination's unsubscribe group: <c>POST /v3/asm/groups/{group_id}/suppressions</c> with
/// <c>{"recipient_emails": [...]}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Why an unsubscribe group and not list removal: SendGrid removes list members by its own contact
/// ids (<c>DELETE /v3/marketing/lists/{id}/contacts?contact_ids=...</c>), which Tessera does not
/// hold; a suppression group takes emails and stops the audience's sends, which is what leaving
/// the audience means for an email channel. A later Add does not lift a suppression (SendGrid
/// lifts one per address with <c>DELETE /v3/asm/groups/{group_id}/suppressions/{email}</c>).
/// </para>
/// <para>
/// Emails are sent unhashed: trimmed, lower-cased and checked as Tessera's Email namespace checks
/// them; phones in E.164. Mapped attributes named <c>first_name</c>, <c>last_name</c>,
/// <c>city</c>, <c>country</c>, <c>postal_code</c> (and the other SendGrid reserved fields) go on
/// the contact; any other attribute goes into <c>custom_fields</c> under its name (a SendGrid
/// custom field id such as <c>e1_T</c>). Settings: <c>unsubscribeGroupId</c> (needed for removals).
/// No idempotency token: upserts and suppressions are idempotent.
/// </para>
/// </remarks>
public sealed class EmailServiceConnector : PlatformConnector
{
    /// <summary>SendGrid's limit of contacts per upsert request.</summary>
    public const int MaxContactsPerRequest = 30_000;

    /// <summary>Suppressions per request (Tessera's choice; SendGrid documents no lower limit).</summary>
    public const int MaxSuppressionsPerRequest = 1_000;

    private static readonly string[] Order = ["email", "phone_number", "first_name", "last_name", "external_id"];

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "first_name", "last_name", "address_line_1", "address_line_2", "alternate_emails", "city", "country",
        "postal_code", "state_province_region", "unique_name", "whatsapp", "line", "facebook",
    };

    public override string Type => "email";

    public override IReadOnlyList<string> Keys => Order;

    public override ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(context);
        var skipped = new List<SkippedRecord>();
        var latest = LatestPerProfile(records, skipped);
        var normalizer = NormalizerFor(context);
        var group = context.Setting("unsubscribeGroupId");
        var contacts = new List<(DeliveryRecord Record, string Email, string? Phone)>(latest.Count);
        foreach (var record in latest)
        {
            var emailKey = record.Keys.FirstOrDefault(k => k.Target == "email");
            var email = normalizer.PlainEmail(emailKey.Value);
            if (!email.IsUsable)
            {
                skipped.Add(new SkippedRecord(record, emailKey.Target is null ? "no email key" : $"no usable match key (email: {email.Problem})"));
                continue;
            }
            if (IsRemove(record) && group is null)
            {
                skipped.Add(new SkippedRecord(record, "the destination has no unsubscribeGroupId setting to unsubscribe a removed member from", ExclusionReasons.Settings));
                continue;
            }
            var phone = record.Keys.FirstOrDefault(k => k.Target == "phone_number").Value is { } phoneValue && normalizer.PlainPhone(phoneValue) is { IsUsable: true } p
                ? p.Value
                : null;
            contacts.Add((record, email.Value!, phone));
        }

        var requests = new List<OutgoingRequest>();
        foreach (var audience in contacts.GroupBy(c => c.Record.AudienceId))
        {
            var list = context.ExternalAudienceId(audience.Key);
            foreach (var chunk in Chunks(audience.Where(c => !IsRemove(c.Record)).ToList(), MaxContactsPerRequest))
            {
                var body = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("list_ids");
                    w.WriteStringValue(list);
                    w.WriteEndArray();
                    w.WriteStartArray("contacts");
                    foreach (var (record, email, phone) in chunk)
                    {
                        WriteContact(w, record, email, phone);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                requests.Add(Request(context, requests.Count, HttpMethod.Put, "/v3/marketing/contacts", body, chunk.Count));
            }
            foreach (var chunk in Chunks(audience.Where(c => IsRemove(c.Record)).ToList(), MaxSuppressionsPerRequest))
            {
                var body = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("recipient_emails");
                    foreach (var (_, email, _) in chunk)
                    {
                        w.WriteStringValue(email);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                requests.Add(Request(context, requests.Count, HttpMethod.Post, $"/v3/asm/groups/{Uri.EscapeDataString(group!)}/suppressions", body, chunk.Count));
            }
        }
        return new ConnectorBuild(requests, skipped);
    }

    private static void WriteContact(System.Text.Json.Utf8JsonWriter w, DeliveryRecord record, string email, string? phone)
    {
        w.WriteStartObject();
        w.WriteString("email", email);
        if (phone is not null)
        {
            w.WriteString("phone_number", phone);
        }
        foreach (var target in (string[])["first_name", "last_name", "external_id"])
        {
            if (record.Keys.FirstOrDefault(k => k.Target == target).Value is { } value && !string.IsNullOrWhiteSpace(value))
            {
                w.WriteString(target, value.Trim());
            }
        }
        var custom = new List<KeyValuePair<string, string?>>();
        foreach (var attribute in record.Attributes)
        {
            if (attribute.Value is null || record.Keys.Any(k => k.Target == attribute.Key))
            {
                continue;
            }
            if (Reserved.Contains(attribute.Key))
            {
                w.WriteString(attribute.Key, attribute.Value);
            }
            else
            {
                custom.Add(attribute);
            }
        }
        if (custom.Count > 0)
        {
            w.WriteStartObject("custom_fields");
            foreach (var (name, value) in custom)
            {
                w.WriteString(name, value);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace Tessera.Generator;

/// <summary>The files a retailer hands over, written row by row (nothing kept per customer).</summary>
internal sealed class Offline(RetailOptions options, Pools pools)
{
    // Planted invalid rows: reason → the error code Tessera quarantines them with.
    public const string MalformedCrmId = "malformed-crm-id";
    public const string UnparseableBirthDate = "unparseable-birth-date";
    public const string BadConsentFlag = "bad-consent-flag";
    public const string BadTier = "bad-tier";
    public const string NegativePoints = "negative-points";
    public const string UnparseableEnrolledDate = "unparseable-enrolled-date";
    public const string TruncatedLine = "truncated-line";
    public const string UnparseableDate = "unparseable-date";
    public const string NegativeAmount = "negative-amount";
    public const string ZeroItems = "zero-items";
    public const string NoCustomerId = "no-customer-id";
    public const string UnknownChannel = "unknown-channel";
    public const string NegativeTotal = "negative-total";

    private static readonly UTF8Encoding Utf8 = new(false);
    private static readonly string[] JunkEmails = ["test@test.com", "noemail@example.com", "n/a", "none@none.com", "unknown", "no@email.com"];
    private static readonly string[] Tiers = ["bronze", "silver", "gold", "platinum"];

    private DateTimeOffset Now => options.Now;

    /// <summary>crm_customers.csv: comma-separated with a header, like a CRM export.</summary>
    public GeneratedFile WriteCrm(string directory)
    {
        const string name = "crm_customers.csv";
        var tally = new Tally();
        using var writer = new StreamWriter(Path.Combine(directory, name), false, Utf8, 1 << 16);
        writer.Write("crm_id,email,phone,first_name,last_name,birth_date,street,city,state,zip,country,email_optin,sms_optin,ads_optin,updated\n");
        var line = new StringBuilder(256);
        for (var i = 1; i <= options.Profiles; i++)
        {
            var c = Customer.Of(options.Seed, pools, i, Now);
            var rng = Rng.For(options.Seed, Rng.Stream.Crm, i);
            var email = rng.Chance(0.05) ? "" : c.Email;
            var blocked = false;
            if (rng.Chance(0.012))
            {
                email = rng.Pick(JunkEmails);
                blocked = email is "n/a" or "unknown";
                tally.Defect("junk-email:" + email);
            }
            var phone = rng.Chance(0.15) ? "" : c.Phone;
            var roll = rng.NextDouble();
            var emailOptin = roll < 0.45 ? "yes" : roll < 0.85 ? "no" : "";
            roll = rng.NextDouble();
            var smsOptin = roll < 0.25 ? "true" : roll < 0.85 ? "false" : "";
            var updated = Now - TimeSpan.FromSeconds(rng.Chance(0.03) ? rng.Next(0, 86_400) : rng.Next(0, 730 * 86_400));
            // Its own stream, so adding the column changed none of the other values.
            var adsRoll = Rng.For(options.Seed, Rng.Stream.Consent, i).NextDouble();
            var adsOptin = adsRoll < 0.55 ? "Y" : adsRoll < 0.9 ? "N" : "";
            var crmId = c.CrmId;
            var birth = c.BirthDate.ToString("M/d/yyyy", CultureInfo.InvariantCulture);
            roll = rng.NextDouble();
            string? invalid = null;
            if (roll < 0.003)
            {
                invalid = MalformedCrmId;
                crmId = rng.Next(3) switch { 0 => "C" + crmId, 1 => crmId[1..], _ => crmId + "-01" };
            }
            else if (roll < 0.005)
            {
                invalid = UnparseableBirthDate;
                birth = $"{rng.Next(13, 29)}/{c.BirthDate.Month}/{c.BirthDate.Year}";
            }
            else if (roll < 0.007)
            {
                invalid = BadConsentFlag;
                emailOptin = rng.Next(2) == 0 ? "maybe" : "opt-in";
            }
            line.Clear();
            line.Append(crmId).Append(',').Append(email).Append(',').Append(phone).Append(',').Append(c.FirstName).Append(',').Append(c.LastName).Append(',')
                .Append(birth).Append(',').Append(c.Street).Append(',').Append(c.City.Name).Append(',').Append(c.City.State).Append(',').Append(c.City.Zip)
                .Append(",US,").Append(emailOptin).Append(',').Append(smsOptin).Append(',').Append(adsOptin).Append(',')
                .Append(updated.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)).Append('\n');
            var copies = invalid is null && rng.Chance(0.003) ? 2 : 1;
            for (var copy = 0; copy < copies; copy++)
            {
                writer.Write(line);
                tally.Rows++;
                if (invalid is not null)
                {
                    tally.Invalid(invalid, Code(invalid));
                }
                else if (blocked)
                {
                    tally.IdentitiesDropped++;
                }
            }
            if (copies == 2)
            {
                tally.Defect("duplicate-row");
            }
        }
        return tally.ToFile(name, RetailSchemas.CrmDataset, RetailSchemas.CrmProfileName, "csv", "mappings/crm.json", events: false);
    }

    /// <summary>loyalty_accounts.jsonl: one account per line, in the loyalty schema's field names.</summary>
    public GeneratedFile WriteLoyalty(string directory)
    {
        const string name = "loyalty_accounts.jsonl";
        var tally = new Tally();
        using var file = new FileStream(Path.Combine(directory, name), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new ArrayBufferWriter<byte>(512);
        using var json = new Utf8JsonWriter(buffer);
        for (var i = 1; i <= options.Profiles; i++)
        {
            var rng = Rng.For(options.Seed, Rng.Stream.Loyalty, i);
            if (!rng.Chance(0.6))
            {
                continue; // Customer.HasLoyaltyOf: the same first draw.
            }
            var roll = rng.NextDouble();
            var tier = roll < 0.55 ? 0 : roll < 0.83 ? 1 : roll < 0.96 ? 2 : 3;
            var points = tier switch { 0 => rng.Next(0, 2_000), 1 => rng.Next(1_000, 8_000), 2 => rng.Next(5_000, 25_000), _ => rng.Next(20_000, 100_000) };
            var enrolled = DateOnly.FromDateTime((Now - TimeSpan.FromDays(rng.Next(30, 8 * 365))).UtcDateTime);
            var sinceEnrolled = (Now.UtcDateTime - enrolled.ToDateTime(TimeOnly.MinValue)).TotalSeconds;
            var updated = Now - TimeSpan.FromSeconds(rng.Chance(0.03) ? rng.Next(0, 86_400) : Math.Floor(rng.NextDouble() * sinceEnrolled));
            var linked = rng.Chance(0.92);
            var tierText = Tiers[tier];
            var enrolledText = enrolled.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string? invalid = null;
            roll = rng.NextDouble();
            if (roll < 0.003)
            {
                invalid = BadTier;
                tierText = rng.Next(2) == 0 ? "diamond" : "Gold+";
            }
            else if (roll < 0.005)
            {
                invalid = NegativePoints;
                points = -rng.Next(1, 500);
            }
            else if (roll < 0.007)
            {
                invalid = UnparseableEnrolledDate;
                enrolledText = $"{enrolled.Year}-02-30";
            }
            else if (roll < 0.008)
            {
                invalid = TruncatedLine;
            }
            json.Reset(buffer);
            buffer.ResetWrittenCount();
            json.WriteStartObject();
            json.WriteString("loyaltyId", Customer.LoyaltyIdOf(i));
            if (linked)
            {
                json.WriteString("crmId", Customer.CrmIdOf(i));
            }
            json.WriteString("tier", tierText);
            json.WriteNumber("points", points);
            json.WriteString("enrolledOn", enrolledText);
            json.WriteString("updatedAt", updated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.Flush();
            var bytes = buffer.WrittenSpan;
            file.Write(invalid == TruncatedLine ? bytes[..(bytes.Length / 2)] : bytes);
            file.WriteByte((byte)'\n');
            tally.Rows++;
            if (invalid is not null)
            {
                tally.Invalid(invalid, Code(invalid));
            }
        }
        return tally.ToFile(name, RetailSchemas.LoyaltyDataset, RetailSchemas.LoyaltyAccountName, "jsonl", null, events: false);
    }

    /// <summary>
    /// pos_orders.csv (semicolon, US-style date-times) and web_orders.parquet together: each
    /// customer's orders are drawn once and go to the store or the online file by channel.
    /// </summary>
    public async Task<(GeneratedFile Pos, GeneratedFile Web)> WriteOrdersAsync(string directory)
    {
        const string posName = "pos_orders.csv";
        const string webName = "web_orders.parquet";
        var pos = new Tally();
        var web = new Tally();
        await using var posWriter = new StreamWriter(Path.Combine(directory, posName), false, Utf8, 1 << 16);
        await using var parquet = new WebOrderWriter(Path.Combine(directory, webName));
        posWriter.Write("order_no;order_date;store_id;crm_id;loyalty_card;channel;items;amount;currency\n");
        var line = new StringBuilder(128);
        long posSeq = 0, webSeq = 0;
        for (var i = 1; i <= options.Profiles; i++)
        {
            var rng = Rng.For(options.Seed, Rng.Stream.Orders, i);
            var roll = rng.NextDouble();
            var orders = roll < 0.35 ? 0 : roll < 0.6 ? 1 : roll < 0.75 ? 2 : roll < 0.9 ? rng.Next(3, 6) : roll < 0.98 ? rng.Next(6, 16) : rng.Next(16, 61);
            if (orders == 0)
            {
                continue;
            }
            var crmIdOfCustomer = Customer.CrmIdOf(i);
            var hasLoyalty = Customer.HasLoyaltyOf(options.Seed, i);
            string? email = null;
            var (devices, _) = Customer.DevicesOf(options.Seed, i);
            for (var k = 0; k < orders; k++)
            {
                var time = Now - TimeSpan.FromSeconds(rng.Chance(0.02) ? rng.Next(0, 86_400) : rng.Next(0, 730 * 86_400));
                var items = rng.Chance(0.5) ? 1 : rng.Next(2, 9);
                var total = 0.0;
                for (var item = 0; item < Math.Min(items, 3); item++)
                {
                    total += rng.Pick(pools.Products).Price;
                }
                total = Math.Round(total * items / Math.Min(items, 3), 2);
                string? invalid = null;
                var defect = rng.NextDouble();
                if (rng.Chance(0.3))
                {
                    // Online: web or app, signed in (CRM id) or as a guest (email), from one of the customer's devices.
                    webSeq++;
                    var channel = rng.Chance(0.65) ? "web" : "app";
                    var guest = rng.Chance(0.25);
                    var ecid = Device.Of(options.Seed, options.Profiles, i, devices > 0 ? rng.Next(devices) : 2 + rng.Next(2)).Ecid;
                    if (defect < 0.003)
                    {
                        invalid = NegativeTotal;
                        total = -total;
                    }
                    else if (defect < 0.005)
                    {
                        invalid = UnknownChannel;
                        channel = "kiosk";
                    }
                    else if (defect < 0.006)
                    {
                        invalid = ZeroItems;
                        items = 0;
                    }
                    var withEmail = guest || rng.Chance(0.5);
                    if (withEmail)
                    {
                        email ??= Customer.Of(options.Seed, pools, i, Now).Email;
                    }
                    var order = new WebOrder($"W{webSeq:D10}", time.UtcDateTime, guest ? null : crmIdOfCustomer, withEmail ? email : null,
                        ecid, channel, items, total);
                    var copies = invalid is null && rng.Chance(0.004) ? 2 : 1;
                    for (var copy = 0; copy < copies; copy++)
                    {
                        await parquet.AddAsync(order);
                        Count(web, invalid, copy);
                    }
                    continue;
                }
                posSeq++;
                var store = rng.Next(1, 121);
                var byCard = hasLoyalty ? rng.NextDouble() : 1;
                var crmId = byCard < 0.5 ? "" : crmIdOfCustomer;
                var card = byCard < 0.8 ? Customer.LoyaltyIdOf(i) : "";
                var date = time.UtcDateTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture);
                if (defect < 0.002)
                {
                    invalid = UnparseableDate;
                    // Day first, as a European till writes it: no month 13-28.
                    date = $"{rng.Next(13, 29)}/{time.Month}/{time.Year} {time.Hour}:{time.Minute:D2}";
                }
                else if (defect < 0.004)
                {
                    invalid = NegativeAmount;
                    total = -total;
                }
                else if (defect < 0.005)
                {
                    invalid = ZeroItems;
                    items = 0;
                }
                else if (defect < 0.007)
                {
                    invalid = NoCustomerId;
                    crmId = "";
                    card = "";
                }
                line.Clear();
                line.Append('S').Append(store.ToString("D3", CultureInfo.InvariantCulture)).Append('-').Append(posSeq.ToString("D9", CultureInfo.InvariantCulture)).Append(';')
                    .Append(date).Append(';').Append('S').Append(store.ToString("D3", CultureInfo.InvariantCulture)).Append(';')
                    .Append(crmId).Append(';').Append(card).Append(";store;").Append(items.ToString(CultureInfo.InvariantCulture)).Append(';')
                    .Append(total.ToString("0.00", CultureInfo.InvariantCulture)).Append(";USD\n");
                var posCopies = invalid is null && rng.Chance(0.004) ? 2 : 1;
                for (var copy = 0; copy < posCopies; copy++)
                {
                    posWriter.Write(line);
                    Count(pos, invalid, copy);
                }
            }
        }
        return (pos.ToFile(posName, RetailSchemas.PosOrdersDataset, RetailSchemas.RetailOrderName, "csv", "mappings/pos-orders.json", events: true),
            web.ToFile(webName, RetailSchemas.WebOrdersDataset, RetailSchemas.RetailOrderName, "parquet", "mappings/web-orders.json", events: true));
    }

    private static void Count(Tally tally, string? invalid, int copy)
    {
        tally.Rows++;
        if (invalid is not null)
        {
            tally.Invalid(invalid, Code(invalid));
        }
        else if (copy > 0)
        {
            tally.Duplicates++;
            tally.Defect("duplicate");
        }
    }

    public static string Code(string reason) => reason switch
    {
        MalformedCrmId => "PATTERN_VIOLATION",
        UnparseableBirthDate or UnparseableEnrolledDate or UnparseableDate => "FORMAT_INVALID",
        BadConsentFlag => "TYPE_MISMATCH",
        BadTier or UnknownChannel => "ENUM_VIOLATION",
        NegativePoints or NegativeAmount or ZeroItems or NegativeTotal => "BELOW_MINIMUM",
        TruncatedLine => "PARSE_ERROR",
        NoCustomerId => "NO_PRIMARY_IDENTITY",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    internal sealed record WebOrder(string Id, DateTime Time, string? CrmId, string? Email, string Ecid, string Channel, int Items, double Total);

    /// <summary>web_orders.parquet, in row groups of 100,000 orders.</summary>
    private sealed class WebOrderWriter : IAsyncDisposable
    {
        private const int GroupRows = 100_000;
        private static readonly DataField<string> Id = new("order_id");
        private static readonly DataField<DateTime> Time = new("ordered_at");
        private static readonly DataField<string> CrmId = new("crm_id", true);
        private static readonly DataField<string> Email = new("email", true);
        private static readonly DataField<string> Ecid = new("ecid", true);
        private static readonly DataField<string> Channel = new("channel");
        private static readonly DataField<int> Items = new("items");
        private static readonly DataField<double> Total = new("total");
        private static readonly DataField<string> Currency = new("currency");
        private static readonly ParquetSchema Schema = new(Id, Time, CrmId, Email, Ecid, Channel, Items, Total, Currency);

        private readonly FileStream _file;
        private readonly List<WebOrder> _rows = new(GroupRows);
        private ParquetWriter? _writer;

        public WebOrderWriter(string path) => _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);

        public async Task AddAsync(WebOrder order)
        {
            _rows.Add(order);
            if (_rows.Count == GroupRows)
            {
                await FlushAsync();
            }
        }

        private async Task FlushAsync()
        {
            _writer ??= await ParquetWriter.CreateAsync(Schema, _file);
            using var group = _writer.CreateRowGroup();
            await group.WriteAsync(Id, _rows.Select(r => r.Id).ToArray(), null);
            await group.WriteAsync(Time, new ReadOnlyMemory<DateTime>([.. _rows.Select(r => r.Time)]), null);
            await group.WriteAsync(CrmId, _rows.Select(r => r.CrmId).ToArray(), null);
            await group.WriteAsync(Email, _rows.Select(r => r.Email).ToArray(), null);
            await group.WriteAsync(Ecid, _rows.Select(r => r.Ecid).ToArray(), null);
            await group.WriteAsync(Channel, _rows.Select(r => r.Channel).ToArray(), null);
            await group.WriteAsync(Items, new ReadOnlyMemory<int>([.. _rows.Select(r => r.Items)]), null);
            await group.WriteAsync(Total, new ReadOnlyMemory<double>([.. _rows.Select(r => r.Total)]), null);
            await group.WriteAsync(Currency, _rows.Select(_ => "USD").ToArray(), null);
            group.CompleteValidate();
            _rows.Clear();
        }

        public async ValueTask DisposeAsync()
        {
            if (_rows.Count > 0 || _writer is null)
            {
                await FlushAsync();
            }
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
            }
            await _file.DisposeAsync();
        }
    }
}

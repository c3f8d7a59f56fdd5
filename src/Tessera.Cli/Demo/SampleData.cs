using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tessera.Cli.Demo;

/// <summary>
/// Deterministic sample data for the demo: a retailer's CRM export and order feed (files) and web
/// events (streamed), with the usual share of bad rows and re-sent events. Same seed, same data.
/// </summary>
internal sealed class SampleData(int customers, int seed = 20261128)
{
    private static readonly string[] FirstNames = ["Ada", "Bea", "Cyril", "Dora", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kira", "Lev", "Mia", "Noor", "Otto", "Pia"];
    private static readonly string[] LastNames = ["Novak", "Silva", "Kim", "Okafor", "Larsen", "Rossi", "Haddad", "Meyer", "Tanaka", "Ivanova", "Diaz", "Brown"];
    private static readonly string[] Cities = ["Lyon", "Porto", "Leeds", "Graz", "Turin", "Ghent", "Malmo", "Brno"];
    private static readonly string[] Tiers = ["bronze", "bronze", "bronze", "silver", "silver", "gold", "platinum"];
    private static readonly string[] Pages = ["home", "category", "product", "cart", "checkout", "account"];
    private static readonly DateTime Epoch = new(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc);

    public int Customers => customers;

    /// <summary>CRM CSV (comma, header); about 1% of rows break a rule (unknown tier, bad id, negative points).</summary>
    public string WriteCrm(string directory)
    {
        var random = new Random(seed);
        var path = Path.Combine(directory, "crm_customers.csv");
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        writer.WriteLine("customer_id,email,phone,first_name,last_name,birth_date,city,zip,country,loyalty_id,tier,points,email_optin,sms_optin,updated");
        for (var i = 1; i <= customers; i++)
        {
            var (first, last) = NameOf(i);
            var id = i.ToString("D8", CultureInfo.InvariantCulture);
            var tier = Tiers[random.Next(Tiers.Length)];
            var points = random.Next(0, 20_000);
            var birth = new DateTime(1950, 1, 1).AddDays(random.Next(0, 20_000));
            var defect = random.Next(100);
            if (defect == 0)
            {
                tier = "diamond";
            }
            else if (defect == 1)
            {
                points = -points - 1;
            }
            else if (defect == 2 && i % 3 == 0)
            {
                id = "X" + id;
            }
            var loyaltyId = random.Next(3) == 0 ? "" : $"L{i:D7}";
            var updated = Epoch.AddMinutes(-random.Next(0, 500_000)).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            var quotedLast = last.Contains(',', StringComparison.Ordinal) ? $"\"{last}\"" : last;
            writer.WriteLine(string.Join(',', id, Email(first, last, i), $"+33{600000000 + i}", first, quotedLast,
                birth.ToString("M/d/yyyy", CultureInfo.InvariantCulture), Cities[random.Next(Cities.Length)],
                random.Next(10000, 99999).ToString(CultureInfo.InvariantCulture), "FR", loyaltyId, tier, points.ToString(CultureInfo.InvariantCulture),
                random.Next(2) == 0 ? "yes" : "no", random.Next(2) == 0 ? "true" : "false", updated));
        }
        return path;
    }

    /// <summary>Orders (semicolon-separated, US-style date-times); a few have a negative amount or zero items.</summary>
    public string WriteOrders(string directory)
    {
        var random = new Random(seed + 1);
        var path = Path.Combine(directory, "pos_orders.csv");
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        writer.WriteLine("order_no;order_time;customer;store;channel;items;amount");
        var orders = customers * 2;
        for (var i = 1; i <= orders; i++)
        {
            var customer = random.Next(1, customers + 1).ToString("D8", CultureInfo.InvariantCulture);
            var time = Epoch.AddMinutes(random.Next(0, 80_000));
            var items = random.Next(1, 6);
            var amount = Math.Round(random.NextDouble() * 180 + 5, 2);
            if (random.Next(150) == 0)
            {
                amount = -amount;
            }
            if (random.Next(200) == 0)
            {
                items = 0;
            }
            var channel = random.Next(4) == 0 ? "web" : "store";
            writer.WriteLine(string.Join(';', $"O{i:D9}", time.ToString("M/d/yyyy H:mm", CultureInfo.InvariantCulture), customer,
                channel == "web" ? "online" : $"S{random.Next(1, 40):D3}", channel, items.ToString(CultureInfo.InvariantCulture),
                amount.ToString(CultureInfo.InvariantCulture)));
        }
        return path;
    }

    /// <summary>
    /// Web events as JSON objects in requests of <paramref name="perRequest"/>: anonymous device
    /// ids, some of which log in (the event then carries the email too); about 2% of requests are
    /// re-sent (as a flaky network would) and about 1% of events are malformed.
    /// </summary>
    public IEnumerable<string> WebEventRequests(int perRequest)
    {
        var random = new Random(seed + 2);
        var events = customers * 4;
        var batch = new List<string>(perRequest);
        string? previous = null;
        for (var i = 1; i <= events; i++)
        {
            var customer = random.Next(1, customers + 1);
            var device = $"ecid-{customer:D8}-{random.Next(2)}";
            var time = Epoch.AddDays(30).AddSeconds(random.Next(0, 86_400 * 7));
            var page = Pages[random.Next(Pages.Length)];
            var loggedIn = page is "account" or "checkout";
            var eventType = page switch { "product" => "product.view", "cart" => "cart.add", "checkout" => "checkout", "account" => "login", _ => "page.view" };
            var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("_id", $"w{i:D9}");
                if (random.Next(150) != 0)
                {
                    json.WriteString("timestamp", time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                }
                json.WriteString("eventType", random.Next(200) == 0 ? "page.scroll" : eventType);
                json.WriteStartObject("page");
                json.WriteString("url", $"https://shop.example/{page}");
                json.WriteString("name", page);
                json.WriteEndObject();
                if (eventType is "product.view" or "cart.add")
                {
                    json.WriteStartObject("commerce");
                    json.WriteString("productId", $"P{random.Next(1, 500):D4}");
                    json.WriteNumber("price", Math.Round(random.NextDouble() * 90 + 10, 2));
                    json.WriteEndObject();
                }
                json.WriteStartObject("identityMap");
                json.WriteStartArray("ECID");
                json.WriteStartObject();
                json.WriteString("id", device);
                json.WriteBoolean("primary", true);
                json.WriteEndObject();
                json.WriteEndArray();
                if (loggedIn)
                {
                    json.WriteStartArray("Email");
                    json.WriteStartObject();
                    json.WriteString("id", Email(NameOf(customer).First, NameOf(customer).Last, customer));
                    json.WriteEndObject();
                    json.WriteEndArray();
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            batch.Add(Encoding.UTF8.GetString(stream.ToArray()));
            if (batch.Count == perRequest || i == events)
            {
                var request = "[" + string.Join(',', batch) + "]";
                batch.Clear();
                yield return request;
                if (previous is not null && random.Next(50) == 0)
                {
                    yield return previous;
                }
                previous = request;
            }
        }
    }

    /// <summary>A Segment <c>/v1/batch</c> body: identify calls for some customers and their order events.</summary>
    public string SegmentBatch()
    {
        var random = new Random(seed + 3);
        var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartArray("batch");
            for (var i = 1; i <= Math.Min(customers, 200); i++)
            {
                var customer = random.Next(1, customers + 1);
                var (first, last) = NameOf(customer);
                var sent = Epoch.AddDays(31).AddMinutes(i);
                json.WriteStartObject();
                json.WriteString("type", "identify");
                json.WriteString("messageId", $"seg-id-{i}");
                json.WriteString("userId", customer.ToString("D8", CultureInfo.InvariantCulture));
                json.WriteString("anonymousId", $"ecid-{customer:D8}-0");
                json.WriteString("timestamp", sent.ToString("o", CultureInfo.InvariantCulture));
                json.WriteStartObject("traits");
                json.WriteString("email", Email(first, last, customer));
                json.WriteString("firstName", first);
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteStartObject();
                json.WriteString("type", "track");
                json.WriteString("messageId", $"seg-tr-{i}");
                json.WriteString("userId", customer.ToString("D8", CultureInfo.InvariantCulture));
                json.WriteString("event", "Order Completed");
                json.WriteString("timestamp", sent.AddSeconds(30).ToString("o", CultureInfo.InvariantCulture));
                json.WriteStartObject("properties");
                json.WriteNumber("revenue", Math.Round(random.NextDouble() * 120 + 10, 2));
                json.WriteString("currency", "EUR");
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static (string First, string Last) NameOf(int customer) =>
        (FirstNames[customer % FirstNames.Length], LastNames[customer / FirstNames.Length % LastNames.Length]);

    private static string Email(string first, string last, int i) =>
        $"{first}.{last}{i}@example.com".ToLowerInvariant();
}

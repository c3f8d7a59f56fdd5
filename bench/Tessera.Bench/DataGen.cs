using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tessera.Bench;

/// <summary>
/// Deterministic input: CRM-like CSV rows and XDM-style web events, from a seeded
/// <see cref="Random"/>, so every run ingests byte-identical data.
/// </summary>
internal static class DataGen
{
    private static readonly string[] FirstNames =
    [
        "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
        "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
        "Léa", "Zoë", "Mateo", "Sofía", "Noah", "Emma", "Liam", "Olivia", "Lucas", "Amélie",
    ];

    private static readonly string[] LastNames =
    [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Dubois", "Müller", "Rossi", "Nowak", "Silva", "Kowalski", "Novak", "Jensen", "O'Brien", "Nakamura",
    ];

    private static readonly string[] Cities =
    [
        "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "San Antonio", "San Diego",
        "Dallas", "Austin", "Seattle", "Denver", "Boston", "Portland", "Atlanta", "Miami", "Paris", "Lyon",
        "Berlin", "Madrid", "São Paulo", "Toronto", "Montréal", "Sydney",
    ];

    private static readonly string[] Domains = ["gmail.com", "yahoo.com", "outlook.com", "example.com", "icloud.com", "proton.me"];

    public static readonly string[] Tiers = ["bronze", "silver", "gold", "platinum"];

    public static readonly string[] EventTypes =
    [
        "web.webpagedetails.pageViews", "web.webinteraction.linkClicks", "commerce.productViews", "commerce.productListAdds",
        "commerce.checkouts", "commerce.purchases",
    ];

    private static readonly string[] Paths =
    [
        "/", "/category/shoes", "/category/bags", "/category/outerwear/jackets", "/search", "/cart", "/checkout/shipping",
        "/account/orders", "/stores/locator", "/product/",
    ];

    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    ];

    public const string CsvHeader = "crmId,email,phone,firstName,lastName,city,zip,birthDate,loyaltyTier,points,updatedAt";

    /// <summary>Writes <paramref name="rows"/> CRM rows to <paramref name="path"/> (UTF-8, header, comma).</summary>
    public static long WriteCrmCsv(string path, int rows, int seed)
    {
        var random = new Random(seed);
        var baseTime = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20))
        {
            writer.NewLine = "\n";
            writer.WriteLine(CsvHeader);
            var line = new StringBuilder(256);
            for (var i = 0; i < rows; i++)
            {
                var first = FirstNames[random.Next(FirstNames.Length)];
                var last = LastNames[random.Next(LastNames.Length)];
                var city = Cities[random.Next(Cities.Length)];
                var birth = new DateOnly(1940, 1, 1).AddDays(random.Next(0, 365 * 65));
                var updated = baseTime.AddSeconds(random.Next(0, 300 * 86400));
                line.Clear();
                line.Append(CultureInfo.InvariantCulture, $"{i + 1:D10},");
                line.Append(CultureInfo.InvariantCulture, $"{Ascii(first)}.{Ascii(last)}{random.Next(1, 10_000)}@{Domains[random.Next(Domains.Length)]},");
                line.Append(CultureInfo.InvariantCulture, $"+1{random.Next(200, 990)}{random.Next(0, 10_000_000):D7},");
                line.Append(first).Append(',');
                line.Append(last.Contains('\'') ? $"\"{last}\"" : last).Append(',');
                line.Append(city).Append(',');
                line.Append(CultureInfo.InvariantCulture, $"{random.Next(0, 100_000):D5},");
                line.Append(birth.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(',');
                line.Append(Tiers[Math.Min(3, (int)Math.Floor(Math.Pow(random.NextDouble(), 2.5) * 4))]).Append(',');
                line.Append(random.Next(0, 250_000).ToString(CultureInfo.InvariantCulture)).Append(',');
                line.Append(updated.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                writer.WriteLine(line);
            }
        }
        return new FileInfo(path).Length;
    }

    private static string Ascii(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name.Normalize(NormalizationForm.FormD))
        {
            if (char.IsAsciiLetter(c))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// Web events as request bodies: JSON arrays of <paramref name="batchSize"/> events each (the
    /// last one may be shorter). Visitors (ECIDs) repeat, about eight events per visitor.
    /// </summary>
    public static List<byte[]> WebEventBatches(int events, int batchSize, int seed, out long totalBytes)
    {
        var random = new Random(seed);
        var visitors = Math.Max(1, events / 8);
        var ecids = new string[visitors];
        for (var v = 0; v < visitors; v++)
        {
            ecids[v] = string.Create(38, random, static (span, r) =>
            {
                for (var k = 0; k < span.Length; k++)
                {
                    span[k] = (char)('0' + r.Next(10));
                }
            });
        }
        var start = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var batches = new List<byte[]>(events / batchSize + 1);
        var buffer = new ArrayBufferWriter<byte>(batchSize * 700);
        var idBytes = new byte[16];
        totalBytes = 0;
        for (var done = 0; done < events;)
        {
            buffer.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartArray();
                var count = Math.Min(batchSize, events - done);
                for (var k = 0; k < count; k++, done++)
                {
                    random.NextBytes(idBytes);
                    var type = EventTypes[random.Next(EventTypes.Length)];
                    var path = Paths[random.Next(Paths.Length)];
                    if (path == "/product/")
                    {
                        path += random.Next(10_000, 99_999).ToString(CultureInfo.InvariantCulture);
                    }
                    writer.WriteStartObject();
                    writer.WriteString("_id", Convert.ToHexStringLower(idBytes));
                    writer.WriteString("timestamp", start.AddMilliseconds(done * 37L + random.Next(0, 1000)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                    writer.WriteString("eventType", type);
                    writer.WriteStartObject("identityMap");
                    writer.WriteStartArray("ECID");
                    writer.WriteStartObject();
                    writer.WriteString("id", ecids[random.Next(visitors)]);
                    writer.WriteBoolean("primary", true);
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    writer.WriteStartObject("web");
                    writer.WriteStartObject("webPageDetails");
                    writer.WriteString("URL", $"https://shop.example.com{path}?utm_source=newsletter&utm_medium=email");
                    writer.WriteString("name", path.Length > 1 ? path[1..].Replace('/', ':') : "home");
                    writer.WriteStartObject("pageViews");
                    writer.WriteNumber("value", 1);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                    writer.WriteStartObject("webReferrer");
                    writer.WriteString("URL", "https://www.google.com/");
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                    writer.WriteStartObject("device");
                    var mobile = random.Next(2) == 0;
                    writer.WriteString("type", mobile ? "mobile" : "desktop");
                    writer.WriteNumber("screenWidth", mobile ? 390 : 1920);
                    writer.WriteNumber("screenHeight", mobile ? 844 : 1080);
                    writer.WriteEndObject();
                    writer.WriteStartObject("environment");
                    writer.WriteStartObject("browserDetails");
                    writer.WriteString("userAgent", UserAgents[random.Next(UserAgents.Length)]);
                    writer.WriteString("acceptLanguage", "en-US");
                    writer.WriteEndObject();
                    writer.WriteString("ipV4", $"203.0.{random.Next(256)}.{random.Next(256)}");
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            var body = buffer.WrittenSpan.ToArray();
            totalBytes += body.Length;
            batches.Add(body);
        }
        return batches;
    }

    public static string CrmSchemaJson => """
        {"name":"crm","class":"profile","description":"CRM customers (benchmark)","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "email":{"type":"string","maxLength":254,"identity":{"namespace":"Email"}},
          "phone":{"type":"string","pattern":"^\\+[1-9][0-9]{6,14}$","identity":{"namespace":"Phone"}},
          "firstName":{"type":"string","maxLength":100},
          "lastName":{"type":"string","maxLength":100},
          "city":{"type":"string"},
          "zip":{"type":"string","maxLength":10},
          "birthDate":{"type":"date"},
          "loyaltyTier":{"type":"string","enum":["bronze","silver","gold","platinum"]},
          "points":{"type":"int","min":0},
          "updatedAt":{"type":"date-time"}}}
        """;

    public static string WebSchemaJson => """
        {"name":"web","class":"event","description":"Web events (benchmark)","fields":{
          "eventType":{"type":"string","required":true},
          "web":{"type":"object","fields":{
            "webPageDetails":{"type":"object","fields":{
              "URL":{"type":"string","maxLength":2048},
              "name":{"type":"string"},
              "pageViews":{"type":"object","fields":{"value":{"type":"int","min":0}}}}},
            "webReferrer":{"type":"object","fields":{"URL":{"type":"string"}}}}},
          "device":{"type":"object","fields":{
            "type":{"type":"string","enum":["mobile","desktop","tablet"]},
            "screenWidth":{"type":"int","min":0},
            "screenHeight":{"type":"int","min":0}}},
          "environment":{"type":"object","fields":{
            "browserDetails":{"type":"object","fields":{
              "userAgent":{"type":"string"},
              "acceptLanguage":{"type":"string"}}},
            "ipV4":{"type":"string"}}}}}
        """;

    public static int CountEvents(List<byte[]> batches)
    {
        var count = 0;
        foreach (var body in batches)
        {
            var reader = new Utf8JsonReader(body);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                reader.Skip();
                count++;
            }
        }
        return count;
    }
}

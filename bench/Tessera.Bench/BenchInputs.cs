using System.Globalization;
using System.Text.Json.Nodes;

namespace Tessera.Bench;

/// <summary>
/// Generated inputs shared by the suite's groups and the BenchmarkDotNet micro benchmarks (which
/// link this file), so both measure the same data: emails as people type them, and retail profiles
/// with 100 events and the PQL audiences evaluated on them.
/// </summary>
internal static class BenchInputs
{
    private static readonly string[] Domains = ["gmail.com", "example.com", "yahoo.com", "outlook.com", "googlemail.com", "mail.example.org"];
    private static readonly string[] Names = ["ann", "bob", "chloe", "david", "emma", "farid", "grace", "hiro", "ines", "jonas", "kofi", "lena"];
    private static readonly string[] EventTypes = ["commerce.productViews", "web.webpagedetails.pageViews", "commerce.productListAdds", "commerce.purchases"];
    private static readonly string[] Tiers = ["bronze", "silver", "gold", "platinum"];

    /// <summary>The instant the PQL profiles' events lead up to, and the audiences are evaluated at.</summary>
    public static readonly DateTimeOffset Now = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);

    public const string Typical = """
        homeAddress.countryCode = "US" and loyalty.tier in ["gold", "platinum"] and person.birthYear < 1990
          and chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.productViews") WHEN(< 24 hours before now)])
        """;

    public const string AttributeOnly = """homeAddress.countryCode = "US" and loyalty.tier in ["gold", "platinum"] and person.birthYear < 1990""";

    public const string EventWindow = """chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.purchases") WHEN(< 24 hours before now)])""";

    public const string EventCount = """count(xEvent[eventType = "commerce.productViews" and timestamp occurs < 24 hours before now]) >= 3""";

    /// <summary>A funnel of two steps: a product viewed in the last 24 hours, then a purchase.</summary>
    public const string Funnel = """chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.productViews") WHEN(< 24 hours before now), B: WHAT(eventType = "commerce.purchases")])""";

    /// <summary>An audience on a page's name (a field two levels down in a web event).</summary>
    public const string PageName = """xEvent[web.webPageDetails.name = "checkout" and timestamp occurs < 30 minutes before now]""";

    /// <summary>Mixed-case emails, some with dots and +tags, a third of them at Gmail.</summary>
    public static string Email(Random random, int i)
    {
        var first = Names[random.Next(Names.Length)];
        var last = Names[random.Next(Names.Length)];
        var local = random.Next(4) switch
        {
            0 => $"{first}.{last}{i}",
            1 => $"{char.ToUpperInvariant(first[0])}{first[1..]}.{last}+news{i % 100}",
            2 => $"{first}{last}{i}",
            _ => $"{first}_{i}",
        };
        return $"{local}@{Domains[random.Next(Domains.Length)]}";
    }

    /// <summary>A retail profile: address, loyalty, person, and 100 events over the last three days, oldest first.</summary>
    public static JsonObject Profile(Random random)
    {
        var events = new JsonArray();
        var times = Enumerable.Range(0, 100).Select(_ => Now.AddMinutes(-random.Next(3 * 24 * 60))).Order().ToArray();
        foreach (var time in times)
        {
            events.Add(new JsonObject
            {
                ["_id"] = $"e{random.Next():x8}",
                ["eventType"] = random.Next(50) == 0 ? "commerce.purchases" : EventTypes[random.Next(3)],
                ["timestamp"] = time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["web"] = new JsonObject { ["webPageDetails"] = new JsonObject { ["name"] = $"page{random.Next(40)}" } },
            });
        }
        return new JsonObject
        {
            ["crmId"] = $"c{random.Next()}",
            ["person"] = new JsonObject { ["name"] = new JsonObject { ["firstName"] = "Ann", ["lastName"] = "Lee" }, ["birthYear"] = random.Next(1940, 2008) },
            ["homeAddress"] = new JsonObject { ["countryCode"] = random.Next(3) == 0 ? "CA" : "US", ["city"] = "Springfield", ["postalCode"] = "12345" },
            ["loyalty"] = new JsonObject { ["tier"] = Tiers[random.Next(4)], ["points"] = random.Next(10_000) },
            ["consents"] = new JsonObject { ["email"] = "y", ["sms"] = "n" },
            ["xEvent"] = events,
        };
    }
}

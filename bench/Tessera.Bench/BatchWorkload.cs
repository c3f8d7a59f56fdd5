using System.Globalization;
using System.Text;

namespace Tessera.Bench;

/// <summary>
/// The batch benchmark's data and audiences (<see cref="BatchBench"/>): a retailer's profiles (loyalty
/// tier, points, city, birth date, consent; a few fields missing, as real exports have) and web and
/// commerce events over the 90 days before a fixed instant, written as CSV files that Tessera ingests
/// and DuckDB reads; and 50 audiences, each in PQL and in the SQL a competent writer would give DuckDB
/// for the same meaning (PQL's nulls included: a comparison with a missing value is false).
/// </summary>
internal static class BatchWorkload
{
    /// <summary>The instant every audience is evaluated at: half a second past the hour, so no event (whole seconds) sits on a window's edge.</summary>
    public static readonly DateTimeOffset Now = new(2026, 6, 10, 12, 0, 0, 500, TimeSpan.Zero);

    public const int Seed = 20260610;

    public static readonly string[] Tiers = ["bronze", "silver", "gold", "platinum"];

    private static readonly string[] Cities =
    [
        "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "San Antonio", "San Diego",
        "Dallas", "San Jose", "Seattle", "Denver", "Boston", "Portland", "Atlanta", "Miami", "Paris", "Lyon",
        "Berlin", "Madrid", "San Francisco", "Toronto", "Montreal", "Sydney",
    ];

    private static readonly string[] Categories = ["shoes", "bags", "outerwear", "kids", "home", "beauty", "sport", "sale"];

    public const string ProfileSchemaJson = """
        {"name":"shopper","class":"profile","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "tier":{"type":"string"},
          "points":{"type":"int","min":0},
          "city":{"type":"string"},
          "birthDate":{"type":"date"},
          "consent":{"type":"bool"}}}
        """;

    public const string EventSchemaJson = """
        {"name":"shop","class":"event","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "eventType":{"type":"string","required":true},
          "category":{"type":"string"},
          "amount":{"type":"int","min":0}}}
        """;

    /// <summary>A CRM id: 8 digits, never a blocked junk value.</summary>
    public static string CrmId(int profile) => (10_000_000 + profile).ToString(CultureInfo.InvariantCulture);

    /// <summary>Profile <paramref name="i"/>'s CSV row (<see cref="ProfileHeader"/>), its attributes drawn from <paramref name="random"/>.</summary>
    public static StringBuilder ProfileRow(StringBuilder line, int i, Random random)
    {
        line.Append(CrmId(i)).Append(',');
        var tierDraw = random.Next(100);
        line.Append(tierDraw < 2 ? "" : tierDraw < 50 ? "bronze" : tierDraw < 80 ? "silver" : tierDraw < 95 ? "gold" : "platinum").Append(',');
        var points = (int)(250_000 * Math.Pow(random.NextDouble(), 3));
        line.Append(random.Next(100) < 3 ? "" : points.ToString(CultureInfo.InvariantCulture)).Append(',');
        var city = Cities[random.Next(Cities.Length)];
        line.Append(random.Next(100) < 5 ? "" : city).Append(',');
        line.Append(new DateOnly(1940, 1, 1).AddDays(random.Next(65 * 365)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(',');
        var consent = random.Next(100);
        return line.Append(consent < 5 ? "" : consent < 75 ? "true" : "false");
    }

    public const string ProfileHeader = "crmId,tier,points,city,birthDate,consent";

    /// <summary>
    /// Writes <c>profiles.csv</c> and the events in files of at most <paramref name="perFile"/> rows
    /// (<c>events-000.csv</c>, ...): one in ten profiles has no event; the others get events uniformly
    /// (half) and skewed towards low ids (half: a few heavy shoppers, none near the timeline cap).
    /// </summary>
    public static (string Profiles, List<string> Events, long Bytes) Write(string directory, int profiles, long events, int perFile)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(Seed);
        var profilePath = Path.Combine(directory, "profiles.csv");
        long bytes = 0;
        using (var writer = new StreamWriter(profilePath, false, new UTF8Encoding(false), 1 << 20))
        {
            writer.NewLine = "\n";
            writer.WriteLine(ProfileHeader);
            var line = new StringBuilder(128);
            for (var i = 0; i < profiles; i++)
            {
                writer.WriteLine(ProfileRow(line.Clear(), i, random));
            }
        }
        bytes += new FileInfo(profilePath).Length;

        // Events: profiles with events are those whose id is not 7 mod 10.
        var active = profiles - (profiles + 2) / 10;
        int Pick()
        {
            var k = random.Next(2) == 0 ? random.Next(active) : Math.Min(active - 1, (int)(active * Math.Pow(random.NextDouble(), 1.5)));
            return k / 9 * 10 + (k % 9 >= 7 ? k % 9 + 1 : k % 9);
        }
        var latest = new DateTimeOffset(Now.Year, Now.Month, Now.Day, Now.Hour, Now.Minute, Now.Second, TimeSpan.Zero);
        const int Span = 90 * 86_400;
        var paths = new List<string>();
        var row = new StringBuilder(128);
        for (long done = 0; done < events;)
        {
            var path = Path.Combine(directory, $"events-{paths.Count:D3}.csv");
            paths.Add(path);
            using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20))
            {
                writer.NewLine = "\n";
                writer.WriteLine("_id,crmId,timestamp,eventType,category,amount");
                for (var k = 0; k < perFile && done < events; k++, done++)
                {
                    var profile = Pick();
                    var at = latest.AddSeconds(-random.Next(Span));
                    var draw = random.Next(100);
                    var type = draw < 50 ? "page.view" : draw < 75 ? "product.view" : draw < 85 ? "cart.add" : draw < 90 ? "order" : "search";
                    row.Clear().Append('e').Append(done.ToString(CultureInfo.InvariantCulture)).Append(',').Append(CrmId(profile)).Append(',');
                    row.Append(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append(',').Append(type).Append(',');
                    if (type is "product.view" or "cart.add" or "order")
                    {
                        row.Append(Categories[random.Next(Categories.Length)]);
                    }
                    row.Append(',');
                    if (type == "order")
                    {
                        row.Append(random.Next(10, 501).ToString(CultureInfo.InvariantCulture));
                    }
                    else if (type == "cart.add")
                    {
                        row.Append(random.Next(5, 301).ToString(CultureInfo.InvariantCulture));
                    }
                    writer.WriteLine(row);
                }
            }
            bytes += new FileInfo(path).Length;
        }
        return (profilePath, paths, bytes);
    }

    /// <summary>One audience: its id, its PQL, and the SQL condition (over <c>p</c>, the profile, and the aggregates of <see cref="Aggregates"/>) DuckDB evaluates.</summary>
    public sealed record BatchAudience(string Id, string Kind, string Pql, string Sql);

    private const string W = "ts <= NOW";

    private static string Within(string amount) => $"ts > NOW - INTERVAL {amount} AND {W}";

    /// <summary>
    /// The per-profile aggregates the SQL reads, computed in one pass over the events
    /// (<c>GROUP BY crm_id</c>); <c>NOW</c> is replaced by the evaluation instant.
    /// </summary>
    public static readonly (string Name, string Sql)[] Aggregates =
    [
        ("n_all", "count(*)"),
        ("n_order", "count(*) FILTER (WHERE event_type = 'order')"),
        ("n_pview", "count(*) FILTER (WHERE event_type = 'product.view')"),
        ("n_cart", "count(*) FILTER (WHERE event_type = 'cart.add')"),
        ("n_search", "count(*) FILTER (WHERE event_type = 'search')"),
        ("n_shoe_view", "count(*) FILTER (WHERE event_type = 'product.view' AND category = 'shoes')"),
        ("n_shoes", "count(*) FILTER (WHERE category = 'shoes')"),
        ("sum_order", "sum(amount) FILTER (WHERE event_type = 'order')"),
        ("n_big_order", "count(*) FILTER (WHERE event_type = 'order' AND amount >= 400)"),
        ("n_order30", $"count(*) FILTER (WHERE event_type = 'order' AND {Within("30 DAY")})"),
        ("n_pview7", $"count(*) FILTER (WHERE event_type = 'product.view' AND {Within("7 DAY")})"),
        ("n_cart24h", $"count(*) FILTER (WHERE event_type = 'cart.add' AND {Within("24 HOUR")})"),
        ("n_14d", $"count(*) FILTER (WHERE {Within("14 DAY")})"),
        ("n_order60", $"count(*) FILTER (WHERE event_type = 'order' AND {Within("60 DAY")})"),
        ("n_30d", $"count(*) FILTER (WHERE {Within("30 DAY")})"),
        ("sum_order30", $"sum(amount) FILTER (WHERE event_type = 'order' AND {Within("30 DAY")})"),
        ("n_bag_cart14", $"count(*) FILTER (WHERE event_type = 'cart.add' AND category = 'bags' AND {Within("14 DAY")})"),
        ("n_order_le10", $"count(*) FILTER (WHERE event_type = 'order' AND ts >= date_trunc('day', NOW - INTERVAL 10 DAY) AND {W})"),
        ("n_page3", $"count(*) FILTER (WHERE event_type = 'page.view' AND {Within("3 DAY")})"),
        ("min_cart30", $"min(ts) FILTER (WHERE event_type = 'cart.add' AND {Within("30 DAY")})"),
        ("max_order30", $"max(ts) FILTER (WHERE event_type = 'order' AND {Within("30 DAY")})"),
        ("n_search24h", $"count(*) FILTER (WHERE event_type = 'search' AND {Within("24 HOUR")})"),
        ("min_pview", "min(ts) FILTER (WHERE event_type = 'product.view')"),
        ("max_cart", "max(ts) FILTER (WHERE event_type = 'cart.add')"),
        ("min_cart7", $"min(ts) FILTER (WHERE event_type = 'cart.add' AND {Within("7 DAY")})"),
        ("max_order", "max(ts) FILTER (WHERE event_type = 'order')"),
        ("n_order_month", $"count(*) FILTER (WHERE event_type = 'order' AND ts >= date_trunc('month', NOW) AND ts < date_trunc('month', NOW) + INTERVAL 1 MONTH)"),
        ("n_cart3", $"count(*) FILTER (WHERE event_type = 'cart.add' AND {Within("3 DAY")})"),
        ("n_7d", $"count(*) FILTER (WHERE {Within("7 DAY")})"),
        ("n_cart2", $"count(*) FILTER (WHERE event_type = 'cart.add' AND {Within("2 DAY")})"),
        ("n_pview2", $"count(*) FILTER (WHERE event_type = 'product.view' AND {Within("2 DAY")})"),
        ("n_page30", $"count(*) FILTER (WHERE event_type = 'page.view' AND {Within("30 DAY")})"),
    ];

    private static string C(string aggregate) => $"coalesce(a.{aggregate}, 0)";

    private static BatchAudience A(int n, string kind, string pql, string sql) => new($"a{n:D2}", kind, pql, sql);

    private const string Order = "eventType = \"order\"";

    /// <summary>
    /// The 50 audiences: 14 on attributes, 10 on event counts and sums, 16 on event windows (filters,
    /// one- and two-step chains, <c>COUNT</c>, negations), 10 combining both with and/or/not. The SQL
    /// is wrapped in <c>coalesce(..., false)</c>: a null answer is not a member.
    /// </summary>
    public static readonly BatchAudience[] Audiences =
    [
        A(1, "attribute", "tier = \"gold\"", "p.tier = 'gold'"),
        A(2, "attribute", "tier in [\"gold\", \"platinum\"]", "p.tier IN ('gold', 'platinum')"),
        A(3, "attribute", "points >= 100000", "p.points >= 100000"),
        A(4, "attribute", "points >= 10000 and points < 50000", "p.points >= 10000 AND p.points < 50000"),
        A(5, "attribute", "city = \"Paris\"", "p.city = 'Paris'"),
        A(6, "attribute", "not (city = \"Paris\")", "NOT coalesce(p.city = 'Paris', false)"),
        A(7, "attribute", "city != \"Paris\"", "p.city <> 'Paris'"),
        A(8, "attribute", "city like \"San%\"", "p.city LIKE 'San%'"),
        A(9, "attribute", "birthDate < date(1960, 1, 1)", "p.birth_date < DATE '1960-01-01'"),
        A(10, "attribute", "getMonth(birthDate) = currentMonth()", "month(p.birth_date) = month(NOW)"),
        A(11, "attribute", "consent = true", "p.consent"),
        A(12, "attribute", "not (consent = true)", "NOT coalesce(p.consent, false)"),
        A(13, "attribute", "tier = \"gold\" and birthDate >= date(1990, 1, 1)", "p.tier = 'gold' AND p.birth_date >= DATE '1990-01-01'"),
        A(14, "attribute", "isNull(city)", "p.city IS NULL"),

        A(15, "count", $"count(xEvent[{Order}]) >= 1", $"{C("n_order")} >= 1"),
        A(16, "count", $"count(xEvent[{Order}]) >= 3", $"{C("n_order")} >= 3"),
        A(17, "count", "count(xEvent[eventType = \"product.view\"]) >= 10", $"{C("n_pview")} >= 10"),
        A(18, "count", "count(xEvent) >= 50", $"{C("n_all")} >= 50"),
        A(19, "count", $"count(xEvent[{Order}]) = 0", $"{C("n_order")} = 0"),
        A(20, "count", "count(xEvent[eventType = \"product.view\" and category = \"shoes\"]) >= 3", $"{C("n_shoe_view")} >= 3"),
        A(21, "count", $"sum(xEvent[{Order}].amount) >= 1000", $"{C("sum_order")} >= 1000"),
        A(22, "count", $"count(xEvent[eventType = \"cart.add\"]) >= 2 and count(xEvent[{Order}]) = 0", $"{C("n_cart")} >= 2 AND {C("n_order")} = 0"),
        A(23, "count", "xEvent[eventType = \"search\"]", $"{C("n_search")} >= 1"),
        A(24, "count", $"xEvent[{Order} and amount >= 400]", $"{C("n_big_order")} >= 1"),

        A(25, "window", $"chain(xEvent, timestamp, [A: WHAT({Order}) WHEN(< 30 days before now)])", $"{C("n_order30")} >= 1"),
        A(26, "window", "xEvent[eventType = \"product.view\" and timestamp occurs < 7 days before now]", $"{C("n_pview7")} >= 1"),
        A(27, "window", "chain(xEvent, timestamp, [A: WHAT(eventType = \"cart.add\") WHEN(< 24 hours before now)])", $"{C("n_cart24h")} >= 1"),
        A(28, "window", "count(xEvent[timestamp occurs < 14 days before now]) >= 5", $"{C("n_14d")} >= 5"),
        A(29, "window", $"count(xEvent[{Order}]) >= 1 and not chain(xEvent, timestamp, [A: WHAT({Order}) WHEN(< 60 days before now)])",
            $"{C("n_order")} >= 1 AND {C("n_order60")} = 0"),
        A(30, "window", "count(xEvent[timestamp occurs < 30 days before now]) = 0", $"{C("n_30d")} = 0"),
        A(31, "window", "count(xEvent[eventType = \"product.view\" and timestamp occurs < 7 days before now]) >= 3", $"{C("n_pview7")} >= 3"),
        A(32, "window", $"sum(xEvent[{Order} and timestamp occurs < 30 days before now].amount) >= 300", $"{C("sum_order30")} >= 300"),
        A(33, "window", "chain(xEvent, timestamp, [A: WHAT(eventType = \"cart.add\" and category = \"bags\") WHEN(< 14 days before now)])", $"{C("n_bag_cart14")} >= 1"),
        A(34, "window", $"xEvent[{Order} and timestamp occurs <= 10 days before now]", $"{C("n_order_le10")} >= 1"),
        A(35, "window", "chain(xEvent, timestamp, [A: WHAT(eventType = \"page.view\") WHEN(< 3 days before now) COUNT(5)])", $"{C("n_page3")} >= 5"),
        A(36, "window", $"chain(xEvent, timestamp, [A: WHAT(eventType = \"cart.add\") WHEN(< 30 days before now), B: WHAT({Order}) WHEN(< 30 days before now)])",
            "a.min_cart30 < a.max_order30"),
        A(37, "window", "xEvent[eventType = \"search\" and timestamp occurs < 24 hours before now]", $"{C("n_search24h")} >= 1"),
        A(38, "window", "chain(xEvent, timestamp, [A: WHAT(eventType = \"product.view\"), B: WHAT(eventType = \"cart.add\")])", "a.min_pview < a.max_cart"),
        A(39, "window", $"chain(xEvent, timestamp, [A: WHAT(eventType = \"cart.add\") WHEN(< 7 days before now)]) and not chain(xEvent, timestamp, [A: WHAT(eventType = \"cart.add\") WHEN(< 7 days before now), B: WHAT({Order})])",
            "a.min_cart7 IS NOT NULL AND NOT coalesce(a.min_cart7 < a.max_order, false)"),
        A(40, "window", $"xEvent[{Order} and timestamp occurs this month]", $"{C("n_order_month")} >= 1"),

        A(41, "combined", $"tier = \"gold\" and chain(xEvent, timestamp, [A: WHAT({Order}) WHEN(< 30 days before now)])", $"p.tier = 'gold' AND {C("n_order30")} >= 1"),
        A(42, "combined", $"(tier = \"platinum\" or points >= 150000) and count(xEvent[{Order}]) >= 2",
            $"(coalesce(p.tier = 'platinum', false) OR coalesce(p.points >= 150000, false)) AND {C("n_order")} >= 2"),
        A(43, "combined", $"tier in [\"gold\", \"platinum\"] and count(xEvent[{Order} and timestamp occurs < 60 days before now]) = 0",
            $"p.tier IN ('gold', 'platinum') AND {C("n_order60")} = 0"),
        A(44, "combined", "consent = true and chain(xEvent, timestamp, [A: WHAT(eventType = \"cart.add\") WHEN(< 3 days before now)])", $"p.consent AND {C("n_cart3")} >= 1"),
        A(45, "combined", "city = \"Paris\" and count(xEvent[category = \"shoes\"]) >= 2", $"p.city = 'Paris' AND {C("n_shoes")} >= 2"),
        A(46, "combined", "not (tier = \"gold\") and count(xEvent[timestamp occurs < 7 days before now]) >= 3", $"NOT coalesce(p.tier = 'gold', false) AND {C("n_7d")} >= 3"),
        A(47, "combined", $"birthDate < date(1955, 1, 1) or sum(xEvent[{Order}].amount) >= 2000",
            $"coalesce(p.birth_date < DATE '1955-01-01', false) OR {C("sum_order")} >= 2000"),
        A(48, "combined", "count(xEvent[eventType = \"cart.add\" and timestamp occurs < 2 days before now]) >= 1 or count(xEvent[eventType = \"product.view\" and timestamp occurs < 2 days before now]) >= 2",
            $"{C("n_cart2")} >= 1 OR {C("n_pview2")} >= 2"),
        A(49, "combined", $"points >= 50000 and not (consent = true) and count(xEvent[{Order}]) >= 1",
            $"p.points >= 50000 AND NOT coalesce(p.consent, false) AND {C("n_order")} >= 1"),
        A(50, "combined", "city in [\"Lyon\", \"Berlin\"] and not (count(xEvent[eventType = \"page.view\" and timestamp occurs < 30 days before now]) < 3)",
            $"p.city IN ('Lyon', 'Berlin') AND NOT ({C("n_page30")} < 3)"),
    ];

    /// <summary>The instant as a DuckDB timestamp literal (UTC, no zone: the events' timestamps are read as UTC).</summary>
    public static string NowSql => $"TIMESTAMP '{Now.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}'";

    /// <summary>
    /// One statement: the aggregates in one pass over the events, joined to the profiles, every
    /// audience a boolean column of one members table.
    /// </summary>
    public static string MembersSql()
    {
        var sql = new StringBuilder();
        sql.Append("CREATE OR REPLACE TABLE members AS WITH a AS (SELECT crm_id");
        foreach (var (name, expression) in Aggregates)
        {
            sql.Append(",\n  ").Append(expression).Append(" AS ").Append(name);
        }
        sql.Append("\nFROM events GROUP BY crm_id)\nSELECT p.crm_id");
        foreach (var audience in Audiences)
        {
            sql.Append(",\n  coalesce(").Append(audience.Sql).Append(", false) AS ").Append(audience.Id);
        }
        sql.Append("\nFROM profiles p LEFT JOIN a ON a.crm_id = p.crm_id");
        return sql.ToString().Replace("NOW", NowSql, StringComparison.Ordinal);
    }

    /// <summary>Each audience's member count, from the members table.</summary>
    public static string CountsSql() =>
        "SELECT " + string.Join(", ", Audiences.Select(a => $"count(*) FILTER (WHERE {a.Id})")) + " FROM members";
}

#:project ../../src/Tessera.Identity/Tessera.Identity.csproj
#:property PublishAot=false

// Incremental linking (IdentityGraph.Add, rules on) with and without the second prefetch step (PrefetchLinks), the two
// alternating on fresh graphs in one process, so that the machine's drift falls on both. The ledger is the shape of
// restart-rebuild.cs (people with a CRMID, emails, a phone, cookies that log in), its identities interned before timing.
//   dotnet run -c Release bench/scripts/link-add.cs -- 1930000 3    # about 10 million identities, three rounds
using System.Diagnostics;
using Tessera.Abstractions;
using Tessera.Identity.Graph;

var people = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_930_000;
var rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
var random = new Random(42);
var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
var occurrences = new List<(long Ticks, IdentityKey[] Identities)>();
for (var p = 0; p < people; p++)
{
    var crm = new IdentityKey("CRMID", $"{p:D9}");
    var email = new IdentityKey("Email", $"person{p}@example{p % 97}.com");
    var record = new List<IdentityKey> { crm, email };
    if (random.Next(10) < 3)
    {
        record.Add(new IdentityKey("Email", $"p.{p}.alt@mail{p % 13}.net"));
    }
    if (random.Next(10) < 9)
    {
        record.Add(new IdentityKey("Phone", $"+1{2_000_000_000L + (p * 7919L % 7_999_999_999L)}"));
    }
    occurrences.Add((Time(), [.. record]));
    for (var cookie = 1 + random.Next(3); cookie > 0; cookie--)
    {
        var ecid = new IdentityKey("ECID", $"{p:x8}-{cookie:x4}-4a1b-9c2d-{random.NextInt64():x12}");
        for (var login = 1 + random.Next(5); login > 0; login--)
        {
            // 2 % of logins are on someone else's cookie (a shared device): the CRMID rule cuts them.
            occurrences.Add((Time(), [ecid, random.Next(50) == 0 ? new IdentityKey("CRMID", $"{random.Next(people):D9}") : crm]));
        }
        if (random.Next(10) == 0)
        {
            occurrences.Add((Time(), [ecid, email]));
        }
    }
}
occurrences.Sort((a, b) => a.Ticks.CompareTo(b.Ticks));
var ticks = occurrences.Select(o => o.Ticks).ToArray();
var rules = CompiledGraphRules.Compile(
    new IdentityGraphRules { UniqueNamespaces = ["CRMID"], Priority = ["CRMID", "Email", "Phone", "ECID"], MaxIdentities = 50 },
    ns => ns switch { "ECID" => IdentityType.Cookie, "Phone" => IdentityType.Phone, "Email" => IdentityType.Email, _ => IdentityType.CrossDevice });
// Node ids as the graph numbers them (order of first occurrence), the same in every fresh graph.
var nodes = new int[occurrences.Count][];
var first = new IdentityGraph(rules);
for (var i = 0; i < nodes.Length; i++)
{
    nodes[i] = [.. occurrences[i].Identities.Select(k => first.Intern(k.Namespace, k.Value))];
}
occurrences = null;
var links = nodes.Sum(n => n.Length - 1);
Console.WriteLine($"{nodes.Length:N0} occurrences, {first.IdentityCount:N0} identities, {links:N0} link occurrences");
for (var round = 1; round <= rounds; round++)
{
    foreach (var second in new[] { false, true })
    {
        var graph = first.WithRules(rules); // the identities alone: no link yet
        GC.Collect();
        var timer = Stopwatch.StartNew();
        for (var i = 0; i < nodes.Length; i++)
        {
            if (i + IdentityGraph.PrefetchDistance < nodes.Length)
            {
                graph.Prefetch(nodes[i + IdentityGraph.PrefetchDistance]);
            }
            if (second && i + IdentityGraph.LinkPrefetchDistance < nodes.Length)
            {
                graph.PrefetchLinks(nodes[i + IdentityGraph.LinkPrefetchDistance]);
            }
            graph.Add(nodes[i], 0, null, ticks[i], i + 1);
        }
        var seconds = timer.Elapsed.TotalSeconds;
        Console.WriteLine($"round {round}, {(second ? "both prefetch steps" : "first step only   ")}: {links / seconds,12:N0} links/s ({seconds:F2} s), {graph.GraphCount:N0} graphs");
    }
}

long Time() => start + (long)(random.NextDouble() * TimeSpan.FromDays(90).Ticks);

using FsCheck.Xunit;
using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Profiles.Fragments;
using Tessera.Profiles.Views;
using static Tessera.Profiles.Tests.Views.ViewFixtures;

namespace Tessera.Profiles.Tests.Views;

/// <summary>
/// Random histories of records, events and lookups over small pools of identities, linked by a real
/// identity graph whose rules (CRM id unique, at most 4 identities) make merges and splits common,
/// with a view cache small enough to evict. After every lookup, the view the cache maintained
/// incrementally must equal one built from scratch from the same facts (folded in another order)
/// under the same graph.
/// </summary>
public sealed class ProfileViewProperties
{
    private static readonly string[] Pool = ["CRMID:c0", "CRMID:c1", "CRMID:c2", "Email:e0", "Email:e1", "Email:e2", "ECID:k0", "ECID:k1", "ECID:k2"];
    private static readonly DateTimeOffset Now = Start.AddHours(10);
    private static readonly MergeRule ByTime = Timestamp("crm", "loyalty");
    private static readonly MergeRule ByPrecedence = Precedence(["loyalty", "crm"], "crm", "loyalty");
    private static readonly TimelinePolicy Timeline = new(d => d is "web" or "app", d => d == "web" ? TimeSpan.FromHours(2) : null, Now, cap: 3);

    private sealed record Fact(IdentityKey Identity, string Dataset, RecordVersion? Version, string EventId, long Ticks);

    [Property(Replay = "(20261128,1)", MaxTest = 250, EndSize = 100_000_000)]
    public bool The_incremental_view_equals_the_view_recomputed_from_scratch(int seed, byte length)
    {
        var random = new Random(seed);
        var graph = new IdentityGraph(CompiledGraphRules.Compile(new IdentityGraphRules { UniqueNamespaces = ["CRMID"], MaxIdentities = 4 }, TypeOf));
        var disk = new List<Fact>();
        var views = new ProfileViewSet(capacity: 2, members => Load(members, disk, random: null));
        for (var step = 0; step < 20 + length % 100; step++)
        {
            var identity = Id(Pool[random.Next(Pool.Length)]);
            var roll = random.NextDouble();
            if (roll < 0.8)
            {
                var linked = random.Next(3) == 0 ? Id(Pool[random.Next(Pool.Length)]) : identity;
                var minute = random.Next(600);
                Fact fact;
                if (roll < 0.4)
                {
                    var dataset = random.Next(2) == 0 ? "crm" : "loyalty";
                    fact = new Fact(identity, dataset, Version(RandomRecord(random), random.Next(30), order: step, batch: $"b{step}"), "", 0);
                    views.ApplyVersion(dataset, identity, fact.Version!);
                }
                else
                {
                    var dataset = random.Next(2) == 0 ? "web" : "app";
                    fact = new Fact(identity, dataset, null, $"ev{random.Next(6)}", Start.AddMinutes(minute).UtcTicks);
                    views.AddEvent(identity, dataset, fact.EventId, fact.Ticks);
                }
                disk.Add(fact);
                graph.Add(new LedgerEntry(step + 1, Start.AddMinutes(minute), fact.Dataset, $"b{step}", $"r{step}", identity == linked ? [identity] : [identity, linked]));
            }
            else if (graph.TryGetNode(identity, out var node))
            {
                var members = graph.Snapshot(node).Identities;
                var incremental = views.Get(members);
                // Read it now and then so that cached merges are maintained, not rebuilt, between reads.
                if (Describe(incremental, identity) != Describe(Load(members, disk, random), identity))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static string Describe(ProfileView view, IdentityKey member) =>
        $"{ViewFixtures.Describe(view.Attributes(ByTime))} | {ViewFixtures.Describe(view.Attributes(ByPrecedence))} | {Page(view.ReadTimeline(Timeline).NewestFirst, view)}"
        + $" | {ViewFixtures.Describe(view.AttributesOf(member, ByTime))} | {view.Timeline(Timeline, member)} | {view.FragmentCount(ByTime)}";

    private static string Page(List<TimelineEntry> newestFirst, ProfileView view) =>
        string.Join(",", newestFirst.Select(e => $"{e.Ticks}/{e.Dataset}/{e.EventId}/{view.MemberOf(e)}"));

    /// <summary>Builds a view from the facts of <paramref name="members"/>, in a shuffled order when given a random.</summary>
    private static ProfileView Load(IReadOnlyCollection<IdentityKey> members, List<Fact> disk, Random? random)
    {
        var view = new ProfileView(members);
        var facts = disk.Where(f => members.Contains(f.Identity)).ToArray();
        random?.Shuffle(facts);
        foreach (var fact in facts)
        {
            if (fact.Version is { } version)
            {
                view.ApplyVersion(fact.Dataset, fact.Identity, version);
            }
            else
            {
                view.AddEvent(fact.Identity, fact.Dataset, fact.EventId, fact.Ticks);
            }
        }
        return view;
    }

    private static string RandomRecord(Random random)
    {
        var fields = new List<string>();
        void Maybe(string name, Func<string> value)
        {
            switch (random.Next(4))
            {
                case 0: fields.Add($"\"{name}\":{value()}"); break;
                case 1: fields.Add($"\"{name}\":null"); break;
            }
        }
        Maybe("name", () => $"\"n{random.Next(3)}\"");
        Maybe("address", () =>
        {
            var parts = new List<string>();
            if (random.Next(2) == 0)
            {
                parts.Add($"\"city\":\"c{random.Next(3)}\"");
            }
            if (random.Next(2) == 0)
            {
                parts.Add(random.Next(4) == 0 ? "\"zip\":null" : $"\"zip\":\"z{random.Next(3)}\"");
            }
            return "{" + string.Join(',', parts) + "}";
        });
        Maybe("tags", () => "[" + string.Join(',', Enumerable.Range(0, random.Next(3)).Select(_ => $"\"t{random.Next(4)}\"")) + "]");
        Maybe("prefs", () => "{" + string.Join(',', Enumerable.Range(0, random.Next(3)).Select(i => $"\"p{i}\":" + (random.Next(4) == 0 ? "null" : $"{random.Next(3)}"))) + "}");
        Maybe("scores", () => $"[{random.Next(9)}]");
        return "{" + string.Join(',', fields) + "}";
    }

    private static IdentityType? TypeOf(string ns) => ns switch
    {
        "CRMID" => IdentityType.CrossDevice,
        "Email" => IdentityType.Email,
        "ECID" => IdentityType.Cookie,
        _ => null,
    };
}

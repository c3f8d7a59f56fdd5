using System.Globalization;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Tessera.Identity.Graph;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;
using Tessera.Server;

namespace Tessera.Segmentation.Tests.Engines;

/// <summary>
/// The engines give the reference interpreter's memberships: random histories of profile records,
/// events (some joining a device to a person, which merges graphs) and clock moves, over a fixed
/// mix of attribute, window, count, sequence, negation and inSegment audiences. After every step the
/// streaming engine's members are exactly the interpreter's answers on every profile at that
/// instant (windows exit by their timers alone); at the end a batch run over all audiences agrees too.
/// </summary>
public sealed class EngineDifferentialProperties
{
    private const string Sandbox = "prod";

    private static readonly (string Id, string Pql)[] Audiences =
    [
        ("gold", "tier = \"gold\""),
        ("rich-us", "points > 500 and country = \"US\""),
        ("cart-3h", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])"),
        ("home-twice", "count(xEvent[page = \"home\" and timestamp occurs < 24 hours before now]) >= 2"),
        ("gold-cart", "inSegment(\"gold\") and chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 24 hours before now)])"),
        ("gold-no-checkout", "tier = \"gold\" and not chain(xEvent, timestamp, [A: WHAT(page = \"checkout\") WHEN(< 24 hours before now)])"),
        ("home-then-cart", "chain(xEvent, timestamp, [A: WHAT(page = \"home\"), B: WHAT(page = \"cart\")])"),
        ("big-spender", "sum(xEvent.price) > 100"),
    ];

    private static readonly string[] Pages = ["home", "cart", "checkout", "product"];

    [Property(Replay = "(20261129,21)", MaxTest = 20)]
    public bool Streaming_and_batch_memberships_are_the_interpreters(int seed)
    {
        RunAsync(new Random(seed)).GetAwaiter().GetResult();
        return true;
    }

    private static async Task RunAsync(Random random)
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var workspace = test.Workspace;
        foreach (var (id, pql) in Audiences)
        {
            await workspace.Audiences.CreateAsync(Sandbox, id, pql, id: id);
            await workspace.Audiences.PublishAsync(Sandbox, id);
        }
        var engine = workspace.StartStreaming();
        var seen = new HashSet<IdentityKey>();
        var history = new List<string>();
        for (var step = 0; step < 25; step++)
        {
            var now = test.Time.GetUtcNow();
            switch (random.Next(4))
            {
                case 0:
                    {
                        var crm = $"{random.Next(1, 6)}";
                        var record = $$"""[{"crmId":"{{crm}}","tier":"{{(random.Next(2) == 0 ? "gold" : "silver")}}","points":{{random.Next(1000)}},"country":"{{(random.Next(2) == 0 ? "US" : "FR")}}"}]""";
                        await test.StreamAsync("crm", record);
                        seen.Add(new IdentityKey("CRMID", crm));
                        history.Add(record);
                        break;
                    }
                case 1 or 2:
                    {
                        var ecid = $"K{random.Next(1, 8)}";
                        var at = now.AddMinutes(-random.Next(0, 30 * 60)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                        var link = random.Next(4) == 0 ? $",\"crmId\":\"{random.Next(1, 6)}\"" : "";
                        var record = $$"""[{"_id":"e{{step}}","timestamp":"{{at}}","ecid":"{{ecid}}","page":"{{Pages[random.Next(Pages.Length)]}}","price":{{random.Next(80)}}{{link}}}]""";
                        await test.StreamAsync("web", record);
                        seen.Add(new IdentityKey("ECID", ecid));
                        history.Add(record);
                        break;
                    }
                default:
                    {
                        var move = TimeSpan.FromMinutes(random.Next(1, 8 * 60));
                        test.Time.Advance(move);
                        history.Add($"advance {move}");
                        break;
                    }
            }
            await engine.WhenIdleAsync();
            Check(workspace, test.Time, seen, streamedOnly: true, history);
        }
        await workspace.Batch.RunAsync(Sandbox);
        Check(workspace, test.Time, seen, streamedOnly: false, history);
    }

    /// <summary>Every profile's members are the audiences the interpreter says it qualifies for, and nobody else is a member.</summary>
    private static void Check(Workspace workspace, FakeTimeProvider time, HashSet<IdentityKey> seen, bool streamedOnly, List<string> history)
    {
        var published = workspace.Audiences.Published(Sandbox).Audiences
            .Where(a => !streamedOnly || a.Mode is "edge" or "streaming").ToList();
        var expected = new HashSet<(string Audience, string Profile)>();
        var profiles = new HashSet<string>();
        foreach (var identity in seen)
        {
            if (workspace.Profiles.ForEvaluation(Sandbox, identity) is not { } profile || !profiles.Add(profile.Primary))
            {
                continue;
            }
            var answers = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var audience in published)
            {
                var value = Interpreter.Evaluate(Parser.Parse(audience.Pql), profile.Profile, time, inSegment: id => answers.GetValueOrDefault(id));
                answers[audience.Id] = value is true || value is List<object?> { Count: > 0 };
                if (answers[audience.Id])
                {
                    expected.Add((audience.Id, profile.Primary));
                }
            }
        }
        var actual = published.SelectMany(a => workspace.Memberships.Members(Sandbox, a.Id).Select(m => (a.Id, m.ProfileId))).ToHashSet();
        if (!expected.SetEquals(actual))
        {
            throw new InvalidOperationException(
                $"at {time.GetUtcNow():O} ({(streamedOnly ? "streaming" : "after a batch run")}):\n" +
                $"missing {string.Join(", ", expected.Except(actual))}\nextra {string.Join(", ", actual.Except(expected))}\n" +
                $"history:\n{string.Join("\n", history)}");
        }
    }
}

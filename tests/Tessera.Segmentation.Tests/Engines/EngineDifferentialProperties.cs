using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Tessera.Identity.Graph;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;
using Tessera.Server;

namespace Tessera.Segmentation.Tests.Engines;

/// <summary>
/// The engines give the reference interpreter's memberships: random histories of profile records,
/// events (some joining a device to a person, which merges graphs, or moves it from another person, CRMID
/// being unique: a split; some sent through the edge engine)
/// and clock moves, over a fixed mix of attribute, window, count, sequence, negation and inSegment
/// audiences (edge, streaming and batch ones). After every step the streaming engine's members of the
/// edge and streaming audiences are exactly the interpreter's answers on every profile at that instant
/// (windows exit by their timers alone), and the edge engine answers every profile's edge audiences as
/// the interpreter does; an edge request's own answer is checked on the spot too. Now and then an
/// incremental run evaluates the batch audiences over the profiles changed since the last one, and
/// then their members are the interpreter's too (they read no clock, so unchanged profiles cannot have
/// moved). At the end a full batch run over all audiences agrees.
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

    [Property(Replay = "(20261129,21)", MaxTest = 20, EndSize = 100_000_000)]
    public bool Streaming_edge_incremental_and_batch_memberships_are_the_interpreters(int seed)
    {
        RunAsync(new Random(seed)).GetAwaiter().GetResult();
        return true;
    }

    /// <summary>
    /// A case the property found: a device moved from one person to another (CRMID is unique) left the
    /// first person's batch membership (big-spender, on the moved device's events) standing after the next
    /// incremental run, which evaluated only the identities whose facts had changed.
    /// </summary>
    [Property(Replay = "(14534465381886344471,3765503550133232801,83)", MaxTest = 1)]
    public bool An_incremental_run_evaluates_the_profile_a_device_left(int seed) =>
        Streaming_edge_incremental_and_batch_memberships_are_the_interpreters(seed);

    private static async Task RunAsync(Random random)
    {
        // Three parts whatever the machine's cores: a batch's profiles (a timer's, a merge's) are evaluated at once.
        await using var test = await SegmentationWorkspace.CreateAsync("""{"segmentation": {"streamingParallelism": 3}}""");
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
                        var ecid = new IdentityKey("ECID", $"K{random.Next(1, 8)}");
                        var at = now.AddMinutes(-random.Next(0, 30 * 60)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                        var link = random.Next(4) == 0 ? $",\"crmId\":\"{random.Next(1, 6)}\"" : "";
                        var record = $$"""[{"_id":"e{{step}}","timestamp":"{{at}}","ecid":"{{ecid.Value}}","page":"{{Pages[random.Next(Pages.Length)]}}","price":{{random.Next(80)}}{{link}}}]""";
                        seen.Add(ecid);
                        if (random.Next(3) == 0)
                        {
                            history.Add("edge " + record);
                            await SendThroughEdgeAsync(workspace, test.Time, ecid, record, history);
                        }
                        else
                        {
                            history.Add(record);
                            await test.StreamAsync("web", record);
                        }
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
            Check(workspace, test.Time, seen, a => a.Mode is "edge" or "streaming", "streaming", history);
            await CheckEdgeAsync(workspace, test.Time, seen, history);
            if (random.Next(5) == 0)
            {
                history.Add("incremental run");
                await workspace.Batch.RunIncrementalAsync(Sandbox, engine.TakeChanged(Sandbox));
                Check(workspace, test.Time, seen, a => a.Mode == "batch", "after an incremental run", history);
            }
        }
        await workspace.Batch.RunAsync(Sandbox);
        Check(workspace, test.Time, seen, _ => true, "after a batch run", history);
    }

    /// <summary>Sends the event through the edge engine, whose answer must be the interpreter's on the profile that now holds it.</summary>
    private static async Task SendThroughEdgeAsync(Workspace workspace, FakeTimeProvider time, IdentityKey identity, string jsonArray, List<string> history)
    {
        using var document = JsonDocument.Parse(jsonArray);
        var answer = await workspace.Edge.EvaluateAsync(Sandbox, identity, "web", [.. document.RootElement.EnumerateArray()], []);
        Assert.Equal(1, answer.Stored?.Batch.Counts.Accepted);
        // An edge audience that reads another's membership (inSegment) reads it as stored, and the
        // streaming engine has not taken this event in yet: only the others are decided by the event alone.
        var decided = workspace.Audiences.Published(Sandbox).Audiences
            .Where(a => a.Mode == "edge" && !a.Pql.Contains("inSegment", StringComparison.Ordinal)).Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var expected = Expected(workspace, time, identity, a => decided.Contains(a.Id));
        var actual = answer.Audiences.Where(decided.Contains).ToHashSet(StringComparer.Ordinal);
        if (!expected.SetEquals(actual))
        {
            throw new InvalidOperationException($"the edge answered [{string.Join(", ", actual)}] for {identity}, the interpreter [{string.Join(", ", expected)}]\n" +
                $"history:\n{string.Join("\n", history)}");
        }
    }

    /// <summary>The edge engine, asked about each identity without an event, answers its profile's edge audiences as the interpreter does.</summary>
    private static async Task CheckEdgeAsync(Workspace workspace, FakeTimeProvider time, HashSet<IdentityKey> seen, List<string> history)
    {
        foreach (var identity in seen)
        {
            var answer = await workspace.Edge.EvaluateAsync(Sandbox, identity, null, [], []);
            var expected = Expected(workspace, time, identity, a => a.Mode == "edge");
            if (!expected.SetEquals(answer.Audiences))
            {
                throw new InvalidOperationException($"at {time.GetUtcNow():O} the edge answered [{string.Join(", ", answer.Audiences)}] for {identity}, " +
                    $"the interpreter [{string.Join(", ", expected)}]\nhistory:\n{string.Join("\n", history)}");
            }
        }
    }

    /// <summary>The audiences among <paramref name="include"/> that the interpreter says <paramref name="identity"/>'s profile qualifies for now.</summary>
    private static HashSet<string> Expected(Workspace workspace, FakeTimeProvider time, IdentityKey identity, Func<Audience, bool> include) =>
        workspace.Profiles.ForEvaluation(Sandbox, identity) is { } profile
            ? Answers(workspace, time, profile.Profile).Where(a => a.Qualifies && include(a.Audience)).Select(a => a.Audience.Id).ToHashSet(StringComparer.Ordinal)
            : [];

    /// <summary>Every published audience's answer on <paramref name="profile"/>, in publication order (inSegment reads the answers before it).</summary>
    private static List<(Audience Audience, bool Qualifies)> Answers(Workspace workspace, FakeTimeProvider time, JsonObject profile)
    {
        var byId = new Dictionary<string, bool>(StringComparer.Ordinal);
        var answers = new List<(Audience, bool)>();
        foreach (var audience in workspace.Audiences.Published(Sandbox).Audiences)
        {
            var value = Interpreter.Evaluate(Parser.Parse(audience.Pql), profile, time, inSegment: id => byId.GetValueOrDefault(id));
            answers.Add((audience, byId[audience.Id] = value is true || value is List<object?> { Count: > 0 }));
        }
        return answers;
    }

    /// <summary>Every profile's members of the audiences among <paramref name="include"/> are those the interpreter says it qualifies for, and nobody else is a member.</summary>
    private static void Check(Workspace workspace, FakeTimeProvider time, HashSet<IdentityKey> seen, Func<Audience, bool> include, string when, List<string> history)
    {
        var published = workspace.Audiences.Published(Sandbox).Audiences.Where(include).ToList();
        var expected = new HashSet<(string Audience, string Profile)>();
        var profiles = new HashSet<string>();
        foreach (var identity in seen)
        {
            if (workspace.Profiles.ForEvaluation(Sandbox, identity) is not { } profile || !profiles.Add(profile.Primary))
            {
                continue;
            }
            foreach (var (audience, qualifies) in Answers(workspace, time, profile.Profile))
            {
                if (qualifies && include(audience))
                {
                    expected.Add((audience.Id, profile.Primary));
                }
            }
        }
        var actual = published.SelectMany(a => workspace.Memberships.Members(Sandbox, a.Id).Select(m => (a.Id, m.ProfileId))).ToHashSet();
        if (!expected.SetEquals(actual))
        {
            throw new InvalidOperationException(
                $"at {time.GetUtcNow():O} ({when}):\n" +
                $"missing {string.Join(", ", expected.Except(actual))}\nextra {string.Join(", ", actual.Except(expected))}\n" +
                $"history:\n{string.Join("\n", history)}");
        }
    }
}

using FsCheck.Xunit;
using Tessera.Segmentation.Memberships;
using static Tessera.Segmentation.Tests.Memberships.MembershipFixture;

namespace Tessera.Segmentation.Tests.Memberships;

/// <summary>
/// Random histories of verdict batches and profile removals over a few profiles and audiences,
/// each in its own sandbox of one shared store. After each history: replaying the feed from the
/// start gives exactly the current members; sequences run 1, 2, 3… with no gap; every change flips
/// its membership (no change without a status change); the counts and a simple model agree.
/// </summary>
public sealed class MembershipFeedProperties : IDisposable
{
    private static readonly string[] Profiles = ["CRMID:1", "CRMID:2", "CRMID:3", "CRMID:4"];
    private static readonly string[] Audiences = ["a", "b", "c"];
    private readonly MembershipFixture _fixture = new();

    [Property(Replay = "(20261129,1)", MaxTest = 150, EndSize = 100_000_000)]
    public bool Replaying_the_feed_from_the_start_gives_the_current_members(int seed, byte length)
    {
        var random = new Random(seed);
        var sandbox = "s" + Guid.NewGuid().ToString("N");
        var store = _fixture.Memberships;
        var model = new Dictionary<(string, string), MembershipStatus>();
        var expectedChanges = 0;
        for (var step = 0; step < 5 + length % 40; step++)
        {
            var at = Start.AddMinutes(step);
            if (random.Next(10) == 0)
            {
                var profile = Profiles[random.Next(Profiles.Length)];
                var exits = 0;
                foreach (var audience in Audiences)
                {
                    if (model.Remove((audience, profile), out var status) && status != MembershipStatus.Exited)
                    {
                        exits++;
                    }
                }
                expectedChanges += exits;
                if (store.RemoveProfileAsync(sandbox, profile, at).GetAwaiter().GetResult() != exits)
                {
                    return false;
                }
                continue;
            }
            var batch = new List<Evaluation>();
            var emitted = 0;
            for (var i = random.Next(1, 6); i > 0; i--)
            {
                var verdict = random.Next(2) == 0
                    ? In(Profiles[random.Next(Profiles.Length)], Audiences[random.Next(Audiences.Length)])
                    : Out(Profiles[random.Next(Profiles.Length)], Audiences[random.Next(Audiences.Length)]);
                batch.Add(verdict);
                var key = (verdict.AudienceId, verdict.ProfileId);
                var was = model.TryGetValue(key, out var status) && status != MembershipStatus.Exited;
                if (verdict.Qualifies)
                {
                    model[key] = was ? MembershipStatus.Existing : MembershipStatus.Realized;
                }
                else if (was)
                {
                    model[key] = MembershipStatus.Exited;
                }
                emitted += was != verdict.Qualifies ? 1 : 0;
            }
            expectedChanges += emitted;
            if (store.ApplyAsync(sandbox, batch, at).GetAwaiter().GetResult() != emitted)
            {
                return false;
            }
        }

        var feed = Feed(store, sandbox);
        var replayed = new HashSet<(string, string)>();
        for (var i = 0; i < feed.Count; i++)
        {
            var change = feed[i];
            var key = (change.AudienceId, change.ProfileId);
            // Sequences run 1, 2, 3…, and every change flips membership.
            if (change.Sequence != i + 1 || change.Sandbox != sandbox
                || (change.Status == MembershipStatus.Realized ? !replayed.Add(key) : change.Status != MembershipStatus.Exited || !replayed.Remove(key)))
            {
                return false;
            }
        }
        var members = Audiences.SelectMany(a => store.Members(sandbox, a).Select(m => (a, m.ProfileId))).ToHashSet();
        var modelMembers = model.Where(p => p.Value != MembershipStatus.Exited).Select(p => p.Key).ToHashSet();
        var countsAgree = Audiences.All(a => store.Counts(sandbox, a) == new MembershipCounts(
            model.Count(p => p.Key.Item1 == a && p.Value == MembershipStatus.Realized),
            model.Count(p => p.Key.Item1 == a && p.Value == MembershipStatus.Existing),
            model.Count(p => p.Key.Item1 == a && p.Value == MembershipStatus.Exited)));
        var statusesAgree = model.All(p => store.Get(sandbox, p.Key.Item1, p.Key.Item2)?.Status == p.Value);
        return feed.Count == expectedChanges && store.LastSequence(sandbox) == expectedChanges
            && replayed.SetEquals(members) && members.SetEquals(modelMembers) && countsAgree && statusesAgree;
    }

    public void Dispose() => _fixture.Dispose();
}

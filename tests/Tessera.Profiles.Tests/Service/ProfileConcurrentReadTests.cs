using Tessera.Identity.Graph;
using static Tessera.Profiles.Tests.Service.ProfileWorkspace;

namespace Tessera.Profiles.Tests.Service;

/// <summary>
/// A cold read loads its view from the store outside the sandbox's lock: facts committed while it
/// is in flight still reach the view it caches, a deletion meanwhile is not served from it, and
/// readers in parallel with a writer end with the views a fresh read builds.
/// </summary>
public sealed class ProfileConcurrentReadTests
{
    [Fact]
    public async Task Facts_committed_while_a_load_is_in_flight_reach_the_view_it_caches()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("crm", """[{"crmId":"1","firstName":"Ann","tier":"silver"}]""");
        using var paused = new PausedLoad(test.Profiles);
        var reader = Task.Factory.StartNew(() => test.Lookup("CRMID:1"), TaskCreationOptions.LongRunning);
        Assert.Equal([Key("CRMID:1")], await paused.Loaded);

        // Committed after the load read the store, before it completes.
        test.Time.Advance(TimeSpan.FromMinutes(1));
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"}]""");
        await test.StreamAsync("app", """[{"_id":"a1","timestamp":"2026-11-01T10:00:00Z","crmId":"1"}]""");
        paused.Release();

        var during = await reader;
        Assert.Equal("\"gold\"", during!.Attributes["tier"]!.ToJsonString());
        Assert.Equal(1, during.Timeline.Count);
        var loaded = test.Profiles.IdentitiesLoaded;
        var cached = Json(test.Lookup("CRMID:1"));
        Assert.Equal(loaded, test.Profiles.IdentitiesLoaded); // Served from the view the paused read cached.
        await test.ReopenAsync();
        Assert.Equal(Json(test.Lookup("CRMID:1")), cached);
    }

    [Fact]
    public async Task A_read_that_does_not_keep_its_view_reads_the_same_and_caches_nothing()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("crm", """[{"crmId":"1","firstName":"Ann","tier":"silver"},{"crmId":"2","firstName":"Bob"}]""");
        await test.StreamAsync("app", """[{"_id":"a1","timestamp":"2026-11-01T10:00:00Z","crmId":"1"},{"_id":"a2","timestamp":"2026-11-01T11:00:00Z","crmId":"1"}]""");

        var uncached = test.Profiles.ForEvaluationSource("prod", Key("CRMID:1"), keepInCache: false)!;
        var loaded = test.Profiles.IdentitiesLoaded;
        Assert.Equal(0, test.Profiles.CachedViewBytes("prod")); // Nothing kept.
        var again = test.Profiles.ForEvaluationSource("prod", Key("CRMID:1"), keepInCache: false)!;
        Assert.True(test.Profiles.IdentitiesLoaded > loaded); // Read from the store again.

        var cached = test.Profiles.ForEvaluationSource("prod", Key("CRMID:1"))!;
        Assert.True(test.Profiles.CachedViewBytes("prod") > 0);
        loaded = test.Profiles.IdentitiesLoaded;
        var fromCache = test.Profiles.ForEvaluationSource("prod", Key("CRMID:1"), keepInCache: false)!;
        Assert.Equal(loaded, test.Profiles.IdentitiesLoaded); // A cached view is used.
        foreach (var read in new[] { again, cached, fromCache })
        {
            Assert.Equal(uncached.Primary, read.Primary);
            Assert.Equal(uncached.Identities, read.Identities);
            Assert.Equal(uncached.Attributes.ToJsonString(), read.Attributes.ToJsonString());
            Assert.Equal(uncached.Events, read.Events);
        }
        Assert.Equal(2, uncached.Events.Count);
    }

    [Fact]
    public async Task A_deletion_while_a_load_is_in_flight_is_not_served_from_its_result()
    {
        await using var test = await CreateAsync();
        await test.StreamAsync("crm", """[{"crmId":"1","email":"ann@example.com","firstName":"Ann"}]""");
        await test.StreamAsync("app", """[{"_id":"a1","timestamp":"2026-11-01T10:00:00Z","crmId":"1"}]""");
        using var paused = new PausedLoad(test.Profiles);
        var reader = Task.Factory.StartNew(() => test.Lookup("CRMID:1"), TaskCreationOptions.LongRunning);
        Assert.Equal(2, (await paused.Loaded).Count);

        await test.Workspace.Privacy.DeleteAsync("prod", [Key("CRMID:1")]);
        paused.Release();

        Assert.Null(await reader); // The stale load was read again.
        Assert.Null(test.Lookup("CRMID:1"));
        Assert.Null(test.Lookup("Email:ann@example.com"));
    }

    [Fact]
    public async Task Readers_in_parallel_with_a_writer_end_with_the_views_a_fresh_read_builds()
    {
        await using var test = await CreateAsync(config: """{"profiles":{"cachedProfiles":4}}""");
        string[] crmIds = ["1", "2", "3", "4", "5", "6"];
        string[] devices = ["K1", "K2", "K3", "K4"];
        var identities = crmIds.Select(c => Key($"CRMID:{c}")).Concat(devices.Select(d => Key($"ECID:{d}"))).ToList();
        await test.StreamAsync("crm", $"[{string.Join(",", crmIds.Select(c => $$"""{"crmId":"{{c}}","firstName":"n{{c}}","tier":"t0"}"""))}]");

        var writing = true;
        var readers = Enumerable.Range(0, 3).Select(r => Task.Factory.StartNew(() =>
        {
            var random = new Random(20261129 + r);
            for (var i = 0; Volatile.Read(ref writing); i++)
            {
                var identity = identities[random.Next(identities.Count)];
                if (i % 2 == 0)
                {
                    test.Profiles.Lookup("prod", identity, events: 3);
                }
                else
                {
                    test.Profiles.ForEvaluationSource("prod", identity);
                }
                if (i % 7 == 0)
                {
                    test.Profiles.Invalidate("prod", [identities[random.Next(identities.Count)]]); // More cold reads.
                }
            }
        }, TaskCreationOptions.LongRunning)).ToList();

        var write = new Random(20261128);
        for (var step = 0; step < 60; step++)
        {
            test.Time.Advance(TimeSpan.FromSeconds(1));
            var crmId = crmIds[write.Next(crmIds.Length)];
            if (write.Next(2) == 0)
            {
                await test.StreamAsync("crm", $$"""[{"crmId":"{{crmId}}","tier":"t{{step}}","interests":["i{{write.Next(5)}}"]}]""");
            }
            else
            {
                var device = devices[write.Next(devices.Length)];
                var login = write.Next(3) == 0 ? $",\"crmId\":\"{crmId}\"" : "";
                await test.StreamAsync("web", $$"""[{"_id":"w{{step}}","timestamp":"2026-11-01T{{10 + step / 60:00}}:{{step % 60:00}}:00Z","ecid":"{{device}}"{{login}},"page":"p{{step}}"}]""");
            }
        }
        Volatile.Write(ref writing, false);
        await Task.WhenAll(readers);

        var maintained = identities.Select(i => Describe(test.Profiles.ForEvaluationSource("prod", i))).ToList();
        await test.ReopenAsync();
        var fresh = identities.Select(i => Describe(test.Profiles.ForEvaluationSource("prod", i))).ToList();
        Assert.Equal(fresh, maintained);
    }

    private static IdentityKey Key(string identity) => IdentityKey.TryParse(identity, out var key) ? key : throw new ArgumentException(identity);

    private static string Describe(EvaluationSource? source) => source is null
        ? "null"
        : $"{source.Primary} [{string.Join(",", source.Identities)}] {source.Attributes.ToJsonString()} "
            + string.Join(",", source.Events.Select(e => $"{e.Ticks}/{e.Dataset}/{e.EventId}/{e.Member}"));

    /// <summary>Pauses the first load that reads the store outside the lock, after its read, until released.</summary>
    private sealed class PausedLoad : IDisposable
    {
        private readonly ProfileService _profiles;
        private readonly TaskCompletionSource<IReadOnlyList<IdentityKey>> _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _release = new();
        private int _calls;

        public PausedLoad(ProfileService profiles)
        {
            _profiles = profiles;
            profiles.AfterLoadOutsideLock = identities =>
            {
                if (Interlocked.Increment(ref _calls) == 1)
                {
                    _loaded.SetResult([.. identities]);
                    _release.Wait();
                }
            };
        }

        /// <summary>The identities the paused load read.</summary>
        public Task<IReadOnlyList<IdentityKey>> Loaded => _loaded.Task.WaitAsync(TimeSpan.FromMinutes(1)); // Fails rather than hangs when no load pauses.

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
            _profiles.AfterLoadOutsideLock = null;
            _release.Dispose();
        }
    }
}

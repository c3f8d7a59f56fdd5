using Tessera.Segmentation.Engines;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;

namespace Tessera.Segmentation.Tests.Engines;

/// <summary>The streaming engine over a real workspace: commits realize memberships, the clock alone exits a window audience on time.</summary>
public sealed class StreamingEngineTests
{
    private const string Sandbox = "prod";

    [Fact]
    public async Task Commits_realize_memberships_and_a_window_exits_when_its_event_leaves_it()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var audiences = test.Workspace.Audiences;
        var gold = await audiences.CreateAsync(Sandbox, "gold", "tier = \"gold\"", id: "gold");
        var cart = await audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])", id: "cart");
        await audiences.PublishAsync(Sandbox, "gold");
        await audiences.PublishAsync(Sandbox, "cart");
        Assert.Equal("edge", gold.Mode);
        Assert.Equal("edge", cart.Mode); // one event within 24 hours: the streaming engine keeps edge audiences too
        var engine = test.Workspace.StartStreaming();

        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"},{"crmId":"2","tier":"silver"}]""");
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T11:00:00Z","ecid":"K1","crmId":"1","page":"cart"}]""");
        await engine.WhenIdleAsync();

        var memberships = test.Workspace.Memberships;
        Assert.Equal(["CRMID:1"], memberships.Members(Sandbox, "gold").Select(m => m.ProfileId));
        Assert.Equal(["CRMID:1"], memberships.Members(Sandbox, "cart").Select(m => m.ProfileId));
        var feed = memberships.Read(Sandbox, 0, 100);
        // One entry per audience; gold also says that the cookie joined the profile's identities when the engine evaluated the
        // CRM commit before the web event's.
        Assert.Equal(["cart", "gold"], feed.Where(c => c.Status == MembershipStatus.Realized).Select(c => c.AudienceId).Order());
        Assert.All(feed.Where(c => c.Status != MembershipStatus.Realized),
            c => Assert.Equal(("gold", MembershipStatus.Existing, true), (c.AudienceId, c.Status, c.Identities.Contains("ECID:K1"))));
        Assert.Contains(feed, change => change.AudienceId == "cart" && change.Identities.Contains("ECID:K1"));

        // The cart event (11:00) leaves the 3-hour window at 14:00: exited then, with no new event.
        test.Time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        await engine.WhenIdleAsync();
        Assert.Single(memberships.Members(Sandbox, "cart"));
        test.Time.Advance(TimeSpan.FromSeconds(1));
        await engine.WhenIdleAsync();
        Assert.Empty(memberships.Members(Sandbox, "cart"));
        var exit = memberships.Read(Sandbox, feed[^1].Sequence, 100).Single();
        Assert.Equal(("cart", "CRMID:1", MembershipStatus.Exited), (exit.AudienceId, exit.ProfileId, exit.Status));
        Assert.Equal(new DateTimeOffset(2026, 6, 10, 14, 0, 0, TimeSpan.Zero), exit.At);
        Assert.Single(memberships.Members(Sandbox, "gold"));

        // A record that changes the tier exits the attribute audience.
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"silver"}]""");
        await engine.WhenIdleAsync();
        Assert.Empty(memberships.Members(Sandbox, "gold"));
    }

    [Fact]
    public async Task An_audience_that_reads_another_is_evaluated_again_when_an_event_moves_that_one()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var audiences = test.Workspace.Audiences;
        await audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])", id: "cart");
        // Reads no event itself: only following "cart" brings it to the worker's attention on a web event.
        var follower = await audiences.CreateAsync(Sandbox, "gold-cart", "inSegment(\"cart\") and tier = \"gold\"", id: "gold-cart");
        await audiences.PublishAsync(Sandbox, "cart");
        await audiences.PublishAsync(Sandbox, "gold-cart");
        Assert.NotEqual("batch", follower.Mode);
        var engine = test.Workspace.StartStreaming();

        // The profile is known, its identities linked and evaluated, before the cart event: that event changes nothing else.
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold"}]""");
        await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2026-06-10T10:00:00Z","ecid":"K1","crmId":"1","page":"home"}]""");
        await engine.WhenIdleAsync();
        Assert.Empty(test.Workspace.Memberships.Members(Sandbox, "gold-cart"));

        await test.StreamAsync("web", """[{"_id":"e2","timestamp":"2026-06-10T11:00:00Z","ecid":"K1","crmId":"1","page":"cart"}]""");
        await engine.WhenIdleAsync();

        Assert.Equal(["CRMID:1"], test.Workspace.Memberships.Members(Sandbox, "cart").Select(m => m.ProfileId));
        Assert.Equal(["CRMID:1"], test.Workspace.Memberships.Members(Sandbox, "gold-cart").Select(m => m.ProfileId));
    }

    [Fact]
    public async Task A_batch_about_a_profile_whose_answers_are_being_committed_waits_for_that_commit()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        await using var held = await HeldCommitsScenario.StartAsync(test);
        Assert.Equal(["CRMID:1"], held.Members(held.Gold));

        // The answers of the move to silver are held in their commit; the move back to gold comes meanwhile.
        var waited = held.Hold();
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"silver","points":8}]""");
        await held.Store.Held.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold","points":9}]""");
        await waited.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        held.Store.Release();
        await held.Engine.WhenIdleAsync();

        Assert.Equal(["CRMID:1"], held.Members(held.Gold));
        Assert.Empty(held.Members(held.Silver));
        Assert.Equal([MembershipStatus.Realized, MembershipStatus.Exited], held.SilverChanges());
    }

    [Fact]
    public async Task A_batch_waits_for_the_commit_before_the_one_in_flight_before_it_evaluates()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        await using var held = await HeldCommitsScenario.StartAsync(test);

        // Profile 1 moves to silver (that commit held), then another profile's batch is evaluated (its commit queues behind),
        // then profile 1 moves back: that batch's commit in flight is the other profile's, which does not name profile 1.
        var waited = held.Hold();
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"silver","points":8}]""");
        await held.Store.Held.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await test.StreamAsync("crm", """[{"crmId":"2","tier":"gold","points":3}]""");
        await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold","points":9}]""");
        await waited.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        held.Store.Release();
        await held.Engine.WhenIdleAsync();

        Assert.Equal(["CRMID:1", "CRMID:2"], held.Members(held.Gold));
        Assert.Empty(held.Members(held.Silver));
        Assert.Equal([MembershipStatus.Realized, MembershipStatus.Exited], held.SilverChanges());
    }

    [Fact]
    public async Task Changes_committed_before_their_profile_was_read_are_answered_by_that_evaluation()
    {
        await using var test = await SegmentationWorkspace.CreateAsync();
        var workspace = test.Workspace;
        await workspace.Audiences.CreateAsync(Sandbox, "cart", "chain(xEvent, timestamp, [A: WHAT(page = \"cart\") WHEN(< 3 hours before now)])", id: "cart");
        await workspace.Audiences.PublishAsync(Sandbox, "cart");
        // One change to evaluate a batch: without the changes the first evaluation covers, each of the ten would be evaluated on its own.
        await using var engine = new StreamingEngine(workspace.Profiles, workspace.Audiences, workspace.Memberships, workspace.Store, test.Time, batchLimit: 1);
        workspace.Ingestion.AddObserver(engine);
        engine.RecordLatencies = true;

        engine.Pause();
        for (var i = 0; i < 10; i++)
        {
            await test.StreamAsync("web", $$"""[{"_id":"e{{i}}","timestamp":"2026-06-10T11:0{{i}}:00Z","ecid":"K1","page":"cart"}]""");
        }
        engine.Resume();
        await engine.WhenIdleAsync();

        Assert.Equal(1, engine.ProfileEvaluations); // Once, with its ten events.
        Assert.Equal(10, engine.TakeLatencies().Count); // Every change answered.
        Assert.Equal(["ECID:K1"], workspace.Memberships.Members(Sandbox, "cart").Select(m => m.ProfileId));
    }

    [Theory]
    [InlineData("streamingBatch", 0, "segmentation.streamingBatch must be at least 1")]
    [InlineData("streamingParallelism", -1, "segmentation.streamingParallelism must be 0 (one per core) or more")]
    public async Task Streaming_settings_out_of_range_are_config_errors(string setting, int value, string message)
    {
        var directory = Directory.CreateTempSubdirectory("tessera-streaming-config-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Tessera.Server.Workspace.ConfigFile), $$$"""{"segmentation": {"{{{setting}}}": {{{value}}}}}""",
                TestContext.Current.CancellationToken);
            var error = await Assert.ThrowsAsync<Tessera.Abstractions.CatalogException>(() => Tessera.Server.Workspace.OpenAsync(directory));
            Assert.Equal("CONFIG_INVALID", error.Code);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Three gold and three silver audiences, all of which move when a profile changes tier (more than four audiences on one
    /// change, so the engine reads the profile's memberships to skip the verdicts that change nothing, and a read that missed
    /// answers still being committed would skip an exit), profile 1 in gold, and an engine of its own, one change a batch,
    /// whose membership commits go through a store that can hold them back.
    /// </summary>
    private sealed class HeldCommitsScenario : IAsyncDisposable
    {
        private HeldCommitsScenario(HeldCommits store, MembershipStore memberships, StreamingEngine engine) =>
            (Store, Memberships, Engine) = (store, memberships, engine);

        public string[] Gold { get; } = ["gold", "gold-any", "gold-5"];

        public string[] Silver { get; } = ["silver", "silver-any", "silver-5"];

        public HeldCommits Store { get; }

        public MembershipStore Memberships { get; }

        public StreamingEngine Engine { get; }

        public static async Task<HeldCommitsScenario> StartAsync(SegmentationWorkspace test)
        {
            var store = new HeldCommits(test.Workspace.Store);
            var memberships = new MembershipStore(store, test.Workspace.Config.Segmentation);
            var scenario = new HeldCommitsScenario(store, memberships,
                new StreamingEngine(test.Workspace.Profiles, test.Workspace.Audiences, memberships, store, test.Time, batchLimit: 1));
            foreach (var id in scenario.Gold.Concat(scenario.Silver))
            {
                var tier = id.Split('-')[0];
                var pql = id.EndsWith("-any", StringComparison.Ordinal) ? $"tier = \"{tier}\" and points >= 0"
                    : id.EndsWith("-5", StringComparison.Ordinal) ? $"tier = \"{tier}\" and points > 5" : $"tier = \"{tier}\"";
                await test.Workspace.Audiences.CreateAsync(Sandbox, id, pql, id: id);
                await test.Workspace.Audiences.PublishAsync(Sandbox, id);
            }
            test.Workspace.Ingestion.AddObserver(scenario.Engine);
            await test.StreamAsync("crm", """[{"crmId":"1","tier":"gold","points":8}]""");
            await scenario.Engine.WhenIdleAsync();
            return scenario;
        }

        /// <summary>Holds the next commits of memberships; the task completes when the engine waits for a commit.</summary>
        public Task Hold()
        {
            Store.Hold();
            var waited = new TaskCompletionSource();
            Engine.WaitingForCommit = () => waited.TrySetResult();
            return waited.Task;
        }

        /// <summary>The profiles that are members of any of <paramref name="audiences"/>, in order.</summary>
        public string[] Members(string[] audiences) =>
            [.. audiences.SelectMany(a => Memberships.Members(Sandbox, a)).Select(m => m.ProfileId).Distinct().Order()];

        /// <summary>The statuses of the feed's changes about audience "silver", in order.</summary>
        public MembershipStatus[] SilverChanges() => [.. Memberships.Read(Sandbox, 0, 1000).Where(c => c.AudienceId == "silver").Select(c => c.Status)];

        public async ValueTask DisposeAsync()
        {
            Store.Release(); // Else the engine, disposed with a commit held (a test that failed), would wait for it for ever.
            await Engine.DisposeAsync();
        }
    }

    /// <summary>The workspace's store, whose commits of memberships can be held back until released.</summary>
    private sealed class HeldCommits(IStore inner) : IStore
    {
        private TaskCompletionSource? _release;
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes once a commit is being held.</summary>
        public Task Held => _held.Task;

        public int ShardCount => inner.ShardCount;

        public void Hold() => _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _release?.TrySetResult();

        public async Task CommitAsync(WriteSet writes, CancellationToken cancellationToken = default)
        {
            if (_release is { } release && Enumerable.Range(0, writes.Count).Any(i => writes[i].Space == StoreSpace.Memberships))
            {
                _held.TrySetResult();
                await release.Task;
            }
            await inner.CommitAsync(writes, cancellationToken);
        }

        public Task BulkLoadAsync(IReadOnlyList<WriteSet> sets, CancellationToken cancellationToken = default) => inner.BulkLoadAsync(sets, cancellationToken);

        public byte[]? Get(StoreSpace space, int shard, ReadOnlySpan<byte> key) => inner.Get(space, shard, key);

        public bool Exists(StoreSpace space, int shard, ReadOnlySpan<byte> key) => inner.Exists(space, shard, key);

        public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(StoreSpace space, int shard, byte[] prefix) => inner.Scan(space, shard, prefix);

        public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, EntryVisitor visit) => inner.Scan(space, shard, prefix, visit);

        public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> from, EntryVisitor visit) => inner.Scan(space, shard, prefix, from, visit);

        public IEnumerable<KeyValuePair<byte[], byte[]>> ScanReverse(StoreSpace space, int shard, byte[] prefix, byte[]? before = null) => inner.ScanReverse(space, shard, prefix, before);

        public void Dispose()
        {
            // The workspace owns the store.
        }
    }
}

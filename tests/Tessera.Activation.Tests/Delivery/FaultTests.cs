using Tessera.Activation.Delivery;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>
/// A destination that fails, rate-limits, goes down or is slow costs nothing but time: every
/// membership change reaches it at least once, in order per profile, and what it refuses for good
/// goes to the dead-letter store and is replayed.
/// </summary>
public sealed class FaultTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Two rounds of changes: 1–120 gold, then the multiples of 3 leave and 121–150 join.</summary>
    private static async Task<List<(string Operation, string Profile)>> ChangesAsync(ActivationWorkspace ws, Func<Task> deliver)
    {
        await ws.CustomersAsync(Enumerable.Range(1, 120), _ => "gold");
        await ws.EvaluateAsync();
        await deliver();
        await ws.CustomersAsync(Enumerable.Range(1, 120).Where(i => i % 3 == 0), _ => "silver");
        await ws.CustomersAsync(Enumerable.Range(121, 30), _ => "gold");
        ws.Time.Advance(TimeSpan.FromMinutes(5));
        await ws.EvaluateAsync();
        await deliver();
        return [.. ws.Workspace.Memberships.Read("prod", 0, 10_000).Select(c => (c.Status == Segmentation.MembershipStatus.Exited ? "remove" : "add", c.ProfileId))];
    }

    /// <summary>Every feed change was accepted at least once, and per profile the last accepted operation is the feed's last.</summary>
    private static void AssertAllDelivered(List<(string Operation, string Profile)> feed, LocalReceiver receiver)
    {
        var accepted = ActivationWorkspace.Records(receiver.Accepted);
        var ids = accepted.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(feed.Count, ids.Count);
        var lastSent = accepted.GroupBy(r => r.Profile).ToDictionary(g => g.Key, g => g.Last().Operation);
        var lastFeed = feed.GroupBy(c => c.Profile).ToDictionary(g => g.Key, g => g.Last().Operation);
        Assert.Equal(lastFeed.OrderBy(p => p.Key, StringComparer.Ordinal), lastSent.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_share_of_500s_and_slow_answers_cost_only_retries()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var random = new Random(20261129);
        var failures = Enumerable.Range(0, 10_000).Select(_ => random.NextDouble() < 0.3).ToArray();
        receiver.Respond = n => failures[n] ? (500, null) : (200, null);
        receiver.Delay = TimeSpan.FromMilliseconds(5);
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address, maxRecords: 10) with { Batching = new() { MaxRecords = 10, MaxAgeSeconds = 0 } }, Token);

        var runs = new List<DeliveryRun>();
        var feed = await ChangesAsync(ws, async () => runs.AddRange(await DrainUntilDoneAsync(ws)));

        AssertAllDelivered(feed, receiver);
        Assert.Contains(receiver.Requests, r => r.Status == 500);
        Assert.True(runs.Sum(r => r.Retried) >= receiver.Requests.Count(r => r.Status == 500) - runs.Count(r => r.Status == RunStatuses.Retrying));
        Assert.Empty(ws.Activation.Log.DeadLetters("prod", "hook"));
    }

    [Fact]
    public async Task Rate_limiting_with_Retry_After_is_honoured()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Respond = n => n is 2 or 3 ? (429, 1) : n == 5 ? (503, 1) : (200, null);
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address) with { Batching = new() { MaxRecords = 40, MaxAgeSeconds = 0 } }, Token);

        var feed = await ChangesAsync(ws, async () => await DrainUntilDoneAsync(ws));

        AssertAllDelivered(feed, receiver);
        var requests = receiver.Requests.OrderBy(r => r.Number).ToList();
        foreach (var limited in requests.Where(r => r.Status is 429 or 503))
        {
            var next = requests.First(r => r.Number == limited.Number + 1);
            Assert.True(next.At - limited.At >= TimeSpan.FromSeconds(0.95), $"request {next.Number} came {(next.At - limited.At).TotalMilliseconds} ms after a Retry-After: 1");
            Assert.Equal(limited.IdempotencyKey, next.IdempotencyKey);
        }
    }

    [Fact]
    public async Task A_destination_down_for_a_while_gets_the_same_batches_when_it_is_back()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var down = true;
        receiver.Respond = _ => down ? null : (200, null);
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address) with { Batching = new() { MaxRecords = 50, MaxAgeSeconds = 0 } }, Token);
        await ws.CustomersAsync(Enumerable.Range(1, 80), _ => "gold");
        await ws.EvaluateAsync();

        // Down: every attempt fails, the batch stays in flight and the cursor does not move.
        for (var i = 0; i < 3; i++)
        {
            var failed = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
            Assert.Equal(RunStatuses.Retrying, failed.Status);
            Assert.Equal(failed.Id, ws.Activation.Log.State("prod", "hook").InFlight!.RunId);
        }
        Assert.Equal(0, ws.Workspace.Memberships.Cursor("prod", ActivationService.Consumer("hook")));
        Assert.Empty(receiver.Accepted);
        var keysWhileDown = receiver.Requests.Select(r => r.IdempotencyKey).Distinct().ToList();

        down = false;
        var runs = await DrainUntilDoneAsync(ws);
        runs.RemoveAll(r => r.Status == RunStatuses.Retrying); // the circuit, tripped while it was down, is still open for a moment
        Assert.All(runs, r => Assert.Equal(RunStatuses.Delivered, r.Status));
        Assert.Equal(keysWhileDown, receiver.Accepted.Take(1).Select(r => r.IdempotencyKey).ToList());
        Assert.Equal(80, ActivationWorkspace.Records(receiver.Accepted).Select(r => r.Id).Distinct().Count());
        Assert.Equal(ws.Workspace.Memberships.LastSequence("prod"), ws.Workspace.Memberships.Cursor("prod", ActivationService.Consumer("hook")));
    }

    [Fact]
    public async Task A_refused_batch_is_dead_lettered_and_its_replay_sends_what_is_true_now()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var refuse = true;
        receiver.Respond = _ => refuse ? (400, null) : (200, null);
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address, maxRecords: 100), Token);
        await ws.CustomersAsync(Enumerable.Range(1, 10), _ => "gold");
        await ws.EvaluateAsync();

        var run = Assert.Single(await ws.Activation.DrainAsync("prod", "hook", Token));
        Assert.Equal(RunStatuses.DeadLettered, run.Status);
        Assert.Equal(10, run.Failed);
        Assert.Contains("HTTP 400", run.Error, StringComparison.Ordinal);
        var dead = Assert.Single(ws.Activation.Log.DeadLetters("prod", "hook"));
        Assert.Equal(10, dead.Records.Count);
        // The feed moves on: a dead letter does not hold back later changes.
        Assert.Equal(ws.Workspace.Memberships.LastSequence("prod"), ws.Workspace.Memberships.Cursor("prod", ActivationService.Consumer("hook")));

        // Meanwhile 1–3 left the audience: the replay removes them instead of adding them back.
        await ws.CustomersAsync([1, 2, 3], _ => "silver");
        ws.Time.Advance(TimeSpan.FromMinutes(1));
        await ws.EvaluateAsync();
        refuse = false;
        var replay = Assert.Single(await ws.Activation.ReplayAsync("prod", "hook", Token));
        Assert.Equal(RunStatuses.Delivered, replay.Status);
        Assert.Equal(DeliveryKinds.Replay, replay.Kind);
        Assert.Empty(ws.Activation.Log.DeadLetters("prod", "hook"));
        var replayed = ActivationWorkspace.Records(receiver.Accepted);
        Assert.Equal(3, replayed.Count(r => r.Operation == "remove"));
        Assert.Equal(7, replayed.Count(r => r.Operation == "add"));
    }

    /// <summary>
    /// Runs the background delivery loop (real clock: the waits are the real backoff and circuit breaks)
    /// until the destination has nothing in flight, no backfill and its cursor at the feed's end.
    /// </summary>
    private static async Task<List<DeliveryRun>> DrainUntilDoneAsync(ActivationWorkspace ws)
    {
        var runs = new List<DeliveryRun>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (ws.Activation.Log.State("prod", "hook") is { InFlight: null, Backfills.Count: 0 }
                && ws.Workspace.Memberships.Cursor("prod", ActivationService.Consumer("hook")) == ws.Workspace.Memberships.LastSequence("prod"))
            {
                done.TrySetResult();
            }
        }
        void OnRun(string sandbox, string destination, DeliveryRun run)
        {
            lock (runs)
            {
                runs.Add(run);
            }
            Check();
        }
        ws.Activation.Ran += OnRun;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var loop = ws.Activation.RunAsync(TimeSpan.FromMilliseconds(5), stop.Token);
        try
        {
            Check();
            await done.Task.WaitAsync(TimeSpan.FromMinutes(2), Token);
        }
        finally
        {
            ws.Activation.Ran -= OnRun;
            await stop.CancelAsync();
            await loop;
        }
        return runs;
    }
}

public sealed class ActivationPrivacyTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_privacy_delete_removes_the_person_from_dead_letters_and_sent_records()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Respond = _ => (400, null);
        await ws.CustomersAsync(Enumerable.Range(1, 4), _ => "gold");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address), Token);
        await ws.Activation.DrainAsync("prod", "hook", Token);
        Assert.Equal(4, Assert.Single(ws.Activation.Log.DeadLetters("prod", "hook")).Records.Count);

        var person = new[] { new Identity.Graph.IdentityKey("CRMID", "c1") };
        var access = await ws.Workspace.Privacy.AccessAsync("prod", person, Token);
        Assert.Equal(1, access.Receipt!.Participants["activation"]["deadLetterRecords"]);
        var deleted = await ws.Workspace.Privacy.DeleteAsync("prod", person, Token);
        Assert.Equal(1, deleted.Receipt!.Participants["activation"]["deadLetterRecords"]);
        var dead = Assert.Single(ws.Activation.Log.DeadLetters("prod", "hook"));
        Assert.Equal(["CRMID:c2", "CRMID:c3", "CRMID:c4"], dead.Records.Select(r => r.ProfileId).Order(StringComparer.Ordinal));
    }
}

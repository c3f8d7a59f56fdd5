using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>A destination receives a profile's changes in the order they happened, whatever fails on the way.</summary>
public sealed class OrderingTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(7);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>
    /// c1 joins the audience with one email (the feed's add carries it), then links a second (an update). The add comes
    /// back retrying: the update, newer, must not reach the destination before it, or the retried add (without the
    /// second email) overwrites it there, and the destination keeps the older state.
    /// </summary>
    [Fact]
    public async Task An_update_waits_behind_its_destinations_batch_that_came_back_retrying()
    {
        var clock = new WatchedClock(ActivationWorkspace.Start);
        await using var ws = await ActivationWorkspace.CreateAsync(Settings(), clock);
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Respond = n => n == 1 ? (503, null) : (200, null);
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address) with { Batching = new() { MaxRecords = 100, MaxAgeSeconds = 0 } }, Token);
        await ws.CustomersAsync([1], _ => "gold", email: _ => "old1@example.com");
        await ws.EvaluateAsync();
        await ws.CustomersAsync([1], _ => "gold", email: _ => "new1@example.com");

        var runs = new List<DeliveryRun>();
        var retrying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ws.Activation.Ran += (_, _, run) =>
        {
            lock (runs)
            {
                runs.Add(run);
            }
            if (run is { Kind: DeliveryKinds.Feed, Status: RunStatuses.Retrying })
            {
                retrying.TrySetResult();
            }
            else if (run is { Kind: DeliveryKinds.Feed, Status: RunStatuses.Delivered })
            {
                delivered.TrySetResult();
            }
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var loop = ws.Activation.RunAsync(Poll, stop.Token);
        try
        {
            await Within(retrying.Task);
            await Within(ws.Activation.DeliveryPass("prod", "hook")); // that pass is over
            await Within(clock.WaitForTimerAsync(Poll)); // and the loop waits for its next round
            clock.Advance(TimeSpan.FromSeconds(30)); // activation.circuitBreakSeconds: the batch is sent again
            await Within(delivered.Task);
            await Within(ws.Activation.DeliveryPass("prod", "hook")); // the pass that sent it, and then what it held
        }
        finally
        {
            await stop.CancelAsync();
            await loop;
        }

        AssertAddedThenUpdated(receiver);
        Assert.Equal([(DeliveryKinds.Feed, RunStatuses.Retrying), (DeliveryKinds.Feed, RunStatuses.Delivered), (DeliveryKinds.Update, RunStatuses.Delivered)],
            runs.Select(r => (r.Kind, r.Status)));
    }

    /// <summary>
    /// c1 joins with one email, and the feed's add waits for its micro-batch's age; meanwhile a second email is linked
    /// (an update). The update must wait for that add: sent first, it would be followed by the add's older identities.
    /// </summary>
    [Fact]
    public async Task An_update_waits_for_the_feed_change_of_its_profile_not_yet_sent()
    {
        var clock = new WatchedClock(ActivationWorkspace.Start);
        await using var ws = await ActivationWorkspace.CreateAsync(Settings(), clock);
        await using var receiver = await LocalReceiver.StartAsync(Token);
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address) with { Batching = new() { MaxRecords = 100, MaxAgeSeconds = 60 } }, Token);
        await ws.CustomersAsync([1], _ => "gold", email: _ => "old1@example.com");
        await ws.EvaluateAsync();
        await ws.CustomersAsync([1], _ => "gold", email: _ => "new1@example.com");

        var runs = new List<DeliveryRun>();
        var updated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ws.Activation.Ran += (_, _, run) =>
        {
            lock (runs)
            {
                runs.Add(run);
            }
            if (run.Kind == DeliveryKinds.Update)
            {
                updated.TrySetResult();
            }
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var loop = ws.Activation.RunAsync(Poll, stop.Token);
        try
        {
            await Within(clock.WaitForTimerAsync(Poll)); // the first round has started its pass
            await Within(ws.Activation.DeliveryPass("prod", "hook"));
            Assert.Empty(receiver.Accepted); // the add is younger than its batch's age, and the update waits for it
            ws.Time.Advance(TimeSpan.FromSeconds(60)); // the add is due
            clock.Advance(Poll); // and the loop's next round comes
            await Within(updated.Task);
        }
        finally
        {
            await stop.CancelAsync();
            await loop;
        }

        AssertAddedThenUpdated(receiver);
        Assert.Equal([(DeliveryKinds.Feed, RunStatuses.Delivered), (DeliveryKinds.Update, RunStatuses.Delivered)], runs.Select(r => (r.Kind, r.Status)));
    }

    /// <summary>c1 reached the receiver as an add with the email it joined with, then as an update with both.</summary>
    private static void AssertAddedThenUpdated(LocalReceiver receiver)
    {
        var sent = receiver.Accepted.SelectMany(Emails).Where(r => r.Profile == "CRMID:c1").ToList();
        Assert.Equal(["add", "update"], sent.Select(r => r.Operation));
        Assert.Equal([Sha256("old1@example.com")], sent[0].Emails);
        Assert.Equal([Sha256("new1@example.com"), Sha256("old1@example.com")], sent[^1].Emails.Order(StringComparer.Ordinal));
    }

    private static ActivationSettings Settings() => new()
    {
        MaxAttempts = 1,
        RetryBaseDelayMilliseconds = 1,
        AttemptTimeoutSeconds = 3_600,
        CircuitBreakSeconds = 30,
        AllowedPrivateNetworks = [ActivationWorkspace.LocalNetwork],
    };

    /// <summary>The records of a webhook request: profile, operation and the email keys sent.</summary>
    private static List<(string Profile, string Operation, List<string> Emails)> Emails(ReceivedRequest request)
    {
        using var document = JsonDocument.Parse(request.Body);
        return [.. document.RootElement.GetProperty("records").EnumerateArray().Select(r => (
            r.GetProperty("profileId").GetString()!,
            r.GetProperty("operation").GetString()!,
            r.GetProperty("identities").GetProperty("email").EnumerateArray().Select(e => e.GetString()!).ToList()))];
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static Task<T> Within<T>(Task<T> task) => task.WaitAsync(TimeSpan.FromSeconds(30), Token);

    private static Task Within(Task task) => task.WaitAsync(TimeSpan.FromSeconds(30), Token);
}

using Microsoft.AspNetCore.Http;
using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>
/// The server's delivery loop serves every destination, but one destination's trouble costs only that destination time:
/// its retries' backoff or an attempt that hangs delays no other destination's delivery.
/// </summary>
public sealed class IndependentDestinationsTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(7);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("503")]
    [InlineData("hang")]
    public async Task A_destination_backing_off_or_hanging_does_not_hold_up_another(string trouble)
    {
        var clock = new WatchedClock(ActivationWorkspace.Start);
        await using var ws = await ActivationWorkspace.CreateAsync(new ActivationSettings
        {
            MaxAttempts = 3,
            RetryBaseDelayMilliseconds = 1_000,
            AttemptTimeoutSeconds = 30,
            CircuitBreakSeconds = 30,
            AllowedPrivateNetworks = [ActivationWorkspace.LocalNetwork],
        }, clock);
        await using var slow = await LocalReceiver.StartAsync(Token);
        await using var healthy = await LocalReceiver.StartAsync(Token);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (trouble == "503")
        {
            slow.Respond = _ => (503, null); // retried after a backoff on the fake clock, which the test does not advance
        }
        else
        {
            slow.Answer = async (_, context) => // answered once released, the attempt's timeout on the fake clock never running out
            {
                await release.Task.WaitAsync(context.RequestAborted);
                await context.Response.WriteAsync("{}", context.RequestAborted);
            };
        }
        var batching = new Activation.Destinations.MicroBatchPolicy { MaxRecords = 100, MaxAgeSeconds = 0 };
        // Listed (and, one at a time, delivered) in name order: the slow one first.
        await ws.Activation.CreateAsync("prod", ws.Webhook(slow.Address, name: "a-slow") with { Batching = batching }, Token);
        await ws.Activation.CreateAsync("prod", ws.Webhook(healthy.Address, name: "b-healthy") with { Batching = batching }, Token);
        await ws.CustomersAsync(Enumerable.Range(1, 3), _ => "gold");
        await ws.EvaluateAsync();
        var delivered = new Dictionary<string, TaskCompletionSource>(StringComparer.Ordinal)
        {
            ["a-slow"] = new(TaskCreationOptions.RunContinuationsAsynchronously),
            ["b-healthy"] = new(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        ws.Activation.Ran += (_, destination, run) =>
        {
            if (run.Status == RunStatuses.Delivered)
            {
                delivered[destination].TrySetResult();
            }
        };

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var loop = ws.Activation.RunAsync(Poll, stop.Token);
        try
        {
            await Within(slow.WaitUntilAsync(r => !r.Requests.IsEmpty, TimeSpan.FromSeconds(30), Token));
            await Within(delivered["b-healthy"].Task);

            Assert.Equal(ActivationWorkspace.Start, clock.GetUtcNow()); // no backoff or timeout ran out
            Assert.Equal(3, ActivationWorkspace.Records(healthy.Accepted).Count);
            Assert.Single(slow.Requests);
            if (trouble == "hang")
            {
                release.SetResult();
                await Within(delivered["a-slow"].Task);
                Assert.Equal(3, ActivationWorkspace.Records(slow.Accepted).Count);
            }
        }
        finally
        {
            // Stopping does not wait out a backoff: the slow destination's batch stays in flight, sent again on the next start.
            await stop.CancelAsync();
            await Within(loop);
        }
        if (trouble == "503")
        {
            Assert.NotNull(ws.Activation.Log.State("prod", "a-slow").InFlight);
            Assert.Equal(0, ws.Workspace.Memberships.Cursor("prod", ActivationService.Consumer("a-slow")));
        }
    }

    private static Task Within(Task task) => task.WaitAsync(TimeSpan.FromSeconds(30), Token);
}

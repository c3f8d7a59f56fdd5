namespace Tessera.Ingestion.Tests;

/// <summary>The reservation that keeps two concurrent requests carrying one event from both storing it.</summary>
public sealed class InFlightKeysTests
{
    [Fact]
    public async Task A_key_reserved_by_one_request_makes_another_wait_for_its_commit_then_is_free_again()
    {
        var keys = new InFlightKeys();
        using var first = keys.Begin();
        using var second = keys.Begin();
        var fingerprint = new UInt128(7, 42);
        Assert.True(first.TryReserve(fingerprint));
        Assert.True(first.TryReserve(new UInt128(7, 42 + 64))); // Another key on the same stripe.
        Assert.False(second.TryReserve(fingerprint));
        var waiting = second.OthersCommittedAsync();
        Assert.False(waiting.IsCompleted);

        first.Complete(null);
        await waiting;
        using var third = keys.Begin();
        Assert.True(third.TryReserve(fingerprint)); // Released once committed.
    }

    [Fact]
    public async Task A_failed_commit_fails_the_requests_that_waited_for_it_and_frees_its_keys()
    {
        var keys = new InFlightKeys();
        var fingerprint = new UInt128(1, 2);
        using var waiter = keys.Begin();
        using (var failing = keys.Begin())
        {
            Assert.True(failing.TryReserve(fingerprint));
            Assert.False(waiter.TryReserve(fingerprint));
        } // Disposed before committing: a failure.
        await Assert.ThrowsAsync<OperationCanceledException>(waiter.OthersCommittedAsync);
        using var retry = keys.Begin();
        Assert.True(retry.TryReserve(fingerprint));
    }
}

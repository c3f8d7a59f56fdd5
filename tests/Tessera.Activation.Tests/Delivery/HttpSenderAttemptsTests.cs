using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

/// <summary><c>activation.maxAttempts</c> counts every attempt of a request, the first included: 1 means no retry at all.</summary>
public sealed class HttpSenderAttemptsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task A_request_answered_503_is_tried_max_attempts_times(int maxAttempts)
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Respond = _ => (503, null);
        var destination = new Destination
        {
            Name = "hook",
            Connector = "webhook",
            Settings = new(StringComparer.Ordinal) { ["endpoint"] = receiver.Address.ToString() },
        };
        var settings = new ActivationSettings { MaxAttempts = maxAttempts, RetryBaseDelayMilliseconds = 1, AllowedPrivateNetworks = ["127.0.0.0/8"] };

        // Polly refuses a retry strategy of no retries: a sender of one attempt could not even be built.
        using var sender = new HttpSender(destination, settings, TimeProvider.System);
        var result = await sender.SendAsync(new OutgoingRequest(HttpMethod.Post, "", "application/json", "{}"u8.ToArray(), 1), "k1", Token);

        Assert.NotEqual(SendOutcome.Delivered, result.Outcome);
        Assert.Equal(maxAttempts - 1, result.Retries);
        Assert.Equal(maxAttempts, receiver.Requests.Count);
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Tests.Shared;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>
/// A destination that answers badly (a body that never ends, a body that stops coming after the headers, a
/// <c>Retry-After</c> of years) costs a bounded read and at most the attempt's timeout, and parks its delivery no longer
/// than <c>activation.maxRetryAfterSeconds</c>.
/// </summary>
public sealed class HostileAnswerTests
{
    /// <summary>The most a test's receiver writes of an endless body: a sender that reads it all has read too much.</summary>
    private const long EndlessCap = 32L * 1024 * 1024;

    /// <summary>
    /// What a sender's connection takes off the wire of an answer it does not read, on top of what it reads, before it
    /// closes (<see cref="HttpSender.ResponseDrainBytes"/>), with the framing and read buffers over.
    /// </summary>
    private const long Drained = HttpSender.ResponseDrainBytes + (64 * 1024);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_endless_error_body_is_read_only_as_far_as_the_error_needs()
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var body = new EndlessBody();
        receiver.Respond = _ => (500, null);
        receiver.Answer = body.WriteAsync;
        using var connections = new WatchedConnections(Settings());
        using var sender = new HttpSender(Hook(receiver.Address), Settings(), new FakeTimeProvider(ActivationWorkspace.Start), connections);

        var result = await Within(sender.SendAsync(Request(), "k1", Token));
        await Within(body.Done.Task);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Equal(500, result.StatusCode);
        Assert.StartsWith("HTTP 500 Internal Server Error: xxxx", result.Error, StringComparison.Ordinal);
        Assert.InRange(result.Error!.Length, 300, 400);
        Assert.InRange(connections.Received, 1, (4 * 1024) + Drained);
    }

    [Fact]
    public async Task An_endless_answer_that_is_not_needed_is_not_read()
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var body = new EndlessBody();
        receiver.Answer = body.WriteAsync;
        using var connections = new WatchedConnections(Settings());
        using var sender = new HttpSender(Hook(receiver.Address), Settings(), new FakeTimeProvider(ActivationWorkspace.Start), connections);

        var result = await Within(sender.SendAsync(Request(), "k1", Token));
        await Within(body.Done.Task);

        Assert.Equal(SendOutcome.Delivered, result.Outcome);
        Assert.InRange(connections.Received, 1, Drained);
    }

    [Fact]
    public async Task Through_a_proxy_an_endless_answer_that_is_not_needed_is_not_read()
    {
        await using var proxy = await LocalReceiver.StartAsync(Token);
        var body = new EndlessBody();
        proxy.Answer = body.WriteAsync;
        var settings = Settings() with { Proxy = proxy.Address.ToString() };
        using var connections = new WatchedConnections(settings);
        using var sender = new HttpSender(Hook(new Uri("http://192.0.2.10/hook")), settings, new FakeTimeProvider(ActivationWorkspace.Start), connections);

        var result = await Within(sender.SendAsync(Request(), "k1", Token));
        await Within(body.Done.Task);

        Assert.Equal(SendOutcome.Delivered, result.Outcome);
        Assert.InRange(connections.Received, 1, Drained);
    }

    [Fact]
    public async Task An_endless_answer_that_is_parsed_is_refused_past_its_limit_by_name()
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var body = new EndlessBody();
        receiver.Answer = body.WriteAsync;
        using var connections = new WatchedConnections(Settings(maxAttempts: 3));
        using var sender = new HttpSender(Hook(receiver.Address), Settings(maxAttempts: 3), new FakeTimeProvider(ActivationWorkspace.Start), connections);

        var result = await Within(sender.SendAsync(Request(), "k1", Token, readBody: true));
        await Within(body.Done.Task);

        Assert.Equal(SendOutcome.Permanent, result.Outcome);
        Assert.Equal(200, result.StatusCode);
        Assert.StartsWith("RESPONSE_TOO_LARGE: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("1048576 bytes", result.Error, StringComparison.Ordinal);
        Assert.Null(result.Body);
        Assert.Single(receiver.Requests); // not tried again: the same answer would come back
        Assert.InRange(connections.Received, 1, (1024 * 1024) + Drained);
    }

    [Fact]
    public async Task An_answer_that_is_parsed_and_declares_more_than_the_limit_is_refused_before_it_is_read()
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Answer = async (_, context) =>
        {
            context.Response.ContentLength = 64L * 1024 * 1024;
            await context.Response.WriteAsync("{\"resourceName\": \"", context.RequestAborted);
            await StallAsync(context);
        };
        using var sender = new HttpSender(Hook(receiver.Address), Settings(), new FakeTimeProvider(ActivationWorkspace.Start));

        var result = await Within(sender.SendAsync(Request(), "k1", Token, readBody: true));

        Assert.Equal(SendOutcome.Permanent, result.Outcome);
        Assert.Equal("RESPONSE_TOO_LARGE: the answer's body declares 67108864 bytes, more than the 1048576 bytes an answer that is parsed may have", result.Error);
    }

    [Theory]
    [InlineData(500, false)]
    [InlineData(400, false)]
    [InlineData(200, true)]
    public async Task A_body_that_stops_coming_after_the_headers_costs_no_more_than_the_attempts_timeout(int status, bool readBody)
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Respond = _ => (status, null);
        receiver.Answer = async (_, context) =>
        {
            await context.Response.WriteAsync("{\"resourceName\": \"customers/1/offlineUserDataJobs/", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await StallAsync(context);
        };
        var clock = new FakeTimeProvider(ActivationWorkspace.Start);
        using var connections = new WatchedConnections(Settings());
        using var sender = new HttpSender(Hook(receiver.Address), Settings(), clock, connections);

        var call = sender.SendAsync(Request(), "k1", Token, readBody);
        await Within(connections.Arrived.Task);
        clock.Advance(TimeSpan.FromSeconds(5)); // activation.attemptTimeoutSeconds
        var result = await Within(call);

        Assert.Equal(status == 400 ? SendOutcome.Permanent : SendOutcome.Transient, result.Outcome);
        if (readBody)
        {
            // The answer is the job's name: without all of it the attempt failed, as if no answer had come.
            Assert.Null(result.StatusCode);
            Assert.Contains("timeout", result.Error, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            // An error's body only words the error: the status stands with as much of the body as came.
            Assert.Equal(status, result.StatusCode);
            Assert.StartsWith($"HTTP {status} ", result.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("seconds", 120, 120)]
    [InlineData("date", 120, 120)]
    [InlineData("seconds", 100_000_000, 3600)]
    [InlineData("date", 100_000_000, 3600)]
    [InlineData("date", -600, 0)]
    [InlineData("seconds", 0, 0)]
    public async Task Retry_After_is_read_in_both_forms_on_the_servers_clock_and_cut_to_the_maximum(string form, int asked, int expected)
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var clock = new FakeTimeProvider(ActivationWorkspace.Start);
        receiver.Respond = _ => (429, null);
        receiver.Answer = (_, context) => RetryAfterAsync(context, form, asked, clock);
        using var sender = new HttpSender(Hook(receiver.Address), Settings(), clock);

        var result = await Within(sender.SendAsync(Request(), "k1", Token));

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Equal(429, result.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(expected), result.RetryAfter);
    }

    [Theory]
    [InlineData("seconds")]
    [InlineData("date")]
    public async Task A_Retry_After_longer_than_a_backoff_ends_the_attempts_and_is_left_to_the_destinations_worker(string form)
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var clock = new FakeTimeProvider(ActivationWorkspace.Start);
        receiver.Respond = n => n == 1 ? (429, null) : (200, null);
        receiver.Answer = (n, context) => n == 1 ? RetryAfterAsync(context, form, 100_000_000, clock) : context.Response.WriteAsync("{}");
        using var sender = new HttpSender(Hook(receiver.Address), Settings(maxAttempts: 3), clock);

        // Waiting inside the attempts would hold up every destination's delivery (one loop sends them all).
        var result = await Within(sender.SendAsync(Request(), "k1", Token));

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Equal(429, result.StatusCode);
        Assert.Equal(0, result.Retries);
        Assert.Equal(TimeSpan.FromHours(1), result.RetryAfter);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_Retry_After_date_within_a_backoff_is_waited_on_the_servers_clock_between_attempts()
    {
        await using var receiver = await LocalReceiver.StartAsync(Token);
        var clock = new WatchedClock(ActivationWorkspace.Start);
        receiver.Respond = n => n == 1 ? (429, null) : (200, null);
        receiver.Answer = (n, context) => n == 1 ? RetryAfterAsync(context, "date", 20, clock) : context.Response.WriteAsync("{}");
        using var sender = new HttpSender(Hook(receiver.Address), Settings(maxAttempts: 2), clock);

        var call = sender.SendAsync(Request(), "k1", Token);
        await Within(clock.WaitForTimerAsync(TimeSpan.FromSeconds(20)));
        Assert.Single(receiver.Requests);
        clock.Advance(TimeSpan.FromSeconds(20));
        var result = await Within(call);

        Assert.Equal(SendOutcome.Delivered, result.Outcome);
        Assert.Equal(1, result.Retries);
        Assert.Equal(2, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_destination_answering_Retry_After_of_years_is_tried_again_after_the_maximum()
    {
        var clock = new WatchedClock(ActivationWorkspace.Start);
        var poll = TimeSpan.FromSeconds(7);
        await using var ws = await ActivationWorkspace.CreateAsync(Settings(), clock);
        await using var receiver = await LocalReceiver.StartAsync(Token);
        receiver.Respond = n => n == 1 ? (429, 100_000_000) : (200, null);
        await ws.CustomersAsync(Enumerable.Range(1, 3), _ => "gold");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", ws.Webhook(receiver.Address), Token); // a backfill of the 3 members
        var retrying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ws.Activation.Ran += (_, _, run) =>
        {
            if (run.Status == RunStatuses.Retrying)
            {
                retrying.TrySetResult();
            }
            else if (run.Status == RunStatuses.Delivered)
            {
                delivered.TrySetResult();
            }
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var loop = ws.Activation.RunAsync(poll, stop.Token);
        try
        {
            await Within(retrying.Task);
            await Within(ws.Activation.DeliveryPass("prod", "hook")); // the destination's pass is over
            await Within(clock.WaitForTimerAsync(poll)); // and the loop waits for its next round
            clock.Advance(TimeSpan.FromHours(1)); // activation.maxRetryAfterSeconds
            await Within(delivered.Task);
        }
        finally
        {
            await stop.CancelAsync();
            await loop;
        }
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(3, ActivationWorkspace.Records(receiver.Accepted).Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(86_401)]
    public async Task A_workspace_whose_maxRetryAfterSeconds_is_out_of_range_is_CONFIG_INVALID(int seconds)
    {
        var directory = Directory.CreateTempSubdirectory("tessera-retry-after-config-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Server.Workspace.ConfigFile),
                System.Text.Json.JsonSerializer.Serialize(new { activation = new { maxRetryAfterSeconds = seconds } }), Token);
            var error = await Assert.ThrowsAsync<CatalogException>(() => Server.Workspace.OpenAsync(directory));
            Assert.Equal("CONFIG_INVALID", error.Code);
            Assert.Contains("activation.maxRetryAfterSeconds must be between 1 and 86400", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Guards a step that should end at once: a sender that hangs fails the test instead of hanging it.</summary>
    private static Task<T> Within<T>(Task<T> task) => task.WaitAsync(TimeSpan.FromSeconds(30), Token);

    private static Task Within(Task task) => task.WaitAsync(TimeSpan.FromSeconds(30), Token);

    private static ActivationSettings Settings(int maxAttempts = 1) => new()
    {
        MaxAttempts = maxAttempts,
        RetryBaseDelayMilliseconds = 1,
        AttemptTimeoutSeconds = 5,
        CircuitBreakSeconds = 30,
        AllowedPrivateNetworks = [ActivationWorkspace.LocalNetwork],
    };

    private static Destination Hook(Uri endpoint) => new()
    {
        Name = "hook",
        Connector = "webhook",
        Settings = new(StringComparer.Ordinal) { ["endpoint"] = endpoint.ToString() },
    };

    private static OutgoingRequest Request() => new(HttpMethod.Post, "", "application/json", "{}"u8.ToArray(), 1);

    /// <summary>Answers with a <c>Retry-After</c> of <paramref name="seconds"/> from now: as a number of seconds, or as an HTTP date.</summary>
    private static Task RetryAfterAsync(HttpContext context, string form, int seconds, TimeProvider clock)
    {
        context.Response.Headers.RetryAfter = form == "date"
            ? clock.GetUtcNow().AddSeconds(seconds).ToString("R", CultureInfo.InvariantCulture)
            : seconds.ToString(CultureInfo.InvariantCulture);
        return context.Response.WriteAsync("{}", context.RequestAborted);
    }

    /// <summary>Sends nothing more until the sender goes away.</summary>
    private static async Task StallAsync(HttpContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The sender gave up: what the test expects.
        }
    }

    /// <summary>A body that never ends (chunked, 64 KiB a write), stopped at <see cref="EndlessCap"/>; counts what was written.</summary>
    private sealed class EndlessBody
    {
        private long _written;

        public long Written => Interlocked.Read(ref _written);

        /// <summary>Completes when the body stops: the sender went away, or it read all <see cref="EndlessCap"/> bytes.</summary>
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task WriteAsync(int number, HttpContext context)
        {
            var chunk = new byte[64 * 1024];
            chunk.AsSpan().Fill((byte)'x');
            try
            {
                // Kestrel ignores writes once the connection has gone: those are not counted.
                while (Written < EndlessCap && !context.RequestAborted.IsCancellationRequested)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                    Interlocked.Add(ref _written, chunk.Length);
                }
            }
            catch (Exception error) when (error is OperationCanceledException or IOException)
            {
                // The sender closed the connection.
            }
            finally
            {
                Done.TrySetResult();
            }
        }
    }

    /// <summary>
    /// The connections of the handler a sender builds for <c>settings</c> (its own address checks, drain and proxy),
    /// watched: when an answer's headers have arrived (its body is then the sender's to read), and how many bytes the
    /// sender has taken off the wire. What a receiver writes is no measure: Kestrel takes writes and drops them once the
    /// connection has gone, before it says the request was aborted.
    /// </summary>
    private sealed class WatchedConnections : DelegatingHandler
    {
        private long _received;

        public WatchedConnections(ActivationSettings settings)
        {
            var handler = HttpSender.Handler(settings);
            var sockets = handler as SocketsHttpHandler ?? (SocketsHttpHandler)((DelegatingHandler)handler).InnerHandler!;
            var connect = sockets.ConnectCallback ?? ConnectAsync;
            sockets.ConnectCallback = async (context, cancellationToken) => new CountingStream(await connect(context, cancellationToken), this);
            InnerHandler = handler;
        }

        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Received => Interlocked.Read(ref _received);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            Arrived.TrySetResult();
            return response;
        }

        /// <summary>A plain connection, as SocketsHttpHandler makes one without a callback (to a proxy).</summary>
        private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>A connection's stream, counting what is read from it.</summary>
        private sealed class CountingStream(Stream inner, WatchedConnections owner) : Stream
        {
            public override bool CanRead => true;

            public override bool CanWrite => true;

            public override bool CanSeek => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                Counted(await inner.ReadAsync(buffer, cancellationToken));

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                inner.WriteAsync(buffer, offset, count, cancellationToken);

            public override void Flush() => inner.Flush();

            public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                }
                base.Dispose(disposing);
            }

            private int Counted(int read)
            {
                Interlocked.Add(ref owner._received, read);
                return read;
            }
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tessera.Tests.Shared;

/// <summary>One request a <see cref="LocalReceiver"/> answered.</summary>
public sealed record ReceivedRequest(int Number, string Method, string Path, string? IdempotencyKey, string? Authorization, string ContentType, byte[] Body, int Status, DateTimeOffset At);

/// <summary>
/// A local HTTP receiver on 127.0.0.1 standing in for a destination's platform: it records every
/// request and answers as <see cref="Respond"/> decides (by default 200), so tests can make it fail a
/// share of requests, rate-limit with <c>Retry-After</c>, be slow, or be down (connections aborted).
/// </summary>
public sealed class LocalReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(Func<LocalReceiver, bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private int _number;

    private LocalReceiver(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    /// <summary>Every request, answered or not, in arrival order.</summary>
    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>The requests answered with a 2xx.</summary>
    public IEnumerable<ReceivedRequest> Accepted => Requests.Where(r => r.Status is >= 200 and < 300);

    /// <summary>
    /// Decides the answer to request number n (1-based): a status (and optional Retry-After seconds),
    /// or null to abort the connection as a dead server would.
    /// </summary>
    public Func<int, (int Status, int? RetryAfterSeconds)?> Respond { get; set; } = _ => (200, null);

    /// <summary>The body of a 2xx answer to a request path (<c>{}</c> when null).</summary>
    public Func<string, string>? Body { get; set; }

    /// <summary>The <c>Location</c> of a 3xx answer to a request path (none when null).</summary>
    public Func<string, string>? Location { get; set; }

    /// <summary>How long each answer takes.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>
    /// Writes the answer's body instead of the default one (given the request's number), after <see cref="Respond"/>
    /// set its status and <c>Retry-After</c>; it may change the headers before writing. For a destination that answers
    /// badly: a body that drips, stalls or never ends, a <c>Retry-After</c> of another form.
    /// </summary>
    public Func<int, HttpContext, Task>? Answer { get; set; }

    public static async Task<LocalReceiver> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new LocalReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync(cancellationToken);
        receiver.Address = new Uri(app.Urls.First());
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var number = Interlocked.Increment(ref _number);
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted);
        }
        var answer = Respond(number);
        Requests.Enqueue(new ReceivedRequest(number, context.Request.Method, context.Request.Path + context.Request.QueryString,
            context.Request.Headers["Idempotency-Key"].FirstOrDefault(), context.Request.Headers.Authorization.FirstOrDefault(),
            context.Request.ContentType ?? "", body.ToArray(), answer?.Status ?? 0, DateTimeOffset.UtcNow));
        Signal();
        if (answer is not { } decided)
        {
            context.Abort();
            return;
        }
        var status = decided.Status;
        context.Response.StatusCode = status;
        if (decided.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (status is >= 300 and < 400 && Location is { } location)
        {
            context.Response.Headers.Location = location(context.Request.Path);
        }
        if (Answer is { } write)
        {
            await write(number, context);
            return;
        }
        await context.Response.WriteAsync(status is >= 200 and < 300 ? Body?.Invoke(context.Request.Path) ?? "{}" : $"{{\"error\": \"status {status}\"}}", context.RequestAborted);
    }

    /// <summary>Completes once <paramref name="condition"/> holds, checked now and after every request (no polling).</summary>
    public Task WaitUntilAsync(Func<LocalReceiver, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((condition, done));
        }
        Signal();
        return done.Task.WaitAsync(timeout, cancellationToken);
    }

    private void Signal()
    {
        lock (_waiters)
        {
            foreach (var waiter in _waiters.Where(w => w.Condition(this)).ToList())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

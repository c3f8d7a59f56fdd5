using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Tessera.Abstractions;

namespace Tessera.Activation.Delivery;

/// <summary>What became of one request after the resilience pipeline gave up or succeeded.</summary>
public enum SendOutcome
{
    Delivered,

    /// <summary>Failed in a way that may pass (5xx, 408, 429, timeout, refused connection, open circuit): the batch waits and tries again.</summary>
    Transient,

    /// <summary>Refused for good (another 4xx): the batch goes to the dead-letter store.</summary>
    Permanent,
}

/// <param name="Body">The response body of a delivered request, when asked for (a created resource's name).</param>
/// <param name="RetryAfter">How long the destination asked to be left alone (<c>Retry-After</c>, at most <see cref="ActivationSettings.MaxRetryAfterSeconds"/>).</param>
public sealed record SendResult(SendOutcome Outcome, int? StatusCode, int Retries, string? Error, TimeSpan? RetryAfter, string? Body = null);

/// <summary>
/// Sends one destination's requests through a Polly pipeline built from the Microsoft.Extensions.Http.Resilience
/// HTTP options: retries with exponential backoff and jitter that honour <c>Retry-After</c> (see remarks),
/// a circuit breaker per destination (one sender per destination) and a timeout per attempt. Every
/// request carries an <c>Idempotency-Key</c> header and the destination's auth header if it has one. Connections go
/// straight to the destination and only to addresses <see cref="EndpointAddresses"/> allows, checked on the
/// address connected to, after DNS: a refused one fails the request for good (<see cref="EndpointAddresses.RefusedCode"/>,
/// not retried). Redirects are not followed: a 3xx is a permanent failure naming where it points. With <see cref="ActivationSettings.Proxy"/> they go
/// through that proxy instead, and each request's host is checked before it is sent (<see cref="ProxiedHandler"/>).
/// </summary>
/// <remarks>
/// A destination that answers badly costs bounded time and memory: the part of an answer's body that is read (an
/// error's first <see cref="ErrorBodyBytes"/> bytes, an answer that is parsed up to <see cref="MaxAnswerBytes"/>) is
/// read within the attempt, under its timeout; the rest is never read. A <c>Retry-After</c> (seconds or an HTTP date,
/// on the injected clock) is cut to <see cref="ActivationSettings.MaxRetryAfterSeconds"/>, waited between attempts only
/// when no longer than the longest backoff (<see cref="ActivationSettings.CircuitBreakSeconds"/>), and otherwise ends the
/// attempts and is left to the caller (<see cref="SendResult.RetryAfter"/>), so that one destination's wait holds up no other.
/// </remarks>
public sealed class HttpSender : IDisposable
{
    /// <summary>Bytes of an error answer's body read to word the error (its first <see cref="ErrorChars"/> characters are kept): the rest is never read.</summary>
    public const int ErrorBodyBytes = 4 * 1024;

    /// <summary>
    /// Bytes an answer that is parsed may have (<c>readBody</c>: Google Customer Match's created job, whose
    /// <c>resourceName</c> is about a hundred bytes): a longer one is refused, <see cref="AnswerTooLargeCode"/>.
    /// </summary>
    public const int MaxAnswerBytes = 1024 * 1024;

    /// <summary>The error of an answer longer than <see cref="MaxAnswerBytes"/> (the request fails for good, not retried).</summary>
    public const string AnswerTooLargeCode = "RESPONSE_TOO_LARGE";

    /// <summary>Characters of an error answer's body (or of its reason phrase) kept in the error.</summary>
    private const int ErrorChars = 300;

    /// <summary>
    /// Bytes of an answer's body left unread (a success's, which is not read, or an error's past its first
    /// <see cref="ErrorBodyBytes"/>) that the handler drains to reuse the connection (<c>MaxResponseDrainSize</c>); past
    /// it, the connection is closed instead. Destinations answer a delivery with a few hundred bytes of JSON, drained
    /// whole to keep the connection; a longer answer costs a new connection rather than reading what nobody needs
    /// (SocketsHttpHandler's default is 1 MiB a response).
    /// </summary>
    public const int ResponseDrainBytes = 64 * 1024;

    private static readonly ResiliencePropertyKey<int> s_retries = new("tessera.retries");
    private static readonly ResiliencePropertyKey<string?> s_body = new("tessera.body");
    private readonly HttpClient _client;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly Uri _endpoint;
    private readonly (string Name, string Value)? _auth;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxRetryAfter;

    public HttpSender(Destinations.Destination destination, ActivationSettings settings, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _time = time;
        _maxRetryAfter = TimeSpan.FromSeconds(settings.MaxRetryAfterSeconds);
        var longestBackoff = TimeSpan.FromSeconds(settings.CircuitBreakSeconds);
        _endpoint = new Uri(destination.Settings["endpoint"].TrimEnd('/') + "/");
        _auth = destination.Settings.TryGetValue("authHeader", out var header) ? (header, destination.Settings["authValue"]) : null;
        _client = new HttpClient(handler ?? Handler(settings), disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the pipeline times attempts out
        };
        var retry = new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(0, settings.MaxAttempts - 1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(settings.RetryBaseDelayMilliseconds),
            MaxDelay = longestBackoff,
            // Retry-After is read here rather than by ShouldRetryAfterHeader, which reads a date on the system clock and
            // waits whatever the header says (a delay past Task.Delay's 49.7 days throws).
            ShouldRetryAfterHeader = false,
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
            // A Retry-After longer than the longest backoff ends the attempts: the destination's worker waits it out, while
            // the delivery loop goes on with other destinations.
            ShouldHandle = args => ValueTask.FromResult(Refused(args.Outcome.Exception) is null && HttpClientResiliencePredicates.IsTransient(args.Outcome)
                && !(args.Outcome.Result is { } response && RetryAfter(response) > longestBackoff)),
            OnRetry = args =>
            {
                args.Context.Properties.Set(s_retries, args.Context.Properties.GetValue(s_retries, 0) + 1);
                return default;
            },
        };
        var breaker = new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = 10,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(settings.CircuitBreakSeconds),
        };
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (retry.MaxRetryAttempts > 0)
        {
            pipeline.AddRetry(retry); // Polly refuses a retry strategy of no retries (maxAttempts 1)
        }
        _pipeline = pipeline
            .AddCircuitBreaker(breaker)
            .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = TimeSpan.FromSeconds(settings.AttemptTimeoutSeconds) })
            .Build();
    }

    public async Task<SendResult> SendAsync(OutgoingRequest request, string idempotencyKey, CancellationToken cancellationToken, bool readBody = false)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    HttpResponseMessage? response = null;
                    try
                    {
                        using var message = state.Sender.Message(state.Request, state.Key);
                        response = await state.Sender._client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ctx.CancellationToken).ConfigureAwait(false);
                        // The body is read within the attempt, so that its timeout bounds a body that drips or stops coming
                        // as it bounds the headers; at most a bounded prefix of it.
                        ctx.Properties.Set(s_body, response.IsSuccessStatusCode
                            ? state.ReadBody ? await ReadAnswerAsync(response, ctx.CancellationToken).ConfigureAwait(false) : null
                            : await ReadErrorAsync(response.Content, ctx.CancellationToken).ConfigureAwait(false));
                        return Outcome.FromResult(response);
                    }
                    catch (Exception error) when (error is not OperationCanceledException || !state.Token.IsCancellationRequested)
                    {
                        response?.Dispose();
                        return Outcome.FromException<HttpResponseMessage>(error);
                    }
                    catch
                    {
                        response?.Dispose();
                        throw;
                    }
                },
                context,
                (Sender: this, Request: request, Key: idempotencyKey, Token: cancellationToken, ReadBody: readBody)).ConfigureAwait(false);
            var retries = context.Properties.GetValue(s_retries, 0);
            cancellationToken.ThrowIfCancellationRequested();
            if (outcome.Exception is { } exception)
            {
                if (Refused(exception) is { } refused)
                {
                    return new SendResult(SendOutcome.Permanent, null, retries, $"{EndpointAddresses.RefusedCode}: {refused.Message}", null);
                }
                return exception switch
                {
                    BrokenCircuitException broken => new SendResult(SendOutcome.Transient, null, retries, $"circuit open: {broken.Message}", null),
                    AnswerTooLargeException tooLarge => new SendResult(SendOutcome.Permanent, tooLarge.StatusCode, retries, $"{AnswerTooLargeCode}: {tooLarge.Message}", null),
                    HttpRequestException or TimeoutRejectedException or OperationCanceledException => new SendResult(SendOutcome.Transient, null, retries, exception.Message, null),
                    _ => new SendResult(SendOutcome.Permanent, null, retries, exception.Message, null),
                };
            }
            using var response = outcome.Result!;
            var status = (int)response.StatusCode;
            var body = context.Properties.GetValue(s_body, null);
            if (response.IsSuccessStatusCode)
            {
                return new SendResult(SendOutcome.Delivered, status, retries, null, null, body);
            }
            var transient = status is 408 or 429 or >= 500;
            var redirect = status is >= 300 and < 400 && response.Headers.Location is { } location
                ? $" to {Excerpt(location.ToString())}: redirects are not followed; set the destination's endpoint to where it points"
                : "";
            return new SendResult(transient ? SendOutcome.Transient : SendOutcome.Permanent, status, retries,
                $"HTTP {status} {Excerpt(response.ReasonPhrase ?? "")}{redirect}{(body is { Length: > 0 } ? ": " + body : "")}",
                RetryAfter(response));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The handler a sender sends through when it is given none: <see cref="ProxiedHandler"/> with a proxy, else <see cref="CheckedHandler"/>.</summary>
    internal static HttpMessageHandler Handler(ActivationSettings settings)
    {
        var policy = new EndpointAddresses(settings.AllowedPrivateNetworks);
        return settings.Proxy is { } proxy ? new ProxiedHandler(new Uri(proxy), policy) : CheckedHandler(policy);
    }

    /// <summary>
    /// A socket handler that connects only to allowed addresses: a literal one as it is, a name to those of its
    /// addresses that are allowed (none: refused, naming them), so a name that resolves inside the network is refused as
    /// the URL would be.
    /// </summary>
    private static SocketsHttpHandler CheckedHandler(EndpointAddresses policy) => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // Not followed: a 301, 302 or 303 turns the POST into a GET without its body, which a 200 then "delivers" (the data
        // silently lost), and headers such as an API key would go to wherever it points. A 3xx fails for good, naming it.
        AllowAutoRedirect = false,
        // Through a proxy the connection would be the proxy's, and the destination's address never checked.
        UseProxy = false,
        MaxResponseDrainSize = ResponseDrainBytes,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host.Trim('[', ']');
            var addresses = IPAddress.TryParse(host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            var refusals = addresses.Select(address => (Address: address, Why: policy.Refusal(address))).ToList();
            var allowed = refusals.Where(r => r.Why is null).Select(r => r.Address).ToArray();
            if (allowed.Length == 0)
            {
                throw addresses.Length == 0 ? new EndpointAddressRefusedException($"{host} resolves to no address")
                    : literal is not null ? new EndpointAddressRefusedException($"{host}: {refusals[0].Why}")
                    : EndpointAddressRefusedException.Resolved(host, addresses, refusals.Select(r => r.Why!));
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Why <paramref name="proxy"/> cannot be <see cref="ActivationSettings.Proxy"/>, or null when it can.</summary>
    public static string? ProxyProblem(string proxy) =>
        !Uri.TryCreate(proxy, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") ? "is not an http:// or https:// URL"
        : uri.PathAndQuery != "/" || uri.UserInfo.Length > 0 ? "may name only a scheme, a host and a port"
        : null;

    /// <summary>
    /// Sends through an HTTP proxy, after checking the request's host as a direct connection checks its address: a
    /// literal address or <c>localhost</c> as it is, a name on every address it resolves to here (any refused: the request
    /// is refused, since the proxy picks among them). A name that does not resolve here is left to the proxy, as on a
    /// network whose only way out is the proxy. Redirects are not followed (the proxy would follow them unchecked): a 3xx
    /// answer is a permanent failure naming it.
    /// </summary>
    private sealed class ProxiedHandler(Uri proxy, EndpointAddresses policy) : DelegatingHandler(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        Proxy = new WebProxy(proxy),
        UseProxy = true,
        AllowAutoRedirect = false,
        MaxResponseDrainSize = ResponseDrainBytes,
    })
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            if (policy.Refusal(uri) is { } refusal)
            {
                throw new EndpointAddressRefusedException($"{uri.IdnHost}: {refusal}");
            }
            if (uri.HostNameType == UriHostNameType.Dns && !uri.IsLoopback)
            {
                IPAddress[] addresses;
                try
                {
                    addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    addresses = [];
                }
                var refusals = addresses.Select(policy.Refusal).OfType<string>().ToList();
                if (refusals.Count > 0)
                {
                    throw EndpointAddressRefusedException.Resolved(uri.IdnHost, addresses, refusals);
                }
            }
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The refusal of an address within <paramref name="error"/> (the handler wraps it in an <see cref="HttpRequestException"/>).</summary>
    private static EndpointAddressRefusedException? Refused(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is EndpointAddressRefusedException refused)
            {
                return refused;
            }
        }
        return null;
    }

    private HttpRequestMessage Message(OutgoingRequest request, string idempotencyKey)
    {
        var message = new HttpRequestMessage(request.Method, new Uri(_endpoint, request.Path.TrimStart('/')))
        {
            Content = new ByteArrayContent(request.Body),
        };
        message.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(request.ContentType);
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        if (!message.Headers.Contains("Idempotency-Key"))
        {
            message.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }
        if (_auth is { } auth)
        {
            message.Headers.TryAddWithoutValidation(auth.Name, auth.Value);
        }
        return message;
    }

    /// <summary>
    /// How long <paramref name="response"/>'s <c>Retry-After</c> asks to wait, cut to <see cref="ActivationSettings.MaxRetryAfterSeconds"/>:
    /// a number of seconds, or an HTTP date read against the injected clock (a date passed: no wait). Null without one
    /// (or with one that does not parse).
    /// </summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var asked = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        return asked is not { } wait ? null : wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _maxRetryAfter ? _maxRetryAfter : wait;
    }

    /// <summary>
    /// Words an error from at most the first <see cref="ErrorBodyBytes"/> bytes of its body (as UTF-8): the rest is never
    /// read, however much more is sent. The status says what failed and the body only words it, so a body that stops
    /// coming (the attempt's timeout) or breaks off words it with what came.
    /// </summary>
    private static async Task<string> ReadErrorAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var buffer = new byte[ErrorBodyBytes];
        var length = 0;
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or HttpRequestException)
        {
            // What came is all there is to say.
        }
        return Excerpt(Encoding.UTF8.GetString(buffer, 0, length));
    }

    /// <summary>
    /// The body of an answer that is parsed, as UTF-8 text: refused (<see cref="AnswerTooLargeException"/>) as soon as it
    /// declares or runs past <see cref="MaxAnswerBytes"/>. A body that breaks off fails the attempt as a connection would.
    /// </summary>
    private static async Task<string> ReadAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (response.Content.Headers.ContentLength is > MaxAnswerBytes and var declared)
        {
            throw new AnswerTooLargeException(status, $"the answer's body declares {declared} bytes, more than the {MaxAnswerBytes} bytes an answer that is parsed may have");
        }
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (body.Length + read > MaxAnswerBytes)
                {
                    throw new AnswerTooLargeException(status, $"the answer's body runs past the {MaxAnswerBytes} bytes an answer that is parsed may have");
                }
                body.Write(buffer, 0, read);
            }
        }
        catch (IOException error)
        {
            throw new HttpRequestException($"the answer's body broke off: {error.Message}", error);
        }
        return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
    }

    /// <summary>The first 300 characters of <paramref name="text"/> (… when there were more): what an error keeps of what a destination sent.</summary>
    public static string Excerpt(string text)
    {
        if (text.Length <= ErrorChars)
        {
            return text;
        }
        var cut = char.IsHighSurrogate(text[ErrorChars - 1]) ? ErrorChars - 1 : ErrorChars;
        return text[..cut] + "…";
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>An answer that is parsed is longer than <see cref="HttpSender.MaxAnswerBytes"/> (<see cref="HttpSender.AnswerTooLargeCode"/>).</summary>
public sealed class AnswerTooLargeException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

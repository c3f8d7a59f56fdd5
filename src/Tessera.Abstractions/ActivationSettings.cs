namespace Tessera.Abstractions;

/// <summary>Activation settings of the workspace (docs/destinations.md, docs/limits.md).</summary>
public sealed record ActivationSettings
{
    /// <summary>
    /// Where each consent purpose is read on the merged profile (a dotted path). A value of
    /// <c>true</c>, <c>y</c> or <c>yes</c> is consent, <c>false</c>, <c>n</c> or <c>no</c> its refusal,
    /// anything else (or nothing) is unknown.
    /// </summary>
    public Dictionary<string, string> ConsentFields { get; set; } = new(StringComparer.Ordinal)
    {
        ["email"] = "consent.email",
        ["sms"] = "consent.sms",
        ["personalization"] = "consent.personalization",
        ["adTargeting"] = "consent.adTargeting",
    };

    /// <summary>What an unknown consent counts as: <c>no</c> (the default: nobody is activated without saying yes) or <c>yes</c>.</summary>
    public string DefaultConsent { get; set; } = "no";

    /// <summary>Per sandbox, what an unknown consent counts as there (overrides <see cref="DefaultConsent"/>).</summary>
    public Dictionary<string, string> DefaultConsentBySandbox { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Attempts of one HTTP request (the first and the retries) before the batch waits and tries again.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>
    /// The most <see cref="MaxAttempts"/> may be: with the backoff capped at <see cref="CircuitBreakSeconds"/>, a hundred
    /// attempts already hold one request for most of an hour (at the default), and past that the batch waiting in flight
    /// and trying again is the better place to wait.
    /// </summary>
    public const int MaxAttemptsCeiling = 100;

    /// <summary>First retry delay in milliseconds; each retry doubles it, with jitter (a <c>Retry-After</c> header wins).</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 500;

    /// <summary>
    /// The most <see cref="RetryBaseDelayMilliseconds"/> may be (a minute): the first retry is for a blip; longer waits
    /// are the circuit breaker's and <c>Retry-After</c>'s. At least 1: 0 would retry at once, with no backoff at all.
    /// </summary>
    public const int RetryBaseDelayMillisecondsCeiling = 60_000;

    /// <summary>
    /// Seconds one HTTP attempt may take: connecting, the answer's headers and as much of its body as is read (an error's
    /// first bytes, an answer that is parsed).
    /// </summary>
    public int AttemptTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The most <see cref="AttemptTimeoutSeconds"/> may be (an hour; Polly's timeout takes 10 ms to a day): an attempt
    /// that takes longer is a destination that has stopped answering.
    /// </summary>
    public const int AttemptTimeoutSecondsCeiling = 3_600;

    /// <summary>
    /// The longest wait a destination's <c>Retry-After</c> can ask for (seconds, or an HTTP date read against the
    /// server's clock); a longer one is cut to it, so a broken or hostile header parks a destination no longer.
    /// </summary>
    public int MaxRetryAfterSeconds { get; set; } = 3_600;

    /// <summary>The range <see cref="MaxRetryAfterSeconds"/> is checked against when the workspace opens (a second to a day).</summary>
    public const int MaxRetryAfterSecondsCeiling = 86_400;

    /// <summary>
    /// Seconds a destination's circuit stays open after it trips (a share of failures over a window); also the longest
    /// backoff between attempts and the wait before a failing batch is sent again.
    /// </summary>
    public int CircuitBreakSeconds { get; set; } = 30;

    /// <summary>
    /// The most <see cref="CircuitBreakSeconds"/> may be (a day, Polly's own ceiling for a break). At least 1: Polly's
    /// circuit breaker refuses a break under half a second.
    /// </summary>
    public const int CircuitBreakSecondsCeiling = 86_400;

    /// <summary>Hours a batch may keep failing with transient errors before it goes to the dead-letter store.</summary>
    public int DeadLetterAfterHours { get; set; } = 24;

    /// <summary>
    /// The most <see cref="DeadLetterAfterHours"/> may be (thirty days): a batch failing in flight holds back every newer
    /// change of its destination and the feed's purge; past a month the dead-letter store (replayed as what is true then)
    /// is the better place for it. At least 1: 0 would dead-letter at the first transient failure.
    /// </summary>
    public const int DeadLetterAfterHoursCeiling = 720;

    /// <summary>Milliseconds between the server's looks for due micro-batches.</summary>
    public int PollMilliseconds { get; set; } = 200;

    /// <summary>The least <see cref="PollMilliseconds"/> may be: below it the delivery loop all but spins.</summary>
    public const int PollMillisecondsFloor = 10;

    /// <summary>The most <see cref="PollMilliseconds"/> may be (a minute): a micro-batch is due after seconds, not minutes.</summary>
    public const int PollMillisecondsCeiling = 60_000;

    /// <summary>
    /// CIDR blocks (<c>127.0.0.0/8</c>, <c>10.20.0.0/16</c>, <c>fd12:3456::/32</c>) in which destinations may call loopback
    /// and private addresses (RFC 1918, 100.64.0.0/10, fc00::/7, ::1): none by default, as a destination URL set through
    /// the API should not reach into the server's own network. Link-local and cloud metadata addresses are refused
    /// whatever this says (docs/destinations.md#network-addresses).
    /// </summary>
    public List<string> AllowedPrivateNetworks { get; set; } = [];

    /// <summary>
    /// An HTTP proxy every destination request goes through (<c>http://proxy.internal:3128</c>), for networks whose only
    /// way out is one; none by default. The environment's <c>HTTP_PROXY</c> is not used: through a proxy Tessera checks the
    /// addresses a destination's name resolves to itself, and the proxy resolves it again
    /// (docs/destinations.md#through-a-proxy).
    /// </summary>
    public string? Proxy { get; set; }

    /// <summary>
    /// Destinations the server's delivery loop delivers or exports to at once, each on its own (one batch at a time, in
    /// order): a destination that backs off, answers slowly or exports for long takes one of them and holds up no other.
    /// </summary>
    public int DeliveryParallelism { get; set; } = 8;

    /// <summary>
    /// The most <see cref="DeliveryParallelism"/> may be: each takes a connection and a batch in memory, and what a
    /// destination costs the machine while it waits is a task, not a thread.
    /// </summary>
    public const int DeliveryParallelismCeiling = 256;

    /// <summary>Delivery runs and audit entries kept per destination (oldest dropped first).</summary>
    public int MaxRunsKept { get; set; } = 10_000;

    /// <summary>
    /// The numeric settings, each with the range it is checked against when the workspace opens (<c>CONFIG_INVALID</c>
    /// outside it, docs/limits.md): what a value outside would do is fail at run time (Polly refuses a break under half a
    /// second, <c>Task.Delay</c> a negative poll) or make no sense (no attempt at all, a timeout of nothing).
    /// </summary>
    public IEnumerable<SettingRange> Ranges() =>
    [
        new("activation.maxAttempts", MaxAttempts, 1, MaxAttemptsCeiling, "HTTP attempts of one request, the first included"),
        new("activation.retryBaseDelayMilliseconds", RetryBaseDelayMilliseconds, 1, RetryBaseDelayMillisecondsCeiling, "the first retry's delay (a minute at most)"),
        new("activation.attemptTimeoutSeconds", AttemptTimeoutSeconds, 1, AttemptTimeoutSecondsCeiling, "seconds one HTTP attempt may take (an hour at most)"),
        new("activation.maxRetryAfterSeconds", MaxRetryAfterSeconds, 1, MaxRetryAfterSecondsCeiling, "the longest wait a destination's Retry-After can ask for (a day at most)"),
        new("activation.circuitBreakSeconds", CircuitBreakSeconds, 1, CircuitBreakSecondsCeiling, "seconds a destination's circuit stays open, and its longest backoff (a day at most)"),
        new("activation.deadLetterAfterHours", DeadLetterAfterHours, 1, DeadLetterAfterHoursCeiling, "hours a batch may keep failing before it is dead-lettered (thirty days at most)"),
        new("activation.pollMilliseconds", PollMilliseconds, PollMillisecondsFloor, PollMillisecondsCeiling, "milliseconds between the server's looks for due deliveries (a minute at most)"),
        new("activation.deliveryParallelism", DeliveryParallelism, 1, DeliveryParallelismCeiling, "destinations the server delivers to at once"),
        new("activation.maxRunsKept", MaxRunsKept, 1, int.MaxValue, "delivery runs kept per destination"),
    ];

    /// <summary>What an unknown consent counts as in <paramref name="sandbox"/>.</summary>
    public bool UnknownConsentIsYes(string sandbox) =>
        (DefaultConsentBySandbox.TryGetValue(sandbox, out var value) ? value : DefaultConsent) is "yes";
}

/// <summary>A numeric setting and the range it must be in (<see cref="Min"/> and <see cref="Max"/> included).</summary>
/// <param name="What">What the setting is, for the error that names it.</param>
public sealed record SettingRange(string Name, long Value, long Min, long Max, string What)
{
    /// <summary>Why <see cref="Value"/> is refused (naming the setting, the value and the range), or null when it is in range.</summary>
    public string? Problem => Value >= Min && Value <= Max ? null
        : Max == int.MaxValue ? $"{Name} must be at least {Min}, not {Value}: {What}"
        : $"{Name} must be between {Min} and {Max}, not {Value}: {What}";
}

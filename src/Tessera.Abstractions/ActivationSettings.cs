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

    /// <summary>Records of a streaming destination's micro-batch when its policy names none.</summary>
    public int MaxBatchRecords { get; set; } = 1_000;

    /// <summary>Attempts of one HTTP request (the first and the retries) before the batch waits and tries again.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>First retry delay in milliseconds; each retry doubles it, with jitter (a <c>Retry-After</c> header wins).</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 500;

    /// <summary>
    /// Seconds one HTTP attempt may take: connecting, the answer's headers and as much of its body as is read (an error's
    /// first bytes, an answer that is parsed).
    /// </summary>
    public int AttemptTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The longest wait a destination's <c>Retry-After</c> can ask for (seconds, or an HTTP date read against the
    /// server's clock); a longer one is cut to it, so a broken or hostile header parks a destination no longer.
    /// </summary>
    public int MaxRetryAfterSeconds { get; set; } = 3_600;

    /// <summary>The range <see cref="MaxRetryAfterSeconds"/> is checked against when the workspace opens (a second to a day).</summary>
    public const int MaxRetryAfterSecondsCeiling = 86_400;

    /// <summary>Seconds a destination's circuit stays open after it trips (a share of failures over a window).</summary>
    public int CircuitBreakSeconds { get; set; } = 30;

    /// <summary>Hours a batch may keep failing with transient errors before it goes to the dead-letter store.</summary>
    public int DeadLetterAfterHours { get; set; } = 24;

    /// <summary>Milliseconds between the server's looks for due micro-batches.</summary>
    public int PollMilliseconds { get; set; } = 200;

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

    /// <summary>Delivery runs and audit entries kept per destination (oldest dropped first).</summary>
    public int MaxRunsKept { get; set; } = 10_000;

    /// <summary>What an unknown consent counts as in <paramref name="sandbox"/>.</summary>
    public bool UnknownConsentIsYes(string sandbox) =>
        (DefaultConsentBySandbox.TryGetValue(sandbox, out var value) ? value : DefaultConsent) is "yes";
}

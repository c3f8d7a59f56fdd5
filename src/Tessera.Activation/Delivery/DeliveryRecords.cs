namespace Tessera.Activation.Delivery;

/// <summary>
/// What a destination's worker must remember across a crash: the batch being sent (so that it is
/// rebuilt and sent again with the same idempotency key), the backfills still to do, and since when
/// delivery has been failing.
/// </summary>
public sealed record DestinationState
{
    public InFlightBatch? InFlight { get; set; }

    /// <summary>Audiences whose current members are still to be sent, with how far each has come.</summary>
    public Dictionary<string, BackfillProgress> Backfills { get; set; } = new(StringComparer.Ordinal);

    public long NextRun { get; set; } = 1;

    /// <summary>When the in-flight batch first failed (transient failures); null while delivery succeeds.</summary>
    public DateTimeOffset? FailingSince { get; set; }

    /// <summary>File destinations: the time of each audience's last export run.</summary>
    public Dictionary<string, DateTimeOffset> LastExports { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A backfill of one audience: the feed sequence it was activated at (members whose membership changed
/// after it are left to the feed, which sends that change) and the last profile sent (null: none yet).
/// </summary>
public sealed record BackfillProgress
{
    public long Since { get; set; }

    public string? After { get; set; }
}

/// <summary>
/// A batch being delivered: feed changes <c>(From, To]</c>, or a backfill chunk of one audience's
/// members after <see cref="After"/> up to and including <see cref="Last"/>.
/// </summary>
public sealed record InFlightBatch
{
    public long RunId { get; set; }

    public string Kind { get; set; } = DeliveryKinds.Feed;

    public long From { get; set; }

    public long To { get; set; }

    public string? Audience { get; set; }

    public string? After { get; set; }

    public string? Last { get; set; }

    public DateTimeOffset StartedAt { get; set; }
}

public static class DeliveryKinds
{
    public const string Feed = "feed";
    public const string Backfill = "backfill";
    public const string Replay = "replay";
    public const string Export = "export";
    public const string Update = "update";
}

public static class RunStatuses
{
    public const string Delivered = "delivered";
    public const string DeadLettered = "deadLettered";
    public const string Blocked = "blocked";
    public const string Retrying = "retrying";
}

/// <summary>Why a profile was not sent.</summary>
public static class ExclusionReasons
{
    public const string Consent = "consent";
    public const string Policy = "policy";
    public const string MissingIdentity = "missingIdentity";
    public const string MandatoryAttribute = "mandatoryAttribute";

    /// <summary>An earlier change of a profile in the same batch as a later one (a platform gets the latest state).</summary>
    public const string Superseded = "superseded";

    /// <summary>A member's change that would send what the destination was last sent for them (an update sent it already).</summary>
    public const string Unchanged = "unchanged";

    /// <summary>The destination lacks a setting the platform needs for this record (an account or job id).</summary>
    public const string Settings = "settings";
}

/// <summary>One micro-batch, backfill chunk, replay or export of one destination, as monitoring shows it.</summary>
public sealed record DeliveryRun
{
    public long Id { get; set; }

    public string Destination { get; set; } = "";

    public string Kind { get; set; } = DeliveryKinds.Feed;

    public string Status { get; set; } = RunStatuses.Delivered;

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset FinishedAt { get; set; }

    /// <summary>The feed range <c>(FeedFrom, FeedTo]</c> of a feed batch.</summary>
    public long? FeedFrom { get; set; }

    public long? FeedTo { get; set; }

    public List<string> Audiences { get; set; } = [];

    /// <summary>Membership changes (or members) the run read.</summary>
    public long Received { get; set; }

    /// <summary>Records sent and acknowledged.</summary>
    public long Activated { get; set; }

    /// <summary>Records not sent, by reason (consent, policy, missingIdentity, mandatoryAttribute).</summary>
    public Dictionary<string, long> Excluded { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Records that went to the dead-letter store.</summary>
    public long Failed { get; set; }

    /// <summary>HTTP attempts repeated after a failure (Polly retries and whole-batch retries).</summary>
    public long Retried { get; set; }

    public int Requests { get; set; }

    public string? Error { get; set; }
}

/// <summary>One request (or file) delivered: when, for which audiences, how many identities, and the SHA-256 of its payload.</summary>
public sealed record DeliveryAudit
{
    public DateTimeOffset At { get; set; }

    public string Destination { get; set; } = "";

    public long RunId { get; set; }

    public int Request { get; set; }

    public List<string> Audiences { get; set; } = [];

    public int Records { get; set; }

    public int Identities { get; set; }

    public string PayloadSha256 { get; set; } = "";

    public string IdempotencyKey { get; set; } = "";

    public int? StatusCode { get; set; }

    /// <summary>A file export's file instead of a request.</summary>
    public string? File { get; set; }
}

/// <summary>A batch that could not be delivered: which changes it held and why it failed. A replay sends what is true now.</summary>
public sealed record DeadLetter
{
    public long RunId { get; set; }

    public string Destination { get; set; } = "";

    public DateTimeOffset At { get; set; }

    public string Error { get; set; } = "";

    public List<DeadRecord> Records { get; set; } = [];
}

public sealed record DeadRecord(string AudienceId, string ProfileId, string Operation, long Sequence);

namespace Tessera.Abstractions;

/// <summary>Audience limits and schedules (docs/limits.md, docs/segmentation.md).</summary>
public sealed record SegmentationSettings
{
    /// <summary>Audiences per sandbox, any state but deleted (<c>AUDIENCE_LIMIT</c> beyond).</summary>
    public int MaxAudiences { get; set; } = 4_000;

    /// <summary>Published audiences the streaming engine evaluates, per sandbox.</summary>
    public int MaxStreamingAudiences { get; set; } = 500;

    /// <summary>Published audiences the edge engine evaluates, per sandbox.</summary>
    public int MaxEdgeAudiences { get; set; } = 150;

    /// <summary>Days an exited membership is kept before it is purged.</summary>
    public int ExitRetentionDays { get; set; } = 30;

    /// <summary>When the batch engine evaluates every published audience (cron, UTC).</summary>
    public string BatchSchedule { get; set; } = "0 0 * * *";

    public const int DefaultStreamingBatch = 256;

    /// <summary>
    /// Changes the streaming engine evaluates before it commits their answers together (one synced write; the next
    /// batch is evaluated meanwhile). Larger batches answer more changes a second under load; smaller ones answer each change sooner.
    /// </summary>
    public int StreamingBatch { get; set; } = DefaultStreamingBatch;

    /// <summary>Profiles of a streaming batch evaluated at once, each on a thread of its own (0: one per core).</summary>
    public int StreamingParallelism { get; set; }

    /// <summary>Minutes between incremental runs over the profiles changed since the last run (0: never).</summary>
    public int IncrementalIntervalMinutes { get; set; } = 60;
}

using Tessera.Abstractions;
using Tessera.Ingestion;

namespace Tessera.Server.Api;

/// <summary>Every error response: <c>{"error":{"code":"...","message":"..."}}</c>.</summary>
public sealed record ApiErrorResponse(ApiError Error);

/// <summary>A stable error <see cref="Code"/>, a message for people, and per-field details when there are any.</summary>
public sealed record ApiError(string Code, string Message, IReadOnlyList<ValidationError>? Details = null);

public sealed record HealthResponse(string Status);

/// <summary>The answer to a streaming request: its batch, its counts and what happened to each record.</summary>
public sealed record IngestResponse
{
    public required string BatchId { get; init; }
    public required string Dataset { get; init; }
    public required BatchStatus Status { get; init; }
    public required BatchCounts Counts { get; init; }
    /// <summary>Per-record outcomes (all of them, only the rejected ones, or none: <c>?outcomes=all|rejected|none</c>).</summary>
    public IReadOnlyList<RecordOutcome>? Records { get; init; }
}

/// <summary>One page of a batch's quarantine.</summary>
public sealed record QuarantinePage
{
    public required string BatchId { get; init; }
    public required IReadOnlyList<QuarantineEntry> Entries { get; init; }
    /// <summary>The <c>offset</c> of the next page, or null when this was the last one.</summary>
    public int? NextOffset { get; init; }
}

/// <summary>
/// Segment-compatible answer: exactly <c>{"success":true}</c> when every message was accepted;
/// otherwise <c>success</c> is false and the rejected messages are listed (they are in the quarantine).
/// </summary>
public sealed record SegmentResponse
{
    public required bool Success { get; init; }
    public int? Accepted { get; init; }
    public IReadOnlyList<SegmentRejection>? Rejected { get; init; }
    /// <summary>Batches the request was stored under (events and profiles go to separate datasets).</summary>
    public IReadOnlyList<string>? Batches { get; init; }
}

/// <summary>A Segment message that was quarantined: its position in the request and why.</summary>
public sealed record SegmentRejection(int Index, string Dataset, IReadOnlyList<ValidationError> Errors);

/// <summary>The Segment binding of a sandbox after its schemas and datasets were registered.</summary>
public sealed record SegmentSetupResponse(string Sandbox, SegmentBinding Binding, SchemaDocument EventSchema, SchemaDocument ProfileSchema);

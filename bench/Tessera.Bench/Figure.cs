namespace Tessera.Bench;

/// <summary>
/// One line of the benchmark suite's report: a figure Tessera reached, the peer or floor measured in
/// the same run in the same unit (bare parse, plain union-find, DuckDB, bare Kestrel, bare SHA-256),
/// their ratio, and the target an issue holds it to.
/// </summary>
/// <param name="Group">The stage: ingestion, identity, profiles, pql, segmentation, activation.</param>
/// <param name="Name">What was measured, in words a reader of the table understands.</param>
/// <param name="Value">Tessera's figure, in <paramref name="Unit"/>.</param>
/// <param name="Unit">For example <c>rows/s</c>, <c>ms p99</c>, <c>s</c>.</param>
/// <param name="HigherIsBetter">True for throughput, false for times and latencies.</param>
/// <param name="Peer">The peer or floor it is compared with, when there is one.</param>
/// <param name="PeerValue">The peer's figure in the same unit, measured in the same run.</param>
/// <param name="Target">The goal as the issue states it (for example <c>≥ 500,000 rows/s</c>).</param>
/// <param name="Met">Whether the target holds in this run; null when there is no target.</param>
/// <param name="Notes">Sizes, GC counts, anything needed to read the figure honestly.</param>
public sealed record Figure(
    string Group,
    string Name,
    double Value,
    string Unit,
    bool HigherIsBetter,
    string? Peer = null,
    double? PeerValue = null,
    string? Target = null,
    bool? Met = null,
    string? Notes = null)
{
    /// <summary>Tessera's figure divided by the peer's (throughput: share of the floor; time: multiple of the peer).</summary>
    public double? Ratio => PeerValue is { } peer && peer != 0 ? Value / peer : null;
}

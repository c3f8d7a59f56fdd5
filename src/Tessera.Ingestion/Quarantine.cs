using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Abstractions;
using Tessera.Storage;

namespace Tessera.Ingestion;

/// <summary>
/// A rejected record: where it was (row, line, source), what it was (raw text, or the row's
/// column values), and why (every error with its field path and code). It can be replayed.
/// </summary>
public sealed record QuarantineEntry
{
    public required string BatchId { get; init; }
    public required string Dataset { get; init; }
    public required long Row { get; init; }
    public long Line { get; init; }
    public string? Source { get; init; }
    public required string Format { get; init; }
    /// <summary>The record as received: JSON text, or (tabular sources) a JSON object of column → value.</summary>
    public string? Raw { get; init; }
    public bool Tabular { get; init; }
    public required IReadOnlyList<ValidationError> Errors { get; init; }
    /// <summary>The replay batch that stored this record after a fix, if any.</summary>
    public string? ResolvedBy { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(QuarantineEntry))]
[JsonSerializable(typeof(List<QuarantineEntry>))]
public sealed partial class QuarantineJson : JsonSerializerContext;

/// <summary>The quarantine space: entries keyed by sandbox, batch and row.</summary>
public sealed class QuarantineStore(IStore store)
{
    public static byte[] Key(string sandbox, string batchId, long row) => Encoding.UTF8.GetBytes($"{sandbox}\0{batchId}\0{row:D12}");

    public static void Put(WriteSet writes, string sandbox, QuarantineEntry entry) =>
        writes.Put(StoreSpace.Quarantine, 0, Key(sandbox, entry.BatchId, entry.Row), JsonSerializer.SerializeToUtf8Bytes(entry, QuarantineJson.Default.QuarantineEntry));

    public IEnumerable<QuarantineEntry> List(string sandbox, string batchId)
    {
        foreach (var (_, value) in store.Scan(StoreSpace.Quarantine, 0, Encoding.UTF8.GetBytes($"{sandbox}\0{batchId}\0")))
        {
            yield return JsonSerializer.Deserialize(value, QuarantineJson.Default.QuarantineEntry)!;
        }
    }
}

using System.Buffers;
using Tessera.Abstractions;
using Tessera.Identity.Graph;

namespace Tessera.Identity.Tests.Graph;

/// <summary>Ledgers written as lines of <c>Namespace:value, Namespace:value</c>, one occurrence per line.</summary>
internal static class GraphFixtures
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static IdentityType? TypeOf(string ns) => ns switch
    {
        "CRMID" or "LoyaltyID" => IdentityType.CrossDevice,
        "Email" => IdentityType.Email,
        "Phone" => IdentityType.Phone,
        "ECID" => IdentityType.Cookie,
        "IDFA" or "GAID" => IdentityType.Device,
        _ => null,
    };

    public static CompiledGraphRules Rules(string[]? unique = null, string[]? priority = null, int maxIdentities = 50) =>
        CompiledGraphRules.Compile(new IdentityGraphRules
        {
            UniqueNamespaces = [.. unique ?? ["CRMID"]],
            Priority = [.. priority ?? []],
            MaxIdentities = maxIdentities,
        }, TypeOf);

    /// <summary>An entry at <paramref name="minute"/> minutes after <see cref="Start"/>.</summary>
    public static LedgerEntry Entry(long sequence, int minute, string identities, string batch = "b1", string dataset = "web") =>
        new(sequence, Start.AddMinutes(minute), dataset, batch, $"r{sequence}", Parse(identities));

    public static IdentityKey[] Parse(string identities) =>
        [.. identities.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Key)];

    public static IdentityKey Key(string text) =>
        IdentityKey.TryParse(text, out var key) ? key : throw new ArgumentException($"not Namespace:value: {text}");

    /// <summary>Lines in time order: line i happens at minute i.</summary>
    public static List<LedgerEntry> Ledger(params string[] lines) =>
        [.. lines.Select((line, i) => Entry(i + 1, i, line))];

    public static IdentityGraph Incremental(CompiledGraphRules rules, IEnumerable<LedgerEntry> ledger)
    {
        var graph = new IdentityGraph(rules);
        foreach (var entry in ledger)
        {
            graph.Add(entry);
        }
        return graph;
    }

    /// <summary>Graphs as sorted text, e.g. <c>CRMID:bob ECID:d1 | CRMID:alice</c>: primary first in each.</summary>
    public static string Describe(IdentityGraph graph) =>
        string.Join(" | ", graph.Snapshots().Select(g => string.Join(" ", g.Identities)));

    /// <summary>Cut links as sorted text, each written with its two identities in ordinal order.</summary>
    public static string DescribeCuts(IdentityGraph graph) =>
        string.Join(" | ", graph.CutLinks()
            .Select(c => string.CompareOrdinal(c.Link.From.ToString(), c.Link.To.ToString()) < 0 ? $"{c.Link.From}-{c.Link.To} {c.Rule}" : $"{c.Link.To}-{c.Link.From} {c.Rule}")
            .Order(StringComparer.Ordinal));

    /// <summary>
    /// Hands each entry as the store holds it (encoded key and value, sandbox <c>prod</c>) to <paramref name="take"/>, then
    /// overwrites both buffers, as a store's scan reuses them: whatever keeps an entry must have copied it.
    /// </summary>
    public static void ForEachStored(IEnumerable<LedgerEntry> ledger, Action<LedgerEntry, ReadOnlySpan<byte>, ReadOnlySpan<byte>> take)
    {
        var key = new ArrayBufferWriter<byte>();
        var value = new ArrayBufferWriter<byte>();
        foreach (var entry in ledger)
        {
            key.ResetWrittenCount();
            value.ResetWrittenCount();
            LedgerCodec.WriteKey(key, "prod", entry.Sequence);
            LedgerCodec.Encode(entry, value);
            take(entry, key.WrittenSpan, value.WrittenSpan);
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(key.WrittenMemory).Span.Fill(0xFF);
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(value.WrittenMemory).Span.Fill(0xFF);
        }
    }
}

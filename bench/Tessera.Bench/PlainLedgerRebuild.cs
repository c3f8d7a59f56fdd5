using System.Text;
using Tessera.Identity.Graph;

namespace Tessera.Bench;

/// <summary>
/// The floor for a rebuild from the stored ledger: what a plain program does with the same stored entries. Each
/// entry is read in place, each identity found in a <c>Dictionary&lt;string,int&gt;</c> of its namespace by its
/// characters (a string made only for a value not seen before, numbered in order of first occurrence), and the
/// entry's identities joined in a plain union-find. No rules, no link records, no sources or times, one thread.
/// </summary>
/// <remarks>
/// The union-find floor beside every identity figure starts from interned ids; a rebuild does not. This one pays
/// what any rebuild from stored text pays on this machine (reading the entries, a hash lookup per occurrence,
/// memory for ten million values new to the process), so a rebuild's target can be judged against it.
/// </remarks>
internal sealed class PlainLedgerRebuild(EncodedLedger ledger, string[] namespaces, int[] identitiesByNamespace, UnionFind unionFind)
{
    private readonly byte[][] _namespaces = [.. namespaces.Select(Encoding.UTF8.GetBytes)];

    /// <summary>Identities numbered by the last <see cref="Run"/>.</summary>
    public int Identities { get; private set; }

    /// <summary>Rebuilds from scratch (the union-find reset by the caller): dictionaries sized for the identities, as a restart that kept its counts would.</summary>
    public void Run()
    {
        var dictionaries = new Dictionary<string, int>[_namespaces.Length];
        for (var ns = 0; ns < dictionaries.Length; ns++)
        {
            dictionaries[ns] = new Dictionary<string, int>(identitiesByNamespace[ns], StringComparer.Ordinal);
        }
        var lookups = dictionaries.Select(d => d.GetAlternateLookup<ReadOnlySpan<char>>()).ToArray();
        Span<char> chars = stackalloc char[512];
        var next = 0;
        for (var i = 0; i < ledger.Count; i++)
        {
            var value = ledger.Value(i);
            var entry = LedgerCodec.Read(ledger.Key(i), value);
            var position = entry.IdentitiesAt;
            var first = -1;
            for (var k = 0; k < entry.Count; k++)
            {
                LedgerCodec.ReadIdentity(value, ref position, out var nsUtf8, out var utf8);
                var ns = IndexOf(nsUtf8);
                var text = chars[..Encoding.UTF8.GetChars(utf8, chars)];
                if (!lookups[ns].TryGetValue(text, out var id))
                {
                    id = next++;
                    dictionaries[ns].Add(new string(text), id);
                }
                if (first < 0)
                {
                    first = id;
                }
                else
                {
                    unionFind.Union(first, id);
                }
            }
        }
        Identities = next;
    }

    private int IndexOf(ReadOnlySpan<byte> ns)
    {
        for (var i = 0; i < _namespaces.Length; i++)
        {
            if (ns.SequenceEqual(_namespaces[i]))
            {
                return i;
            }
        }
        throw new InvalidDataException($"namespace {Encoding.UTF8.GetString(ns)} is not the workload's");
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Storage;

namespace Tessera.Identity;

/// <summary>Which ledger entries a deletion removes: those of a batch, of a dataset, or one identity from every entry.</summary>
public sealed record LedgerFilter(string? Batch = null, string? Dataset = null, IdentityKey? Identity = null)
{
    public override string ToString() =>
        Batch is not null ? $"batch {Batch}" : Dataset is not null ? $"dataset {Dataset}" : Identity is not null ? $"identity {Identity}" : "nothing";
}

/// <summary>What a ledger deletion removed, and the graphs before and after.</summary>
public sealed record LedgerDeletion(string Filter, int EntriesRemoved, int EntriesRewritten, int GraphsBefore, int GraphsAfter, int LinksBefore, int LinksAfter);

/// <summary>The size of a sandbox's identity graphs: identities, graphs (people), links, and links the rules cut.</summary>
public sealed record GraphCounts(int Identities, int Graphs, int Links, int CutLinks);

/// <summary>One identity's graph, as the profile store and the APIs see it.</summary>
public sealed record IdentityLookup(IdentityKey Identity, GraphSnapshot Graph, IReadOnlyList<LinkInfo> Links);

/// <summary>
/// The identity graphs of every sandbox, kept in memory and derived from the durable link ledger.
/// Ingestion writes ledger entries in the same commit as the facts that carry them
/// (<see cref="Write"/>) and applies them here once durable (<see cref="ApplyCommitted(string, WriteSet)"/>); opening a
/// workspace derives every graph from the ledger again, so nothing acknowledged is lost.
/// </summary>
public sealed class IdentityService
{
    private const string RulesKeyPrefix = "identity-rules\0";
    private const string SizeKeyPrefix = "identity-graph\0";
    private const int DeleteChunk = 10_000;

    private readonly IStore _store;
    private readonly Func<string, Func<string, IdentityType?>> _namespaceTypes;
    private readonly ConcurrentDictionary<string, SandboxGraph> _sandboxes = new(StringComparer.Ordinal);
    private readonly Lock _loadLock = new();
    private long _lastSequence;
    private volatile bool _loaded;

    /// <param name="namespaceTypes">Per sandbox: a namespace's type, or null when the sandbox has no such namespace.</param>
    private IdentityService(IStore store, Func<string, Func<string, IdentityType?>> namespaceTypes)
    {
        _store = store;
        _namespaceTypes = namespaceTypes;
    }

    /// <summary>
    /// The identity service of a store. Cheap: the graphs are derived from the ledger on first use
    /// (<see cref="EnsureLoaded"/>), so a command that never touches identities does not pay for it.
    /// </summary>
    public static IdentityService Open(IStore store, Func<string, Func<string, IdentityType?>> namespaceTypes) => new(store, namespaceTypes);

    /// <summary>Derives every sandbox's graph from the ledger, once; a server calls it before it listens.</summary>
    public void EnsureLoaded()
    {
        if (_loaded)
        {
            return;
        }
        lock (_loadLock)
        {
            if (_loaded)
            {
                return;
            }
            // Read in place: entries in a row are mostly of one sandbox, and identities already interned cost no string.
            // Each sandbox's entries go through one StoredLedgerLoad, which overlaps several entries' cache misses.
            var sandboxKey = Array.Empty<byte>();
            IdentityGraph.StoredLedgerLoad? load = null;
            var loads = new Dictionary<IdentityGraph, IdentityGraph.StoredLedgerLoad>();
            try
            {
                for (var shard = 0; shard < _store.ShardCount; shard++)
                {
                    _store.ScanOnce(StoreSpace.Facts, shard, [LedgerCodec.Tag, 0], (key, value) =>
                    {
                        if (load is null || !key[2..^9].SequenceEqual(sandboxKey))
                        {
                            sandboxKey = key[2..^9].ToArray();
                            var graph = Slot(SandboxOf(key)).Graph;
                            if (!loads.TryGetValue(graph, out load))
                            {
                                load = graph.LoadStored();
                                loads.Add(graph, load);
                            }
                        }
                        _lastSequence = Math.Max(_lastSequence, load.Take(key, value));
                        return true;
                    });
                }
                foreach (var started in loads.Values)
                {
                    started.Complete();
                }
            }
            finally
            {
                // A load left by a failed scan stops its recorder thread.
                foreach (var started in loads.Values)
                {
                    started.Dispose();
                }
            }
            foreach (var (name, sandbox) in _sandboxes)
            {
                sandbox.Graph.RederiveAll();
                RememberSize(name, sandbox);
            }
            _loaded = true;
        }
    }

    /// <summary>The sequence number of the next ledger entry; unique and increasing across restarts.</summary>
    public long NextSequence()
    {
        EnsureLoaded();
        return Interlocked.Increment(ref _lastSequence);
    }

    /// <summary>Adds a ledger entry to a commit, on the shard of the fact that carries it.</summary>
    public static void Write(WriteSet writes, int shard, string sandbox, LedgerEntry entry, ArrayBufferWriter<byte> scratch)
    {
        scratch.ResetWrittenCount();
        var keyLength = LedgerCodec.WriteKey(scratch, sandbox, entry.Sequence);
        LedgerCodec.Encode(entry, scratch);
        writes.Put(StoreSpace.Facts, shard, scratch.WrittenSpan[..keyLength], scratch.WrittenSpan[keyLength..]);
    }

    /// <summary>
    /// As <see cref="ApplyCommitted(string, WriteSet)"/> for a file batch's sets, in order, the graph first sized for
    /// the identities and links they are estimated to add (<see cref="IdentityGraph.GrowthEstimate"/>).
    /// </summary>
    public void ApplyCommitted(string sandbox, IReadOnlyList<WriteSet> sets)
    {
        var state = GetOrCreate(sandbox);
        state.Lock.EnterWriteLock();
        try
        {
            if (state.Pending is null)
            {
                var estimate = state.Graph.EstimateGrowth();
                foreach (var writes in sets)
                {
                    for (var i = 0; i < writes.Count; i++)
                    {
                        var operation = writes[i];
                        if (IsLedgerEntry(operation))
                        {
                            estimate.Take(operation.Key.Span, operation.Value.Span);
                        }
                    }
                }
                // An eighth more than estimated: a table that outgrows its room by one identity doubles.
                state.Graph.Reserve(estimate.Identities + (estimate.Identities / 8), estimate.Links + (estimate.Links / 8));
            }
        }
        finally
        {
            state.Lock.ExitWriteLock();
        }
        foreach (var writes in sets)
        {
            ApplyCommitted(sandbox, writes);
        }
    }

    /// <summary>Applies the ledger entries in a commit that is now durable to the sandbox's graph.</summary>
    public void ApplyCommitted(string sandbox, WriteSet writes)
    {
        var any = false;
        for (var i = 0; i < writes.Count && !any; i++)
        {
            any = IsLedgerEntry(writes[i]);
        }
        if (!any)
        {
            return;
        }
        var state = GetOrCreate(sandbox);
        state.Lock.EnterWriteLock();
        try
        {
            if (state.Pending is not null)
            {
                // A rebuild is running: it takes these entries as objects when it is done.
                var entries = Decoded(writes);
                state.Graph.Add(entries);
                state.Pending.AddRange(entries);
                return;
            }
            // Read in place: an identity the graph knows costs no string.
            var add = state.Graph.AddStored();
            for (var i = 0; i < writes.Count; i++)
            {
                var operation = writes[i];
                if (IsLedgerEntry(operation))
                {
                    add.Take(operation.Key.Span, operation.Value.Span);
                }
            }
            add.Complete();
            // Grown an eighth past the size kept for the next start (a large file batch, a day of streaming): kept again, so
            // that a restart right after it makes room up front too. Unsized, the first start after a 10,000,000-identity
            // load grew its tables by doubling (BENCHMARKS.md, "A real restart").
            if (state.Graph.IdentityCount > state.KeptIdentities + (state.KeptIdentities / 8))
            {
                RememberSize(sandbox, state);
            }
        }
        finally
        {
            state.Lock.ExitWriteLock();
        }
    }

    private static bool IsLedgerEntry(in WriteOperation operation) =>
        operation is { Space: StoreSpace.Facts, IsDelete: false } && operation.Key.Span[0] == LedgerCodec.Tag;

    private static List<LedgerEntry> Decoded(WriteSet writes)
    {
        var entries = new List<LedgerEntry>();
        for (var i = 0; i < writes.Count; i++)
        {
            if (IsLedgerEntry(writes[i]))
            {
                entries.Add(LedgerCodec.Decode(writes[i].Key.Span, writes[i].Value.Span));
            }
        }
        return entries;
    }

    /// <summary>The graph an identity belongs to, with its kept and cut links; null when the identity is unknown.</summary>
    public IdentityLookup? Find(string sandbox, IdentityKey identity) => Read(sandbox, graph =>
    {
        if (!graph.TryGetNode(identity, out var node))
        {
            return null;
        }
        var snapshot = graph.Snapshot(node);
        return new IdentityLookup(identity, snapshot, graph.LinksOf(node));
    });

    /// <summary>The graph an identity belongs to (primary and identities, no links); null when the identity is unknown.</summary>
    public GraphSnapshot? GraphOf(string sandbox, IdentityKey identity) => Read(sandbox, graph =>
        graph.TryGetNode(identity, out var node) ? graph.Snapshot(node) : null);

    /// <summary>
    /// Per identity, whether its graph holds another identity: what <see cref="GraphOf"/> would say with more than one
    /// identity in it, for many identities under one lock and without a snapshot each (a batch run asks it of every identity).
    /// </summary>
    public bool[] InLargerGraphs(string sandbox, IReadOnlyList<IdentityKey> identities) => Read(sandbox, graph =>
    {
        var larger = new bool[identities.Count];
        for (var i = 0; i < larger.Length; i++)
        {
            larger[i] = graph.TryGetNode(identities[i], out var node) && graph.SizeOf(node) > 1;
        }
        return larger;
    });

    /// <summary>Every identity of the sandbox that holds facts (<see cref="IdentityGraph.IsHolder"/>), under one read lock.</summary>
    public List<IdentityKey> Holders(string sandbox) => Read(sandbox, graph =>
    {
        var holders = new List<IdentityKey>(graph.HolderCount);
        graph.ForEachHolder(node => holders.Add(graph.KeyOf(node)));
        return holders;
    });

    /// <summary>
    /// A uniform sample, without replacement, of the sandbox's profiles (identities holding facts, or with
    /// <paramref name="stitched"/> their graphs), each as one of its identities, and how many profiles there are:
    /// <see cref="IdentityGraph.SampleProfiles"/>, under one read lock.
    /// </summary>
    public (int Profiles, List<IdentityKey> Sample) SampleProfiles(string sandbox, int count, bool stitched, Random random) => Read(sandbox, graph =>
    {
        var (profiles, nodes) = graph.SampleProfiles(count, stitched, random);
        return (profiles, nodes.ConvertAll(graph.KeyOf));
    });

    public Explanation Explain(string sandbox, IdentityKey a, IdentityKey b)
    {
        var state = GetOrCreate(sandbox);
        // Explaining a cut derives its region again (to the same result), which writes.
        state.Lock.EnterWriteLock();
        try
        {
            return state.Graph.Explain(a, b);
        }
        finally
        {
            state.Lock.ExitWriteLock();
        }
    }

    /// <summary>Every link the rules cut, with the rule and what clashed, newest first.</summary>
    public List<CutLink> CutLinks(string sandbox)
    {
        var state = GetOrCreate(sandbox);
        // Tracing a cut derives its region again (to the same result), which writes.
        state.Lock.EnterWriteLock();
        try
        {
            return state.Graph.CutLinks();
        }
        finally
        {
            state.Lock.ExitWriteLock();
        }
    }

    /// <summary>How many graphs of the sandbox satisfy <paramref name="predicate"/> (a report's figure, such as graphs joining a device to a person).</summary>
    public int CountGraphs(string sandbox, Func<GraphSnapshot, bool> predicate) => Read(sandbox, graph => graph.CountGraphs(predicate));

    public GraphCounts Counts(string sandbox) =>
        Read(sandbox, graph => new GraphCounts(graph.IdentityCount, graph.GraphCount, graph.LinkCount, graph.CutLinkCount));

    public IdentityGraphRules GetRules(string sandbox) => GetOrCreate(sandbox).Graph.Rules.Source;

    /// <summary>
    /// Derives the sandbox's graphs under <paramref name="rules"/> and reports what would change;
    /// unless <paramref name="dryRun"/>, stores the rules and switches to the new graphs.
    /// </summary>
    /// <exception cref="InvalidGraphRulesException">when the rules are refused.</exception>
    public async Task<GraphDiff> SetRulesAsync(string sandbox, IdentityGraphRules rules, bool dryRun, CancellationToken cancellationToken = default)
    {
        var compiled = CompiledGraphRules.Compile(rules, _namespaceTypes(sandbox));
        var state = GetOrCreate(sandbox);
        if (dryRun)
        {
            return Read(sandbox, graph => graph.Compare(graph.WithRules(compiled)));
        }
        using var writes = new WriteSet(1024);
        writes.Put(StoreSpace.Catalog, 0, RulesKey(sandbox), JsonSerializer.SerializeToUtf8Bytes(rules, IdentityJson.Default.IdentityGraphRules));
        await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        state.Lock.EnterWriteLock();
        try
        {
            var next = state.Graph.WithRules(compiled);
            var diff = state.Graph.Compare(next);
            state.Graph = next;
            return diff;
        }
        finally
        {
            state.Lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Removes ledger entries (of a batch or a dataset), or one identity from every entry, and derives
    /// the sandbox's graphs again from what remains: graphs split where nothing else holds them.
    /// Ingestion goes on meanwhile: what it applies is applied to the new graphs as well.
    /// </summary>
    public async Task<LedgerDeletion> DeleteAsync(string sandbox, LedgerFilter filter, CancellationToken cancellationToken = default)
    {
        var state = GetOrCreate(sandbox);
        await state.Maintenance.WaitAsync(cancellationToken).ConfigureAwait(false);
        List<WriteSet> changes = [];
        try
        {
            IdentityGraph before;
            state.Lock.EnterWriteLock();
            try
            {
                before = state.Graph;
                state.Pending = [];
            }
            finally
            {
                state.Lock.ExitWriteLock();
            }
            var rebuilt = new IdentityGraph(before.Rules, before.IdentityCount, before.LinkCount);
            var (removed, rewritten) = RewriteLedger(sandbox, filter, rebuilt, changes);
            foreach (var writes in changes)
            {
                await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            }
            rebuilt.RederiveAll();
            state.Lock.EnterWriteLock();
            try
            {
                foreach (var entry in state.Pending)
                {
                    rebuilt.Add(entry);
                }
                state.Graph = rebuilt;
                state.Pending = null;
            }
            finally
            {
                state.Lock.ExitWriteLock();
            }
            return new LedgerDeletion(filter.ToString(), removed, rewritten, before.GraphCount, rebuilt.GraphCount, before.LinkCount, rebuilt.LinkCount);
        }
        finally
        {
            if (state.Pending is not null)
            {
                state.Lock.EnterWriteLock();
                state.Pending = null;
                state.Lock.ExitWriteLock();
            }
            foreach (var writes in changes)
            {
                writes.Dispose();
            }
            state.Maintenance.Release();
        }
    }

    /// <summary>Derives the sandbox's graphs again from the durable ledger (after a write that may not have landed).</summary>
    public Task RederiveAsync(string sandbox, CancellationToken cancellationToken = default) =>
        DeleteAsync(sandbox, new LedgerFilter(), cancellationToken);

    /// <summary>
    /// The durable ledger entries that name any of <paramref name="identities"/> (in shard, then
    /// sequence order): what links them, and where each link came from. A scan of the sandbox's
    /// ledger on every shard: the ledger is keyed by sequence, not by identity.
    /// </summary>
    public List<LedgerEntry> LedgerEntriesNaming(string sandbox, IReadOnlyCollection<IdentityKey> identities)
    {
        var wanted = identities as IReadOnlySet<IdentityKey> ?? identities.ToHashSet();
        var result = new List<LedgerEntry>();
        if (wanted.Count == 0)
        {
            return result;
        }
        var prefix = LedgerCodec.SandboxPrefix(sandbox);
        for (var shard = 0; shard < _store.ShardCount; shard++)
        {
            foreach (var (key, value) in _store.Scan(StoreSpace.Facts, shard, prefix))
            {
                var entry = LedgerCodec.Decode(key, value);
                if (entry.Identities.Any(wanted.Contains))
                {
                    result.Add(entry);
                }
            }
        }
        return result;
    }

    /// <summary>Scans the sandbox's ledger: the changes <paramref name="filter"/> asks for go to <paramref name="changes"/>, what remains to <paramref name="remaining"/>.</summary>
    private (int Removed, int Rewritten) RewriteLedger(string sandbox, LedgerFilter filter, IdentityGraph remaining, List<WriteSet> changes)
    {
        var prefix = LedgerCodec.SandboxPrefix(sandbox);
        var scratch = new ArrayBufferWriter<byte>(256);
        var removed = 0;
        var rewritten = 0;
        WriteSet? writes = null;
        for (var shard = 0; shard < _store.ShardCount; shard++)
        {
            foreach (var (key, value) in _store.Scan(StoreSpace.Facts, shard, prefix))
            {
                if (writes is null || writes.Count >= DeleteChunk)
                {
                    writes = new WriteSet();
                    changes.Add(writes);
                }
                LedgerEntry? entry = LedgerCodec.Decode(key, value);
                if (filter.Batch is not null ? entry.Batch == filter.Batch : filter.Dataset is not null && entry.Dataset == filter.Dataset)
                {
                    writes.Delete(StoreSpace.Facts, shard, key);
                    removed++;
                    entry = null;
                }
                else if (filter.Identity is { } identity && entry.Identities.Contains(identity))
                {
                    IdentityKey[] rest = [.. entry.Identities.Where(i => i != identity)];
                    if (rest.Length == 0)
                    {
                        writes.Delete(StoreSpace.Facts, shard, key);
                        removed++;
                        entry = null;
                    }
                    else
                    {
                        // The primary removed: none of the rest holds what was stored under it (a privacy deletion deletes it; a
                        // deletion of the identity alone leaves it under an identity the graph no longer knows).
                        entry = entry with { Identities = rest, FirstHolds = entry.FirstHolds && entry.Identities[0] != identity };
                        Write(writes, shard, sandbox, entry, scratch);
                        rewritten++;
                    }
                }
                if (entry is not null)
                {
                    remaining.Record(entry);
                }
            }
        }
        return (removed, rewritten);
    }

    private T Read<T>(string sandbox, Func<IdentityGraph, T> read)
    {
        var state = GetOrCreate(sandbox);
        state.Lock.EnterReadLock();
        try
        {
            return read(state.Graph);
        }
        finally
        {
            state.Lock.ExitReadLock();
        }
    }

    private SandboxGraph GetOrCreate(string sandbox)
    {
        EnsureLoaded();
        return Slot(sandbox);
    }

    private SandboxGraph Slot(string sandbox) => _sandboxes.GetOrAdd(sandbox, static (name, service) =>
    {
        var stored = service._store.Get(StoreSpace.Catalog, 0, RulesKey(name));
        var rules = stored is null ? IdentityGraphRules.Default() : JsonSerializer.Deserialize(stored, IdentityJson.Default.IdentityGraphRules)!;
        var types = service._namespaceTypes(name);
        CompiledGraphRules compiled;
        try
        {
            compiled = CompiledGraphRules.Compile(rules, types);
        }
        catch (InvalidGraphRulesException) when (stored is null)
        {
            // A sandbox without the default's namespaces (a CRMID) starts with no unique namespace.
            compiled = CompiledGraphRules.Compile(new IdentityGraphRules(), types);
        }
        return service.SizeKept(name) is { } size
            ? new SandboxGraph(new IdentityGraph(compiled, size.Identities, size.Links)) { KeptIdentities = size.Identities }
            : new SandboxGraph(new IdentityGraph(compiled));
    }, this);

    /// <summary>The size kept for the sandbox's graph, which the next start makes room for up front; null when none is kept.</summary>
    public (int Identities, int Links)? SizeKept(string sandbox) =>
        _store.Get(StoreSpace.Catalog, 0, SizeKey(sandbox)) is { Length: 8 } size
            ? (BinaryPrimitives.ReadInt32LittleEndian(size), BinaryPrimitives.ReadInt32LittleEndian(size.AsSpan(4)))
            : null;

    /// <summary>
    /// Keeps the size of a sandbox's graph (just derived from the ledger, or grown since), so that the next start
    /// makes room for it up front instead of growing its tables by doubling. Only a hint: it is not waited for, and
    /// a failed or stale one costs time, never correctness.
    /// </summary>
    private void RememberSize(string sandbox, SandboxGraph state)
    {
        var graph = state.Graph;
        if (graph.IdentityCount == 0)
        {
            return;
        }
        state.KeptIdentities = graph.IdentityCount;
        // An eighth more than it holds: it is kept again only once it has grown that much, so a start never finds more
        // than the room it made (a table that outgrows its room by one identity doubles).
        var size = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(size, graph.IdentityCount + (graph.IdentityCount / 8));
        BinaryPrimitives.WriteInt32LittleEndian(size.AsSpan(4), graph.LinkCount + (graph.LinkCount / 8));
        var writes = new WriteSet(64);
        writes.Put(StoreSpace.Catalog, 0, SizeKey(sandbox), size);
        _ = _store.CommitAsync(writes).ContinueWith(static (commit, state) =>
        {
            _ = commit.Exception;
            ((WriteSet)state!).Dispose();
        }, writes, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static byte[] RulesKey(string sandbox) => Encoding.UTF8.GetBytes(RulesKeyPrefix + sandbox + "\0rules");

    private static byte[] SizeKey(string sandbox) => Encoding.UTF8.GetBytes(SizeKeyPrefix + sandbox + "\0size");

    private static string SandboxOf(ReadOnlySpan<byte> key) => Encoding.UTF8.GetString(key[2..^9]);

    private sealed class SandboxGraph(IdentityGraph graph)
    {
        public IdentityGraph Graph { get; set; } = graph;

        public ReaderWriterLockSlim Lock { get; } = new(LockRecursionPolicy.NoRecursion);

        /// <summary>One deletion at a time; it may take a while and awaits commits, so not under <see cref="Lock"/>.</summary>
        public SemaphoreSlim Maintenance { get; } = new(1, 1);

        /// <summary>While a deletion rebuilds the graph: entries applied meanwhile, to apply to the new graph too.</summary>
        public List<LedgerEntry>? Pending { get; set; }

        /// <summary>The identity count last kept as the next start's size hint (under <see cref="Lock"/>).</summary>
        public int KeptIdentities { get; set; }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false)]
[JsonSerializable(typeof(IdentityGraphRules))]
internal sealed partial class IdentityJson : JsonSerializerContext;

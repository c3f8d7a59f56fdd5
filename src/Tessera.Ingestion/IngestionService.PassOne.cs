using System.Collections.Concurrent;
using System.Threading.Channels;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion.Mapping;
using Tessera.Ingestion.Sources;
using Tessera.Storage;

namespace Tessera.Ingestion;

/// <summary>The validation pass of a file batch: sequential, or over every core for tabular profile data.</summary>
public sealed partial class IngestionService
{
    private const int ParallelChunkRows = 4096;

    /// <summary>What the validation pass found: counts, the rejected rows, and the good facts when they fit in memory.</summary>
    private sealed record PassOne(long Input, long Failed, long Duplicates, HashSet<long> Bad, List<WriteSet> Retained, bool Retaining, DroppedIdentityCounts Dropped);

    private async Task<PassOne> ValidateSequentiallyAsync(BatchInfo batch, long order, CompiledSchema schema, NamespaceResolver namespaces, ISourceReader reader,
        MappingSpec mapping, HashSet<UInt128>? seen, CancellationToken cancellationToken)
    {
        var bad = new HashSet<long>();
        var retained = new List<WriteSet>();
        var retaining = true;
        long retainedBytes = 0, input = 0, failed = 0, duplicates = 0;
        using var processor = NewProcessor(batch, order, schema, namespaces, reader, mapping);
        using var quarantine = new WriteSet(64 * 1024);
        var current = new WriteSet(1 << 20);
        foreach (var record in reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            input++;
            if (!processor.Process(record))
            {
                failed++;
                bad.Add(record.Row);
                QuarantineStore.Put(quarantine, batch.Sandbox, ToQuarantine(batch, record, reader.Columns, processor));
                if (quarantine.Count >= QuarantineChunk)
                {
                    await _store.CommitAsync(quarantine, cancellationToken).ConfigureAwait(false);
                    quarantine.Clear();
                }
                continue;
            }
            if (!retaining)
            {
                continue;
            }
            if (!processor.AddFact(current!, _store, seen))
            {
                duplicates++;
            }
            if (current!.Bytes >= ChunkBytes)
            {
                retainedBytes += current.Bytes;
                retained.Add(current);
                current = new WriteSet(1 << 20);
                if (retainedBytes > RetainBytes)
                {
                    retaining = false;
                    DisposeAll(retained);
                    current.Dispose();
                    current = null;
                    duplicates = 0;
                    seen?.Clear();
                }
            }
        }
        if (current is not null)
        {
            retained.Add(current);
        }
        await _store.CommitAsync(quarantine, cancellationToken).ConfigureAwait(false);
        return new PassOne(input, failed, duplicates, bad, retained, retaining, processor.DroppedIdentities);
    }

    /// <summary>
    /// Tabular profile records validated on every core: the reader hands chunks of rows to one
    /// worker per core, each with its own processor, and the chunks' facts are kept in source order
    /// so that a later row still wins over an earlier one for the same identity. (Events keep the
    /// sequential pass: their in-batch dedupe is order-dependent.)
    /// </summary>
    private async Task<PassOne> ValidateTabularInParallelAsync(BatchInfo batch, long order, CompiledSchema schema, NamespaceResolver namespaces, ISourceReader reader,
        MappingSpec mapping, CancellationToken cancellationToken)
    {
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = Environment.ProcessorCount;
        var chunks = Channel.CreateBounded<RowChunk>(new BoundedChannelOptions(workers * 2) { SingleWriter = true });
        var results = new ConcurrentDictionary<int, ChunkResult>();
        var columns = reader.Columns!;
        long retainedBytes = 0;
        var overflow = 0;
        var dropped = new DroppedIdentityCounts();

        async Task WorkAsync()
        {
            try
            {
                using var processor = NewProcessor(batch, order, schema, namespaces, reader, mapping);
                var record = new SourceRecord();
                await foreach (var chunk in chunks.Reader.ReadAllAsync(failure.Token).ConfigureAwait(false))
                {
                    var facts = Volatile.Read(ref overflow) == 0 ? new WriteSet(1 << 20) : null;
                    var bad = new List<long>();
                    using (var quarantine = new WriteSet(16 * 1024))
                    {
                        for (var i = 0; i < chunk.Count; i++)
                        {
                            chunk.Load(i, record);
                            if (!processor.Process(record))
                            {
                                bad.Add(record.Row);
                                QuarantineStore.Put(quarantine, batch.Sandbox, ToQuarantine(batch, record, columns, processor));
                                continue;
                            }
                            if (facts is not null)
                            {
                                processor.AddFact(facts, _store, seenInBatch: null);
                            }
                        }
                        await _store.CommitAsync(quarantine, failure.Token).ConfigureAwait(false);
                    }
                    if (facts is not null && Interlocked.Add(ref retainedBytes, facts.Bytes) > RetainBytes)
                    {
                        Volatile.Write(ref overflow, 1);
                    }
                    results[chunk.Index] = new ChunkResult(bad, facts);
                }
                lock (dropped)
                {
                    dropped.Add(processor.DroppedIdentities);
                }
            }
            catch
            {
                await failure.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(WorkAsync, CancellationToken.None)).ToArray();
        long input = 0;
        var count = 0;
        try
        {
            var current = new RowChunk(count, ParallelChunkRows);
            foreach (var record in reader.Read())
            {
                failure.Token.ThrowIfCancellationRequested();
                input++;
                current.Add(record);
                if (current.Count == ParallelChunkRows)
                {
                    await chunks.Writer.WriteAsync(current, failure.Token).ConfigureAwait(false);
                    current = new RowChunk(++count, ParallelChunkRows);
                }
            }
            if (current.Count > 0)
            {
                await chunks.Writer.WriteAsync(current, failure.Token).ConfigureAwait(false);
                count++;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A worker failed; its exception surfaces below.
        }
        finally
        {
            chunks.Writer.TryComplete();
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);

        var allBad = new HashSet<long>();
        var retained = new List<WriteSet>();
        for (var i = 0; i < count; i++)
        {
            var result = results[i];
            allBad.UnionWith(result.Bad);
            if (result.Facts is not null)
            {
                retained.Add(result.Facts);
            }
        }
        var retaining = Volatile.Read(ref overflow) == 0;
        if (!retaining)
        {
            DisposeAll(retained);
        }
        else if (retained.Count == 0)
        {
            retained.Add(new WriteSet(4096));
        }
        return new PassOne(input, allBad.Count, 0, allBad, retained, retaining, dropped);
    }

    private sealed record ChunkResult(List<long> Bad, WriteSet? Facts);

    /// <summary>Rows copied out of the reader's reused record (tabular values are a fresh array per row).</summary>
    private sealed class RowChunk(int index, int capacity)
    {
        private readonly long[] _rows = new long[capacity];
        private readonly long[] _lines = new long[capacity];
        private readonly object?[]?[] _values = new object?[]?[capacity];
        private readonly string?[] _errors = new string?[capacity];
        private readonly string?[] _raw = new string?[capacity];
        private readonly (string? Code, string? Path)[] _errorWhere = new (string?, string?)[capacity];

        public int Index { get; } = index;

        public int Count { get; private set; }

        public void Add(SourceRecord record)
        {
            _rows[Count] = record.Row;
            _lines[Count] = record.Line;
            _values[Count] = record.Values;
            _errors[Count] = record.ParseError;
            _errorWhere[Count] = (record.ParseErrorCode, record.ParseErrorPath);
            _raw[Count] = record.RawText;
            Count++;
        }

        public void Load(int i, SourceRecord record)
        {
            record.Row = _rows[i];
            record.Line = _lines[i];
            record.Values = _values[i];
            record.ParseError = _errors[i];
            (record.ParseErrorCode, record.ParseErrorPath) = _errorWhere[i];
            record.RawText = _raw[i];
        }
    }
}

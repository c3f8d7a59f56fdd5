using System.Collections.Concurrent;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Ingestion.Mapping;
using Tessera.Ingestion.Sources;
using Tessera.Storage;

namespace Tessera.Ingestion;

/// <summary>What happened to one record of a streaming request.</summary>
public sealed record RecordOutcome(int Index, string Status, IReadOnlyList<ValidationError>? Errors = null)
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}

public sealed record StreamResult(BatchInfo Batch, IReadOnlyList<RecordOutcome> Records);

/// <summary>
/// The ingestion stage: file batches (validated in full before anything becomes visible, failed as
/// a whole above the failure threshold), streaming requests (each record on its own, acknowledged
/// after the durable write), replay from quarantine, and recovery of batches a crash interrupted.
/// </summary>
public sealed partial class IngestionService
{
    /// <summary>Good records are committed in chunks of about this many bytes.</summary>
    private const int ChunkBytes = 8 * 1024 * 1024;
    private const int QuarantineChunk = 2_000;

    private readonly TesseraCatalog _catalog;
    private readonly IStore _store;
    private readonly QuarantineStore _quarantine;
    private readonly InFlightKeys _inFlight = new();
    private readonly IdentityService _identity;
    private readonly Lock _observersLock = new();
    private ICommittedFactsObserver[] _observers = [];
    private readonly ConcurrentDictionary<string, (long Version, NamespaceResolver Resolver)> _namespaces = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Sandbox, string Dataset), (long Version, CompiledSchema Schema)> _streamSchemas = new();

    public IngestionService(TesseraCatalog catalog, IdentityService identity, IngestionLimits limits, string uploadDirectory)
    {
        _catalog = catalog;
        _identity = identity;
        _store = catalog.Store;
        _quarantine = new QuarantineStore(_store);
        Limits = limits;
        UploadDirectory = uploadDirectory;
    }

    public IngestionLimits Limits { get; }

    /// <summary>Where uploaded batch files are kept (so an interrupted batch can be finished on restart).</summary>
    public string UploadDirectory { get; }

    /// <summary>
    /// Largest total size of validated records kept in memory between the validation pass and the
    /// write; a larger batch is read (and validated) a second time instead. The default is an eighth
    /// of the memory available to the process, between 256 MiB and 2 GiB: a stored CRM row takes
    /// about 550 bytes, so on a machine with 16 GiB or more a file of 2 million rows is validated once.
    /// </summary>
    public long RetainBytes { get; init; } = Math.Clamp(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8, 256L << 20, 2L << 30);

    /// <summary>The region phone numbers without a country code are read in, for phone namespaces that set none (null: US).</summary>
    public string? DefaultPhoneRegion { get; init; }

    public IEnumerable<QuarantineEntry> Quarantine(string sandbox, string batchId) => _quarantine.List(sandbox, batchId);

    /// <summary>
    /// Called with an observer's exception (the observer is not called again for that set). An
    /// observer runs after the batch is durable, so its failure cannot fail the batch: it is only
    /// reported here (null: ignored). Must not throw.
    /// </summary>
    public Action<Exception>? ObserverFailed { get; set; }

    /// <summary>
    /// Adds an observer that sees every write set of facts once it is durable and its identity links
    /// are in the graph: streaming requests, replays, and each set of a file batch. Sets also hold the
    /// ledger, quarantine and batch entries; an observer picks the facts out (<see cref="FactKeys.TryParse"/>).
    /// It is called on the ingesting thread, before the set is released: it must not keep the set.
    /// </summary>
    public void AddObserver(ICommittedFactsObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_observersLock)
        {
            _observers = [.. _observers, observer]; // copy on write: notifying takes no lock
        }
    }

    private void NotifyCommitted(string sandbox, WriteSet committed)
    {
        foreach (var observer in Volatile.Read(ref _observers))
        {
            try
            {
                observer.OnCommitted(sandbox, committed);
            }
            catch (Exception error)
            {
                ObserverFailed?.Invoke(error);
            }
        }
    }

    // ------------------------------------------------------------------ file batches

    /// <summary>
    /// Ingests a file as one batch and returns it once it is durable (or failed). The file must stay
    /// in place until then; see <see cref="StageUploadAsync"/> for bytes that arrive over HTTP.
    /// </summary>
    public async Task<BatchInfo> IngestFileAsync(string sandbox, string dataset, string path, MappingSpec? mapping = null, CancellationToken cancellationToken = default)
    {
        mapping ??= new MappingSpec();
        var definition = _catalog.RequireDataset(sandbox, dataset);
        var schema = _catalog.Compiled(sandbox, definition.Schema);
        var format = mapping.ResolveFormat(path);
        if (!File.Exists(path))
        {
            throw new CatalogException("FILE_NOT_FOUND", Directory.Exists(path)
                ? $"'{path}' is a directory, not a file"
                : $"file '{path}' does not exist");
        }
        var batch = new BatchInfo
        {
            Id = _catalog.NewBatchId(),
            Sandbox = sandbox,
            Dataset = dataset,
            Kind = BatchKind.File,
            Format = format,
            Status = BatchStatus.Loading,
            CreatedAt = _catalog.Time.GetUtcNow(),
            Source = Path.GetFullPath(path),
            SchemaVersion = schema.Version,
            Mapping = mapping.ToJson(),
        };
        await _catalog.SaveBatchAsync(batch).ConfigureAwait(false);
        return await RunOrFailAsync(batch, mapping, "it failed", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies uploaded bytes durably into the upload directory and returns the path to ingest.</summary>
    public async Task<string> StageUploadAsync(Stream body, string extension, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(UploadDirectory);
        var path = Path.Combine(UploadDirectory, $"{Guid.NewGuid():N}{extension}");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await body.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(path); // A partial upload is no source for anything.
            throw;
        }
        return path;
    }

    /// <summary>
    /// Runs a file batch; when it fails by an error rather than a verdict on its records (a missing column, an unreadable
    /// file, or an error nothing names), the batch is recorded as failed with the cause before the error propagates, so
    /// it does not stay loading until the next start. Only a cancellation (the server stopping) leaves it to recovery.
    /// </summary>
    private async Task<BatchInfo> RunOrFailAsync(BatchInfo batch, MappingSpec mapping, string unexpected, CancellationToken cancellationToken)
    {
        try
        {
            return await RunFileBatchAsync(batch, mapping, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            var now = _catalog.GetBatch(batch.Sandbox, batch.Id) ?? batch;
            var cause = error is CatalogException named ? $"{named.Code}: {named.Message}" : $"{unexpected} ({error.GetType().Name}: {error.Message})";
            await SaveFailedAsync(now, $"{cause}; {WhatWasStored(now)}").ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>What a batch that failed in <paramref name="batch"/>'s phase left in the store.</summary>
    private static string WhatWasStored(BatchInfo batch) => batch.Status == BatchStatus.Writing
        ? "some of its records may be stored; ingest the file again to complete it"
        : "nothing from this batch was stored";

    /// <summary>Records <paramref name="batch"/> as failed now for <paramref name="reason"/>; returns what was saved.</summary>
    private async Task<BatchInfo> SaveFailedAsync(BatchInfo batch, string reason)
    {
        var failed = batch with { Status = BatchStatus.Failed, CompletedAt = _catalog.Time.GetUtcNow(), FailureReason = reason };
        await _catalog.SaveBatchAsync(failed).ConfigureAwait(false);
        return failed;
    }

    private async Task<BatchInfo> RunFileBatchAsync(BatchInfo batch, MappingSpec mapping, CancellationToken cancellationToken)
    {
        var schema = _catalog.Compiled(batch.Sandbox, _catalog.RequireDataset(batch.Sandbox, batch.Dataset).Schema, batch.SchemaVersion);
        var namespaces = NamespacesOf(batch.Sandbox);
        var seen = schema.Class == SchemaClass.Event ? new HashSet<UInt128>() : null;
        // One order for the whole run, both passes and every worker: it ranks this batch's record versions.
        var order = _identity.NextSequence();

        // Pass 1: validate everything; quarantine the bad; keep the good in memory while it fits.
        PassOne pass;
        using (var reader = OpenReader(batch.Source!, batch.Format, mapping, Limits))
        {
            pass = reader.Columns is not null && schema.Class == SchemaClass.Profile && Environment.ProcessorCount > 1
                ? await ValidateTabularInParallelAsync(batch, order, schema, namespaces, reader, mapping, cancellationToken).ConfigureAwait(false)
                : await ValidateSequentiallyAsync(batch, order, schema, namespaces, reader, mapping, seen, cancellationToken).ConfigureAwait(false);
        }
        var (input, failed, duplicates, bad, retained, retaining, dropped) = pass;
        if (input > 0 && (double)failed / input > Limits.BatchFailureThreshold)
        {
            DisposeAll(retained);
            return await SaveFailedAsync(batch with { Counts = new BatchCounts { Input = input, Accepted = 0, Failed = failed } },
                $"{failed} of {input} records ({100.0 * failed / input:0.##}%) were rejected, above the failure threshold of "
                + $"{100 * Limits.BatchFailureThreshold:0.##}% (limits.batchFailureThreshold); nothing from this batch was stored").ConfigureAwait(false);
        }

        var writing = batch with { Status = BatchStatus.Writing, Counts = new BatchCounts { Input = input, Failed = failed } };
        await _catalog.SaveBatchAsync(writing).ConfigureAwait(false);

        // Pass 2 (only when the good records did not fit in memory): read again, write the good.
        if (!retaining)
        {
            using var reader = OpenReader(batch.Source!, batch.Format, mapping, Limits);
            using var processor = NewProcessor(batch, order, schema, namespaces, reader, mapping);
            var current = new WriteSet(1 << 20);
            Task pending = Task.CompletedTask;
            foreach (var record in reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (bad.Contains(record.Row) || !processor.Process(record))
                {
                    continue;
                }
                if (!processor.AddFact(current, _store, seen))
                {
                    duplicates++;
                }
                if (current.Bytes >= ChunkBytes)
                {
                    await pending.ConfigureAwait(false);
                    var full = current;
                    pending = CommitAndDispose(batch.Sandbox, full, cancellationToken);
                    current = new WriteSet(1 << 20);
                }
            }
            await pending.ConfigureAwait(false);
            retained.Add(current);
        }

        var done = writing with
        {
            Status = BatchStatus.Success,
            CompletedAt = _catalog.Time.GetUtcNow(),
            Counts = dropped.AddTo(new BatchCounts { Input = input, Accepted = input - failed, Failed = failed, Duplicates = duplicates }),
        };
        // The success status goes with the last set; the bulk load applies it only after every fact
        // is durable (a large batch bypasses the WAL: sorted files handed to the store).
        TesseraCatalog.PutBatch(retained[^1], done);
        // The batch has passed, so its links go into the graph on the other core while the store
        // writes (a crash loses only memory: the graph is derived from the durable ledger at open).
        var linking = Task.Run(() => _identity.ApplyCommitted(batch.Sandbox, retained), CancellationToken.None);
        var loaded = false;
        try
        {
            await _store.BulkLoadAsync(retained, cancellationToken).ConfigureAwait(false);
            loaded = true;
        }
        catch
        {
            // Links of facts that did not land must not stay in the graph: derive it from the ledger.
            await linking.ConfigureAwait(false);
            await _identity.RederiveAsync(batch.Sandbox, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await linking.ConfigureAwait(false);
            if (loaded)
            {
                foreach (var set in retained)
                {
                    NotifyCommitted(batch.Sandbox, set);
                }
            }
            DisposeAll(retained);
        }
        return done;
    }

    private async Task CommitAndDispose(string sandbox, WriteSet writes, CancellationToken cancellationToken)
    {
        using (writes)
        {
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            _identity.ApplyCommitted(sandbox, writes);
            NotifyCommitted(sandbox, writes);
        }
    }

    private static void DisposeAll(List<WriteSet> sets)
    {
        foreach (var set in sets)
        {
            set.Dispose();
        }
        sets.Clear();
    }

    // ------------------------------------------------------------------ streaming

    /// <summary>
    /// Stores each valid record of one request and quarantines the rest, all in one durable write
    /// together with the request's batch record. Returns only after that write is durable.
    /// </summary>
    public async Task<StreamResult> IngestRecordsAsync(string sandbox, string dataset, IReadOnlyList<JsonElement> records, string source, CancellationToken cancellationToken = default)
    {
        var schema = StreamSchemaOf(sandbox, dataset);
        if (records.Count > Limits.MaxRecordsPerRequest)
        {
            throw new CatalogException("TOO_MANY_RECORDS", $"{records.Count} records in one request, more than the limit of {Limits.MaxRecordsPerRequest} (limits.maxRecordsPerRequest)");
        }
        var batch = new BatchInfo
        {
            Id = _catalog.NewBatchId(),
            Sandbox = sandbox,
            Dataset = dataset,
            Kind = BatchKind.Stream,
            Format = "json",
            Status = BatchStatus.Success,
            CreatedAt = _catalog.Time.GetUtcNow(),
            Source = source,
            SchemaVersion = schema.Version,
        };
        var namespaces = NamespacesOf(sandbox);
        var outcomes = new RecordOutcome[records.Count];
        using var writes = new WriteSet(Math.Max(4096, records.Count * 512));
        using var processor = new RecordProcessor(sandbox, dataset, batch.Id, batch.CreatedAt, _identity.NextSequence(), schema, Limits, namespaces, _identity, converter: null);
        var seen = new HashSet<UInt128>();
        using var inFlight = _inFlight.Begin();
        var record = new SourceRecord();
        long accepted = 0, failed = 0, duplicates = 0;
        for (var i = 0; i < records.Count; i++)
        {
            record.Row = i + 1;
            record.Line = i + 1;
            record.Json = records[i];
            if (!processor.Process(record))
            {
                failed++;
                outcomes[i] = new RecordOutcome(i, RecordOutcome.Rejected, [.. processor.Result.Errors]);
                QuarantineStore.Put(writes, sandbox, ToQuarantine(batch, record, columns: null, processor));
                continue;
            }
            accepted++;
            if (processor.AddFact(writes, _store, seen, inFlight))
            {
                outcomes[i] = new RecordOutcome(i, RecordOutcome.Accepted);
            }
            else
            {
                duplicates++;
                outcomes[i] = new RecordOutcome(i, RecordOutcome.Duplicate);
            }
        }
        batch = batch with
        {
            CompletedAt = batch.CreatedAt,
            Counts = processor.DroppedIdentities.AddTo(new BatchCounts { Input = records.Count, Accepted = accepted, Failed = failed, Duplicates = duplicates }),
        };
        TesseraCatalog.PutBatch(writes, batch);
        try
        {
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            inFlight.Complete(null);
            _identity.ApplyCommitted(sandbox, writes);
            NotifyCommitted(sandbox, writes);
        }
        catch (Exception error)
        {
            inFlight.Complete(error);
            throw;
        }
        // A record answered "duplicate" because a concurrent request holds it is acknowledged only once that request's commit is durable.
        await inFlight.OthersCommittedAsync().ConfigureAwait(false);
        return new StreamResult(batch, outcomes);
    }

    // ------------------------------------------------------------------ replay

    /// <summary>
    /// Runs a batch's unresolved quarantined records again, against the dataset's current schema
    /// and the given mapping (or the original one). Records that now pass are stored under a new
    /// replay batch and their quarantine entries are marked resolved; the rest are quarantined
    /// again under the replay batch, with their new errors.
    /// </summary>
    public async Task<BatchInfo> ReplayAsync(string sandbox, string batchId, MappingSpec? mapping = null, CancellationToken cancellationToken = default)
    {
        var original = _catalog.RequireBatch(sandbox, batchId);
        if (original.Status == BatchStatus.Failed)
        {
            // Its good records were never stored: replaying only the rejected ones would leave the
            // batch half in. The whole source has to go in again.
            throw new CatalogException("BATCH_FAILED",
                $"batch '{batchId}' failed as a whole and stored nothing ({original.FailureReason}); fix the schema or mapping and ingest its source again");
        }
        if (original.Status is BatchStatus.Loading or BatchStatus.Writing)
        {
            throw new CatalogException("BATCH_NOT_FINISHED", $"batch '{batchId}' is still {(original.Status == BatchStatus.Loading ? "loading" : "writing")}; replay it once it has finished");
        }
        var entries = _quarantine.List(sandbox, batchId).Where(e => e.ResolvedBy is null).ToList();
        mapping ??= original.Mapping is { } json ? MappingSpec.FromJson(json) : new MappingSpec();
        var definition = _catalog.RequireDataset(sandbox, original.Dataset);
        var schema = _catalog.Compiled(sandbox, definition.Schema);
        var replay = new BatchInfo
        {
            Id = _catalog.NewBatchId(),
            Sandbox = sandbox,
            Dataset = original.Dataset,
            Kind = BatchKind.Replay,
            Format = original.Format,
            Status = BatchStatus.Success,
            CreatedAt = _catalog.Time.GetUtcNow(),
            Source = original.Source,
            ReplayOf = batchId,
            SchemaVersion = schema.Version,
            Mapping = mapping.ToJson(),
        };
        var columns = entries.Where(e => e.Tabular && e.Raw is not null)
            .SelectMany(e => JsonDocumentKeys(e.Raw!)).Distinct(StringComparer.Ordinal).ToList();
        var converter = columns.Count > 0 ? new TabularConverter(columns, mapping, schema) : null;
        var namespaces = NamespacesOf(sandbox);
        using var processor = new RecordProcessor(sandbox, original.Dataset, replay.Id, replay.CreatedAt, _identity.NextSequence(), schema, Limits, namespaces, _identity, converter);
        using var writes = new WriteSet(64 * 1024);
        var seen = new HashSet<UInt128>();
        var record = new SourceRecord();
        long accepted = 0, failed = 0, duplicates = 0;
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A record that could not be parsed (malformed JSON, a row with the wrong number of
            // columns, bytes that are not UTF-8) is not fixed by a schema or mapping change: it stays quarantined, under the
            // replay, until its source is corrected and ingested again.
            var parseError = entry.Errors.FirstOrDefault(e => e.Code is ErrorCodes.ParseError or ErrorCodes.EncodingInvalid);
            using var document = parseError is null ? JsonDocument.Parse(string.IsNullOrEmpty(entry.Raw) ? "null" : entry.Raw) : null;
            record.Row = entry.Row;
            record.Line = entry.Line;
            record.RawText = entry.Raw;
            record.ParseError = null;
            record.Values = null;
            record.Json = default;
            if (parseError is not null)
            {
                record.ParseError = parseError.Message;
                (record.ParseErrorCode, record.ParseErrorPath) = (parseError.Code, parseError.Path);
            }
            else if (entry.Tabular)
            {
                record.Values = [.. columns.Select(c => document!.RootElement.TryGetProperty(c, out var v) ? TabularValueJson.Read(v) : null)];
            }
            else
            {
                record.Json = document!.RootElement;
            }
            if (!processor.Process(record))
            {
                failed++;
                QuarantineStore.Put(writes, sandbox, ToQuarantine(replay, record, columns, processor));
                continue;
            }
            accepted++;
            if (!processor.AddFact(writes, _store, seen))
            {
                duplicates++;
            }
            QuarantineStore.Put(writes, sandbox, entry with { ResolvedBy = replay.Id });
        }
        replay = replay with
        {
            CompletedAt = _catalog.Time.GetUtcNow(),
            Counts = processor.DroppedIdentities.AddTo(new BatchCounts { Input = entries.Count, Accepted = accepted, Failed = failed, Duplicates = duplicates }),
        };
        TesseraCatalog.PutBatch(writes, replay);
        await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        _identity.ApplyCommitted(sandbox, writes);
        NotifyCommitted(sandbox, writes);
        return replay;
    }

    private static IEnumerable<string> JsonDocumentKeys(string raw)
    {
        using var document = JsonDocument.Parse(raw);
        return [.. document.RootElement.EnumerateObject().Select(p => p.Name)];
    }

    // ------------------------------------------------------------------ recovery

    /// <summary>
    /// Finishes file batches that a crash interrupted (status loading or writing): their source is
    /// read again and the batch runs to its end. Re-running is safe because every fact key is
    /// idempotent. A batch whose source is gone, or whose run fails, is marked failed, saying so: one batch never
    /// keeps the others, or the server, from starting.
    /// </summary>
    public async Task<IReadOnlyList<BatchInfo>> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var finished = new List<BatchInfo>();
        foreach (var batch in _catalog.ListUnfinishedBatches())
        {
            if (batch.Source is null || !File.Exists(batch.Source))
            {
                finished.Add(await SaveFailedAsync(batch, batch.Status == BatchStatus.Writing
                    ? $"interrupted while writing and its source '{batch.Source}' is gone: some of its records may be stored; ingest the file again to complete it"
                    : $"interrupted before it was stored and its source '{batch.Source}' is gone; nothing from it was stored").ConfigureAwait(false));
                continue;
            }
            const string Unexpected = "its recovery after an interruption failed";
            MappingSpec mapping;
            try
            {
                mapping = batch.Mapping is { } json ? MappingSpec.FromJson(json) : new MappingSpec();
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // A mapping this version cannot read would come back at every start: recorded, so the server starts.
                finished.Add(await SaveFailedAsync(batch, $"{Unexpected} ({error.GetType().Name}: {error.Message}); {WhatWasStored(batch)}").ConfigureAwait(false));
                continue;
            }
            try
            {
                finished.Add(await RunOrFailAsync(batch, mapping, Unexpected, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // Recorded as failed with its cause; one bad batch must not stop the others' recovery.
                finished.Add(_catalog.RequireBatch(batch.Sandbox, batch.Id));
            }
        }
        return finished;
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// The sandbox's identity namespaces and their normalizers, built once per version of the catalog's
    /// definitions rather than per request (reading them is store reads and JSON, and each normalizer
    /// builds its set of blocked values).
    /// </summary>
    public NamespaceResolver NamespacesOf(string sandbox)
    {
        var version = _catalog.DefinitionsVersion; // Read first: a change after it makes the next call build again.
        if (_namespaces.TryGetValue(sandbox, out var cached) && cached.Version == version)
        {
            return cached.Resolver;
        }
        var resolver = new NamespaceResolver(_catalog.ListNamespaces(sandbox), DefaultPhoneRegion);
        _namespaces[sandbox] = (version, resolver);
        return resolver;
    }

    /// <summary>The compiled schema of a dataset, as <see cref="NamespacesOf"/>: read once per version of the definitions.</summary>
    private CompiledSchema StreamSchemaOf(string sandbox, string dataset)
    {
        var version = _catalog.DefinitionsVersion;
        if (_streamSchemas.TryGetValue((sandbox, dataset), out var cached) && cached.Version == version)
        {
            return cached.Schema;
        }
        var schema = _catalog.Compiled(sandbox, _catalog.RequireDataset(sandbox, dataset).Schema);
        _streamSchemas[(sandbox, dataset)] = (version, schema);
        return schema;
    }

    private RecordProcessor NewProcessor(BatchInfo batch, long order, CompiledSchema schema, NamespaceResolver namespaces, ISourceReader reader, MappingSpec mapping)
    {
        var converter = reader.Columns is { } columns ? new TabularConverter(columns, mapping, schema) : null;
        return new RecordProcessor(batch.Sandbox, batch.Dataset, batch.Id, batch.CreatedAt, order, schema, Limits, namespaces, _identity, converter);
    }

    /// <summary>
    /// Opens <paramref name="path"/> as <paramref name="format"/>. A file that cannot be read as that
    /// format (not gzip, not Parquet, cut short, unreadable), whether found when it is opened or
    /// while it is read, is a <see cref="CatalogException"/> <c>FILE_UNREADABLE</c> naming the file; so is a line longer than
    /// <see cref="IngestionLimits.MaxLineLength"/>, a JSON document larger than <see cref="IngestionLimits.MaxJsonDocumentBytes"/>
    /// or a Parquet row group larger than <see cref="IngestionLimits.MaxParquetRowGroupBytes"/>.
    /// </summary>
    public static ISourceReader OpenReader(string path, string format, MappingSpec mapping, IngestionLimits limits)
    {
        Stream stream;
        try
        {
            stream = CsvReader.OpenFile(path);
        }
        catch (Exception error) when (SourceReaderGuard.IsUnreadable(error, format))
        {
            throw SourceReaderGuard.Unreadable(path, format, error);
        }
        try
        {
            ISourceReader reader = format switch
            {
                "csv" => new CsvReader(stream, mapping, limits),
                "jsonl" => new JsonLinesReader(stream, limits),
                "json" => new JsonDocumentReader(stream, limits),
                // Parquet reads its footer first, from the end: a gzip stream cannot seek there (and its pages are compressed already).
                "parquet" when stream is CheckedGzipStream => throw new SourceFormatException(
                    "Parquet is read from its end, which a gzip stream cannot reach (and compresses its own pages): ingest the .parquet file itself"),
                "parquet" => new ParquetSourceReader(stream, limits.MaxParquetRowGroupBytes),
                _ => throw new CatalogException(ErrorCodes.MappingError, $"unknown format '{format}' (csv, jsonl, json, parquet)"),
            };
            return new SourceReaderGuard(reader, path, stream as CheckedGzipStream);
        }
        catch (Exception error) when (SourceReaderGuard.IsUnreadable(error, format))
        {
            stream.Dispose();
            throw SourceReaderGuard.Unreadable(path, format, error);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static QuarantineEntry ToQuarantine(BatchInfo batch, SourceRecord record, IReadOnlyList<string>? columns, RecordProcessor processor)
    {
        // A row that could not be split into its columns is kept whole, as the text it was.
        var unparsed = record.ParseError is not null && record.RawText is not null;
        return new()
        {
            BatchId = batch.Id,
            Dataset = batch.Dataset,
            Row = record.Row,
            Line = record.Line,
            Source = batch.Source,
            Format = batch.Format,
            Tabular = record.IsTabular && !unparsed,
            Raw = unparsed ? record.RawText : RecordProcessor.RawForQuarantine(record, columns),
            Errors = [.. processor.Result.Errors],
        };
    }
}

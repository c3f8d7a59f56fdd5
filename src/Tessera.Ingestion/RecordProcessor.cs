using System.Buffers;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Identity.Graph;
using Tessera.Ingestion.Mapping;
using Tessera.Ingestion.Sources;
using Tessera.Ingestion.Validation;
using Tessera.Storage;

namespace Tessera.Ingestion;

/// <summary>
/// Validates records of one batch and turns the good ones into stored facts. One per thread:
/// it reuses its JSON buffers, so a record costs no allocation beyond what parsing needs.
/// </summary>
internal sealed class RecordProcessor : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly string _sandbox;
    private readonly string _dataset;
    private readonly string _batchId;
    private readonly JsonEncodedText _ingestedAt;
    private readonly JsonEncodedText _encodedBatchId;
    private readonly DateTimeOffset _ingestedAtTime;
    private readonly long _order;
    private long _row;
    private readonly IdentityService _identity;
    private readonly ArrayBufferWriter<byte> _ledger = new(256);
    private readonly CompiledSchema _schema;
    private readonly IngestionLimits _limits;
    private readonly RecordValidator _validator;
    private readonly TabularConverter? _converter;
    private readonly ArrayBufferWriter<byte> _tabular = new(4096);
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private readonly Utf8JsonWriter _tabularWriter;
    private readonly Utf8JsonWriter _outputWriter;
    private byte[] _key = new byte[512];
    private byte[]? _batchMarker;

    /// <param name="order">
    /// The batch's place among batches (one <see cref="IdentityService.NextSequence"/> per batch, shared by
    /// all its processors): it orders record versions of equal time.
    /// </param>
    public RecordProcessor(string sandbox, string dataset, string batchId, DateTimeOffset ingestedAt, long order, CompiledSchema schema,
        IngestionLimits limits, NamespaceResolver namespaces, IdentityService identity, TabularConverter? converter)
    {
        _order = order;
        _identity = identity;
        _ingestedAtTime = ingestedAt;
        _sandbox = sandbox;
        _dataset = dataset;
        _batchId = batchId;
        _ingestedAt = JsonEncodedText.Encode(TemporalParsing.Format(ingestedAt), WriterOptions.Encoder);
        _encodedBatchId = JsonEncodedText.Encode(batchId, WriterOptions.Encoder);
        _schema = schema;
        _limits = limits;
        _validator = new RecordValidator(schema, limits, namespaces);
        _converter = converter;
        _tabularWriter = new Utf8JsonWriter(_tabular, WriterOptions);
        _outputWriter = new Utf8JsonWriter(_output, WriterOptions);
    }

    public ValidationResult Result { get; } = new();

    /// <summary>Identities dropped from the records this processor accepted, by reason.</summary>
    public DroppedIdentityCounts DroppedIdentities { get; } = new();

    /// <summary>Validates <paramref name="record"/>; when it returns true the stored form is ready for <see cref="AddFact"/>.</summary>
    public bool Process(SourceRecord record)
    {
        Result.Reset();
        _row = record.Row;
        if (record.ParseError is not null)
        {
            Result.Errors.Add(new ValidationError(record.ParseErrorPath ?? "", record.ParseErrorCode ?? ErrorCodes.ParseError, record.ParseError));
            return false;
        }
        JsonDocument? converted = null;
        try
        {
            if (record.IsTabular && _converter is null)
            {
                throw new InvalidOperationException("a tabular record needs a converter");
            }
            _output.ResetWrittenCount();
            _outputWriter.Reset(_output);
            _outputWriter.WriteStartObject();
            _outputWriter.WritePropertyName(Names.Record);
            if (record.IsTabular && _converter!.CanValidate(record.Values!, _limits.MaxRecordBytes))
            {
                _converter.Validate(record.Values!, record.Row, _validator, _outputWriter, Result);
                return Result.IsValid && WriteEnvelope();
            }
            JsonElement element;
            int size;
            if (record.IsTabular)
            {
                _tabular.ResetWrittenCount();
                _tabularWriter.Reset(_tabular);
                _converter!.Write(record.Values!, record.Row, _tabularWriter);
                _tabularWriter.Flush();
                size = _tabular.WrittenCount;
                converted = JsonDocument.Parse(_tabular.WrittenMemory);
                element = converted.RootElement;
            }
            else
            {
                element = record.Json;
                var raw = JsonMarshal.GetRawUtf8Value(element);
                size = raw.Length;
                if (JsonText.NotUnicodeText(raw) is { } wrong)
                {
                    Result.Errors.Add(new ValidationError("", ErrorCodes.ParseError, "record has " + wrong));
                    return false;
                }
            }
            if (size > _limits.MaxRecordBytes)
            {
                Result.Errors.Add(new ValidationError("", ErrorCodes.RecordTooLarge,
                    $"record is {size} bytes, more than the limit of {_limits.MaxRecordBytes} (limits.maxRecordBytes)"));
                return false;
            }
            _validator.Validate(element, _outputWriter, Result, explicitNulls: !record.IsTabular);
            return Result.IsValid && WriteEnvelope();
        }
        finally
        {
            converted?.Dispose();
        }
    }

    /// <summary>Writes what follows a valid record in its stored form: its identities, batch, times and order.</summary>
    private bool WriteEnvelope()
    {
        _outputWriter.WriteStartArray(Names.Identities);
        foreach (var identity in Result.Identities)
        {
            _outputWriter.WriteStartObject();
            _outputWriter.WriteString(Names.Namespace, identity.Namespace);
            _outputWriter.WriteString(Names.Id, identity.Value);
            if (identity.Primary)
            {
                _outputWriter.WriteBoolean(Names.Primary, true);
            }
            _outputWriter.WriteEndObject();
        }
        _outputWriter.WriteEndArray();
        foreach (var dropped in Result.DroppedIdentities)
        {
            DroppedIdentities.Add(dropped.Reason);
        }
        _outputWriter.WriteString(Names.Batch, _encodedBatchId);
        _outputWriter.WriteString(Names.IngestedAt, _ingestedAt);
        if (_schema.Class == SchemaClass.Event && Result.Timestamp is { } timestamp)
        {
            // The event's time as its timeline key holds it (the record's is written to the millisecond), last,
            // so that a read of the body alone finds its place in the timeline without parsing it again.
            _outputWriter.WriteNumber(Names.Ticks, timestamp.UtcTicks);
        }
        if (_schema.Class == SchemaClass.Profile)
        {
            // A record is one version of its fragment; the newest by (time, order, row) is the latest.
            if (Result.LastUpdated is { } lastUpdated)
            {
                _outputWriter.WritePropertyName(Names.Time);
                TemporalParsing.Write(_outputWriter, lastUpdated);
            }
            else
            {
                _outputWriter.WriteString(Names.Time, _ingestedAt);
            }
            _outputWriter.WriteNumber(Names.Order, _order);
            _outputWriter.WriteNumber(Names.Row, _row);
        }
        _outputWriter.WriteEndObject();
        _outputWriter.Flush();
        return true;
    }

    /// <summary>
    /// Adds the fact just processed to <paramref name="writes"/>. Returns false for an event whose
    /// key is already stored or already in this batch: it is a duplicate and is not written again.
    /// </summary>
    public bool AddFact(WriteSet writes, IStore store, HashSet<UInt128>? seenInBatch, InFlightKeys.Scope? inFlight = null)
    {
        var primary = Result.Primary!.Value;
        var isEvent = _schema.Class == SchemaClass.Event;
        var eventId = isEvent ? Result.EventId : null;
        var max = FactKeys.MaxKeyBytes(_sandbox, primary, _dataset, eventId ?? _batchId);
        if (_key.Length < 2 * max)
        {
            _key = new byte[Math.Max(2 * max, _key.Length * 2)]; // the event key, then its timeline key
        }
        var length = isEvent
            ? FactKeys.EventKey(_key, _sandbox, primary, _dataset, eventId!, out var partitionOffset, out var partitionLength)
            : FactKeys.RecordKey(_key, _sandbox, primary, _dataset, _batchId, _row, out partitionOffset, out partitionLength);
        var key = _key.AsSpan(0, length);
        var shard = Sharding.ShardOf(key.Slice(partitionOffset, partitionLength), store.ShardCount);
        if (isEvent)
        {
            var fingerprint = XxHash128.HashToUInt128(key);
            if (seenInBatch is not null && !seenInBatch.Add(fingerprint))
            {
                return false;
            }
            if (inFlight is not null && !inFlight.TryReserve(fingerprint))
            {
                return false; // Another request is committing this very event right now.
            }
            if (store.Exists(StoreSpace.Facts, shard, key) && !WrittenByThisBatch(store, shard, key))
            {
                return false;
            }
        }
        writes.Put(StoreSpace.Facts, shard, key, _output.WrittenSpan);
        if (isEvent)
        {
            var timeline = _key.AsSpan(length, FactKeys.TimelineKey(_key.AsSpan(length), _sandbox, primary, Result.Timestamp!.Value.UtcTicks, _dataset, eventId!));
            writes.Put(StoreSpace.Facts, shard, timeline, []);
        }
        // The fact's identities go to the link ledger in the same commit; they are linked once it is durable.
        IdentityService.Write(writes, shard, _sandbox, new LedgerEntry(_identity.NextSequence(), (isEvent ? Result.Timestamp : null) ?? _ingestedAtTime,
            _dataset, _batchId, eventId ?? primary.ToString(), IdentitiesPrimaryFirst(primary)), _ledger);
        return true;
    }

    private IdentityKey[] IdentitiesPrimaryFirst(IdentityValue primary)
    {
        var keys = new IdentityKey[Result.Identities.Count];
        keys[0] = new IdentityKey(primary.Namespace, primary.Value);
        var next = 1;
        foreach (var identity in Result.Identities)
        {
            if (identity != primary && next < keys.Length)
            {
                keys[next++] = new IdentityKey(identity.Namespace, identity.Value);
            }
        }
        return keys;
    }

    /// <summary>
    /// Whether the stored event is this batch's own, written before a crash interrupted it: a
    /// re-run writes it again and counts it as accepted, not as a duplicate.
    /// </summary>
    private bool WrittenByThisBatch(IStore store, int shard, ReadOnlySpan<byte> key)
    {
        _batchMarker ??= System.Text.Encoding.UTF8.GetBytes($"\"batch\":\"{_batchId}\"");
        return store.Get(StoreSpace.Facts, shard, key) is { } stored && stored.AsSpan().IndexOf(_batchMarker) >= 0;
    }

    /// <summary>The record's raw form for the quarantine: its JSON text, or a JSON object of column → value (<see cref="Mapping.TabularValueJson"/>).</summary>
    public static string RawForQuarantine(SourceRecord record, IReadOnlyList<string>? columns)
    {
        if (record.IsTabular && columns is not null)
        {
            var buffer = new ArrayBufferWriter<byte>(512);
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                writer.WriteStartObject();
                for (var i = 0; i < columns.Count && i < record.Values!.Length; i++)
                {
                    writer.WritePropertyName(columns[i]);
                    Mapping.TabularValueJson.Write(writer, record.Values[i]);
                }
                writer.WriteEndObject();
            }
            return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        if (record.RawText is not null)
        {
            return record.RawText;
        }
        return record.Json.ValueKind == JsonValueKind.Undefined ? "" : record.Json.GetRawText();
    }

    /// <summary>The stored envelope's property names, encoded once: a writer escapes and transcodes a string name on every call.</summary>
    private static class Names
    {
        public static readonly JsonEncodedText Record = JsonEncodedText.Encode("record");
        public static readonly JsonEncodedText Identities = JsonEncodedText.Encode("identities");
        public static readonly JsonEncodedText Namespace = JsonEncodedText.Encode("namespace");
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
        public static readonly JsonEncodedText Primary = JsonEncodedText.Encode("primary");
        public static readonly JsonEncodedText Batch = JsonEncodedText.Encode("batch");
        public static readonly JsonEncodedText IngestedAt = JsonEncodedText.Encode("ingestedAt");
        public static readonly JsonEncodedText Ticks = JsonEncodedText.Encode("ticks");
        public static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
        public static readonly JsonEncodedText Order = JsonEncodedText.Encode("order");
        public static readonly JsonEncodedText Row = JsonEncodedText.Encode("row");
    }

    public void Dispose()
    {
        _tabularWriter.Dispose();
        _outputWriter.Dispose();
    }
}

using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Ingestion.Mapping;
using Tessera.Ingestion.Sources;
using Tessera.Ingestion.Validation;
using Tessera.Storage;

namespace Tessera.Benchmarks.Micro;

/// <summary>Validating one web event (about 700 bytes, 17 leaves, one identity) into its stored form.</summary>
[MemoryDiagnoser]
public class RecordValidatorBenchmarks
{
    private readonly RecordValidator _validator = new(Fixtures.Web, new IngestionLimits(), Fixtures.Resolver);
    private readonly ValidationResult _result = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter _writer = null!;
    private JsonElement _event;

    [GlobalSetup]
    public void Setup()
    {
        _event = Fixtures.WebEvent();
        _writer = new Utf8JsonWriter(_buffer);
        Validate();
        if (!_result.IsValid)
        {
            throw new InvalidOperationException(string.Join("; ", _result.Errors));
        }
    }

    [Benchmark]
    public int Validate()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _validator.Validate(_event, _writer, _result);
        _writer.Flush();
        return _buffer.WrittenCount;
    }
}

/// <summary>Turning one CRM CSV row (11 cells) into its JSON form.</summary>
[MemoryDiagnoser]
public class TabularConverterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private TabularConverter _converter = null!;
    private object?[] _values = null!;
    private Utf8JsonWriter _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (columns, values) = Fixtures.CrmRow();
        _values = values;
        _converter = new TabularConverter(columns, new MappingSpec(), Fixtures.Crm);
        _writer = new Utf8JsonWriter(_buffer);
    }

    [Benchmark]
    public int Write()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _converter.Write(_values, 1, _writer);
        _writer.Flush();
        return _buffer.WrittenCount;
    }
}

/// <summary>
/// The whole per-record work of an ingestion before the commit: validation to the stored form
/// (<see cref="RecordProcessor.Process"/>) and the fact put (<see cref="RecordProcessor.AddFact"/>).
/// </summary>
[MemoryDiagnoser]
public class RecordProcessorBenchmarks
{
    private readonly IStore _store = new NullStore();
    private readonly SourceRecord _csv = new() { Row = 1, Line = 2 };
    private readonly SourceRecord _event = new() { Row = 1, Line = 1 };
    private RecordProcessor _crm = null!;
    private RecordProcessor _web = null!;
    private WriteSet _writes = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (columns, values) = Fixtures.CrmRow();
        _csv.Values = values;
        _event.Json = Fixtures.WebEvent();
        var limits = new IngestionLimits();
        var at = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        // An empty ledger: the identity service only hands out sequence numbers here.
        var identity = Tessera.Identity.IdentityService.Open(new NullStore(), _ => _ => null);
        _crm = new RecordProcessor("prod", "crm", "b0001", at, order: 1, Fixtures.Crm, limits, Fixtures.Resolver, identity,
            new TabularConverter(columns, new MappingSpec(), Fixtures.Crm));
        _web = new RecordProcessor("prod", "web", "b0002", at, order: 2, Fixtures.Web, limits, Fixtures.Resolver, identity, converter: null);
        _writes = new WriteSet(1 << 20);
        if (!_crm.Process(_csv) || !_web.Process(_event))
        {
            throw new InvalidOperationException("fixture records must be valid");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _crm.Dispose();
        _web.Dispose();
        _writes.Dispose();
    }

    [Benchmark]
    public bool ProcessCsvRow() => _crm.Process(_csv);

    [Benchmark]
    public bool ProcessEvent() => _web.Process(_event);

    [Benchmark]
    public bool ProcessCsvRowAndAddFact()
    {
        if (_writes.Count >= 1000)
        {
            _writes.Clear();
        }
        return _crm.Process(_csv) && _crm.AddFact(_writes, _store, null);
    }
}

/// <summary>Appending one fact (60-byte key, 500-byte value) to a write set.</summary>
[MemoryDiagnoser]
public class WriteSetBenchmarks
{
    private readonly byte[] _key = new byte[60];
    private readonly byte[] _value = new byte[500];
    private WriteSet _writes = null!;

    [GlobalSetup]
    public void Setup()
    {
        new Random(3).NextBytes(_value);
        _writes = new WriteSet(1 << 20);
    }

    [GlobalCleanup]
    public void Cleanup() => _writes.Dispose();

    [Benchmark(OperationsPerInvoke = 1000)]
    public long Put1000()
    {
        _writes.Clear();
        for (var i = 0; i < 1000; i++)
        {
            _key[0] = (byte)i;
            _writes.Put(StoreSpace.Facts, i & 7, _key, _value);
        }
        return _writes.Bytes;
    }
}

/// <summary>
/// Reading an event's timestamp (<c>2026-11-30T13:45:07.123Z</c>, and with an offset) and writing the
/// stored form, as validation does for every date-time field; each figure per value.
/// </summary>
[MemoryDiagnoser]
public class TemporalParsingBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64);
    private readonly DateTimeOffset _instant = new(2026, 11, 30, 13, 45, 7, 123, TimeSpan.Zero);
    private Utf8JsonWriter _writer = null!;

    [GlobalSetup]
    public void Setup() => _writer = new Utf8JsonWriter(_buffer);

    [Benchmark]
    public long ParseUtc() => TemporalParsing.TryParseDateTime("2026-11-30T13:45:07.123Z", out var instant) ? instant.UtcTicks : 0;

    [Benchmark]
    public long ParseOffset() => TemporalParsing.TryParseDateTime("2026-11-30T14:45:07+01:00", out var instant) ? instant.UtcTicks : 0;

    [Benchmark]
    public int WriteStored()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        TemporalParsing.Write(_writer, _instant);
        _writer.Flush();
        return _buffer.WrittenCount;
    }
}

using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Tessera.Activation;
using Tessera.Activation.Connectors;
using Tessera.Activation.Connectors.Platforms;
using Tessera.Activation.Hashing;

using Tessera.Bench;

namespace Tessera.Benchmarks.Micro;

/// <summary>Generated emails and phones, as the end-to-end runner's hashing group makes them.</summary>
internal static class HashingFixtures
{
    /// <summary>Mixed-case emails, some with dots and +tags, a third of them at Gmail (<see cref="BenchInputs.Email"/>).</summary>
    public static string[] Emails(Random random, int count) => [.. Enumerable.Range(0, count).Select(i => BenchInputs.Email(random, i))];

    /// <summary>US numbers in E.164.</summary>
    public static string[] Phones(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => $"+1{random.Next(201, 990)}{random.Next(200, 999)}{random.Next(0, 10_000):0000}")];
}

/// <summary>
/// Match keys for an ad platform: normalized by the platform's rules, SHA-256'd in batches of 1,000
/// (<see cref="KeyHashBatch"/>) and written as hex UTF-8, beside the bare floor of
/// <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> over the same emails normalized and
/// encoded beforehand; each figure per identity.
/// </summary>
[MemoryDiagnoser]
public class KeyHashingBenchmarks
{
    private const int Count = 1_000;

    private readonly PlatformNormalizer _normalizer = PlatformNormalizer.Default;
    private readonly KeyHashBatch _batch = new(Count);
    private string[] _emails = null!;
    private string[] _phones = null!;
    private byte[][] _encoded = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_261_128);
        _emails = HashingFixtures.Emails(random, Count);
        _phones = HashingFixtures.Phones(random, Count);
        _encoded = [.. _emails.Select(e => Encoding.UTF8.GetBytes(_normalizer.Normalize(HashPlatform.Meta, KeyKind.Email, e).Value!))];
    }

    [GlobalCleanup]
    public void Cleanup() => _batch.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Count)]
    public int FloorSha256()
    {
        Span<byte> digest = stackalloc byte[32];
        var sum = 0;
        foreach (var value in _encoded)
        {
            SHA256.HashData(value, digest);
            sum += digest[0];
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public int MetaEmail() => NormalizeHashHex(_emails, HashPlatform.Meta, KeyKind.Email);

    [Benchmark(OperationsPerInvoke = Count)]
    public int GoogleEmail() => NormalizeHashHex(_emails, HashPlatform.Google, KeyKind.Email);

    [Benchmark(OperationsPerInvoke = Count)]
    public int MetaPhone() => NormalizeHashHex(_phones, HashPlatform.Meta, KeyKind.Phone);

    private int NormalizeHashHex(string[] values, HashPlatform platform, KeyKind kind)
    {
        Span<byte> hex = stackalloc byte[DigestText.HexLength];
        _batch.Clear();
        foreach (var value in values)
        {
            var outcome = _normalizer.Normalize(platform, kind, value);
            if (outcome.IsUsable)
            {
                _batch.Add(outcome);
            }
        }
        _batch.Compute();
        var sum = 0;
        for (var i = 0; i < _batch.Count; i++)
        {
            DigestText.WriteHexUtf8(_batch.Digest(i), hex);
            sum += hex[0];
        }
        return sum;
    }
}

/// <summary>
/// Building the Meta Custom Audiences request for one micro-batch of 1,000 added profiles, each
/// with an EMAIL and a PHONE key: normalize, hash, and write the request's JSON body; per batch.
/// </summary>
[MemoryDiagnoser]
public class MetaRequestBenchmarks
{
    private const int Records = 1_000;

    private readonly MetaCustomAudienceConnector _connector = new();
    private readonly ConnectorContext _context = new("bench", "batch-1", new Dictionary<string, string>(), new Dictionary<string, string>());
    private DeliveryRecord[] _records = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_261_128);
        var emails = HashingFixtures.Emails(random, Records);
        var phones = HashingFixtures.Phones(random, Records);
        _records = [.. Enumerable.Range(0, Records).Select(i => new DeliveryRecord(i + 1, "aud", $"p{i}", DeliveryOperation.Add, DateTimeOffset.UnixEpoch,
            [new MatchKey("EMAIL", emails[i]), new MatchKey("PHONE", phones[i])], []))];
        var built = Build();
        if (built != Records)
        {
            throw new InvalidOperationException($"{built} of {Records} records in the requests");
        }
    }

    [Benchmark]
    public int Build()
    {
        var records = 0;
        foreach (var request in _connector.Build(_context, _records))
        {
            records += request.Records;
        }
        return records;
    }
}

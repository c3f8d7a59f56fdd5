using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tessera.Activation.Hashing;

namespace Tessera.Activation.Connectors.Platforms;

/// <summary>
/// A record a connector did not put in any request, and why: <see cref="Category"/> is the exclusion
/// reason runs count it under (<see cref="Delivery.ExclusionReasons"/>), <see cref="Reason"/> the detail.
/// </summary>
public sealed record SkippedRecord(DeliveryRecord Record, string Reason, string Category = Delivery.ExclusionReasons.MissingIdentity);

/// <summary>The requests built for one micro-batch and the records left out of them.</summary>
public sealed record ConnectorBuild(IReadOnlyList<OutgoingRequest> Requests, IReadOnlyList<SkippedRecord> Skipped);

/// <summary>
/// What the platform connectors share: settings, the last record per profile and audience, match
/// keys normalized and hashed per the platform's rules (<see cref="PlatformNormalizer"/>,
/// <see cref="KeyHashBatch"/>), and request bodies written with <see cref="Utf8JsonWriter"/>.
/// </summary>
/// <remarks>
/// <para>
/// Within one micro-batch only the last record of each (audience, profile) is sent: a membership is
/// a state, so "added, then removed" is sent as the removal. The earlier records are reported in
/// <see cref="ConnectorBuild.Skipped"/> as superseded, as are records with no usable match key (each
/// with the reasons of its keys). <see cref="OutgoingRequest.Records"/> counts the records a request
/// carries.
/// </para>
/// <para>
/// Every request gets an <c>Idempotency-Key</c> header <c>{context.IdempotencyKey}:{n}</c>, n its
/// position in the batch: stable across retries and replays, and distinct between the requests of
/// one batch. Where a platform takes an idempotency token in the body, the connector puts one there too.
/// </para>
/// </remarks>
public abstract class PlatformConnector : IHttpConnector
{
    private static readonly ConcurrentDictionary<string, PlatformNormalizer> Normalizers = new(StringComparer.OrdinalIgnoreCase);

    public abstract string Type { get; }

    public abstract IReadOnlyList<string> Keys { get; }

    public IReadOnlyList<OutgoingRequest> Build(ConnectorContext context, IReadOnlyList<DeliveryRecord> records) =>
        BuildWithReport(context, records).Requests;

    /// <summary>Builds the requests and says which records were left out and why.</summary>
    public abstract ConnectorBuild BuildWithReport(ConnectorContext context, IReadOnlyList<DeliveryRecord> records);

    /// <summary>The normalizer for the destination's <c>phoneRegion</c> setting (US when unset).</summary>
    protected static PlatformNormalizer NormalizerFor(ConnectorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Setting("phoneRegion") is { Length: > 0 } region
            ? Normalizers.GetOrAdd(region, r => new PlatformNormalizer(r))
            : PlatformNormalizer.Default;
    }

    /// <summary>
    /// The last record of each (audience, profile), in the order of those last records; the others
    /// are added to <paramref name="skipped"/> as superseded.
    /// </summary>
    protected static List<DeliveryRecord> LatestPerProfile(IReadOnlyList<DeliveryRecord> records, List<SkippedRecord> skipped)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(skipped);
        var last = new Dictionary<(string, string), int>();
        for (var i = 0; i < records.Count; i++)
        {
            last[(records[i].AudienceId, records[i].ProfileId)] = i;
        }
        var latest = new List<DeliveryRecord>(last.Count);
        for (var i = 0; i < records.Count; i++)
        {
            if (last[(records[i].AudienceId, records[i].ProfileId)] == i)
            {
                latest.Add(records[i]);
            }
            else
            {
                skipped.Add(new SkippedRecord(records[i], "superseded by a later record of the same profile and audience in this batch", Delivery.ExclusionReasons.Superseded));
            }
        }
        return latest;
    }

    /// <summary>
    /// Normalizes the keys of <paramref name="record"/> that <paramref name="targets"/> knows (the first
    /// usable value of each target) and adds them to <paramref name="batch"/>. Returns (target, key
    /// index) pairs in the order of <paramref name="targets"/>, or null with the reason when none is usable.
    /// </summary>
    protected static List<(string Target, int Key)>? AddKeys(DeliveryRecord record, IReadOnlyDictionary<string, KeyKind> targets,
        HashPlatform platform, PlatformNormalizer normalizer, KeyHashBatch batch, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(normalizer);
        ArgumentNullException.ThrowIfNull(batch);
        List<(string Target, int Key)>? keys = null;
        List<string>? problems = null;
        foreach (var key in record.Keys)
        {
            if (!targets.TryGetValue(key.Target, out var kind))
            {
                (problems ??= []).Add($"{key.Target}: not a key this destination accepts");
                continue;
            }
            if (keys is not null && keys.Exists(k => k.Target == key.Target))
            {
                continue;
            }
            var outcome = normalizer.Normalize(platform, kind, key.Value);
            if (outcome.IsUsable)
            {
                (keys ??= []).Add((key.Target, batch.Add(outcome)));
            }
            else
            {
                (problems ??= []).Add($"{key.Target}: {outcome.Problem}");
            }
        }
        reason = keys is null ? NoUsableKey(problems) : null;
        return keys;
    }

    protected static string NoUsableKey(List<string>? problems) =>
        problems is null ? "no match key" : "no usable match key (" + string.Join("; ", problems) + ")";

    /// <summary>Splits <paramref name="items"/> into runs of at most <paramref name="size"/>.</summary>
    protected static IEnumerable<List<T>> Chunks<T>(List<T> items, int size)
    {
        ArgumentNullException.ThrowIfNull(items);
        for (var start = 0; start < items.Count; start += size)
        {
            yield return items.GetRange(start, Math.Min(size, items.Count - start));
        }
    }

    /// <summary>A JSON body written by <paramref name="write"/>.</summary>
    protected static byte[] Json(Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A request with its <c>Idempotency-Key</c> header (<c>{key}:{n}</c>) and any platform headers.</summary>
    protected static OutgoingRequest Request(ConnectorContext context, int position, HttpMethod method, string path, byte[] body, int records,
        params KeyValuePair<string, string>[] headers)
    {
        ArgumentNullException.ThrowIfNull(context);
        var all = new List<KeyValuePair<string, string>>(headers.Length + 1)
        {
            new("Idempotency-Key", $"{context.IdempotencyKey}:{position}"),
        };
        all.AddRange(headers);
        return new OutgoingRequest(method, path, "application/json", body, records) { Headers = all };
    }

    /// <summary>A positive 63-bit number derived from <paramref name="text"/> (for platforms whose idempotency tokens are numbers).</summary>
    protected static long StableNumber(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return (long)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest) & 0x7FFF_FFFF_FFFF_FFFF);
    }

    /// <summary>The value of a mapped attribute, or null.</summary>
    protected static string? Attribute(DeliveryRecord record, string name)
    {
        ArgumentNullException.ThrowIfNull(record);
        foreach (var (key, value) in record.Attributes)
        {
            if (string.Equals(key, name, StringComparison.Ordinal))
            {
                return value;
            }
        }
        return null;
    }

    protected static bool IsRemove(DeliveryRecord record) => record.Operation == DeliveryOperation.Remove;
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tessera.Storage;

namespace Tessera.Activation.Delivery;

/// <summary>
/// Activation's own durable records, in the store's activation space: each destination's
/// <see cref="DestinationState"/>, its runs, the audit log of every delivery and the dead-letter
/// store. Keys are <c>tag \0 sandbox \0 destination \0 run</c> with runs as 19 digits, so a
/// destination's runs scan in order and newest first backwards.
/// </summary>
public sealed class ActivationLog(IStore store)
{
    private const string StateTag = "s";
    private const string RunTag = "r";
    private const string AuditTag = "a";
    private const string DeadTag = "d";
    private const string SentTag = "f";

    public DestinationState State(string sandbox, string destination) =>
        Read(Key(StateTag, sandbox, destination), ActivationJson.Default.DestinationState) ?? new DestinationState();

    public static void PutState(WriteSet writes, string sandbox, string destination, DestinationState state) =>
        Put(writes, Key(StateTag, sandbox, destination), state, ActivationJson.Default.DestinationState);

    public async Task SaveStateAsync(string sandbox, string destination, DestinationState state, CancellationToken cancellationToken = default)
    {
        using var writes = new WriteSet(1024);
        PutState(writes, sandbox, destination, state);
        await store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
    }

    public static void PutRun(WriteSet writes, string sandbox, DeliveryRun run) =>
        Put(writes, Key(RunTag, sandbox, run.Destination, run.Id), run, ActivationJson.Default.DeliveryRun);

    public static void PutAudit(WriteSet writes, string sandbox, DeliveryAudit audit) =>
        Put(writes, Key(AuditTag, sandbox, audit.Destination, audit.RunId, audit.Request), audit, ActivationJson.Default.DeliveryAudit);

    public static void PutDeadLetter(WriteSet writes, string sandbox, DeadLetter dead) =>
        Put(writes, Key(DeadTag, sandbox, dead.Destination, dead.RunId), dead, ActivationJson.Default.DeadLetter);

    public static void DeleteDeadLetter(WriteSet writes, string sandbox, string destination, long runId) =>
        writes.Delete(StoreSpace.Activation, 0, Key(DeadTag, sandbox, destination, runId));

    /// <summary>The destination's runs, newest first, at most <paramref name="take"/>.</summary>
    public List<DeliveryRun> Runs(string sandbox, string destination, int take = 100) =>
        [.. store.ScanReverse(StoreSpace.Activation, 0, Prefix(RunTag, sandbox, destination)).Take(take)
            .Select(e => JsonSerializer.Deserialize(e.Value, ActivationJson.Default.DeliveryRun)!)];

    public DeliveryRun? Run(string sandbox, string destination, long id) =>
        Read(Key(RunTag, sandbox, destination, id), ActivationJson.Default.DeliveryRun);

    /// <summary>The audit log of the destination, oldest first (optionally of one run).</summary>
    public IEnumerable<DeliveryAudit> Audit(string sandbox, string destination, long? run = null) =>
        store.Scan(StoreSpace.Activation, 0, run is { } id ? Key(AuditTag, sandbox, destination, id) : Prefix(AuditTag, sandbox, destination))
            .Select(e => JsonSerializer.Deserialize(e.Value, ActivationJson.Default.DeliveryAudit)!);

    public List<DeadLetter> DeadLetters(string sandbox, string destination) =>
        [.. store.Scan(StoreSpace.Activation, 0, Prefix(DeadTag, sandbox, destination))
            .Select(e => JsonSerializer.Deserialize(e.Value, ActivationJson.Default.DeadLetter)!)];

    /// <summary>Drops the runs and audit entries older than the newest <paramref name="keep"/> runs (every hundredth run, the hundred that fell out).</summary>
    public void Trim(WriteSet writes, string sandbox, string destination, long newestRun, int keep)
    {
        var oldest = newestRun - keep;
        if (oldest < 1 || oldest % 100 != 0)
        {
            return;
        }
        for (var id = oldest - 99; id <= oldest; id++)
        {
            writes.Delete(StoreSpace.Activation, 0, Key(RunTag, sandbox, destination, id));
            foreach (var (key, _) in store.Scan(StoreSpace.Activation, 0, Key(AuditTag, sandbox, destination, id)))
            {
                writes.Delete(StoreSpace.Activation, 0, key);
            }
        }
    }

    /// <summary>The fingerprint of what was last sent for a member (null: not sent, or removed since).</summary>
    public ulong? Sent(string sandbox, string destination, string audience, string profile) =>
        store.Get(StoreSpace.Activation, 0, SentKey(sandbox, destination, audience, profile)) is { Length: 8 } value
            ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(value)
            : null;

    /// <summary>Records what was sent: the fingerprint of each add or update, the removal of each remove.</summary>
    public void PutSent(WriteSet writes, string sandbox, string destination, IEnumerable<DeliveryRecord> records)
    {
        Span<byte> value = stackalloc byte[8];
        foreach (var record in records)
        {
            var key = SentKey(sandbox, destination, record.AudienceId, record.ProfileId);
            if (record.Operation == DeliveryOperation.Remove)
            {
                writes.Delete(StoreSpace.Activation, 0, key);
            }
            else
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(value, Fingerprint(record));
                writes.Put(StoreSpace.Activation, 0, key, value);
            }
        }
    }

    /// <summary>A 64-bit hash of a record's match keys and attributes: what a destination knows of the member.</summary>
    public static ulong Fingerprint(DeliveryRecord record)
    {
        var hash = new System.IO.Hashing.XxHash64();
        foreach (var (target, value) in record.Keys.OrderBy(k => k.Target, StringComparer.Ordinal).ThenBy(k => k.Value, StringComparer.Ordinal))
        {
            Append(hash, target);
            Append(hash, value);
        }
        hash.Append([1]);
        foreach (var (name, value) in record.Attributes)
        {
            Append(hash, name);
            Append(hash, value ?? "\u0000null");
        }
        return hash.GetCurrentHashAsUInt64();

        static void Append(System.IO.Hashing.XxHash64 hash, string text)
        {
            hash.Append(Encoding.UTF8.GetBytes(text));
            hash.Append([0]);
        }
    }

    /// <summary>The dead-lettered changes of every destination of the sandbox that name one of <paramref name="profiles"/>.</summary>
    public List<(string Destination, DeadRecord Record)> DeadRecordsOf(string sandbox, IReadOnlySet<string> profiles) =>
        [.. store.Scan(StoreSpace.Activation, 0, Encoding.UTF8.GetBytes($"{DeadTag}\0{sandbox}\0"))
            .Select(e => JsonSerializer.Deserialize(e.Value, ActivationJson.Default.DeadLetter)!)
            .SelectMany(d => d.Records.Where(r => profiles.Contains(r.ProfileId)).Select(r => (d.Destination, r)))];

    /// <summary>
    /// Privacy delete: removes <paramref name="profiles"/> from every dead letter of the sandbox (a dead
    /// letter left empty is deleted) and forgets what was sent for them. Returns (dead records, sent entries) removed.
    /// </summary>
    public async Task<(long DeadRecords, long Sent)> ForgetProfilesAsync(string sandbox, IReadOnlySet<string> profiles, CancellationToken cancellationToken)
    {
        using var writes = new WriteSet(16 * 1024);
        long dead = 0, sent = 0;
        foreach (var (key, value) in store.Scan(StoreSpace.Activation, 0, Encoding.UTF8.GetBytes($"{DeadTag}\0{sandbox}\0")))
        {
            var letter = JsonSerializer.Deserialize(value, ActivationJson.Default.DeadLetter)!;
            var removed = letter.Records.RemoveAll(r => profiles.Contains(r.ProfileId));
            if (removed == 0)
            {
                continue;
            }
            dead += removed;
            if (letter.Records.Count == 0)
            {
                writes.Delete(StoreSpace.Activation, 0, key);
            }
            else
            {
                writes.Put(StoreSpace.Activation, 0, key, JsonSerializer.SerializeToUtf8Bytes(letter, ActivationJson.Default.DeadLetter));
            }
        }
        foreach (var (key, _) in store.Scan(StoreSpace.Activation, 0, Encoding.UTF8.GetBytes($"{SentTag}\0{sandbox}\0")))
        {
            // f \0 sandbox \0 destination \0 audience \0 profile: the profile is what follows the last separator.
            var profile = Encoding.UTF8.GetString(key.AsSpan(key.AsSpan().LastIndexOf((byte)0) + 1));
            if (profiles.Contains(profile))
            {
                writes.Delete(StoreSpace.Activation, 0, key);
                sent++;
            }
        }
        if (writes.Count > 0)
        {
            await store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        }
        return (dead, sent);
    }

    /// <summary>Deletes everything of a destination (state, runs, audit, dead letters).</summary>
    public async Task ForgetAsync(string sandbox, string destination, CancellationToken cancellationToken = default)
    {
        using var writes = new WriteSet(64 * 1024);
        foreach (var tag in new[] { StateTag, RunTag, AuditTag, DeadTag, SentTag })
        {
            foreach (var (key, _) in store.Scan(StoreSpace.Activation, 0, tag == StateTag ? Key(tag, sandbox, destination) : Prefix(tag, sandbox, destination)))
            {
                writes.Delete(StoreSpace.Activation, 0, key);
            }
        }
        await store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
    }

    public Task CommitAsync(WriteSet writes, CancellationToken cancellationToken = default) => store.CommitAsync(writes, cancellationToken);

    private T? Read<T>(byte[] key, JsonTypeInfo<T> type) where T : class
    {
        var bytes = store.Get(StoreSpace.Activation, 0, key);
        return bytes is null ? null : JsonSerializer.Deserialize(bytes, type);
    }

    private static void Put<T>(WriteSet writes, byte[] key, T value, JsonTypeInfo<T> type) =>
        writes.Put(StoreSpace.Activation, 0, key, JsonSerializer.SerializeToUtf8Bytes(value, type));

    private static byte[] SentKey(string sandbox, string destination, string audience, string profile) =>
        Encoding.UTF8.GetBytes($"{SentTag}\0{sandbox}\0{destination}\0{audience}\0{profile}");

    private static byte[] Prefix(string tag, string sandbox, string destination) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}\0");

    private static byte[] Key(string tag, string sandbox, string destination) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}");

    private static byte[] Key(string tag, string sandbox, string destination, long run) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}\0{run:D19}");

    private static byte[] Key(string tag, string sandbox, string destination, long run, int request) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}\0{run:D19}\0{request:D6}");
}

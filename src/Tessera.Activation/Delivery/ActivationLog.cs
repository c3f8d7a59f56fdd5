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

    /// <summary>Deletes everything of a destination (state, runs, audit, dead letters).</summary>
    public async Task ForgetAsync(string sandbox, string destination, CancellationToken cancellationToken = default)
    {
        using var writes = new WriteSet(64 * 1024);
        foreach (var tag in new[] { StateTag, RunTag, AuditTag, DeadTag })
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

    private static byte[] Prefix(string tag, string sandbox, string destination) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}\0");

    private static byte[] Key(string tag, string sandbox, string destination) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}");

    private static byte[] Key(string tag, string sandbox, string destination, long run) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}\0{run:D19}");

    private static byte[] Key(string tag, string sandbox, string destination, long run, int request) =>
        Encoding.UTF8.GetBytes($"{tag}\0{sandbox}\0{destination}\0{run:D19}\0{request:D6}");
}

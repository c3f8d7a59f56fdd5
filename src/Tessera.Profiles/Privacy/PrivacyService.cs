using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Profiles.Privacy;

/// <summary>
/// Privacy requests about a person (docs/privacy.md): access exports everything held about the
/// person's identities, delete removes it from every store. The person is the named identities and
/// every identity of their graphs. A request is stored (catalog space) as <c>processing</c> before any
/// work, so one a crash interrupted is run again on open (<see cref="RecoverAsync"/>; deletion is
/// idempotent). Requests run one at a time, synchronously in the caller.
/// </summary>
public sealed class PrivacyService
{
    /// <summary>The receipt's note when no participant holds memberships (a workspace without segmentation).</summary>
    public const string MembershipsNote = "no membership store took part in this request";

    /// <summary>The receipt's note when the memberships participant took part.</summary>
    public const string MembershipsCoveredNote = "memberships and the membership feed are covered (see participants)";

    /// <summary>Most identities one request may name.</summary>
    public const int MaxIdentitiesPerRequest = 100;

    private const string RequestKind = "privacy-request";
    /// <summary>Index of requests still processing, so that recovery does not read every request ever made.</summary>
    private const string OpenKind = "privacy-open";
    private const string ExportKind = "privacy-export";
    /// <summary>Deletes per commit: bounded sets, so that a person with many facts does not make one huge write.</summary>
    private const int DeleteChunk = 10_000;

    private readonly IStore _store;
    private readonly TesseraCatalog _catalog;
    private readonly IdentityService _identity;
    private readonly ProfileService _profiles;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<IPrivacyParticipant> _participants = [];

    public PrivacyService(IStore store, TesseraCatalog catalog, IdentityService identity, ProfileService profiles, TimeProvider time)
    {
        _store = store;
        _catalog = catalog;
        _identity = identity;
        _profiles = profiles;
        _time = time;
    }

    /// <summary>
    /// Adds a store that holds personal data outside this assembly: access exports its section, delete
    /// runs it after facts and links are gone. Register while opening, before requests run.
    /// </summary>
    public void AddParticipant(IPrivacyParticipant participant)
    {
        lock (_participants)
        {
            _participants.Add(participant);
        }
    }

    private IReadOnlyList<IPrivacyParticipant> Participants()
    {
        lock (_participants)
        {
            return [.. _participants];
        }
    }

    /// <summary>
    /// Runs an access or delete request about the person <paramref name="identities"/> name
    /// (normalized, as <c>Workspace.ParseIdentity</c> gives them) and returns it finished:
    /// <c>completed</c> with its receipt (and export), or <c>failed</c> with the error.
    /// </summary>
    /// <exception cref="CatalogException">PRIVACY_REQUEST_INVALID: unknown type, no identities or too many; SANDBOX_NOT_FOUND.</exception>
    public async Task<PrivacyRequest> SubmitAsync(string sandbox, string type, IReadOnlyList<IdentityKey> identities, CancellationToken cancellationToken = default)
    {
        if (!PrivacyRequestTypes.IsKnown(type))
        {
            throw new CatalogException("PRIVACY_REQUEST_INVALID", $"type must be '{PrivacyRequestTypes.Access}' or '{PrivacyRequestTypes.Delete}', not '{type}'");
        }
        if (identities.Count is 0 or > MaxIdentitiesPerRequest)
        {
            throw new CatalogException("PRIVACY_REQUEST_INVALID", $"a request names 1 to {MaxIdentitiesPerRequest} identities, not {identities.Count}");
        }
        _ = _catalog.GetSandbox(sandbox) ?? throw new CatalogException("SANDBOX_NOT_FOUND", $"sandbox '{sandbox}' does not exist");
        var request = new PrivacyRequest
        {
            Id = NewId(),
            Sandbox = sandbox,
            Type = type,
            Identities = [.. identities.Distinct().Select(i => i.ToString())],
            Status = PrivacyRequestStatus.Processing,
            CreatedAt = _time.GetUtcNow(),
        };
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<PrivacyRequest> AccessAsync(string sandbox, IReadOnlyList<IdentityKey> identities, CancellationToken cancellationToken = default) =>
        SubmitAsync(sandbox, PrivacyRequestTypes.Access, identities, cancellationToken);

    public Task<PrivacyRequest> DeleteAsync(string sandbox, IReadOnlyList<IdentityKey> identities, CancellationToken cancellationToken = default) =>
        SubmitAsync(sandbox, PrivacyRequestTypes.Delete, identities, cancellationToken);

    /// <summary>
    /// Runs again every request a crash left <c>processing</c> (in any sandbox); a server does it
    /// while starting, after interrupted batches were finished.
    /// </summary>
    public async Task<IReadOnlyList<PrivacyRequest>> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var open = new List<PrivacyRequest>();
        foreach (var (key, _) in _store.Scan(StoreSpace.Catalog, 0, Encoding.UTF8.GetBytes($"{OpenKind}\0")))
        {
            var parts = Encoding.UTF8.GetString(key).Split('\0');
            if (Get(parts[1], parts[2]) is { Status: PrivacyRequestStatus.Processing } request)
            {
                open.Add(request);
            }
        }
        var result = new List<PrivacyRequest>();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var request in open)
            {
                result.Add(await RunAsync(request, cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            _gate.Release();
        }
        return result;
    }

    public PrivacyRequest? Get(string sandbox, string id)
    {
        var bytes = _store.Get(StoreSpace.Catalog, 0, CatalogStore.Key(RequestKind, sandbox, id));
        return bytes is null ? null : JsonSerializer.Deserialize(bytes, PrivacyJson.Default.PrivacyRequest);
    }

    /// <exception cref="CatalogException">PRIVACY_REQUEST_NOT_FOUND.</exception>
    public PrivacyRequest Require(string sandbox, string id) => Get(sandbox, id)
        ?? throw new CatalogException("PRIVACY_REQUEST_NOT_FOUND", $"privacy request '{id}' does not exist in sandbox '{sandbox}'");

    /// <summary>A sandbox's requests, newest first (ids are time-ordered), read lazily.</summary>
    public IEnumerable<PrivacyRequest> List(string sandbox)
    {
        foreach (var (_, value) in _store.ScanReverse(StoreSpace.Catalog, 0, CatalogStore.Key(RequestKind, sandbox, "")))
        {
            yield return JsonSerializer.Deserialize(value, PrivacyJson.Default.PrivacyRequest)!;
        }
    }

    /// <summary>An access request's stored export as JSON (UTF-8).</summary>
    /// <exception cref="CatalogException">PRIVACY_REQUEST_NOT_FOUND; PRIVACY_EXPORT_NOT_FOUND for a delete request, or an access request that did not complete.</exception>
    public byte[] RequireExportJson(string sandbox, string id)
    {
        var request = Require(sandbox, id);
        return _store.Get(StoreSpace.Catalog, 0, CatalogStore.Key(ExportKind, sandbox, id))
            ?? throw new CatalogException("PRIVACY_EXPORT_NOT_FOUND", request.Type == PrivacyRequestTypes.Access
                ? $"access request '{id}' is {request.Status}: it has no export"
                : $"privacy request '{id}' is a {request.Type} request: only access requests have an export");
    }

    public PrivacyExport RequireExport(string sandbox, string id) =>
        JsonSerializer.Deserialize(RequireExportJson(sandbox, id), PrivacyJson.Default.PrivacyExport)!;

    /// <summary>
    /// Adds a request's stored form to a write set, and keeps the index of processing requests in step
    /// (public so that a test can leave one as a crash would).
    /// </summary>
    public static void Put(WriteSet writes, PrivacyRequest request)
    {
        CatalogStore.Put(writes, RequestKind, request.Sandbox, request.Id, request with { Export = null }, PrivacyJson.Default.PrivacyRequest);
        var open = CatalogStore.Key(OpenKind, request.Sandbox, request.Id);
        if (request.Status == PrivacyRequestStatus.Processing)
        {
            writes.Put(StoreSpace.Catalog, 0, open, []);
        }
        else
        {
            writes.Delete(StoreSpace.Catalog, 0, open);
        }
    }

    /// <summary>
    /// Whether a quarantined row's raw text mentions <paramref name="value"/>, case-insensitively. Raw
    /// text that is JSON (every tabular row, most rejected JSON records) mentions it when one of its
    /// string or number values is the value, whole; other text when the value occurs not as part of a
    /// longer word or number. A text match: a value written differently in the row (a phone number
    /// without its country code) is not found, and a short value (<c>CRMID:1</c>) matches every row
    /// with that value anywhere in it.
    /// </summary>
    public static bool Mentions(string? text, string value)
    {
        if (string.IsNullOrEmpty(text) || value.Length == 0)
        {
            return false;
        }
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
            var mentioned = false;
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.Number
                    && (reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : reader.GetString()!)
                        .Trim().Equals(value, StringComparison.OrdinalIgnoreCase))
                {
                    mentioned = true;
                }
            }
            return mentioned;
        }
        catch (JsonException)
        {
            // Not JSON (a line that failed to parse): fall back to the text at word boundaries.
        }
        for (var at = text.IndexOf(value, StringComparison.OrdinalIgnoreCase); at >= 0;
            at = text.IndexOf(value, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            var end = at + value.Length;
            if ((at == 0 || !char.IsLetterOrDigit(text[at - 1])) && (end == text.Length || !char.IsLetterOrDigit(text[end])))
            {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ running

    private async Task<PrivacyRequest> RunAsync(PrivacyRequest request, CancellationToken cancellationToken)
    {
        var sandbox = request.Sandbox;
        var named = request.Identities.Select(Parse).ToList();
        // A re-run keeps the identities resolved the first time: their links may already be gone.
        var members = Person(sandbox, named, request.Members.Select(Parse));
        request = request with { Members = [.. members.Select(m => m.ToString())], Runs = request.Runs + 1 };
        await SaveAsync(request, null, cancellationToken).ConfigureAwait(false);
        PrivacyExport? export = null;
        try
        {
            PrivacyReceipt receipt;
            if (request.Type == PrivacyRequestTypes.Access)
            {
                (receipt, export) = Access(request, members);
            }
            else
            {
                receipt = await DeleteAsync(sandbox, members, cancellationToken).ConfigureAwait(false);
            }
            request = request with { Status = PrivacyRequestStatus.Completed, CompletedAt = _time.GetUtcNow(), Receipt = receipt, Error = null };
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // Cancelled requests stay processing (and are run again on open); anything else is reported.
            request = request with { Status = PrivacyRequestStatus.Failed, CompletedAt = _time.GetUtcNow(), Error = error.Message };
            export = null;
        }
        await SaveAsync(request, export, CancellationToken.None).ConfigureAwait(false);
        return request with { Export = export };
    }

    private async Task SaveAsync(PrivacyRequest request, PrivacyExport? export, CancellationToken cancellationToken)
    {
        using var writes = new WriteSet(4096);
        Put(writes, request);
        if (export is not null)
        {
            writes.Put(StoreSpace.Catalog, 0, CatalogStore.Key(ExportKind, request.Sandbox, request.Id),
                JsonSerializer.SerializeToUtf8Bytes(export, PrivacyJson.Default.PrivacyExport));
        }
        await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The person: the named identities, every identity of their graphs, and <paramref name="known"/> (from an earlier run).</summary>
    private List<IdentityKey> Person(string sandbox, IEnumerable<IdentityKey> named, IEnumerable<IdentityKey> known)
    {
        var seen = new HashSet<IdentityKey>();
        var result = new List<IdentityKey>();
        foreach (var identity in named)
        {
            if (seen.Add(identity))
            {
                result.Add(identity);
            }
            foreach (var member in _identity.Find(sandbox, identity)?.Graph.Identities ?? [])
            {
                if (seen.Add(member))
                {
                    result.Add(member);
                }
            }
        }
        result.AddRange(known.Where(seen.Add));
        return result;
    }

    private (PrivacyReceipt Receipt, PrivacyExport Export) Access(PrivacyRequest request, List<IdentityKey> members)
    {
        var sandbox = request.Sandbox;
        var ledger = _identity.LedgerEntriesNaming(sandbox, members);
        var identities = new List<PrivacyIdentityExport>();
        var counts = new List<PrivacyShardCounts>();
        foreach (var member in members)
        {
            var (identity, shard) = Locate(sandbox, member);
            List<ExportedRecordVersion> versions = [];
            foreach (var (key, value) in _store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.RecordTag, sandbox, identity)))
            {
                if (FactKeys.TryParse(key, out var parsed))
                {
                    versions.Add(new ExportedRecordVersion(parsed.Dataset, parsed.BatchId!, parsed.Row, ParseStored(value)));
                }
            }
            List<ExportedEvent> events = [];
            foreach (var (key, value) in _store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.EventTag, sandbox, identity)))
            {
                if (FactKeys.TryParse(key, out var parsed))
                {
                    events.Add(new ExportedEvent(parsed.Dataset, parsed.EventId!, ParseStored(value)));
                }
            }
            var timeline = _store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.TimelineTag, sandbox, identity)).LongCount();
            identities.Add(new PrivacyIdentityExport
            {
                Identity = member.ToString(),
                Shard = shard,
                RecordVersions = versions,
                Events = events,
                Links = [.. ledger.Where(e => e.Identities.Contains(member)).Select(e => new ExportedLink(e.Sequence, e.Dataset, e.Batch, e.Record, e.Time,
                    [.. e.Identities.Select(i => i.ToString())]))],
            });
            counts.Add(new PrivacyShardCounts(member.ToString(), shard, versions.Count, events.Count, timeline));
        }
        var quarantine = QuarantineRows(sandbox, members);
        var known = members.Count(m => _identity.Find(sandbox, m) is not null);
        var sections = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var participantCounts = new Dictionary<string, IReadOnlyDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var participant in Participants())
        {
            var access = participant.Access(sandbox, members);
            sections[participant.Name] = access.Section;
            participantCounts[participant.Name] = access.Counts;
        }
        var export = new PrivacyExport
        {
            RequestId = request.Id,
            Sandbox = sandbox,
            ExportedAt = _time.GetUtcNow(),
            Requested = request.Identities,
            Identities = identities,
            Profiles = Profiles(sandbox, members),
            Quarantine = [.. quarantine.Select(q => q.Entry)],
            Memberships = sections.TryGetValue(PrivacyCounts.Memberships, out var section) && section[PrivacyCounts.Memberships] is JsonArray list
                ? [.. list.OfType<JsonObject>().Select(m => (JsonObject)m.DeepClone())]
                : [],
            MembershipsNote = Note(participantCounts),
            Participants = sections,
        };
        var receipt = new PrivacyReceipt
        {
            Action = "exported",
            Identities = request.Members,
            RecordVersions = counts.Sum(c => c.RecordVersions),
            Events = counts.Sum(c => c.Events),
            TimelineKeys = counts.Sum(c => c.TimelineKeys),
            LedgerEntries = ledger.Count,
            QuarantineRows = quarantine.Count,
            GraphIdentitiesBefore = known,
            GraphIdentitiesAfter = known,
            Memberships = (int)Sum(participantCounts, PrivacyCounts.Memberships),
            MembershipsNote = Note(participantCounts),
            Participants = participantCounts,
            Facts = counts,
            Quarantine = [.. quarantine.Select(q => Row(q.Entry))],
        };
        return (receipt, export);
    }

    /// <summary>The distinct profiles the person's identities are in, under the default merge policy.</summary>
    private List<ProfileReport> Profiles(string sandbox, List<IdentityKey> members)
    {
        var result = new List<ProfileReport>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            if (_profiles.Lookup(sandbox, member, policyName: null, events: 0) is { } profile
                && seen.Add(profile.Primary + "\0" + string.Join("\0", profile.Identities)))
            {
                result.Add(profile);
            }
        }
        return result;
    }

    private async Task<PrivacyReceipt> DeleteAsync(string sandbox, List<IdentityKey> members, CancellationToken cancellationToken)
    {
        var counts = new List<PrivacyShardCounts>();
        foreach (var member in members)
        {
            var (identity, shard) = Locate(sandbox, member);
            var records = await DeletePrefixAsync(shard, FactKeys.IdentityPrefix(FactKeys.RecordTag, sandbox, identity), cancellationToken).ConfigureAwait(false);
            var events = await DeletePrefixAsync(shard, FactKeys.IdentityPrefix(FactKeys.EventTag, sandbox, identity), cancellationToken).ConfigureAwait(false);
            var timeline = await DeletePrefixAsync(shard, FactKeys.IdentityPrefix(FactKeys.TimelineTag, sandbox, identity), cancellationToken).ConfigureAwait(false);
            counts.Add(new PrivacyShardCounts(member.ToString(), shard, records, events, timeline));
        }

        var quarantine = QuarantineRows(sandbox, members);
        for (var i = 0; i < quarantine.Count; i += DeleteChunk)
        {
            using var writes = new WriteSet();
            foreach (var (key, _) in quarantine.Skip(i).Take(DeleteChunk))
            {
                writes.Delete(StoreSpace.Quarantine, 0, key);
            }
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
        }

        // The ledger last: until it goes, a re-run still finds the person through the graph.
        var person = members.ToHashSet();
        var ledger = _identity.LedgerEntriesNaming(sandbox, members);
        var removed = ledger.Count(e => e.Identities.All(person.Contains));
        var before = members.Count(m => _identity.Find(sandbox, m) is not null);
        // Others whose links are rewritten may regroup: their cached views go too.
        var others = ledger.SelectMany(e => e.Identities).Where(i => !person.Contains(i)).Distinct().ToList();
        foreach (var member in members)
        {
            await _identity.DeleteAsync(sandbox, new LedgerFilter(Identity: member), cancellationToken).ConfigureAwait(false);
        }
        var after = members.Count(m => _identity.Find(sandbox, m) is not null);
        _profiles.Invalidate(sandbox, [.. members, .. others, .. others.SelectMany(o => _identity.Find(sandbox, o)?.Graph.Identities ?? [])]);

        // Participants last: with the facts and links gone, nothing can evaluate the person into a store again.
        var participantCounts = new Dictionary<string, IReadOnlyDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var participant in Participants())
        {
            participantCounts[participant.Name] = await participant.DeleteAsync(sandbox, members, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        return new PrivacyReceipt
        {
            Action = "removed",
            Identities = [.. members.Select(m => m.ToString())],
            RecordVersions = counts.Sum(c => c.RecordVersions),
            Events = counts.Sum(c => c.Events),
            TimelineKeys = counts.Sum(c => c.TimelineKeys),
            LedgerEntries = ledger.Count,
            LedgerEntriesRemoved = removed,
            LedgerEntriesRewritten = ledger.Count - removed,
            QuarantineRows = quarantine.Count,
            GraphIdentitiesBefore = before,
            GraphIdentitiesAfter = after,
            Memberships = (int)Sum(participantCounts, PrivacyCounts.Memberships),
            MembershipsExited = Sum(participantCounts, PrivacyCounts.MembershipsExited),
            FeedEntriesScrubbed = Sum(participantCounts, PrivacyCounts.FeedEntries),
            FeedEntriesHeld = Sum(participantCounts, PrivacyCounts.FeedEntriesHeld),
            MembershipsNote = Note(participantCounts),
            Participants = participantCounts,
            Facts = counts,
            Quarantine = [.. quarantine.Select(q => Row(q.Entry))],
        };
    }

    private static long Sum(Dictionary<string, IReadOnlyDictionary<string, long>> participants, string name) =>
        participants.Values.Sum(counts => counts.TryGetValue(name, out var count) ? count : 0);

    private static string Note(Dictionary<string, IReadOnlyDictionary<string, long>> participants) =>
        participants.ContainsKey(PrivacyCounts.Memberships) ? MembershipsCoveredNote : MembershipsNote;

    /// <summary>Deletes every key under <paramref name="prefix"/> on one shard, a bounded set per commit; returns how many.</summary>
    private async Task<long> DeletePrefixAsync(int shard, byte[] prefix, CancellationToken cancellationToken)
    {
        long deleted = 0;
        while (true)
        {
            // Scan afresh each round: what the previous round deleted is gone, so this is the next chunk.
            using var writes = new WriteSet();
            foreach (var (key, _) in _store.Scan(StoreSpace.Facts, shard, prefix).Take(DeleteChunk))
            {
                writes.Delete(StoreSpace.Facts, shard, key);
            }
            if (writes.Count == 0)
            {
                return deleted;
            }
            await _store.CommitAsync(writes, cancellationToken).ConfigureAwait(false);
            deleted += writes.Count;
        }
    }

    /// <summary>The sandbox's quarantined rows whose raw text mentions a value of <paramref name="members"/> (<see cref="Mentions"/>).</summary>
    private List<(byte[] Key, QuarantineEntry Entry)> QuarantineRows(string sandbox, List<IdentityKey> members)
    {
        var values = members.Select(m => m.Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var result = new List<(byte[], QuarantineEntry)>();
        foreach (var (key, value) in _store.Scan(StoreSpace.Quarantine, 0, Encoding.UTF8.GetBytes($"{sandbox}\0")))
        {
            var entry = JsonSerializer.Deserialize(value, QuarantineJson.Default.QuarantineEntry)!;
            if (values.Any(v => Mentions(entry.Raw, v)))
            {
                result.Add((key, entry));
            }
        }
        return result;
    }

    private (IdentityValue Identity, int Shard) Locate(string sandbox, IdentityKey member)
    {
        var identity = new IdentityValue(member.Namespace, member.Value, Primary: true);
        return (identity, FactKeys.ShardOf(sandbox, identity, _store.ShardCount));
    }

    private static PrivacyQuarantineRow Row(QuarantineEntry entry) => new(entry.BatchId, entry.Row, entry.Dataset);

    private static JsonNode? ParseStored(byte[] value)
    {
        try
        {
            return JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            // Not expected (facts are stored as JSON); the export still says that something is there.
            return JsonValue.Create(Convert.ToBase64String(value));
        }
    }

    private static IdentityKey Parse(string text) =>
        IdentityKey.TryParse(text, out var key) ? key : throw new InvalidDataException($"privacy request: '{text}' is not Namespace:value");

    private string NewId()
    {
        // Time-ordered ids (ms timestamp + random), as batch ids, so that listing requests is chronological.
        Span<byte> random = stackalloc byte[5];
        RandomNumberGenerator.Fill(random);
        return $"p{_time.GetUtcNow().ToUnixTimeMilliseconds():x11}{Convert.ToHexStringLower(random)}";
    }
}

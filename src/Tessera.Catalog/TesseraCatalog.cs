using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Tessera.Abstractions;
using Tessera.Storage;

namespace Tessera.Catalog;

/// <summary>
/// Sandboxes, schemas, identity namespaces, datasets, batches, API keys and merge policies of one workspace.
/// Every object belongs to a sandbox; nothing here lets one sandbox read another's objects.
/// </summary>
public sealed class TesseraCatalog
{
    public const string DefaultSandbox = "prod";
    private const string SandboxKind = "sandbox";
    private const string SchemaKind = "schema";
    private const string SchemaLatestKind = "schema-latest";
    private const string NamespaceKind = "ns";
    private const string DatasetKind = "dataset";
    private const string BatchKind = "batch";
    private const string OpenBatchKind = "batch-open";
    private const string ApiKeyKind = "apikey";
    private const string ApiKeyHashKind = "apikey-hash";
    private const string MergePolicyKind = "merge-policy";
    private const string Global = "";

    private readonly CatalogStore _store;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string Sandbox, string Name, int Version), CompiledSchema> _compiled = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private long _definitionsVersion;
    private long _keysVersion;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Version, ApiKeyRecord Record)> _liveKeys = new(StringComparer.Ordinal);

    public TesseraCatalog(IStore store, TimeProvider time)
    {
        _store = new CatalogStore(store);
        _time = time;
    }

    public IStore Store => _store.Store;

    public TimeProvider Time => _time;

    // ---------------------------------------------------------------- sandboxes

    public async Task<SandboxInfo> EnsureSandboxAsync(string name)
    {
        if (!SchemaCompiler.ObjectNamePattern().IsMatch(name))
        {
            throw new CatalogException("NAME_INVALID", $"sandbox name '{name}' must start with a letter and use letters, digits, '_' or '-'");
        }
        return await ExclusiveAsync(async () =>
        {
            if (GetSandbox(name) is { } existing)
            {
                return existing;
            }
            var sandbox = new SandboxInfo { Name = name, CreatedAt = _time.GetUtcNow() };
            using var writes = new WriteSet(8 * 1024);
            CatalogStore.Put(writes, SandboxKind, Global, name, sandbox, CatalogJson.Default.SandboxInfo);
            foreach (var ns in StandardNamespaces.All)
            {
                CatalogStore.Put(writes, NamespaceKind, name, ns.Code, ns, CatalogJson.Default.IdentityNamespace);
            }
            await Store.CommitAsync(writes).ConfigureAwait(false);
            Interlocked.Increment(ref _definitionsVersion);
            return sandbox;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a check-then-write of the catalog alone, so that two racing creates of one object cannot
    /// both succeed with different definitions (the last write silently winning).
    /// </summary>
    private async Task<T> ExclusiveAsync<T>(Func<Task<T>> checkAndWrite)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            return await checkAndWrite().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Changes with every write of a definition (sandbox, namespace, schema, dataset, merge policy),
    /// not with batches or keys: what is derived from definitions can be kept while it stays the same.
    /// </summary>
    public long DefinitionsVersion => Interlocked.Read(ref _definitionsVersion);

    public SandboxInfo? GetSandbox(string name) => _store.Get(SandboxKind, Global, name, CatalogJson.Default.SandboxInfo);

    public List<SandboxInfo> ListSandboxes() => _store.List(SandboxKind, Global, CatalogJson.Default.SandboxInfo);

    public SandboxInfo RequireSandbox(string name) =>
        GetSandbox(name) ?? throw new CatalogException("SANDBOX_NOT_FOUND", $"sandbox '{name}' does not exist");

    // ---------------------------------------------------------------- identity namespaces

    public IdentityNamespace? GetNamespace(string sandbox, string code) =>
        _store.Get(NamespaceKind, sandbox, code, CatalogJson.Default.IdentityNamespace) is { } ns ? NamespaceDefinitions.WithStandardFormat(ns) : null;

    public List<IdentityNamespace> ListNamespaces(string sandbox) =>
        [.. _store.List(NamespaceKind, sandbox, CatalogJson.Default.IdentityNamespace).Select(NamespaceDefinitions.WithStandardFormat)];

    /// <summary>
    /// Creates a custom namespace. Posting one that exists returns it unchanged, unless the request
    /// sets a type, format, default region or blocked values that differ from the stored ones
    /// (<c>NAMESPACE_EXISTS</c>): a namespace's normalization is not changed after the fact.
    /// </summary>
    public async Task<IdentityNamespace> CreateNamespaceAsync(string sandbox, IdentityNamespace ns)
    {
        RequireSandbox(sandbox);
        if (!SchemaCompiler.ObjectNamePattern().IsMatch(ns.Code))
        {
            throw new CatalogException("NAME_INVALID", $"namespace code '{ns.Code}' must start with a letter and use letters, digits, '_' or '-'");
        }
        ns = NamespaceDefinitions.Checked(ns);
        return await ExclusiveAsync(async () =>
        {
            if (ns.NumericId is { } numericId && ListNamespaces(sandbox).FirstOrDefault(n => n.NumericId == numericId && n.Code != ns.Code) is { } holder)
            {
                throw new CatalogException("NAMESPACE_EXISTS", $"namespace '{holder.Code}' already carries numeric id {numericId}");
            }
            if (GetNamespace(sandbox, ns.Code) is { } existing)
            {
                if (existing.Type != ns.Type)
                {
                    throw new CatalogException("NAMESPACE_EXISTS", $"namespace '{ns.Code}' already exists with identity type {existing.Type}");
                }
                if (NamespaceDefinitions.Difference(existing, ns) is { } difference)
                {
                    throw new CatalogException("NAMESPACE_EXISTS", $"namespace '{ns.Code}' already exists with {difference}");
                }
                return existing;
            }
            // The format is stored explicitly: what a namespace accepts does not change under it.
            var stored = ns with { Standard = false, Format = ns.EffectiveFormat };
            await _store.PutAsync(NamespaceKind, sandbox, ns.Code, stored, CatalogJson.Default.IdentityNamespace).ConfigureAwait(false);
            Interlocked.Increment(ref _definitionsVersion);
            return stored;
        }).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- schemas

    /// <summary>
    /// Registers a schema or a new version of it. An identical document returns the current
    /// version; a breaking change is refused with <c>SCHEMA_BREAKING_CHANGE</c> naming each field.
    /// </summary>
    public async Task<SchemaDocument> RegisterSchemaAsync(string sandbox, SchemaDocument document)
    {
        RequireSandbox(sandbox);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            SchemaCompiler.Compile(document with { Version = 1 }, code => GetNamespace(sandbox, code) is not null);
            var current = GetSchema(sandbox, document.Name);
            var version = 1;
            if (current is not null)
            {
                var problems = SchemaEvolution.BreakingChanges(current, document);
                if (problems.Count > 0)
                {
                    throw new CatalogException("SCHEMA_BREAKING_CHANGE",
                        $"schema '{document.Name}' v{current.Version}: refused, only additive changes are allowed: " + string.Join("; ", problems));
                }
                if (Canonical(current with { Version = 0 }) == Canonical(document with { Version = 0 }))
                {
                    return current;
                }
                version = current.Version + 1;
            }
            var stored = document with { Version = version };
            using var writes = new WriteSet(16 * 1024);
            CatalogStore.Put(writes, SchemaKind, sandbox, $"{document.Name}\0{version:D6}", stored, CatalogJson.Default.SchemaDocument);
            CatalogStore.Put(writes, SchemaLatestKind, sandbox, document.Name, stored, CatalogJson.Default.SchemaDocument);
            await Store.CommitAsync(writes).ConfigureAwait(false);
            Interlocked.Increment(ref _definitionsVersion);
            return stored;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The latest version, or a given one.</summary>
    public SchemaDocument? GetSchema(string sandbox, string name, int? version = null) => version is { } v
        ? _store.Get(SchemaKind, sandbox, $"{name}\0{v:D6}", CatalogJson.Default.SchemaDocument)
        : _store.Get(SchemaLatestKind, sandbox, name, CatalogJson.Default.SchemaDocument);

    public List<SchemaDocument> ListSchemas(string sandbox) => _store.List(SchemaLatestKind, sandbox, CatalogJson.Default.SchemaDocument);

    public List<SchemaDocument> SchemaVersions(string sandbox, string name) =>
        [.. _store.List(SchemaKind, sandbox, CatalogJson.Default.SchemaDocument).Where(s => s.Name == name)];

    public CompiledSchema Compiled(string sandbox, string name, int? version = null)
    {
        var document = GetSchema(sandbox, name, version)
            ?? throw new CatalogException("SCHEMA_NOT_FOUND", $"schema '{name}' does not exist in sandbox '{sandbox}'");
        return _compiled.GetOrAdd((sandbox, name, document.Version),
            _ => SchemaCompiler.Compile(document, code => GetNamespace(sandbox, code) is not null));
    }

    private static string Canonical(SchemaDocument document) =>
        System.Text.Json.JsonSerializer.Serialize(document, CatalogJson.Default.SchemaDocument);

    // ---------------------------------------------------------------- datasets

    public async Task<DatasetDefinition> CreateDatasetAsync(string sandbox, DatasetDefinition dataset)
    {
        RequireSandbox(sandbox);
        if (!SchemaCompiler.ObjectNamePattern().IsMatch(dataset.Name))
        {
            throw new CatalogException("NAME_INVALID", $"dataset name '{dataset.Name}' must start with a letter and use letters, digits, '_' or '-'");
        }
        var schema = GetSchema(sandbox, dataset.Schema)
            ?? throw new CatalogException("SCHEMA_NOT_FOUND", $"dataset '{dataset.Name}': schema '{dataset.Schema}' does not exist in sandbox '{sandbox}'");
        if (dataset.EventTtl is not null && schema.Class != SchemaClass.Event)
        {
            throw new CatalogException("DATASET_INVALID", $"dataset '{dataset.Name}': an event TTL needs an event schema, '{schema.Name}' is a profile schema");
        }
        // Expiry counts back from now: a TTL of zero or less would expire every event as it lands
        // (and the expiry pass would delete them), one past MaxEventTtl would step off the calendar.
        if (dataset.EventTtl is { } ttl && !IsEventTtlInBounds(ttl))
        {
            throw new CatalogException("DATASET_INVALID",
                $"dataset '{dataset.Name}': the event TTL must be more than zero and at most {MaxEventTtl.TotalDays:0} days, not {ttl}");
        }
        return await ExclusiveAsync(async () =>
        {
            if (GetDataset(sandbox, dataset.Name) is { } existing)
            {
                if (existing.Schema != dataset.Schema)
                {
                    throw new CatalogException("DATASET_EXISTS", $"dataset '{dataset.Name}' already exists, bound to schema '{existing.Schema}'");
                }
                return existing;
            }
            var stored = dataset with { CreatedAt = _time.GetUtcNow() };
            await _store.PutAsync(DatasetKind, sandbox, dataset.Name, stored, CatalogJson.Default.DatasetDefinition).ConfigureAwait(false);
            Interlocked.Increment(ref _definitionsVersion);
            return stored;
        }).ConfigureAwait(false);
    }

    /// <summary>The longest event TTL a dataset may have (100 years).</summary>
    public static readonly TimeSpan MaxEventTtl = TimeSpan.FromDays(36_500);

    /// <summary>Whether <paramref name="ttl"/> is more than zero and at most <see cref="MaxEventTtl"/> (refused otherwise, and read as none if stored by an older build).</summary>
    public static bool IsEventTtlInBounds(TimeSpan ttl) => ttl > TimeSpan.Zero && ttl <= MaxEventTtl;

    public DatasetDefinition? GetDataset(string sandbox, string name) => _store.Get(DatasetKind, sandbox, name, CatalogJson.Default.DatasetDefinition);

    public DatasetDefinition RequireDataset(string sandbox, string name) => GetDataset(sandbox, name)
        ?? throw new CatalogException("DATASET_NOT_FOUND", $"dataset '{name}' does not exist in sandbox '{sandbox}'");

    public List<DatasetDefinition> ListDatasets(string sandbox) => _store.List(DatasetKind, sandbox, CatalogJson.Default.DatasetDefinition);

    // ---------------------------------------------------------------- batches

    public string NewBatchId()
    {
        // Time-ordered ids (ms timestamp + random) so that listing batches is chronological.
        Span<byte> random = stackalloc byte[5];
        RandomNumberGenerator.Fill(random);
        return $"b{_time.GetUtcNow().ToUnixTimeMilliseconds():x11}{Convert.ToHexStringLower(random)}";
    }

    public BatchInfo? GetBatch(string sandbox, string id) => _store.Get(BatchKind, sandbox, id, CatalogJson.Default.BatchInfo);

    public BatchInfo RequireBatch(string sandbox, string id) => GetBatch(sandbox, id)
        ?? throw new CatalogException("BATCH_NOT_FOUND", $"batch '{id}' does not exist in sandbox '{sandbox}'");

    public List<BatchInfo> ListBatches(string sandbox) => _store.List(BatchKind, sandbox, CatalogJson.Default.BatchInfo);

    /// <summary>
    /// A sandbox's batches newest first (batch ids are time-ordered), read lazily: take what a page
    /// needs. <paramref name="before"/> is the id of the last batch of the previous page.
    /// </summary>
    public IEnumerable<BatchInfo> BatchesNewestFirst(string sandbox, string? before = null)
    {
        var prefix = CatalogStore.Key(BatchKind, sandbox, "");
        var cursor = before is null ? null : CatalogStore.Key(BatchKind, sandbox, before);
        foreach (var (_, value) in Store.ScanReverse(StoreSpace.Catalog, 0, prefix, cursor))
        {
            yield return System.Text.Json.JsonSerializer.Deserialize(value, CatalogJson.Default.BatchInfo)!;
        }
    }

    /// <summary>
    /// Batches still <c>loading</c> or <c>writing</c> in any sandbox: the ones a crash interrupted
    /// (an index, so that recovery does not read every batch ever made).
    /// </summary>
    public List<BatchInfo> ListUnfinishedBatches()
    {
        var result = new List<BatchInfo>();
        foreach (var (key, _) in Store.Scan(StoreSpace.Catalog, 0, Encoding.UTF8.GetBytes($"{OpenBatchKind}\0")))
        {
            var parts = Encoding.UTF8.GetString(key).Split('\0');
            if (GetBatch(parts[1], parts[2]) is { } batch)
            {
                result.Add(batch);
            }
        }
        return result;
    }

    /// <summary>Adds the batch record to a write set (so it lands atomically with the batch's data).</summary>
    public static void PutBatch(WriteSet writes, BatchInfo batch)
    {
        CatalogStore.Put(writes, BatchKind, batch.Sandbox, batch.Id, batch, CatalogJson.Default.BatchInfo);
        if (batch.Kind != Abstractions.BatchKind.File)
        {
            return; // Streaming and replay batches are written whole, in one commit: never unfinished.
        }
        var openKey = CatalogStore.Key(OpenBatchKind, batch.Sandbox, batch.Id);
        if (batch.Status is BatchStatus.Loading or BatchStatus.Writing)
        {
            writes.Put(StoreSpace.Catalog, 0, openKey, []);
        }
        else
        {
            writes.Delete(StoreSpace.Catalog, 0, openKey);
        }
    }

    public async Task SaveBatchAsync(BatchInfo batch)
    {
        using var writes = new WriteSet(4096);
        PutBatch(writes, batch);
        await Store.CommitAsync(writes).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- merge policies

    public List<MergePolicy> ListMergePolicies(string sandbox) => _store.List(MergePolicyKind, sandbox, CatalogJson.Default.MergePolicy);

    public MergePolicy? GetMergePolicy(string sandbox, string name) => _store.Get(MergePolicyKind, sandbox, name, CatalogJson.Default.MergePolicy);

    /// <summary>
    /// The policy a lookup or audience uses: the one named (<c>MERGE_POLICY_NOT_FOUND</c> if it does
    /// not exist), else the sandbox's default, else <see cref="MergePolicy.BuiltInDefault"/> when the
    /// sandbox defines none.
    /// </summary>
    public MergePolicy ResolveMergePolicy(string sandbox, string? name)
    {
        if (name is not null)
        {
            return GetMergePolicy(sandbox, name)
                ?? throw new CatalogException("MERGE_POLICY_NOT_FOUND", $"merge policy '{name}' does not exist in sandbox '{sandbox}'");
        }
        return ListMergePolicies(sandbox).FirstOrDefault(p => p.Default) ?? MergePolicy.BuiltInDefault;
    }

    /// <summary>
    /// Creates a merge policy (a name in use is refused, <c>MERGE_POLICY_EXISTS</c>). The sandbox's
    /// first policy becomes its default whatever <see cref="MergePolicy.Default"/> says; a later one
    /// with <c>Default</c> set takes the flag from the old default in the same commit. At most
    /// <paramref name="maxPolicies"/> per sandbox (<c>profiles.maxMergePolicies</c>).
    /// </summary>
    public async Task<MergePolicy> CreateMergePolicyAsync(string sandbox, MergePolicy policy, int maxPolicies)
    {
        RequireSandbox(sandbox);
        if (!SchemaCompiler.ObjectNamePattern().IsMatch(policy.Name))
        {
            throw new CatalogException("NAME_INVALID", $"merge policy name '{policy.Name}' must start with a letter and use letters, digits, '_' or '-'");
        }
        return await ExclusiveAsync(async () =>
        {
            var existing = ListMergePolicies(sandbox);
            if (existing.Any(p => p.Name == policy.Name))
            {
                throw new CatalogException("MERGE_POLICY_EXISTS", $"merge policy '{policy.Name}' already exists in sandbox '{sandbox}'");
            }
            if (existing.Count >= maxPolicies)
            {
                throw new CatalogException("MERGE_POLICY_LIMIT",
                    $"merge policy '{policy.Name}': sandbox '{sandbox}' already has {existing.Count} merge policies, the limit (profiles.maxMergePolicies = {maxPolicies}); delete one or raise the limit");
            }
            var stored = CheckedMergePolicy(sandbox, policy) with { CreatedAt = _time.GetUtcNow() };
            stored.Default = stored.Default || existing.Count == 0;
            await SaveMergePolicyAsync(sandbox, stored, existing).ConfigureAwait(false);
            return stored;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces a policy's rules (its name and creation time stay). <c>Default</c> set makes it the
    /// default; unset it changes nothing: a default stops being one only when another is made the
    /// default, so that a sandbox that has policies always has exactly one default.
    /// </summary>
    public async Task<MergePolicy> UpdateMergePolicyAsync(string sandbox, MergePolicy policy)
    {
        RequireSandbox(sandbox);
        return await ExclusiveAsync(async () =>
        {
            var current = ResolveMergePolicy(sandbox, policy.Name);
            var stored = CheckedMergePolicy(sandbox, policy) with { CreatedAt = current.CreatedAt };
            stored.Default = stored.Default || current.Default;
            await SaveMergePolicyAsync(sandbox, stored, ListMergePolicies(sandbox)).ConfigureAwait(false);
            return stored;
        }).ConfigureAwait(false);
    }

    /// <summary>Makes <paramref name="name"/> the sandbox's default, clearing the flag on the old default in the same commit.</summary>
    public async Task<MergePolicy> SetDefaultMergePolicyAsync(string sandbox, string name)
    {
        RequireSandbox(sandbox);
        return await ExclusiveAsync(async () =>
        {
            var policy = ResolveMergePolicy(sandbox, name);
            if (policy.Default)
            {
                return policy;
            }
            policy.Default = true;
            await SaveMergePolicyAsync(sandbox, policy, ListMergePolicies(sandbox)).ConfigureAwait(false);
            return policy;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes a policy and returns it. The default is refused while other policies exist
    /// (<c>MERGE_POLICY_IS_DEFAULT</c>); the last one may go, and the sandbox falls back to
    /// <see cref="MergePolicy.BuiltInDefault"/>.
    /// </summary>
    public async Task<MergePolicy> DeleteMergePolicyAsync(string sandbox, string name)
    {
        RequireSandbox(sandbox);
        return await ExclusiveAsync(async () =>
        {
            var policy = ResolveMergePolicy(sandbox, name);
            var others = ListMergePolicies(sandbox).Where(p => p.Name != name).Select(p => p.Name).ToList();
            if (policy.Default && others.Count > 0)
            {
                throw new CatalogException("MERGE_POLICY_IS_DEFAULT",
                    $"merge policy '{name}' is the default of sandbox '{sandbox}'; make another one ({string.Join(", ", others)}) the default first");
            }
            using var writes = new WriteSet(256);
            writes.Delete(StoreSpace.Catalog, 0, CatalogStore.Key(MergePolicyKind, sandbox, name));
            await Store.CommitAsync(writes).ConfigureAwait(false);
            Interlocked.Increment(ref _definitionsVersion);
            return policy;
        }).ConfigureAwait(false);
    }

    /// <summary>The policy as stored: dataset precedence names distinct, existing datasets; other modes carry none.</summary>
    private MergePolicy CheckedMergePolicy(string sandbox, MergePolicy policy)
    {
        if (policy.AttributeMerge != AttributeMerge.DatasetPrecedence)
        {
            // A list the merge would ignore is most likely a mistake (a forgotten attributeMerge).
            return policy.Datasets is { Count: > 0 }
                ? throw new CatalogException("MERGE_POLICY_INVALID",
                    $"merge policy '{policy.Name}': datasets are only used with attributeMerge datasetPrecedence, not {AttributeMergeName(policy.AttributeMerge)}")
                : policy with { Datasets = null };
        }
        if (policy.Datasets is not { Count: > 0 } datasets)
        {
            throw new CatalogException("MERGE_POLICY_INVALID",
                $"merge policy '{policy.Name}': attributeMerge datasetPrecedence needs datasets, the dataset list in precedence order (highest first)");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dataset in datasets)
        {
            if (!seen.Add(dataset))
            {
                throw new CatalogException("MERGE_POLICY_INVALID", $"merge policy '{policy.Name}': dataset '{dataset}' is listed twice in the precedence");
            }
            if (GetDataset(sandbox, dataset) is null)
            {
                throw new CatalogException("MERGE_POLICY_INVALID", $"merge policy '{policy.Name}': dataset '{dataset}' does not exist in sandbox '{sandbox}'");
            }
        }
        return policy with { Datasets = [.. datasets] };
    }

    private static string AttributeMergeName(AttributeMerge merge) =>
        System.Text.Json.JsonSerializer.Serialize(merge, CatalogJson.Default.AttributeMerge).Trim('"');

    /// <summary>Writes <paramref name="policy"/>; when it is the default, the old default loses its flag in the same commit.</summary>
    private async Task SaveMergePolicyAsync(string sandbox, MergePolicy policy, List<MergePolicy> existing)
    {
        using var writes = new WriteSet(2048);
        if (policy.Default)
        {
            foreach (var old in existing.Where(p => p.Default && p.Name != policy.Name))
            {
                CatalogStore.Put(writes, MergePolicyKind, sandbox, old.Name, old with { Default = false }, CatalogJson.Default.MergePolicy);
            }
        }
        CatalogStore.Put(writes, MergePolicyKind, sandbox, policy.Name, policy, CatalogJson.Default.MergePolicy);
        await Store.CommitAsync(writes).ConfigureAwait(false);
        Interlocked.Increment(ref _definitionsVersion);
    }

    // ---------------------------------------------------------------- API keys

    /// <summary>Creates a key and returns its secret, which is shown once and stored only hashed.</summary>
    public async Task<(ApiKeyRecord Record, string Secret)> CreateApiKeyAsync(string sandbox, ApiRole role, string name)
    {
        RequireSandbox(sandbox);
        Span<byte> idBytes = stackalloc byte[6];
        RandomNumberGenerator.Fill(idBytes);
        var id = "k" + Convert.ToHexStringLower(idBytes);
        Span<byte> secretBytes = stackalloc byte[24];
        RandomNumberGenerator.Fill(secretBytes);
        var secret = $"tsk_{(role == ApiRole.Admin ? "admin" : "collect")}_{id}_{Convert.ToHexStringLower(secretBytes)}";
        var record = new ApiKeyRecord
        {
            Id = id,
            Name = name,
            Sandbox = sandbox,
            Role = role,
            SecretSha256 = HashSecret(secret),
            CreatedAt = _time.GetUtcNow(),
        };
        using var writes = new WriteSet(2048);
        CatalogStore.Put(writes, ApiKeyKind, Global, id, record, CatalogJson.Default.ApiKeyRecord);
        writes.Put(StoreSpace.Catalog, 0, CatalogStore.Key(ApiKeyHashKind, Global, record.SecretSha256), Encoding.UTF8.GetBytes(id));
        await Store.CommitAsync(writes).ConfigureAwait(false);
        return (record, secret);
    }

    public async Task<ApiKeyRecord> RevokeApiKeyAsync(string id)
    {
        var record = _store.Get(ApiKeyKind, Global, id, CatalogJson.Default.ApiKeyRecord)
            ?? throw new CatalogException("APIKEY_NOT_FOUND", $"API key '{id}' does not exist");
        if (record.RevokedAt is not null)
        {
            return record;
        }
        var revoked = record with { RevokedAt = _time.GetUtcNow() };
        await _store.PutAsync(ApiKeyKind, Global, id, revoked, CatalogJson.Default.ApiKeyRecord).ConfigureAwait(false);
        Interlocked.Increment(ref _keysVersion); // After the write: no key remembered before it is used again.
        return revoked;
    }

    public List<ApiKeyRecord> ListApiKeys() => _store.List(ApiKeyKind, Global, CatalogJson.Default.ApiKeyRecord);

    /// <summary>
    /// The live key for a presented secret, or null (unknown or revoked). Every request asks: a live
    /// key found is remembered (by the secret's hash) until any key is revoked, so a request does not
    /// read the store twice and parse JSON; unknown secrets are not remembered.
    /// </summary>
    public ApiKeyRecord? Authenticate(string secret)
    {
        var hash = HashSecret(secret);
        var version = Interlocked.Read(ref _keysVersion); // Read first: a revocation after it is seen by the next call.
        if (_liveKeys.TryGetValue(hash, out var known) && known.Version == version)
        {
            return known.Record;
        }
        var id = Store.Get(StoreSpace.Catalog, 0, CatalogStore.Key(ApiKeyHashKind, Global, hash));
        if (id is null)
        {
            return null;
        }
        var record = _store.Get(ApiKeyKind, Global, Encoding.UTF8.GetString(id), CatalogJson.Default.ApiKeyRecord);
        if (record is not { RevokedAt: null })
        {
            return null;
        }
        _liveKeys[hash] = (version, record);
        return record;
    }

    private static string HashSecret(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}

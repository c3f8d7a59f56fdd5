using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Abstractions;
using Tessera.Activation;
using Tessera.Activation.Delivery;
using Tessera.Catalog;
using Tessera.Identity;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles;
using Tessera.Profiles.Privacy;
using Tessera.Segmentation.Audiences;
using Tessera.Segmentation.Engines;
using Tessera.Segmentation.Estimates;
using Tessera.Segmentation.Memberships;
using Tessera.Storage;
using Tessera.Storage.RocksDb;

namespace Tessera.Server;

/// <summary>
/// One Tessera workspace on disk (<c>--data DIR</c>): the embedded store, the catalog, the
/// configured limits (<c>tessera.json</c>) and the services over them. The <c>prod</c> sandbox
/// always exists.
/// </summary>
public sealed class Workspace : IDisposable
{
    public const string ConfigFile = "tessera.json";

    private Workspace(string directory, IStore store, TesseraCatalog catalog, WorkspaceConfig config)
    {
        Directory = directory;
        Store = store;
        Catalog = catalog;
        Config = config;
        // The graphs are derived from the ledger on first use (a server does it before it listens).
        Identity = IdentityService.Open(store, sandbox => code => catalog.GetNamespace(sandbox, code)?.Type);
        Ingestion = new IngestionService(catalog, Identity, config.Limits, Path.Combine(directory, "uploads"))
        {
            DefaultPhoneRegion = config.Identity.DefaultPhoneRegion,
        };
        Profiles = new ProfileService(store, catalog, Identity, config.Profiles, catalog.Time);
        Ingestion.AddObserver(Profiles);
        Privacy = new PrivacyService(store, catalog, Identity, Profiles, catalog.Time);
        Audiences = new AudienceCatalog(catalog, config.Segmentation);
        Memberships = new MembershipStore(store, config.Segmentation);
        // Privacy requests reach memberships and their feed; the streaming engine may start later.
        Privacy.AddParticipant(new MembershipPrivacy(Memberships, () => Streaming));
        Activation = new ActivationService(catalog, Identity, Audiences, Memberships, Profiles, config.Activation);
        Ingestion.AddObserver(Activation);
        Privacy.AddParticipant(new ActivationPrivacy(Activation.Log));
    }

    public string Directory { get; }

    public IStore Store { get; }

    public TesseraCatalog Catalog { get; }

    public WorkspaceConfig Config { get; }

    public IngestionService Ingestion { get; }

    /// <summary>The identity graphs of every sandbox.</summary>
    public IdentityService Identity { get; }

    /// <summary>Unified profiles: lookups, cached views kept current as facts are committed.</summary>
    public ProfileService Profiles { get; }

    /// <summary>Privacy requests: access (export everything about a person) and delete.</summary>
    public PrivacyService Privacy { get; }

    /// <summary>The audience catalog: definitions, states, evaluation modes and <c>inSegment</c> dependencies.</summary>
    public AudienceCatalog Audiences { get; }

    /// <summary>Audience memberships and the membership change feed activation reads (docs/memberships.md).</summary>
    public MembershipStore Memberships { get; }

    /// <summary>Destinations and their delivery: runs, audit log, dead letters (docs/destinations.md).</summary>
    public ActivationService Activation { get; }

    public static async Task<Workspace> OpenAsync(string directory, TimeProvider? time = null)
    {
        var full = Path.GetFullPath(directory);
        if (File.Exists(full))
        {
            throw new CatalogException("WORKSPACE_INVALID", $"workspace '{full}' is a file, not a directory");
        }
        try
        {
            System.IO.Directory.CreateDirectory(full);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CatalogException("WORKSPACE_INVALID", $"workspace '{full}' cannot be created: {error.Message}");
        }
        var config = WorkspaceConfig.Load(Path.Combine(full, ConfigFile));
        RocksDbStore store;
        try
        {
            store = RocksDbStore.Open(Path.Combine(full, "store"), config.Shards, maxWalBytes: config.MaxWalBytes);
        }
        catch (RocksDbSharp.RocksDbException error) when (error.Message.Contains("lock", StringComparison.OrdinalIgnoreCase))
        {
            // RocksDB lets one process open a store: another command, or 'tessera serve', has it.
            throw new CatalogException("WORKSPACE_IN_USE",
                $"workspace '{full}' is open in another process (a running 'tessera serve'?); stop it, or send the request to its HTTP API ({error.Message})");
        }
        catch (Exception error) when (error is RocksDbSharp.RocksDbException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new CatalogException("WORKSPACE_INVALID", $"the store of workspace '{full}' cannot be opened: {error.Message}");
        }
        store.BulkLoadThreshold = config.BulkLoadThreshold;
        try
        {
            var catalog = new TesseraCatalog(store, time ?? TimeProvider.System);
            await catalog.EnsureSandboxAsync(TesseraCatalog.DefaultSandbox).ConfigureAwait(false);
            var workspace = new Workspace(full, store, catalog, config);
            // Stores written by earlier builds: their memberships' by-profile index in today's form.
            await workspace.Memberships.UpgradeAsync().ConfigureAwait(false);
            return workspace;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads <c>Namespace:value</c> typed by a person (CLI, API) as the graph knows it: the namespace
    /// must exist in the sandbox and the value is normalized as ingestion does (<c>Email:Ann@X.com</c>
    /// finds <c>Email:ann@x.com</c>).
    /// </summary>
    /// <exception cref="CatalogException">IDENTITY_INVALID or NAMESPACE_NOT_FOUND, saying why.</exception>
    public IdentityKey ParseIdentity(string sandbox, string text)
    {
        if (!IdentityKey.TryParse(text, out var key))
        {
            throw new CatalogException("IDENTITY_INVALID", $"'{text}' is not Namespace:value (for example Email:ann@example.com)");
        }
        var normalizer = Ingestion.NamespacesOf(sandbox).NormalizerOf(key.Namespace)
            ?? throw new CatalogException("NAMESPACE_NOT_FOUND", $"identity namespace '{key.Namespace}' does not exist in sandbox '{sandbox}'");
        var outcome = normalizer.Normalize(key.Value);
        return outcome.IsNormalized
            ? key with { Value = outcome.Value! }
            : throw new CatalogException("IDENTITY_INVALID", $"'{text}': {outcome.Reason}: {outcome.Message}");
    }

    /// <summary>What a ledger deletion removes: its batch or dataset must exist, its identity is read as <see cref="ParseIdentity"/> does.</summary>
    public LedgerFilter ResolveLedgerFilter(string sandbox, string? batch, string? dataset, string? identity)
    {
        if (batch is not null)
        {
            Catalog.RequireBatch(sandbox, batch);
        }
        if (dataset is not null)
        {
            Catalog.RequireDataset(sandbox, dataset);
        }
        return new LedgerFilter(batch, dataset, identity is null ? null : ParseIdentity(sandbox, identity));
    }

    /// <summary>Where Segment-spec calls of <paramref name="sandbox"/> go: its entry in <c>segment</c>, else the default binding.</summary>
    public SegmentBinding SegmentBindingFor(string sandbox) =>
        Config.Segment.TryGetValue(sandbox, out var binding) ? binding : new SegmentBinding();

    /// <summary>The streaming engine, once <see cref="StartStreaming"/> has started it (the server does; one-shot commands do not).</summary>
    public StreamingEngine? Streaming { get; private set; }

    /// <summary>
    /// Starts the streaming engine: every commit from now on re-evaluates the streaming and edge
    /// audiences of the profiles it touched, and window audiences get timers at their next flip.
    /// </summary>
    public StreamingEngine StartStreaming()
    {
        lock (Ingestion)
        {
            if (Streaming is null)
            {
                Streaming = new StreamingEngine(Profiles, Audiences, Memberships, Store, Catalog.Time, Config.Segmentation.StreamingBatch,
                    Config.Segmentation.StreamingParallelism);
                Ingestion.AddObserver(Streaming);
            }
            return Streaming;
        }
    }

    /// <summary>The batch engine: every published audience over every profile, on demand or on schedule.</summary>
    public BatchEngine Batch => new(Profiles, Audiences, Memberships, Store, Catalog.Time);

    /// <summary>Estimates, previews and overlaps of audiences and draft expressions.</summary>
    public AudienceEstimator Estimator => new(Profiles, Identity, Catalog, Audiences, Memberships, Store, Catalog.Time);

    /// <summary>Each audience's size after every batch run.</summary>
    public AudienceSizeHistory SizeHistory => new(Store);

    /// <summary>The edge engine: the page's events stored, the edge audiences answered on the merged profile.</summary>
    public EdgeEngine Edge => _edge ??= new EdgeEngine(Ingestion, Profiles, Audiences, Memberships, Catalog.Time, () => Streaming);

    private EdgeEngine? _edge;

    public void Dispose()
    {
        Streaming?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Activation.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Store.Dispose();
    }
}

/// <summary>Workspace settings from <c>tessera.json</c>; every field optional (docs/limits.md).</summary>
public sealed record WorkspaceConfig
{
    /// <summary>Fact shards; fixed when the store is created.</summary>
    public int Shards { get; set; } = 8;

    /// <summary>File batches with at least this many facts are bulk-loaded (sorted files, no WAL).</summary>
    public int BulkLoadThreshold { get; set; } = 50_000;

    /// <summary>The write-ahead log's size past which its oldest data is flushed: about what a start replays at most.</summary>
    public long MaxWalBytes { get; set; } = RocksDbStore.DefaultMaxWalBytes;

    public IngestionLimits Limits { get; set; } = new();

    /// <summary>How Segment-spec calls map onto datasets and namespaces, per sandbox.</summary>
    public Dictionary<string, SegmentBinding> Segment { get; set; } = [];

    /// <summary>Identity normalization settings (docs/identity.md).</summary>
    public IdentityConfig Identity { get; set; } = new();

    /// <summary>Profile limits and cache sizes (docs/limits.md).</summary>
    public ProfileSettings Profiles { get; set; } = new();

    /// <summary>Audience limits and schedules (docs/limits.md).</summary>
    public SegmentationSettings Segmentation { get; set; } = new();

    /// <summary>Consent, delivery retries and retention of activation (docs/limits.md).</summary>
    public ActivationSettings Activation { get; set; } = new();

    /// <summary>
    /// The configuration's JSON refuses a key it does not know: a misspelt setting (<c>maxAttemps</c>, a limit under the
    /// wrong section) would otherwise be ignored without a word and its default used.
    /// </summary>
    private static readonly ServerJson StrictJson = new(new JsonSerializerOptions(ServerJson.Default.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    });

    public static WorkspaceConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return new WorkspaceConfig();
        }
        WorkspaceConfig config;
        try
        {
            config = JsonSerializer.Deserialize(File.ReadAllBytes(path), StrictJson.WorkspaceConfig) ?? new WorkspaceConfig();
        }
        catch (JsonException error)
        {
            // An unknown key's message names the key and the type, not where it is in the file.
            var where = error.Path is { } at && !error.Message.Contains(at, StringComparison.Ordinal) ? $" (at {at}, line {error.LineNumber + 1})" : "";
            throw new CatalogException("CONFIG_INVALID", $"{path}: {error.Message}{where}");
        }
        // "identity": null or "defaultPhoneRegion": null in the file mean the defaults.
        config.Limits ??= new IngestionLimits();
        config.Identity ??= new IdentityConfig();
        config.Profiles ??= new ProfileSettings();
        config.Segmentation ??= new SegmentationSettings();
        config.Activation ??= new ActivationSettings();
        if (config.Activation.DefaultConsent is not ("yes" or "no") || config.Activation.DefaultConsentBySandbox.Values.Any(v => v is not ("yes" or "no")))
        {
            throw new CatalogException("CONFIG_INVALID", $"{path}: activation.defaultConsent and activation.defaultConsentBySandbox values must be yes or no");
        }
        config.Activation.AllowedPrivateNetworks ??= [];
        try
        {
            _ = new EndpointAddresses(config.Activation.AllowedPrivateNetworks);
        }
        catch (FormatException error)
        {
            throw new CatalogException("CONFIG_INVALID", $"{path}: {error.Message}");
        }
        if (config.Activation.Proxy is { } proxy && HttpSender.ProxyProblem(proxy) is { } problem)
        {
            throw new CatalogException("CONFIG_INVALID", $"{path}: activation.proxy '{proxy}' {problem}");
        }
        if (config.Activation.Ranges().Select(r => r.Problem).FirstOrDefault(p => p is not null) is { } outOfRange)
        {
            throw new CatalogException("CONFIG_INVALID", $"{path}: {outOfRange}");
        }
        if (config.Limits.MaxLineLength is < 1 or > IngestionLimits.MaxLineLengthCeiling)
        {
            throw new CatalogException("CONFIG_INVALID",
                $"{path}: limits.maxLineLength must be between 1 and {IngestionLimits.MaxLineLengthCeiling} characters (the CSV parser holds at most 16,777,216 of one row)");
        }
        if (config.Limits.MaxJsonDocumentBytes < 1 || config.Limits.MaxJsonDocumentBytes > Array.MaxLength)
        {
            throw new CatalogException("CONFIG_INVALID",
                $"{path}: limits.maxJsonDocumentBytes must be between 1 and {Array.MaxLength} bytes (a JSON document is read into one buffer)");
        }
        if (config.Limits.MaxParquetRowGroupBytes < 1)
        {
            throw new CatalogException("CONFIG_INVALID", $"{path}: limits.maxParquetRowGroupBytes must be at least 1 byte");
        }
        if (config.Segmentation.StreamingBatch < 1)
        {
            throw new CatalogException("CONFIG_INVALID", $"{path}: segmentation.streamingBatch must be at least 1");
        }
        if (config.Segmentation.StreamingParallelism < 0)
        {
            throw new CatalogException("CONFIG_INVALID", $"{path}: segmentation.streamingParallelism must be 0 (one per core) or more");
        }
        if (!Cronos.CronExpression.TryParse(config.Segmentation.BatchSchedule, out _))
        {
            throw new CatalogException("CONFIG_INVALID",
                $"{path}: segmentation.batchSchedule '{config.Segmentation.BatchSchedule}' is not a cron expression (five fields: minute hour day-of-month month day-of-week, UTC)");
        }
        config.Identity.DefaultPhoneRegion = (config.Identity.DefaultPhoneRegion ?? "US").Trim().ToUpperInvariant();
        if (!NamespaceDefinitions.IsPhoneRegion(config.Identity.DefaultPhoneRegion))
        {
            throw new CatalogException("CONFIG_INVALID",
                $"{path}: identity.defaultPhoneRegion '{config.Identity.DefaultPhoneRegion}' is not an ISO 3166 alpha-2 region known to libphonenumber (e.g. US, GB, DE)");
        }
        return config;
    }
}

/// <summary>Identity settings of the workspace.</summary>
public sealed record IdentityConfig
{
    /// <summary>
    /// The region phone numbers written without a <c>+</c> country code are read in, for phone
    /// namespaces that set no <c>defaultRegion</c> of their own (ISO 3166 alpha-2).
    /// </summary>
    public string DefaultPhoneRegion { get; set; } = "US";
}

/// <summary>Where Segment-spec messages go in one sandbox.</summary>
public sealed record SegmentBinding
{
    /// <summary>Event dataset for track, page, screen, group and alias calls.</summary>
    public string EventDataset { get; set; } = "segment-events";

    /// <summary>Profile dataset for identify calls (traits).</summary>
    public string ProfileDataset { get; set; } = "segment-profiles";

    public string UserIdNamespace { get; set; } = StandardNamespaces.CrmId;

    public string AnonymousIdNamespace { get; set; } = StandardNamespaces.Ecid;
}

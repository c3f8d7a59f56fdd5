using System.Text.RegularExpressions;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Pql.Binding;
using Tessera.Pql.Classification;
using Tessera.Pql.Syntax;
using Tessera.Storage;

namespace Tessera.Segmentation.Audiences;

/// <summary>The published audiences of a sandbox, dependencies first, and the catalog version they were read at.</summary>
public sealed record PublishedAudiences(long Version, IReadOnlyList<Audience> Audiences);

/// <summary>
/// The audiences of every sandbox (docs/segmentation.md, "Audiences"). Every create and update parses,
/// type-checks (against the sandbox's schemas) and classifies the expression, and records the audiences
/// it reads through <c>inSegment</c>; those form an acyclic graph, and a published audience only reads
/// published ones, so <see cref="Published"/> is closed under dependencies.
/// </summary>
public sealed partial class AudienceCatalog
{
    private const string AudienceKind = "audience";

    private readonly TesseraCatalog _catalog;
    private readonly CatalogStore _store;
    private readonly SegmentationSettings _settings;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    // Read on every event and edge request: a concurrent dictionary reads without a lock.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PublishedAudiences> _published = new(StringComparer.Ordinal);
    private long _version;

    public AudienceCatalog(TesseraCatalog catalog, SegmentationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(settings);
        _catalog = catalog;
        _store = new CatalogStore(catalog.Store);
        _settings = settings;
    }

    /// <summary>Changes with every write of an audience in any sandbox (engines key compiled audiences on it).</summary>
    public long Version => Interlocked.Read(ref _version);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:\\-]{0,127}$")]
    private static partial Regex IdPattern();

    // ---------------------------------------------------------------- reads

    /// <summary>
    /// The audience with this id (whatever its state: memberships keep naming deleted ones), else the
    /// non-deleted audience with this name, else null.
    /// </summary>
    public Audience? Get(string sandbox, string idOrName)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        if (IdPattern().IsMatch(idOrName) && _store.Get(AudienceKind, sandbox, idOrName, AudienceJson.Default.Audience) is { } byId)
        {
            return byId;
        }
        return Load(sandbox).FirstOrDefault(a => a.State != AudienceState.Deleted && a.Name == idOrName);
    }

    /// <summary><see cref="Get"/>, or <c>AUDIENCE_NOT_FOUND</c>.</summary>
    public Audience Require(string sandbox, string idOrName) => Get(sandbox, idOrName) ?? throw NotFound(sandbox, idOrName);

    /// <summary>The sandbox's audiences in one state, or (no state) every one but the deleted, oldest first.</summary>
    public List<Audience> List(string sandbox, AudienceState? state = null) =>
        [.. Ordered(Load(sandbox).Where(a => state is { } s ? a.State == s : a.State != AudienceState.Deleted))];

    /// <summary>
    /// The published audiences, each after every audience it reads through <c>inSegment</c>, with the
    /// version they were read at (the same list while <see cref="Version"/> stays the same).
    /// </summary>
    public PublishedAudiences Published(string sandbox)
    {
        // The version is read before the audiences: the list is at least as new as the version it is
        // cached under, so a newer write always changes the key and is never hidden by the cache.
        var version = Version;
        if (_published.TryGetValue(sandbox, out var cached) && cached.Version == version)
        {
            return cached;
        }
        var published = Load(sandbox).Where(a => a.State == AudienceState.Published).ToList();
        var result = new PublishedAudiences(version, TopologicalOrder(published));
        _published[sandbox] = result;
        return result;
    }

    /// <summary>
    /// A draft that is never stored (what estimates and previews run): checked as a create would
    /// check it (<c>PQL_INVALID</c>, <c>AUDIENCE_NOT_FOUND</c>), against the sandbox's audiences.
    /// </summary>
    public Audience Draft(string sandbox, string pql, string? mergePolicy = null)
    {
        ArgumentNullException.ThrowIfNull(pql);
        _catalog.RequireSandbox(sandbox);
        var all = Load(sandbox).ToDictionary(a => a.Id, StringComparer.Ordinal);
        var draft = new Audience { Id = "(draft)", Name = "(draft)", Pql = pql, MergePolicy = mergePolicy };
        return Define(sandbox, draft, all);
    }

    private List<Audience> Load(string sandbox) => _store.List(AudienceKind, sandbox, AudienceJson.Default.Audience);

    private static IEnumerable<Audience> Ordered(IEnumerable<Audience> audiences) =>
        audiences.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal);

    /// <summary>Dependencies first; among audiences free to go next, the oldest first (a stable order).</summary>
    internal static List<Audience> TopologicalOrder(IReadOnlyCollection<Audience> audiences)
    {
        var byId = audiences.ToDictionary(a => a.Id, StringComparer.Ordinal);
        var result = new List<Audience>(audiences.Count);
        var done = new HashSet<string>(StringComparer.Ordinal);
        void Visit(Audience audience)
        {
            if (!done.Add(audience.Id))
            {
                return; // The catalog refuses cycles, so a visited audience is a finished one.
            }
            foreach (var dependency in audience.DependsOn)
            {
                if (byId.TryGetValue(dependency, out var target))
                {
                    Visit(target);
                }
            }
            result.Add(audience);
        }
        foreach (var audience in Ordered(audiences))
        {
            Visit(audience);
        }
        return result;
    }

    // ---------------------------------------------------------------- writes

    /// <summary>
    /// Creates a draft audience. The name must be a catalog name (a letter, then letters, digits,
    /// '_' or '-') unused by the sandbox's other non-deleted audiences; the id defaults to a UUID.
    /// </summary>
    public async Task<Audience> CreateAsync(string sandbox, string name, string pql, string? description = null, string? mergePolicy = null, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pql);
        _catalog.RequireSandbox(sandbox);
        if (!SchemaCompiler.ObjectNamePattern().IsMatch(name))
        {
            throw new CatalogException("NAME_INVALID", $"audience name '{name}' must start with a letter and use letters, digits, '_' or '-' (at most 128)");
        }
        if (id is not null && !IdPattern().IsMatch(id))
        {
            throw new CatalogException("AUDIENCE_INVALID", $"audience id '{id}' must start with a letter or digit and use letters, digits, '_', '.', ':' or '-' (at most 128)");
        }
        var audienceId = id ?? Guid.NewGuid().ToString("D");
        return await ExclusiveAsync(async () =>
        {
            var all = Load(sandbox).ToDictionary(a => a.Id, StringComparer.Ordinal);
            if (all.TryGetValue(audienceId, out var holder))
            {
                throw new CatalogException("AUDIENCE_EXISTS", $"audience id '{audienceId}' is taken by audience '{holder.Name}'{(holder.State == AudienceState.Deleted ? " (deleted; ids are not reused)" : "")}");
            }
            var live = all.Values.Where(a => a.State != AudienceState.Deleted).ToList();
            if (live.FirstOrDefault(a => a.Name == name) is { } clash)
            {
                throw new CatalogException("AUDIENCE_EXISTS", $"audience '{name}' already exists in sandbox '{sandbox}' (id {clash.Id})");
            }
            // A deleted audience's id counts too: lookups try the id first, so it would hide the name.
            if (all.Values.FirstOrDefault(a => a.Id == name) is { } identified)
            {
                throw new CatalogException("AUDIENCE_EXISTS",
                    $"audience name '{name}' is the id of audience '{identified.Name}'{(identified.State == AudienceState.Deleted ? " (deleted)" : "")}; names and ids must not be mistaken for each other");
            }
            if (live.FirstOrDefault(a => a.Name == audienceId) is { } named)
            {
                throw new CatalogException("AUDIENCE_EXISTS", $"audience id '{audienceId}' is the name of audience {named.Id}; names and ids must not be mistaken for each other");
            }
            if (live.Count >= _settings.MaxAudiences)
            {
                throw new CatalogException("AUDIENCE_LIMIT",
                    $"audience '{name}': sandbox '{sandbox}' already has {live.Count} audiences, the limit (segmentation.maxAudiences = {_settings.MaxAudiences}); delete one or raise the limit");
            }
            var policy = ResolvePolicy(sandbox, mergePolicy);
            var now = _catalog.Time.GetUtcNow();
            var draft = new Audience
            {
                Id = audienceId,
                Name = name,
                Description = string.IsNullOrEmpty(description) ? null : description,
                Pql = pql,
                MergePolicy = policy,
                State = AudienceState.Draft,
                CreatedAt = now,
                UpdatedAt = now,
                Version = 1,
            };
            var stored = Define(sandbox, draft, all);
            await SaveAsync(sandbox, [stored]).ConfigureAwait(false);
            return stored;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Changes an audience's expression, description or merge policy (null: unchanged; an empty
    /// description or merge policy clears it). The expression is checked again, and the audiences that
    /// read this one are classified again (their mode may follow this one's).
    /// </summary>
    public async Task<Audience> UpdateAsync(string sandbox, string idOrName, string? pql = null, string? description = null, string? mergePolicy = null)
    {
        _catalog.RequireSandbox(sandbox);
        return await ExclusiveAsync(async () =>
        {
            var all = Load(sandbox).ToDictionary(a => a.Id, StringComparer.Ordinal);
            var current = RequireLive(sandbox, idOrName, all, "updated");
            var changed = current with
            {
                Pql = pql ?? current.Pql,
                Description = description is null ? current.Description : description.Length == 0 ? null : description,
                MergePolicy = mergePolicy is null ? current.MergePolicy : ResolvePolicy(sandbox, mergePolicy.Length == 0 ? null : mergePolicy),
                UpdatedAt = _catalog.Time.GetUtcNow(),
                Version = current.Version + 1,
            };
            if (changed.Pql == current.Pql && changed.Description == current.Description && changed.MergePolicy == current.MergePolicy)
            {
                return current;
            }
            var updated = Define(sandbox, changed, all);
            if (updated.State == AudienceState.Published && updated.DependsOn.FirstOrDefault(d => all[d].State != AudienceState.Published) is { } unpublished)
            {
                throw new CatalogException("AUDIENCE_DEPENDENCY_NOT_PUBLISHED",
                    $"audience '{updated.Name}' is published and would read audience '{all[unpublished].Name}' ({unpublished}), which is {StateName(all[unpublished].State)}; publish that one first");
            }
            var before = all.Values.ToList();
            all[updated.Id] = updated;
            var writes = new List<Audience> { updated };
            writes.AddRange(Reclassify(updated.Id, all));
            CheckPublishedLimits(sandbox, before, all.Values);
            await SaveAsync(sandbox, writes).ConfigureAwait(false);
            return updated;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes a draft or inactive audience (a published one is returned as it is). Every audience
    /// it reads must be published (<c>AUDIENCE_DEPENDENCY_NOT_PUBLISHED</c>), and the published
    /// streaming and edge audiences must stay within their limits.
    /// </summary>
    public async Task<Audience> PublishAsync(string sandbox, string idOrName)
    {
        _catalog.RequireSandbox(sandbox);
        return await ExclusiveAsync(async () =>
        {
            var all = Load(sandbox).ToDictionary(a => a.Id, StringComparer.Ordinal);
            var current = RequireLive(sandbox, idOrName, all, "published");
            if (current.State == AudienceState.Published)
            {
                return current;
            }
            var unpublished = current.DependsOn.Where(d => all[d].State != AudienceState.Published).Select(d => $"'{all[d].Name}' ({d}, {StateName(all[d].State)})").ToList();
            if (unpublished.Count > 0)
            {
                throw new CatalogException("AUDIENCE_DEPENDENCY_NOT_PUBLISHED",
                    $"audience '{current.Name}' reads audience{(unpublished.Count > 1 ? "s" : "")} {string.Join(", ", unpublished)} through inSegment; publish {(unpublished.Count > 1 ? "those" : "that one")} first");
            }
            var before = all.Values.ToList();
            var published = Changed(current, AudienceState.Published);
            all[published.Id] = published;
            CheckPublishedLimits(sandbox, before, all.Values);
            await SaveAsync(sandbox, [published]).ConfigureAwait(false);
            return published;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes a published audience out of evaluation (published → inactive; an inactive one is returned
    /// as it is). Refused with <c>AUDIENCE_IN_USE</c> while a published audience reads it.
    /// </summary>
    public async Task<Audience> DeactivateAsync(string sandbox, string idOrName)
    {
        _catalog.RequireSandbox(sandbox);
        return await ExclusiveAsync(async () =>
        {
            var all = Load(sandbox).ToDictionary(a => a.Id, StringComparer.Ordinal);
            var current = RequireLive(sandbox, idOrName, all, "deactivated");
            switch (current.State)
            {
                case AudienceState.Inactive:
                    return current;
                case AudienceState.Draft:
                    throw new CatalogException("AUDIENCE_STATE_INVALID", $"audience '{current.Name}' is a draft; only a published audience is deactivated");
            }
            var readers = Dependents(current.Id, all.Values.Where(a => a.State == AudienceState.Published));
            if (readers.Count > 0)
            {
                throw new CatalogException("AUDIENCE_IN_USE",
                    $"audience '{current.Name}' is read through inSegment by published audience{(readers.Count > 1 ? "s" : "")} {Names(readers)}; deactivate or change {(readers.Count > 1 ? "those" : "that one")} first");
            }
            var inactive = Changed(current, AudienceState.Inactive);
            await SaveAsync(sandbox, [inactive]).ConfigureAwait(false);
            return inactive;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Marks an audience deleted (its record stays, by id, for the memberships that name it; its name is
    /// free again). Refused with <c>AUDIENCE_IN_USE</c> while a non-deleted audience reads it. Deleting
    /// a deleted audience returns it.
    /// </summary>
    public async Task<Audience> DeleteAsync(string sandbox, string idOrName)
    {
        _catalog.RequireSandbox(sandbox);
        return await ExclusiveAsync(async () =>
        {
            var all = Load(sandbox).ToDictionary(a => a.Id, StringComparer.Ordinal);
            var current = Find(all, idOrName) ?? throw NotFound(sandbox, idOrName);
            if (current.State == AudienceState.Deleted)
            {
                return current;
            }
            var readers = Dependents(current.Id, all.Values.Where(a => a.State != AudienceState.Deleted));
            if (readers.Count > 0)
            {
                throw new CatalogException("AUDIENCE_IN_USE",
                    $"audience '{current.Name}' is read through inSegment by audience{(readers.Count > 1 ? "s" : "")} {Names(readers)}; delete or change {(readers.Count > 1 ? "those" : "that one")} first");
            }
            var deleted = Changed(current, AudienceState.Deleted);
            await SaveAsync(sandbox, [deleted]).ConfigureAwait(false);
            return deleted;
        }).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- checks

    /// <summary>
    /// The audience with its expression parsed, checked and classified: canonical text, mode, reasons,
    /// dependencies and whether it is profile-only. <paramref name="all"/> is every audience of the
    /// sandbox (by id) as it will be apart from this one.
    /// </summary>
    private Audience Define(string sandbox, Audience audience, IReadOnlyDictionary<string, Audience> all)
    {
        var tree = Parse(audience);
        var schemas = _catalog.ListSchemas(sandbox);
        // With no schema registered there is nothing to check fields against: every field is accepted.
        var profile = schemas.Count == 0 ? ObjectType.OpenProfile : PqlTypes.FromSchemas(schemas);
        var check = Binder.Check(tree, profile);
        var errors = check.Errors.Select(e => $"line {e.Position.Line}, column {e.Position.Column}: {e.Message}").ToList();
        // An array holds when it is not empty (a bare event filter: some event matches), as in filters.
        if (check.Errors.Count == 0 && check.ResultType is ScalarType scalar && !scalar.IsUnknown && scalar != PqlType.Boolean)
        {
            errors.Add($"an audience is a condition, but the expression is a {scalar}, not a boolean");
        }
        if (errors.Count > 0)
        {
            throw new CatalogException("PQL_INVALID", $"audience '{audience.Name}': " + string.Join("; ", errors));
        }

        var analysis = QueryAnalysis.Of(tree);
        if (analysis.Segments.Contains(null))
        {
            throw new CatalogException("PQL_INVALID",
                $"audience '{audience.Name}': inSegment needs the audience id as a string literal (the catalog orders audiences by the ones they read)");
        }
        var dependsOn = analysis.Segments.Select(s => s!).Distinct(StringComparer.Ordinal).ToList();
        foreach (var dependency in dependsOn)
        {
            if (dependency == audience.Id)
            {
                throw new CatalogException("AUDIENCE_CYCLE", $"audience '{audience.Name}' reads itself: inSegment(\"{dependency}\")");
            }
            if (!all.TryGetValue(dependency, out var target) || target.State == AudienceState.Deleted)
            {
                var named = all.Values.FirstOrDefault(a => a.State != AudienceState.Deleted && a.Name == dependency);
                throw new CatalogException("AUDIENCE_NOT_FOUND",
                    $"audience '{audience.Name}': inSegment(\"{dependency}\") names no audience of sandbox '{sandbox}'"
                    + (named is null ? "" : $"; inSegment takes an id, and audience '{dependency}' has id '{named.Id}'"));
            }
            if (PathTo(dependency, audience.Id, all) is { } path)
            {
                var names = new[] { audience.Id }.Concat(path).Select(id => id == audience.Id ? audience.Name : all[id].Name);
                throw new CatalogException("AUDIENCE_CYCLE", $"audience '{audience.Name}' would read itself through inSegment: {string.Join(" → ", names)}");
            }
        }

        var classification = Classify(tree, all);
        return audience with
        {
            Canonical = Printer.Print(tree),
            Mode = EvaluationModeClassifier.Name(classification.Mode),
            Reasons = classification.Reasons,
            DependsOn = dependsOn,
            ProfileOnly = analysis.Events.Count == 0 && analysis.Segments.Count == 0,
        };
    }

    private static PqlNode Parse(Audience audience)
    {
        try
        {
            return Parser.Parse(audience.Pql);
        }
        catch (PqlException error)
        {
            throw new CatalogException("PQL_INVALID", $"audience '{audience.Name}': line {error.Position.Line}, column {error.Position.Column}: {error.Reason}");
        }
    }

    private static ModeClassification Classify(PqlNode tree, IReadOnlyDictionary<string, Audience> all) =>
        EvaluationModeClassifier.Classify(tree, id => all.TryGetValue(id, out var target) && target.State != AudienceState.Deleted
            ? new AudienceReference(ModeOf(target.Mode), target.ProfileOnly)
            : null);

    private static EvaluationMode ModeOf(string mode) => mode switch
    {
        "edge" => EvaluationMode.Edge,
        "streaming" => EvaluationMode.Streaming,
        _ => EvaluationMode.Batch,
    };

    /// <summary>
    /// The audiences that read <paramref name="changedId"/>, directly or not, classified again in
    /// dependency order (a reader's mode may follow the changed one's); returns the ones whose mode or
    /// reasons changed, also updated in <paramref name="all"/>.
    /// </summary>
    private static List<Audience> Reclassify(string changedId, Dictionary<string, Audience> all)
    {
        var live = all.Values.Where(a => a.State != AudienceState.Deleted).ToList();
        var affected = new HashSet<string>(StringComparer.Ordinal) { changedId };
        var changed = new List<Audience>();
        foreach (var reader in TopologicalOrder(live))
        {
            if (reader.Id == changedId || !reader.DependsOn.Any(affected.Contains))
            {
                continue;
            }
            affected.Add(reader.Id);
            var tree = Parser.Parse(reader.Canonical ?? reader.Pql);
            var classification = Classify(tree, all);
            var mode = EvaluationModeClassifier.Name(classification.Mode);
            if (mode == reader.Mode && classification.Reasons.SequenceEqual(reader.Reasons))
            {
                continue;
            }
            var updated = reader with { Mode = mode, Reasons = classification.Reasons, Version = reader.Version + 1 };
            all[reader.Id] = updated;
            changed.Add(updated);
        }
        return changed;
    }

    /// <summary>A path of <c>inSegment</c> reads from <paramref name="from"/> to <paramref name="to"/> (both included), or null.</summary>
    private static List<string>? PathTo(string from, string to, IReadOnlyDictionary<string, Audience> all)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string>? Walk(string id)
        {
            if (id == to)
            {
                return [id];
            }
            if (!seen.Add(id) || !all.TryGetValue(id, out var audience) || audience.State == AudienceState.Deleted)
            {
                return null;
            }
            foreach (var next in audience.DependsOn)
            {
                if (Walk(next) is { } rest)
                {
                    rest.Insert(0, id);
                    return rest;
                }
            }
            return null;
        }
        return Walk(from);
    }

    /// <summary>
    /// Published streaming audiences (edge ones count too: the streaming engine keeps their memberships)
    /// and published edge audiences within their limits; a count already above a lowered limit only
    /// refuses what would raise it.
    /// </summary>
    private void CheckPublishedLimits(string sandbox, IEnumerable<Audience> before, IEnumerable<Audience> after)
    {
        static (int Streaming, int Edge) Count(IEnumerable<Audience> audiences)
        {
            var published = audiences.Where(a => a.State == AudienceState.Published).ToList();
            return (published.Count(a => a.Mode is "streaming" or "edge"), published.Count(a => a.Mode == "edge"));
        }
        var old = Count(before);
        var now = Count(after);
        if (now.Streaming > _settings.MaxStreamingAudiences && now.Streaming > old.Streaming)
        {
            throw new CatalogException("STREAMING_AUDIENCE_LIMIT",
                $"sandbox '{sandbox}' would have {now.Streaming} published streaming or edge audiences, above the limit (segmentation.maxStreamingAudiences = {_settings.MaxStreamingAudiences}); deactivate one or raise the limit");
        }
        if (now.Edge > _settings.MaxEdgeAudiences && now.Edge > old.Edge)
        {
            throw new CatalogException("EDGE_AUDIENCE_LIMIT",
                $"sandbox '{sandbox}' would have {now.Edge} published edge audiences, above the limit (segmentation.maxEdgeAudiences = {_settings.MaxEdgeAudiences}); deactivate one or raise the limit");
        }
    }

    /// <summary><see cref="Get"/> over audiences already read: by id, else by name among those not deleted.</summary>
    private static Audience? Find(IReadOnlyDictionary<string, Audience> all, string idOrName) =>
        all.TryGetValue(idOrName, out var byId) ? byId : all.Values.FirstOrDefault(a => a.State != AudienceState.Deleted && a.Name == idOrName);

    private static CatalogException NotFound(string sandbox, string idOrName) =>
        new("AUDIENCE_NOT_FOUND", $"audience '{idOrName}' does not exist in sandbox '{sandbox}'");

    private static Audience RequireLive(string sandbox, string idOrName, IReadOnlyDictionary<string, Audience> all, string what)
    {
        var audience = Find(all, idOrName) ?? throw NotFound(sandbox, idOrName);
        return audience.State == AudienceState.Deleted
            ? throw new CatalogException("AUDIENCE_STATE_INVALID", $"audience '{audience.Name}' ({audience.Id}) is deleted and cannot be {what}")
            : audience;
    }

    /// <summary>The merge policy's name as stored (null: the sandbox's default, resolved when evaluated).</summary>
    private string? ResolvePolicy(string sandbox, string? name) => name is null ? null : _catalog.ResolveMergePolicy(sandbox, name).Name;

    private Audience Changed(Audience audience, AudienceState state) =>
        audience with { State = state, UpdatedAt = _catalog.Time.GetUtcNow(), Version = audience.Version + 1 };

    private static List<Audience> Dependents(string id, IEnumerable<Audience> candidates) =>
        [.. Ordered(candidates.Where(a => a.DependsOn.Contains(id, StringComparer.Ordinal)))];

    private static string Names(IEnumerable<Audience> audiences) => string.Join(", ", audiences.Select(a => $"'{a.Name}' ({a.Id})"));

    public static string StatusName(MembershipStatus status) => status switch
    {
        MembershipStatus.Realized => "realized",
        MembershipStatus.Existing => "existing",
        _ => "exited",
    };

    public static string StateName(AudienceState state) => state switch
    {
        AudienceState.Draft => "draft",
        AudienceState.Published => "published",
        AudienceState.Inactive => "inactive",
        _ => "deleted",
    };

    private async Task SaveAsync(string sandbox, IReadOnlyList<Audience> audiences)
    {
        using var writes = new WriteSet(4096 * audiences.Count);
        foreach (var audience in audiences)
        {
            CatalogStore.Put(writes, AudienceKind, sandbox, audience.Id, audience, AudienceJson.Default.Audience);
        }
        await _store.Store.CommitAsync(writes).ConfigureAwait(false);
        Interlocked.Increment(ref _version);
    }

    /// <summary>One check-then-write at a time, so that two racing writes cannot both pass a limit or form a cycle together.</summary>
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
}

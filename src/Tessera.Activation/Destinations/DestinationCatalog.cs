using System.Globalization;
using Tessera.Abstractions;
using Tessera.Activation.Connectors;
using Tessera.Activation.Delivery;
using Tessera.Catalog;
using Tessera.Segmentation;
using Tessera.Segmentation.Audiences;

namespace Tessera.Activation.Destinations;

/// <summary>
/// The destinations of every sandbox, kept in the catalog. Every save checks the whole definition
/// (connector, settings, mappings, audiences, schedule) and names what is wrong; governance is
/// checked by <see cref="ActivationService"/>, which saves through here.
/// </summary>
public sealed class DestinationCatalog
{
    private const string Kind = "destination";
    private static readonly string[] Frequencies = ["once", "daily", "3h", "6h", "8h", "12h"];

    private readonly TesseraCatalog _catalog;
    private readonly CatalogStore _store;
    private readonly AudienceCatalog _audiences;
    private readonly ActivationSettings _settings;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public DestinationCatalog(TesseraCatalog catalog, AudienceCatalog audiences, ActivationSettings settings)
    {
        _catalog = catalog;
        _store = new CatalogStore(catalog.Store);
        _audiences = audiences;
        _settings = settings;
    }

    public Destination? Get(string sandbox, string name) => _store.Get(Kind, sandbox, name, ActivationJson.Default.Destination);

    public Destination Require(string sandbox, string name) => Get(sandbox, name)
        ?? throw new CatalogException("DESTINATION_NOT_FOUND", $"destination '{name}' does not exist in sandbox '{sandbox}'");

    public List<Destination> List(string sandbox) => _store.List(Kind, sandbox, ActivationJson.Default.Destination);

    /// <summary>Checks and stores a new destination (its audiences are activated now).</summary>
    public async Task<Destination> CreateAsync(string sandbox, Destination destination, Action<Destination>? check = null)
    {
        _catalog.RequireSandbox(sandbox);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Get(sandbox, destination.Name) is not null)
            {
                throw new CatalogException("DESTINATION_EXISTS", $"destination '{destination.Name}' already exists in sandbox '{sandbox}'");
            }
            var now = _catalog.Time.GetUtcNow();
            var created = destination with
            {
                Version = 1,
                CreatedAt = now,
                UpdatedAt = now,
                Audiences = [.. destination.Audiences.Select(a => a with { ActivatedAt = now })],
            };
            Validate(sandbox, created);
            check?.Invoke(created);
            await _store.PutAsync(Kind, sandbox, created.Name, created, ActivationJson.Default.Destination).ConfigureAwait(false);
            return created;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Replaces a destination's definition with <paramref name="change"/> applied to it; an audience
    /// that stays keeps its activation time, a new one is activated now.
    /// </summary>
    public async Task<(Destination Before, Destination After)> UpdateAsync(string sandbox, string name, Func<Destination, Destination> change, Action<Destination>? check = null)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var current = Require(sandbox, name);
            var now = _catalog.Time.GetUtcNow();
            var next = change(current);
            var before = current.Audiences.ToDictionary(a => a.AudienceId, StringComparer.Ordinal);
            var updated = next with
            {
                Name = current.Name,
                CreatedAt = current.CreatedAt,
                UpdatedAt = now,
                Version = current.Version + 1,
                Audiences = [.. next.Audiences.Select(a => before.TryGetValue(a.AudienceId, out var kept) ? a with { ActivatedAt = kept.ActivatedAt } : a with { ActivatedAt = now })],
            };
            Validate(sandbox, updated);
            check?.Invoke(updated);
            await _store.PutAsync(Kind, sandbox, name, updated, ActivationJson.Default.Destination).ConfigureAwait(false);
            return (current, updated);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<Destination> DeleteAsync(string sandbox, string name)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var current = Require(sandbox, name);
            using var writes = new Storage.WriteSet(256);
            writes.Delete(Storage.StoreSpace.Catalog, 0, CatalogStore.Key(Kind, sandbox, name));
            await _catalog.Store.CommitAsync(writes).ConfigureAwait(false);
            return current;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The audience as a destination names it: published, by id or name.</summary>
    public Audience RequireActivatable(string sandbox, string idOrName)
    {
        var audience = _audiences.Require(sandbox, idOrName);
        return audience.State == AudienceState.Published
            ? audience
            : throw new CatalogException("AUDIENCE_NOT_PUBLISHED", $"audience '{audience.Name}' ({audience.Id}) is {AudienceCatalog.StateName(audience.State)}; only a published audience can be activated");
    }

    private void Validate(string sandbox, Destination d)
    {
        if (!SchemaCompiler.ObjectNamePattern().IsMatch(d.Name))
        {
            throw Invalid(d, "name", "must start with a letter and use letters, digits, '_' or '-' (at most 128)");
        }
        var http = ConnectorTypes.Http(d.Connector);
        if (http is null && d.Connector != ConnectorTypes.File)
        {
            throw Invalid(d, "connector", $"'{d.Connector}' is not a connector type (one of {string.Join(", ", ConnectorTypes.All)})");
        }
        if (http is not null)
        {
            if (!d.Settings.TryGetValue("endpoint", out var endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw Invalid(d, "settings.endpoint", "an HTTP connector needs an absolute http(s) URL");
            }
            // Read from the settings at each save: the demo allows its local receiver's address once the workspace is open.
            if (new EndpointAddresses(_settings.AllowedPrivateNetworks).Refusal(uri) is { } refusal)
            {
                throw Invalid(d, "settings.endpoint", $"may not point inside the server's network: {refusal}");
            }
            // The sender joins the path to the endpoint: a path that is a URL of its own would replace the endpoint's host.
            if (d.Settings.TryGetValue("path", out var path)
                && (!Uri.TryCreate(new Uri(endpoint.TrimEnd('/') + "/"), path.TrimStart('/'), out var target) || target.Authority != uri.Authority || target.Scheme != uri.Scheme))
            {
                throw Invalid(d, "settings.path", $"'{path}' must be a path under the endpoint, not a URL of its own");
            }
            if (d.Settings.ContainsKey("authHeader") != d.Settings.ContainsKey("authValue"))
            {
                throw Invalid(d, "settings.authHeader", "authHeader and authValue go together (the header's name and its value)");
            }
            if (d.Batching.MaxRecords is < 1 or > 100_000)
            {
                throw Invalid(d, "batching.maxRecords", "must be between 1 and 100000");
            }
            if (d.Batching.MaxAgeSeconds is < 0 or > 3_600)
            {
                throw Invalid(d, "batching.maxAgeSeconds", "must be between 0 and 3600");
            }
        }
        else
        {
            var schedule = d.Schedule ?? throw Invalid(d, "schedule", "a file destination needs a schedule (frequency, at, mode)");
            if (!Frequencies.Contains(schedule.Frequency))
            {
                throw Invalid(d, "schedule.frequency", $"'{schedule.Frequency}' is not one of {string.Join(", ", Frequencies)}");
            }
            if (!TimeOnly.TryParseExact(schedule.At, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                throw Invalid(d, "schedule.at", $"'{schedule.At}' is not a UTC time of day HH:mm");
            }
            if (schedule.Mode is not ("full" or "incremental"))
            {
                throw Invalid(d, "schedule.mode", $"'{schedule.Mode}' is not full or incremental");
            }
            var file = d.File ?? throw Invalid(d, "file", "a file destination needs file settings (format, folder, ...)");
            if (file.Validate(ExportColumns(d)) is { Count: > 0 } errors)
            {
                throw Invalid(d, "file." + errors[0].Setting, errors[0].Rule);
            }
        }
        var consent = d.Consent ?? ConnectorTypes.DefaultConsent(d.Connector);
        if (consent != "none" && !_settings.ConsentFields.ContainsKey(consent))
        {
            throw Invalid(d, "consent", $"'{consent}' is not a consent purpose (none, {string.Join(", ", _settings.ConsentFields.Keys)})");
        }
        if (d.Identities.Count == 0)
        {
            throw Invalid(d, "identities", "map at least one identity namespace: a destination matches people by their identities");
        }
        var platform = ConnectorTypes.HashesByPlatformRules(d.Connector);
        for (var i = 0; i < d.Identities.Count; i++)
        {
            var mapping = d.Identities[i];
            if (_catalog.GetNamespace(sandbox, mapping.Source) is null)
            {
                throw Invalid(d, $"identities[{i}].source", $"'{mapping.Source}' is not an identity namespace of sandbox '{sandbox}'");
            }
            CheckTarget(d, http, $"identities[{i}]", mapping, platform);
        }
        for (var i = 0; i < d.Attributes.Count; i++)
        {
            var mapping = d.Attributes[i];
            if (string.IsNullOrWhiteSpace(mapping.Source) || mapping.Source.Split('.').Any(string.IsNullOrEmpty))
            {
                throw Invalid(d, $"attributes[{i}].source", $"'{mapping.Source}' is not a dotted profile path (for example loyalty.tier)");
            }
            CheckTarget(d, http, $"attributes[{i}]", mapping, platform);
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < d.Audiences.Count; i++)
        {
            var audience = RequireActivatable(sandbox, d.Audiences[i].AudienceId);
            if (audience.Id != d.Audiences[i].AudienceId)
            {
                throw Invalid(d, $"audiences[{i}].audienceId", $"name audiences by id ('{audience.Name}' is {audience.Id})");
            }
            if (!seen.Add(audience.Id))
            {
                throw Invalid(d, $"audiences[{i}].audienceId", $"audience {audience.Id} is activated twice");
            }
        }
    }

    /// <summary>The columns a file destination writes: identity targets, attribute targets, and for incremental exports the operation.</summary>
    public static List<string> ExportColumns(Destination d)
    {
        var columns = d.Identities.Select(i => i.Target).Concat(d.Attributes.Select(a => a.Target)).Distinct(StringComparer.Ordinal).ToList();
        if (d.Schedule?.Mode == "incremental")
        {
            columns.Add(Files.FileExporter.OperationColumn);
        }
        return columns;
    }

    private static void CheckTarget(Destination d, IHttpConnector? http, string at, FieldMapping mapping, bool platform)
    {
        if (string.IsNullOrWhiteSpace(mapping.Target))
        {
            throw Invalid(d, $"{at}.target", "is empty");
        }
        if (http is { Keys.Count: > 0 } && !http.Keys.Contains(mapping.Target))
        {
            throw Invalid(d, $"{at}.target", $"'{mapping.Target}' is not a key {d.Connector} accepts ({string.Join(", ", http.Keys)})");
        }
        if (mapping.Hash is not ("none" or "sha256"))
        {
            throw Invalid(d, $"{at}.hash", $"'{mapping.Hash}' is not none or sha256");
        }
        if (platform && mapping.Hash != "none")
        {
            throw Invalid(d, $"{at}.hash", $"{d.Connector} hashes by its platform's own rules; leave hash as none");
        }
    }

    private static CatalogException Invalid(Destination d, string field, string rule) =>
        new("DESTINATION_INVALID", $"destination '{d.Name}': {field} {rule}");
}

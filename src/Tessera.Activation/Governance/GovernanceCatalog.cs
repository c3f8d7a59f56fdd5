using System.Text.RegularExpressions;
using Tessera.Abstractions;
using Tessera.Activation.Destinations;
using Tessera.Catalog;
using Tessera.Pql.Syntax;
using Tessera.Segmentation.Audiences;

namespace Tessera.Activation.Governance;

/// <summary>Data usage labels of a sandbox: on whole datasets, and on fields of a schema (a label on a field covers the fields below it).</summary>
public sealed record DataLabels
{
    public Dictionary<string, List<string>> Datasets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Schema name → dotted field path → labels.</summary>
    public Dictionary<string, Dictionary<string, List<string>>> Fields { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A request to add (or remove) labels on a dataset or one of its fields.</summary>
public sealed record LabelRequest
{
    public string Dataset { get; set; } = "";

    public string? Field { get; set; }

    public List<string> Labels { get; set; } = [];

    public bool Remove { get; set; }
}

/// <summary>
/// A data usage policy: data carrying <see cref="Labels"/> (any of them, or all together with
/// <c>match: all</c>) must not be used for any of <see cref="Actions"/> (marketing actions).
/// </summary>
public sealed record UsagePolicy
{
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public List<string> Labels { get; set; } = [];

    public string Match { get; set; } = "any";

    public List<string> Actions { get; set; } = [];

    public bool Enabled { get; set; } = true;
}

/// <summary>One way a destination breaks a policy: the labelled data and how it reaches the destination.</summary>
public sealed record PolicyViolation(string Policy, string Action, IReadOnlyList<string> Labels, IReadOnlyList<string> Lineage)
{
    public override string ToString() =>
        $"policy '{Policy}' forbids {string.Join(", ", Labels)} for '{Action}': {string.Join("; ", Lineage)}";
}

/// <summary>
/// Data usage labels, policies, and the check that an activation does not break them
/// (docs/governance.md). Lineage runs dataset → field → audience → destination: the fields an
/// activated audience reads (every field path of its expression) and the fields the destination
/// sends (mapped attributes, and the identity fields of mapped namespaces), in every dataset whose
/// schema has them, with the labels of the dataset and of the field and its parents.
/// </summary>
public sealed partial class GovernanceCatalog
{
    private const string LabelsKind = "labels";
    private const string PolicyKind = "policy";
    private readonly TesseraCatalog _catalog;
    private readonly CatalogStore _store;
    private readonly AudienceCatalog _audiences;

    public GovernanceCatalog(TesseraCatalog catalog, AudienceCatalog audiences)
    {
        _catalog = catalog;
        _store = new CatalogStore(catalog.Store);
        _audiences = audiences;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex TokenPattern();

    public DataLabels Labels(string sandbox) => _store.Get(LabelsKind, sandbox, "labels", ActivationJson.Default.DataLabels) ?? new DataLabels();

    /// <summary>Adds labels to a dataset, or (with <paramref name="field"/>) to a field of the dataset's schema.</summary>
    public async Task<DataLabels> LabelAsync(string sandbox, string dataset, string? field, IReadOnlyList<string> labels, bool remove = false)
    {
        var definition = _catalog.RequireDataset(sandbox, dataset);
        foreach (var label in labels)
        {
            CheckToken("label", label);
        }
        var current = Labels(sandbox);
        List<string> target;
        if (field is null)
        {
            target = current.Datasets.TryGetValue(dataset, out var existing) ? existing : current.Datasets[dataset] = [];
        }
        else
        {
            if (_catalog.Compiled(sandbox, definition.Schema).Resolve(field) is null)
            {
                throw new CatalogException("FIELD_NOT_FOUND", $"schema '{definition.Schema}' of dataset '{dataset}' has no field '{field}'");
            }
            var fields = current.Fields.TryGetValue(definition.Schema, out var known) ? known : current.Fields[definition.Schema] = new(StringComparer.Ordinal);
            target = fields.TryGetValue(field, out var existing) ? existing : fields[field] = [];
        }
        foreach (var label in labels)
        {
            if (remove)
            {
                target.Remove(label);
            }
            else if (!target.Contains(label))
            {
                target.Add(label);
            }
        }
        await _store.PutAsync(LabelsKind, sandbox, "labels", current, ActivationJson.Default.DataLabels).ConfigureAwait(false);
        return current;
    }

    public List<UsagePolicy> Policies(string sandbox) => _store.List(PolicyKind, sandbox, ActivationJson.Default.UsagePolicy);

    public async Task<UsagePolicy> SavePolicyAsync(string sandbox, UsagePolicy policy)
    {
        _catalog.RequireSandbox(sandbox);
        if (!SchemaCompiler.ObjectNamePattern().IsMatch(policy.Name))
        {
            throw new CatalogException("POLICY_INVALID", $"policy name '{policy.Name}' must start with a letter and use letters, digits, '_' or '-'");
        }
        if (policy.Labels.Count == 0 || policy.Actions.Count == 0)
        {
            throw new CatalogException("POLICY_INVALID", $"policy '{policy.Name}' needs at least one label and one marketing action");
        }
        foreach (var token in policy.Labels)
        {
            CheckToken("label", token);
        }
        foreach (var token in policy.Actions)
        {
            CheckToken("marketing action", token);
        }
        if (policy.Match is not ("any" or "all"))
        {
            throw new CatalogException("POLICY_INVALID", $"policy '{policy.Name}': match must be any or all, not '{policy.Match}'");
        }
        await _store.PutAsync(PolicyKind, sandbox, policy.Name, policy, ActivationJson.Default.UsagePolicy).ConfigureAwait(false);
        return policy;
    }

    public async Task DeletePolicyAsync(string sandbox, string name)
    {
        if (_store.Get(PolicyKind, sandbox, name, ActivationJson.Default.UsagePolicy) is null)
        {
            throw new CatalogException("POLICY_NOT_FOUND", $"policy '{name}' does not exist in sandbox '{sandbox}'");
        }
        using var writes = new Storage.WriteSet(256);
        writes.Delete(Storage.StoreSpace.Catalog, 0, CatalogStore.Key(PolicyKind, sandbox, name));
        await _catalog.Store.CommitAsync(writes).ConfigureAwait(false);
    }

    /// <summary>Every way <paramref name="destination"/> breaks an enabled policy of the sandbox (empty: it may run).</summary>
    public List<PolicyViolation> Check(string sandbox, Destination destination)
    {
        if (destination.MarketingAction is not { } action)
        {
            return [];
        }
        var policies = Policies(sandbox).Where(p => p.Enabled && p.Actions.Contains(action)).ToList();
        if (policies.Count == 0)
        {
            return [];
        }
        var uses = Uses(sandbox, destination);
        var violations = new List<PolicyViolation>();
        foreach (var policy in policies)
        {
            var hits = uses.Where(u => u.Labels.Overlaps(policy.Labels)).ToList();
            if (policy.Match == "all")
            {
                var present = hits.SelectMany(u => u.Labels).ToHashSet(StringComparer.Ordinal);
                if (!policy.Labels.All(present.Contains))
                {
                    continue;
                }
            }
            if (hits.Count == 0)
            {
                continue;
            }
            violations.Add(new PolicyViolation(policy.Name, action,
                [.. hits.SelectMany(u => u.Labels).Intersect(policy.Labels).Distinct().Order(StringComparer.Ordinal)],
                [.. hits.Select(u => $"dataset {u.Dataset} → field {u.Field} [{string.Join(", ", u.Labels.Order(StringComparer.Ordinal))}] → {u.Via} → destination {destination.Name}").Distinct()]));
        }
        return violations;
    }

    /// <summary>Refuses a destination that breaks a policy, naming each lineage (<c>POLICY_VIOLATION</c>).</summary>
    public void Enforce(string sandbox, Destination destination)
    {
        var violations = Check(sandbox, destination);
        if (violations.Count > 0)
        {
            throw new CatalogException("POLICY_VIOLATION",
                $"destination '{destination.Name}' (marketing action '{destination.MarketingAction}') breaks {string.Join(" and ", violations)}");
        }
    }

    private sealed record Use(string Dataset, string Field, HashSet<string> Labels, string Via);

    /// <summary>The labelled (dataset, field) pairs the destination's data comes from, and through what.</summary>
    private List<Use> Uses(string sandbox, Destination destination)
    {
        var labels = Labels(sandbox);
        var reads = new List<(string Field, bool Event, string Via)>();
        foreach (var activated in destination.Audiences)
        {
            var audience = _audiences.Get(sandbox, activated.AudienceId);
            if (audience is null)
            {
                continue;
            }
            foreach (var path in PqlTree.FieldPaths(Parser.Parse(audience.Canonical ?? audience.Pql)))
            {
                var isEvent = path == "xEvent" || path.StartsWith("xEvent.", StringComparison.Ordinal);
                reads.Add((isEvent ? path.Length > 6 ? path[7..] : "" : path, isEvent, $"audience {audience.Name}"));
            }
        }
        reads.AddRange(destination.Attributes.Select(a => (a.Source, false, $"attribute {a.Target}")));
        var uses = new List<Use>();
        foreach (var dataset in _catalog.ListDatasets(sandbox))
        {
            var schema = _catalog.Compiled(sandbox, dataset.Schema);
            var datasetLabels = labels.Datasets.GetValueOrDefault(dataset.Name) ?? [];
            var fieldLabels = labels.Fields.GetValueOrDefault(dataset.Schema);
            var isEventData = schema.Class == SchemaClass.Event;
            var fields = reads.Where(r => r.Event == isEventData || !r.Event).ToList();
            foreach (var identity in destination.Identities)
            {
                fields.AddRange(schema.IdentityFields.Where(f => f.Definition.Identity?.Namespace == identity.Source).Select(f => (f.Path, isEventData, $"identity {identity.Source} as {identity.Target}")));
            }
            foreach (var (field, _, via) in fields)
            {
                if (field.Length == 0 || schema.Resolve(field) is null)
                {
                    continue;
                }
                var found = new HashSet<string>(datasetLabels, StringComparer.Ordinal);
                if (fieldLabels is not null)
                {
                    foreach (var (labelled, values) in fieldLabels)
                    {
                        if (field == labelled || field.StartsWith(labelled + ".", StringComparison.Ordinal))
                        {
                            found.UnionWith(values);
                        }
                    }
                }
                if (found.Count > 0)
                {
                    uses.Add(new Use(dataset.Name, field, found, via));
                }
            }
        }
        return uses;
    }

    private static void CheckToken(string what, string token)
    {
        if (!TokenPattern().IsMatch(token))
        {
            throw new CatalogException("POLICY_INVALID", $"{what} '{token}' must start with a letter and use letters, digits, '_', '.' or '-' (at most 64)");
        }
    }
}

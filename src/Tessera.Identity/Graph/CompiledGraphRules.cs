using Tessera.Abstractions;

namespace Tessera.Identity.Graph;

/// <summary>Graph rules that cannot be applied, each problem named.</summary>
public sealed class InvalidGraphRulesException(IReadOnlyList<string> problems)
    : Exception("identity graph rules refused: " + string.Join("; ", problems))
{
    public const string Code = "INVALID_GRAPH_RULES";

    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// <see cref="IdentityGraphRules"/> checked against the namespaces they name and turned into what the
/// graph needs per namespace: a bit for each unique namespace and a rank for the primary identity.
/// </summary>
public sealed class CompiledGraphRules
{
    /// <summary>A bit mask per graph holds the unique namespaces present, so at most 64 can be unique.</summary>
    public const int MaxUniqueNamespaces = 64;
    public const int MaxIdentitiesLimit = 10_000;

    private readonly Dictionary<string, ulong> _uniqueBits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _priority = new(StringComparer.Ordinal);
    private readonly Func<string, IdentityType?> _typeOf;

    private CompiledGraphRules(IdentityGraphRules rules, Func<string, IdentityType?> typeOf)
    {
        Source = rules;
        _typeOf = typeOf;
        for (var i = 0; i < rules.UniqueNamespaces.Count; i++)
        {
            _uniqueBits[rules.UniqueNamespaces[i]] = 1UL << i;
        }
        for (var i = 0; i < rules.Priority.Count; i++)
        {
            _priority[rules.Priority[i]] = i;
        }
    }

    public IdentityGraphRules Source { get; }

    public int MaxIdentities => Source.MaxIdentities;

    /// <summary>Checks <paramref name="rules"/>; <paramref name="typeOf"/> gives a namespace's type, or null when there is no such namespace.</summary>
    /// <exception cref="InvalidGraphRulesException">naming every problem found.</exception>
    public static CompiledGraphRules Compile(IdentityGraphRules rules, Func<string, IdentityType?> typeOf)
    {
        // Rules read from JSON may hold nulls ("priority": null, "uniqueNamespaces": [null]): each is
        // a problem named like the others, never a NullReference or a null dictionary key below.
        var nulls = new List<string>();
        CheckNulls(rules.UniqueNamespaces, "uniqueNamespaces", nulls);
        CheckNulls(rules.Priority, "priority", nulls);
        if (nulls.Count > 0)
        {
            throw new InvalidGraphRulesException(nulls);
        }
        var problems = new List<string>();
        if (rules.MaxIdentities is < 2 or > MaxIdentitiesLimit)
        {
            problems.Add($"maxIdentities must be between 2 and {MaxIdentitiesLimit}, found {rules.MaxIdentities}");
        }
        if (rules.UniqueNamespaces.Count > MaxUniqueNamespaces)
        {
            problems.Add($"at most {MaxUniqueNamespaces} unique namespaces, found {rules.UniqueNamespaces.Count}");
        }
        CheckList(rules.UniqueNamespaces, "uniqueNamespaces", typeOf, problems);
        CheckList(rules.Priority, "priority", typeOf, problems);
        // A device or cookie ranked above a person id would make a shared device the face of everyone on it.
        for (var i = 0; i < rules.Priority.Count; i++)
        {
            if (!IsDeviceType(typeOf(rules.Priority[i])))
            {
                continue;
            }
            for (var j = i + 1; j < rules.Priority.Count; j++)
            {
                if (IsPersonType(typeOf(rules.Priority[j])))
                {
                    problems.Add($"priority: device namespace '{rules.Priority[i]}' may not rank above person namespace '{rules.Priority[j]}'");
                }
            }
        }
        if (problems.Count > 0)
        {
            throw new InvalidGraphRulesException(problems);
        }
        return new CompiledGraphRules(rules, typeOf);
    }

    private static void CheckNulls(List<string>? names, string field, List<string> problems)
    {
        if (names is null)
        {
            problems.Add($"{field} must be a list of namespace codes, not null");
            return;
        }
        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                problems.Add($"{field}: entry {i + 1} must be a namespace code, found {(names[i] is null ? "null" : $"'{names[i]}'")}");
            }
        }
    }

    private static void CheckList(List<string> names, string field, Func<string, IdentityType?> typeOf, List<string> problems)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!seen.Add(name))
            {
                problems.Add($"{field}: namespace '{name}' is listed twice");
            }
            else if (typeOf(name) is null)
            {
                problems.Add($"{field}: unknown namespace '{name}'");
            }
        }
    }

    public static bool IsPersonType(IdentityType? type) => type is IdentityType.CrossDevice or IdentityType.Email or IdentityType.Phone;

    public static bool IsDeviceType(IdentityType? type) => type is IdentityType.Device or IdentityType.Cookie;

    /// <summary>The bit of a unique namespace, 0 for any other.</summary>
    public ulong UniqueBit(string ns) => _uniqueBits.GetValueOrDefault(ns);

    /// <summary>
    /// Lower ranks first: listed namespaces in their order, then the rest by type (person ids, emails,
    /// phones, partner and other ids, devices, cookies); ties are broken by the caller.
    /// </summary>
    public int Rank(string ns)
    {
        if (_priority.TryGetValue(ns, out var listed))
        {
            return listed;
        }
        var typeRank = _typeOf(ns) switch
        {
            IdentityType.CrossDevice => 0,
            IdentityType.Email => 1,
            IdentityType.Phone => 2,
            IdentityType.Partner => 3,
            IdentityType.NonPeople => 4,
            IdentityType.Device => 5,
            IdentityType.Cookie => 6,
            _ => 4,
        };
        return Source.Priority.Count + typeRank;
    }
}

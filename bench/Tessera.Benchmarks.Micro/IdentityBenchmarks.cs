using BenchmarkDotNet.Attributes;
using Tessera.Bench;
using Tessera.Catalog;
using Tessera.Identity.Graph;
using Tessera.Identity.Normalization;

namespace Tessera.Benchmarks.Micro;

/// <summary>
/// Normalizing identity values as ingestion does for every identity it reads: 1,000 generated
/// emails (mixed case, dots, +tags; or already normalized) and 1,000 US phones (E.164, or national
/// format through libphonenumber; or +1 and ten random digits, as the CSV ingestion benchmark writes
/// them, most of which are not valid numbers), each figure per value.
/// </summary>
[MemoryDiagnoser]
public class IdentityNormalizerBenchmarks
{
    private const int Count = 1_000;
    private static readonly string[] Names = ["ann", "bob", "chloe", "david", "emma", "farid", "grace", "hiro", "ines", "jonas", "kofi", "lena"];
    private static readonly string[] Domains = ["gmail.com", "example.com", "yahoo.com", "outlook.com", "proton.me", "gmx.de"];
    private static readonly int[] AreaCodes = [212, 213, 206, 303, 312, 404, 415, 617, 702, 808];

    private readonly IdentityNormalizer _email = new(StandardNamespaces.All.Single(n => n.Code == StandardNamespaces.Email));
    private readonly IdentityNormalizer _phone = new(StandardNamespaces.All.Single(n => n.Code == StandardNamespaces.Phone));
    private string[] _emails = null!;
    private string[] _normalizedEmails = null!;
    private string[] _e164 = null!;
    private string[] _national = null!;
    private string[] _randomDigits = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_261_128);
        _emails = new string[Count];
        _e164 = new string[Count];
        _national = new string[Count];
        _randomDigits = new string[Count];
        for (var i = 0; i < Count; i++)
        {
            var first = Names[random.Next(Names.Length)];
            var last = Names[random.Next(Names.Length)];
            var local = random.Next(3) switch
            {
                0 => $"{first}.{last}{i}",
                1 => $"{char.ToUpperInvariant(first[0])}{first[1..]}.{last}+news{i % 100}",
                _ => $"{first}_{i}",
            };
            _emails[i] = $"{local}@{(random.Next(4) == 0 ? Domains[random.Next(Domains.Length)].ToUpperInvariant() : Domains[random.Next(Domains.Length)])}";
            var (area, exchange, line) = (AreaCodes[random.Next(AreaCodes.Length)], random.Next(200, 999), random.Next(0, 10_000));
            _e164[i] = $"+1{area}{exchange}{line:0000}";
            _national[i] = $"({area}) {exchange}-{line:0000}";
            _randomDigits[i] = $"+1{random.Next(200, 990)}{random.Next(0, 10_000_000):D7}";
        }
        _normalizedEmails = [.. _emails.Select(e => _email.Normalize(e).Value ?? throw new InvalidOperationException($"{e} did not normalize"))];
        Require(_phone, _e164, "E.164");
        Require(_phone, _national, "national");
    }

    private static void Require(IdentityNormalizer normalizer, string[] values, string what)
    {
        var valid = values.Count(v => normalizer.Normalize(v).IsNormalized);
        if (valid < values.Length * 9 / 10)
        {
            throw new InvalidOperationException($"only {valid} of {values.Length} {what} phones are valid");
        }
    }

    /// <summary>Emails as typed: about half need lower-casing, so a new string.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public int EmailAsTyped() => Run(_email, _emails);

    /// <summary>Emails already in normalized form: the same string comes back.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public int EmailNormalized() => Run(_email, _normalizedEmails);

    [Benchmark(OperationsPerInvoke = Count)]
    public int PhoneE164() => Run(_phone, _e164);

    [Benchmark(OperationsPerInvoke = Count)]
    public int PhoneNational() => Run(_phone, _national);

    [Benchmark(OperationsPerInvoke = Count)]
    public int PhoneRandomDigits() => Run(_phone, _randomDigits);

    private static int Run(IdentityNormalizer normalizer, string[] values)
    {
        var normalized = 0;
        foreach (var value in values)
        {
            normalized += normalizer.Normalize(value).IsNormalized ? 1 : 0;
        }
        return normalized;
    }
}

/// <summary>
/// Incremental linking into the identity graph with the end-to-end runner's rules on (CRMID unique,
/// priority CRMID, Email, Phone, ECID; at most 50 identities a graph), over its generated workload of
/// 100,000 identities: its first 100,000 occurrences (of about 143,000) in ledger order, ids
/// pre-interned as in <c>tessera bench --only identity</c>; each figure per occurrence added. And
/// identity-to-graph lookups on the graph of every occurrence, per lookup.
/// </summary>
[MemoryDiagnoser]
public class IdentityGraphBenchmarks
{
    private const int Identities = 100_000;
    private const int Occurrences = 100_000;
    private const int Lookups = 1_000;

    private readonly CompiledGraphRules _rules = IdentityWorkload.Rules();
    private IdentityWorkload _workload = null!;
    private IdentityGraph _graph = null!;
    private IdentityGraph _built = null!;
    private IdentityKey[] _keys = null!;

    [GlobalSetup]
    public void Setup()
    {
        _workload = IdentityWorkload.Generate(Identities, seed: 20_261_128);
        if (_workload.OccurrenceCount < Occurrences)
        {
            throw new InvalidOperationException($"the workload has only {_workload.OccurrenceCount:N0} occurrences");
        }
        _built = Interned();
        AddAll(_built, _workload.OccurrenceCount);
        var random = new Random(20_261_129);
        _keys = new IdentityKey[Lookups];
        for (var k = 0; k < _keys.Length; k++)
        {
            var id = random.Next(_workload.IdentityCount);
            // A copy of the value, as a request or a decoded ledger entry brings it: no reference-equal shortcut.
            _keys[k] = new IdentityKey(IdentityWorkload.Namespaces[_workload.NamespaceOf[id]], new string(_workload.Values[id].AsSpan()));
        }
        if (Lookup() == 0)
        {
            throw new InvalidOperationException("lookups found nothing");
        }
    }

    /// <summary>A new graph with every identity interned (outside the measured time).</summary>
    [IterationSetup(Target = nameof(AddAllOccurrences))]
    public void NewGraph() => _graph = Interned();

    /// <summary>The workload's first occurrences, in ledger order, into a graph that starts with no links.</summary>
    [Benchmark(OperationsPerInvoke = Occurrences)]
    public int AddAllOccurrences() => AddAll(_graph, Occurrences);

    /// <summary><see cref="IdentityGraph.TryGetNode"/> then <see cref="IdentityGraph.GraphOf"/>, for random identities.</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public long Lookup()
    {
        long sum = 0;
        foreach (var key in _keys)
        {
            if (_built.TryGetNode(key, out var node))
            {
                sum += _built.GraphOf(node);
            }
        }
        return sum;
    }

    private IdentityGraph Interned()
    {
        var graph = new IdentityGraph(_rules);
        for (var i = 0; i < _workload.Sources.Length; i++)
        {
            graph.Source(_workload.Sources[i].Dataset, _workload.Sources[i].Batch);
        }
        for (var i = 0; i < _workload.IdentityCount; i++)
        {
            graph.Intern(IdentityWorkload.Namespaces[_workload.NamespaceOf[i]], _workload.Values[i]);
        }
        return graph;
    }

    private int AddAll(IdentityGraph graph, int occurrences)
    {
        for (var i = 0; i < occurrences; i++)
        {
            graph.Add(_workload.Occurrence(i), _workload.SourceOf[i], _workload.RecordOf[i], _workload.Time[i], i + 1);
        }
        return graph.GraphCount;
    }
}

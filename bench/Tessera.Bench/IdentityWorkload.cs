using System.Buffers;
using System.Globalization;
using Tessera.Abstractions;
using Tessera.Identity.Graph;

namespace Tessera.Bench;

/// <summary>
/// A seeded, deterministic identity workload held in memory: people with a CRM id, one or two
/// emails, usually a phone and one to three cookies (ECID); CRM records (some updated later), logins
/// that carry a cookie with its person's CRM id, a few sign-up forms (cookie with email); some cookies
/// shared by two people (a shared device) and a few hundred junk emails typed by many people. The
/// occurrences are in time order, and identities are numbered in the order they first occur, as a
/// graph that interns them from its ledger numbers them, so the node ids are scattered like real ones.
/// </summary>
internal sealed class IdentityWorkload
{
    public const string Crmid = "CRMID";
    public const string Email = "Email";
    public const string Phone = "Phone";
    public const string Ecid = "ECID";

    /// <summary>Namespace codes by index, as <see cref="NamespaceOf"/> refers to them.</summary>
    public static readonly string[] Namespaces = [Crmid, Email, Phone, Ecid];

    private const int JunkEmailCount = 300;
    private const double JunkEmailShare = 0.01;
    private const double SecondEmailShare = 0.3;
    private const double PhoneShare = 0.9;
    private const double CrmUpdateShare = 0.2;
    private const double SharedDeviceShare = 0.02;
    private const double FormShare = 0.1;
    private const int Days = 90;
    private static readonly long StartTicks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    private static readonly string[] FirstNames = ["james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "lea", "zoe", "mateo", "sofia", "noah", "emma"];
    private static readonly string[] LastNames = ["smith", "johnson", "garcia", "miller", "davis", "martinez", "dubois", "muller", "rossi", "nowak", "silva", "jensen", "obrien", "nakamura"];
    private static readonly string[] Domains = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "gmx.de"];
    private static readonly string[] JunkWords = ["noemail", "none", "test", "na", "unknown", "donotreply", "refused", "x", "nomail", "asdf"];
    private static readonly string[] JunkDomains = ["example.com", "test.com", "none.com", "email.com", "noemail.com"];

    private IdentityWorkload(string[] values, byte[] namespaceOf, int[] start, int[] members, long[] time, int[] sourceOf, string[] recordOf,
        (string Dataset, string Batch)[] sources, WorkloadStats stats)
    {
        Values = values;
        NamespaceOf = namespaceOf;
        Start = start;
        Members = members;
        Time = time;
        SourceOf = sourceOf;
        RecordOf = recordOf;
        Sources = sources;
        Stats = stats;
    }

    /// <summary>Identity values by node id (ids are in order of first occurrence).</summary>
    public string[] Values { get; }

    /// <summary>Index into <see cref="Namespaces"/> by node id.</summary>
    public byte[] NamespaceOf { get; }

    /// <summary>Occurrence <c>i</c> is <c>Members[Start[i]..Start[i + 1]]</c>, its primary identity first.</summary>
    public int[] Start { get; }

    public int[] Members { get; }

    /// <summary>UTC ticks per occurrence, non-decreasing.</summary>
    public long[] Time { get; }

    public int[] SourceOf { get; }

    public string[] RecordOf { get; }

    /// <summary>Dataset and batch by source id, registered in this order they get these ids.</summary>
    public (string Dataset, string Batch)[] Sources { get; }

    public WorkloadStats Stats { get; }

    public int IdentityCount => Values.Length;

    public int OccurrenceCount => Time.Length;

    public ReadOnlySpan<int> Occurrence(int i) => Members.AsSpan(Start[i], Start[i + 1] - Start[i]);

    public static IdentityType? TypeOf(string ns) => ns switch
    {
        Crmid => IdentityType.CrossDevice,
        Email => IdentityType.Email,
        Phone => IdentityType.Phone,
        Ecid => IdentityType.Cookie,
        _ => null,
    };

    /// <summary>The rules measured: CRMID unique (one person per graph), a cap of 50 identities.</summary>
    public static CompiledGraphRules Rules() => CompiledGraphRules.Compile(new IdentityGraphRules
    {
        UniqueNamespaces = [Crmid],
        Priority = [Crmid, Email, Phone, Ecid],
        MaxIdentities = 50,
    }, TypeOf);

    /// <summary>
    /// The same workload with node ids in a random order instead of the order of first occurrence,
    /// for a graph interned in that order: identities first seen together no longer get neighbouring
    /// ids. Shares everything but the ids.
    /// </summary>
    public IdentityWorkload WithShuffledIds(int seed)
    {
        var random = new Random(seed);
        var permutation = new int[IdentityCount];
        for (var i = 0; i < permutation.Length; i++)
        {
            permutation[i] = i;
        }
        random.Shuffle(permutation);
        var values = new string[IdentityCount];
        var namespaceOf = new byte[IdentityCount];
        for (var old = 0; old < permutation.Length; old++)
        {
            values[permutation[old]] = Values[old];
            namespaceOf[permutation[old]] = NamespaceOf[old];
        }
        var members = new int[Members.Length];
        for (var m = 0; m < members.Length; m++)
        {
            members[m] = permutation[Members[m]];
        }
        return new IdentityWorkload(values, namespaceOf, Start, members, Time, SourceOf, RecordOf, Sources, Stats);
    }

    /// <summary>
    /// The ledger as <see cref="LedgerEntry"/> objects. Each entry gets its own copy of each identity
    /// value, as entries decoded from the store do, so interning compares characters rather than
    /// finding the very same string; namespace codes, datasets, batches and record ids are shared.
    /// </summary>
    public List<LedgerEntry> ToLedger()
    {
        var ledger = new List<LedgerEntry>(OccurrenceCount);
        for (var i = 0; i < OccurrenceCount; i++)
        {
            var nodes = Occurrence(i);
            var keys = new IdentityKey[nodes.Length];
            for (var k = 0; k < nodes.Length; k++)
            {
                keys[k] = new IdentityKey(Namespaces[NamespaceOf[nodes[k]]], new string(Values[nodes[k]].AsSpan()));
            }
            var (dataset, batch) = Sources[SourceOf[i]];
            ledger.Add(new LedgerEntry(i + 1, new DateTimeOffset(Time[i], TimeSpan.Zero), dataset, batch, RecordOf[i], keys));
        }
        return ledger;
    }

    /// <summary>
    /// The ledger as the store holds it (<see cref="LedgerCodec"/>: key and value bytes per entry), packed
    /// into 64 MiB chunks so that ten million entries are not ten million arrays.
    /// </summary>
    public EncodedLedger ToEncodedLedger(string sandbox)
    {
        var ledger = new EncodedLedger(OccurrenceCount);
        var key = new ArrayBufferWriter<byte>(64);
        var value = new ArrayBufferWriter<byte>(256);
        for (var i = 0; i < OccurrenceCount; i++)
        {
            var nodes = Occurrence(i);
            var keys = new IdentityKey[nodes.Length];
            for (var k = 0; k < nodes.Length; k++)
            {
                keys[k] = new IdentityKey(Namespaces[NamespaceOf[nodes[k]]], Values[nodes[k]]);
            }
            var (dataset, batch) = Sources[SourceOf[i]];
            key.ResetWrittenCount();
            value.ResetWrittenCount();
            LedgerCodec.WriteKey(key, sandbox, i + 1);
            LedgerCodec.Encode(new LedgerEntry(i + 1, new DateTimeOffset(Time[i], TimeSpan.Zero), dataset, batch, RecordOf[i], keys), value);
            ledger.Add(key.WrittenSpan, value.WrittenSpan);
        }
        return ledger;
    }

    /// <summary>People until there are at least <paramref name="identities"/> distinct identities.</summary>
    public static IdentityWorkload Generate(int identities, int seed)
    {
        var random = new Random(seed);
        var builder = new Builder();
        var junk = new int[JunkEmailCount];
        Array.Fill(junk, -1); // created when first typed, so that every identity occurs in the ledger
        var cookies = new List<int>();
        var stats = new WorkloadStats();
        Span<int> crm = stackalloc int[4];
        Span<int> pair = stackalloc int[2];
        for (var person = 0; builder.IdentityCount < identities; person++)
        {
            stats.Persons++;
            var first = FirstNames[random.Next(FirstNames.Length)];
            var last = LastNames[random.Next(LastNames.Length)];
            var crmid = builder.NewIdentity(0, (person + 1).ToString("D10", CultureInfo.InvariantCulture));
            var count = 0;
            crm[count++] = crmid;
            var emails = random.NextDouble() < SecondEmailShare ? 2 : 1;
            var firstEmail = -1;
            for (var e = 0; e < emails; e++)
            {
                int email;
                if (random.NextDouble() < JunkEmailShare)
                {
                    // Skewed: the most common junk value is typed by about 6 % of those who type junk.
                    var u = random.NextDouble();
                    var j = (int)(JunkEmailCount * u * u);
                    if (junk[j] < 0)
                    {
                        junk[j] = builder.NewIdentity(1, $"{JunkWords[j % JunkWords.Length]}{(j < JunkWords.Length ? "" : (j / JunkWords.Length).ToString(CultureInfo.InvariantCulture))}@{JunkDomains[j % JunkDomains.Length]}");
                        stats.JunkEmails++;
                    }
                    email = junk[j];
                    stats.JunkEmailUses++;
                }
                else
                {
                    email = builder.NewIdentity(1, e == 0
                        ? $"{first}.{last}.{person}@{Domains[random.Next(Domains.Length)]}"
                        : $"{first[0]}{last}{person}@work{person % 997}.example.org");
                }
                if (crm[..count].Contains(email))
                {
                    continue;
                }
                crm[count++] = email;
                firstEmail = firstEmail < 0 ? email : firstEmail;
            }
            if (random.NextDouble() < PhoneShare)
            {
                crm[count++] = builder.NewIdentity(2, $"+1{2_000_000_000L + person}");
            }
            var crmSecond = random.Next(Days * 86_400);
            builder.Occurrence(crmSecond, SourceKind.Crm, crm[..count]);
            stats.CrmRecords++;
            if (random.NextDouble() < CrmUpdateShare)
            {
                builder.Occurrence(crmSecond + random.Next(Days * 86_400 - crmSecond), SourceKind.Crm, crm[..count]);
                stats.CrmRecords++;
            }

            var ownCookies = random.Next(1, 4);
            for (var c = 0; c < ownCookies; c++)
            {
                var cookie = builder.NewIdentity(3, Ecid38(random));
                cookies.Add(cookie);
                pair[0] = cookie;
                pair[1] = crmid;
                var logins = random.Next(1, 6);
                for (var l = 0; l < logins; l++)
                {
                    builder.Occurrence(random.Next(Days * 86_400), SourceKind.Web, pair);
                    stats.Logins++;
                }
                if (firstEmail >= 0 && random.NextDouble() < FormShare)
                {
                    pair[1] = firstEmail;
                    builder.Occurrence(random.Next(Days * 86_400), SourceKind.Web, pair);
                    stats.Forms++;
                }
            }
            if (cookies.Count > ownCookies && random.NextDouble() < SharedDeviceShare)
            {
                // Someone else's device: this person logs in on a cookie another person logs in on too.
                pair[0] = cookies[random.Next(cookies.Count - ownCookies)];
                pair[1] = crmid;
                var logins = random.Next(1, 3);
                for (var l = 0; l < logins; l++)
                {
                    builder.Occurrence(random.Next(Days * 86_400), SourceKind.Web, pair);
                    stats.SharedDeviceLogins++;
                }
            }
        }
        return builder.Finish(stats);
    }

    /// <summary>A 38-digit ECID.</summary>
    private static string Ecid38(Random random) => string.Create(38, random, static (span, r) =>
    {
        for (var k = 0; k < span.Length; k++)
        {
            span[k] = (char)('0' + r.Next(10));
        }
    });

    private enum SourceKind : byte
    {
        Crm,
        Web,
    }

    /// <summary>Collects identities and occurrences in generation order, then puts them in time order.</summary>
    private sealed class Builder
    {
        private readonly List<string> _values = [];
        private readonly List<byte> _namespaces = [];
        private readonly List<int> _members = [];
        private readonly List<int> _starts = [];
        private readonly List<int> _seconds = [];
        private readonly List<SourceKind> _kinds = [];

        public int IdentityCount => _values.Count;

        public int NewIdentity(byte ns, string value)
        {
            _values.Add(value);
            _namespaces.Add(ns);
            return _values.Count - 1;
        }

        public void Occurrence(int second, SourceKind kind, ReadOnlySpan<int> members)
        {
            _starts.Add(_members.Count);
            foreach (var member in members)
            {
                _members.Add(member);
            }
            _seconds.Add(second);
            _kinds.Add(kind);
        }

        public IdentityWorkload Finish(WorkloadStats stats)
        {
            var count = _seconds.Count;
            _starts.Add(_members.Count);
            // Time order, ties in generation order: one sort of (second, generation index) packed in a long.
            var order = new long[count];
            for (var i = 0; i < count; i++)
            {
                order[i] = ((long)_seconds[i] << 32) | (uint)i;
            }
            Array.Sort(order);

            // Number identities in order of first occurrence (every identity occurs).
            var renumber = new int[_values.Count];
            Array.Fill(renumber, -1);
            var next = 0;
            var start = new int[count + 1];
            var members = new int[_members.Count];
            var time = new long[count];
            var sourceOf = new int[count];
            var recordOf = new string[count];
            var position = 0;
            for (var i = 0; i < count; i++)
            {
                var g = (int)(order[i] & 0xFFFF_FFFF);
                start[i] = position;
                for (var m = _starts[g]; m < _starts[g + 1]; m++)
                {
                    var old = _members[m];
                    if (renumber[old] < 0)
                    {
                        renumber[old] = next++;
                    }
                    members[position++] = renumber[old];
                }
                var second = _seconds[g];
                time[i] = StartTicks + second * TimeSpan.TicksPerSecond;
                // One batch per dataset and day: CRM sources first, then web.
                sourceOf[i] = (_kinds[g] == SourceKind.Crm ? 0 : Days) + second / 86_400;
                // A CRM row is known by its CRM id (its primary identity); an event by its _id.
                recordOf[i] = _kinds[g] == SourceKind.Crm ? _values[_members[_starts[g]]] : $"ev-{i:x7}";
                stats.LinkOccurrences += _starts[g + 1] - _starts[g] - 1;
            }
            start[count] = position;
            if (next != renumber.Length)
            {
                throw new InvalidOperationException($"{renumber.Length - next} identities occur nowhere");
            }
            var values = new string[_values.Count];
            var namespaces = new byte[_values.Count];
            for (var old = 0; old < renumber.Length; old++)
            {
                values[renumber[old]] = _values[old];
                namespaces[renumber[old]] = _namespaces[old];
            }
            // Copied in id order, so they lie in memory in the order a ledger read from the start would have made them.
            for (var id = 0; id < values.Length; id++)
            {
                values[id] = new string(values[id].AsSpan());
            }
            var sources = new (string, string)[2 * Days];
            for (var day = 0; day < Days; day++)
            {
                var date = new DateTime(StartTicks, DateTimeKind.Utc).AddDays(day).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
                sources[day] = ("crm", $"crm-{date}");
                sources[Days + day] = ("web", $"web-{date}");
            }
            stats.Occurrences = count;
            stats.Identities = values.Length;
            for (var ns = 0; ns < Namespaces.Length; ns++)
            {
                stats.ByNamespace[ns] = namespaces.Count(n => n == ns);
            }
            return new IdentityWorkload(values, namespaces, start, members, time, sourceOf, recordOf, sources, stats);
        }
    }
}

/// <summary>What a generated workload holds.</summary>
internal sealed class WorkloadStats
{
    public int Persons { get; set; }
    public int Identities { get; set; }
    public int[] ByNamespace { get; } = new int[IdentityWorkload.Namespaces.Length];
    public int Occurrences { get; set; }
    public long LinkOccurrences { get; set; }
    public int CrmRecords { get; set; }
    public int Logins { get; set; }
    public int Forms { get; set; }
    public int SharedDeviceLogins { get; set; }
    public int JunkEmails { get; set; }
    public int JunkEmailUses { get; set; }
}

/// <summary>Encoded ledger entries (key, value) laid end to end in large chunks.</summary>
internal sealed class EncodedLedger(int capacity)
{
    private const int ChunkBytes = 64 << 20;
    private readonly List<byte[]> _chunks = [];
    private readonly List<(int Chunk, int Offset, int KeyLength, int ValueLength)> _entries = new(capacity);
    private int _used = ChunkBytes;

    public int Count => _entries.Count;

    public long Bytes => _entries.Sum(e => (long)e.KeyLength + e.ValueLength);

    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (_used + key.Length + value.Length > ChunkBytes)
        {
            _chunks.Add(new byte[ChunkBytes]);
            _used = 0;
        }
        var chunk = _chunks[^1];
        key.CopyTo(chunk.AsSpan(_used));
        value.CopyTo(chunk.AsSpan(_used + key.Length));
        _entries.Add((_chunks.Count - 1, _used, key.Length, value.Length));
        _used += key.Length + value.Length;
    }

    public ReadOnlySpan<byte> Key(int i) => _chunks[_entries[i].Chunk].AsSpan(_entries[i].Offset, _entries[i].KeyLength);

    public ReadOnlySpan<byte> Value(int i) => _chunks[_entries[i].Chunk].AsSpan(_entries[i].Offset + _entries[i].KeyLength, _entries[i].ValueLength);
}

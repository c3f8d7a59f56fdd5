#:project ../../src/Tessera.Identity/Tessera.Identity.csproj
#:property AssemblyName=Tessera.Benchmarks.Micro
#:property AllowUnsafeBlocks=true

// The identity table alone, driven as a restart drives it (a block of 145 identity occurrences: prepared, prefetched
// as the table prefetches, then interned), beside a bare open-addressing table of the same shape in the same run:
// 64-byte slots, 70 % full at the end, linear probing, the slot the high bits of hash x length, huge pages, and the
// very same 32-bit hashes in the same order, but a slot that holds only the hash, and only the first slot prefetched. Values as bench/scripts/restart-rebuild.cs
// makes them (about 10 million identities, 30 million occurrences), laid out in time order as the ledger holds them.
// A third figure times the bare table on hashes worked out before its clock starts, with the slots it reads; the first
// round adds the bare table on uniform random hashes and on evenly spread keys. The assembly takes the micro benchmarks'
// name to reach the table, which is internal.
//   dotnet run -c Release bench/scripts/identity-table-probe.cs -- 1930000
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;
using Tessera.Identity.Graph;

const int BlockOccurrences = 145; // 64 ledger entries of about 2.26 identities: the restart's block
var people = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_930_000;
var random = new Random(42);
var values = new List<(double Time, byte Namespace, string Value)>();
for (var p = 0; p < people; p++)
{
    var crm = $"{p:D9}";
    var email = $"person{p}@example{p % 97}.com";
    var record = random.NextDouble();
    values.Add((record, 0, crm));
    values.Add((record, 1, email));
    if (random.Next(10) < 3)
    {
        values.Add((record, 1, $"p.{p}.alt@mail{p % 13}.net"));
    }
    if (random.Next(10) < 9)
    {
        values.Add((record, 2, $"+1{2_000_000_000L + (p * 7919L % 7_999_999_999L)}"));
    }
    for (var cookie = 1 + random.Next(3); cookie > 0; cookie--)
    {
        var ecid = $"{p:x8}-{cookie:x4}-4a1b-9c2d-{random.NextInt64():x12}";
        for (var login = 1 + random.Next(5); login > 0; login--)
        {
            var time = random.NextDouble();
            values.Add((time, 3, ecid));
            values.Add((time, 0, crm));
        }
        if (random.Next(10) == 0)
        {
            var time = random.NextDouble();
            values.Add((time, 3, ecid));
            values.Add((time, 1, email));
        }
    }
}
values.Sort((a, b) => a.Time.CompareTo(b.Time)); // stable enough: an occurrence's identities share one time
var utf8 = new MemoryStream();
var starts = new int[values.Count + 1];
var namespaces = new byte[values.Count];
for (var i = 0; i < values.Count; i++)
{
    starts[i] = (int)utf8.Position;
    namespaces[i] = values[i].Namespace;
    utf8.Write(Encoding.UTF8.GetBytes(values[i].Value));
}
starts[values.Count] = (int)utf8.Position;
var bytes = utf8.ToArray();
var occurrences = values.Count;
values = null;
var distinct = new IdentityTable(0);
for (var i = 0; i < occurrences; i++)
{
    distinct.GetOrAdd(namespaces[i], bytes.AsSpan(starts[i], starts[i + 1] - starts[i]), distinct.Count, out _);
}
var identities = distinct.Count;
distinct = null;
Console.WriteLine($"{occurrences:N0} identity occurrences of {identities:N0} identities, {bytes.Length / 1e6:F0} MB of values");

var probes = new IdentityTable.Probe[BlockOccurrences];
for (var round = 0; round < 3; round++)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var table = new IdentityTable(identities);
    var clock = Stopwatch.StartNew();
    for (var start = 0; start < occurrences; start += BlockOccurrences)
    {
        var n = Math.Min(BlockOccurrences, occurrences - start);
        for (var i = 0; i < n; i++)
        {
            table.Prepare(namespaces[start + i], bytes.AsSpan(starts[start + i], starts[start + i + 1] - starts[start + i]), out probes[i]);
        }
        for (var i = 0; i < n; i++)
        {
            table.Prefetch(ref probes[i]);
        }
        for (var i = 0; i < n; i++)
        {
            table.GetOrAdd(ref probes[i], table.Count, out _);
        }
    }
    var tessera = clock.Elapsed.TotalNanoseconds / occurrences;

    // The bare table: the same hashes (this table's seed), prepared the same way, then the same three steps.
    using var bare = new BareTable(identities);
    clock.Restart();
    for (var start = 0; start < occurrences; start += BlockOccurrences)
    {
        var n = Math.Min(BlockOccurrences, occurrences - start);
        for (var i = 0; i < n; i++)
        {
            table.Prepare(namespaces[start + i], bytes.AsSpan(starts[start + i], starts[start + i + 1] - starts[start + i]), out probes[i]);
        }
        for (var i = 0; i < n; i++)
        {
            bare.Prefetch(probes[i].HashCode);
        }
        for (var i = 0; i < n; i++)
        {
            bare.GetOrAdd(probes[i].HashCode, (uint)(start + i));
        }
    }
    var floor = clock.Elapsed.TotalNanoseconds / occurrences;
    // The bare table again on hashes worked out before the clock starts: what prefetching and probing alone cost.
    var hashes = new uint[occurrences];
    for (var i = 0; i < occurrences; i++)
    {
        table.Prepare(namespaces[i], bytes.AsSpan(starts[i], starts[i + 1] - starts[i]), out probes[0]);
        hashes[i] = probes[0].HashCode;
    }
    using var bare2 = new BareTable(identities);
    clock.Restart();
    bare2.InternInBlocks(hashes, BlockOccurrences);
    var floorAlone = clock.Elapsed.TotalNanoseconds / occurrences;
    Console.WriteLine($"round {round + 1}: IdentityTable {tessera:F1} ns an occurrence, bare table {floor:F1} ns ({tessera / floor:F1}x), "
        + $"bare table on hashes prepared ahead {floorAlone:F1} ns reading {bare2.SlotsRead / (double)occurrences:F2} slots an occurrence; "
        + $"{table.Count:N0} identities");
    if (round == 0)
    {
        // What the access pattern costs with other keys, as many occurrences of as many values: uniform random hashes, and
        // keys whose slots are evenly spread (value x 2^64/phi, a Weyl sequence), which nearly always end at their first slot.
        var random32 = new Random(7);
        var uniform = new uint[identities];
        for (var i = 0; i < identities; i++)
        {
            uniform[i] = (uint)random32.NextInt64(1, uint.MaxValue);
        }
        var drawn = new int[occurrences];
        for (var i = 0; i < occurrences; i++)
        {
            drawn[i] = random32.Next(identities);
        }
        foreach (var (name, hashOf) in new (string, Func<int, uint>)[]
            { ("uniform random hashes", v => uniform[v]), ("evenly spread keys", v => (uint)(((ulong)v * 0x9E3779B97F4A7C15UL) >> 32) | 1) })
        {
            for (var i = 0; i < occurrences; i++)
            {
                hashes[i] = hashOf(drawn[i]);
            }
            using var other = new BareTable(identities);
            clock.Restart();
            other.InternInBlocks(hashes, BlockOccurrences);
            Console.WriteLine($"  bare table on {name}: {clock.Elapsed.TotalNanoseconds / occurrences:F1} ns an occurrence, "
                + $"{other.SlotsRead / (double)occurrences:F2} slots");
        }
    }
}

/// <summary>Open addressing over 64-byte slots that hold the 32-bit hash and a value only: the memory pattern without the key.</summary>
internal sealed unsafe class BareTable : IDisposable
{
    private const int SlotBytes = 64;
    private readonly byte* _slots;
    private readonly long _length;

    public BareTable(int capacity)
    {
        _length = Math.Max(16, ((capacity * 10L) + 6) / 7);
        var bytes = (nuint)(_length * SlotBytes);
        _slots = (byte*)NativeMemory.AlignedAlloc(bytes, 2 << 20);
        _ = Madvise((nint)_slots, bytes, 14); // MADV_HUGEPAGE, as the identity table asks
        NativeMemory.Clear(_slots, bytes);
    }

    /// <summary>Slots read by <see cref="GetOrAdd"/> so far: one a probe at best, more where linear probing walks on.</summary>
    public long SlotsRead { get; private set; }

    public void Prefetch(uint hash) => Sse.Prefetch0(_slots + (Index(hash) * SlotBytes));

    /// <summary>Every hash in turn, a block at a time as a restart goes: the block's slots prefetched, then each found or claimed.</summary>
    public void InternInBlocks(uint[] hashes, int block)
    {
        for (var start = 0; start < hashes.Length; start += block)
        {
            var n = Math.Min(block, hashes.Length - start);
            for (var i = 0; i < n; i++)
            {
                Prefetch(hashes[start + i]);
            }
            for (var i = 0; i < n; i++)
            {
                GetOrAdd(hashes[start + i], (uint)(start + i));
            }
        }
    }

    /// <summary>Finds the hash (a 32-bit hash stands for its identity here) or claims the first empty slot for it.</summary>
    public bool GetOrAdd(uint hash, uint value)
    {
        for (var i = Index(hash); ; i = i + 1 == _length ? 0 : i + 1)
        {
            SlotsRead++;
            var slot = (uint*)(_slots + (i * SlotBytes));
            if (slot[1] == 0)
            {
                slot[0] = hash;
                slot[1] = value + 1;
                return false;
            }
            if (slot[0] == hash)
            {
                return true;
            }
        }
    }

    public void Dispose() => NativeMemory.AlignedFree(_slots);

    private long Index(uint hash) => (long)(((ulong)hash * (ulong)_length) >> 32);

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);
}

#:project ../../src/Tessera.Storage.RocksDb/Tessera.Storage.RocksDb.csproj
#:property PublishAot=false

// Many small prefix scans, the way the engines read a profile (a few keys under one prefix), alone in a process:
// 20,000 prefixes of 8 keys each in a fresh store, then rounds of 200,000 scans of random prefixes. Compare builds by
// running it from a worktree of each commit in turn (BENCHMARKS.md, "One key per profile").
//   dotnet run -c Release bench/scripts/prefix-scans.cs -- /tmp/prefix-scans
using System.Diagnostics;
using System.Text;
using Tessera.Storage;
using Tessera.Storage.RocksDb;

var directory = args[0];
if (Directory.Exists(directory))
{
    Directory.Delete(directory, recursive: true);
}
using var store = RocksDbStore.Open(directory, 1);
const int Prefixes = 20_000;
using (var writes = new WriteSet())
{
    for (var p = 0; p < Prefixes; p++)
    {
        for (var k = 0; k < 8; k++)
        {
            writes.Put(StoreSpace.Catalog, 0, Encoding.UTF8.GetBytes($"profile\0{p:D6}\0{k}"), new byte[40]);
        }
    }
    await store.CommitAsync(writes);
}
var random = new Random(42);
var prefixes = Enumerable.Range(0, Prefixes).Select(p => Encoding.UTF8.GetBytes($"profile\0{p:D6}\0")).ToArray();
for (var round = 0; round < 5; round++)
{
    var seen = 0L;
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < 200_000; i++)
    {
        store.Scan(StoreSpace.Catalog, 0, prefixes[random.Next(Prefixes)], (_, value) =>
        {
            seen += value.Length;
            return true;
        });
    }
    Console.WriteLine($"round {round}: 200,000 scans of 8 keys in {clock.Elapsed.TotalMilliseconds:F0} ms ({clock.Elapsed.TotalMicroseconds / 200_000:F2} µs a scan), {seen:N0} bytes");
}

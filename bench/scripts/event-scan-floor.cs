#:project ../../src/Tessera.Storage.RocksDb/Tessera.Storage.RocksDb.csproj
#:property PublishAot=false

// How fast the row store can be read at all: every stored event of a workspace scanned on two threads (one shard
// after another per thread), once without looking at the values, once pulling three fields out of each with
// Utf8JsonReader, and the timeline keys alone. This is the floor under any batch engine that reads events from
// their rows (BENCHMARKS.md, "Segmentation against peers"): compare it with DuckDB's whole query in the same hour.
//   dotnet run -c Release --project src/Tessera.Cli -- bench --only batch --quick --keep --data /tmp/bws
//   dotnet run -c Release bench/scripts/event-scan-floor.cs -- /tmp/bws/bench-batch/workspace/store
using System.Diagnostics;
using System.Text.Json;
using Tessera.Storage;
using Tessera.Storage.RocksDb;

using var store = RocksDbStore.Open(args[0]);
for (var round = 0; round < 3; round++)
{
    foreach (var (tag, parse, what) in new[] { ((byte)'e', false, "event rows, values untouched"), ((byte)'e', true, "event rows, 3 fields read"), ((byte)'t', false, "timeline keys") })
    {
        var watch = Stopwatch.StartNew();
        long entries = 0, bytes = 0, read = 0;
        Parallel.For(0, store.ShardCount, new ParallelOptions { MaxDegreeOfParallelism = 2 }, shard =>
        {
            long n = 0, b = 0, r = 0;
            store.Scan(StoreSpace.Facts, shard, [tag], (key, value) =>
            {
                n++;
                b += key.Length + value.Length;
                if (parse)
                {
                    var reader = new Utf8JsonReader(value);
                    while (reader.Read())
                    {
                        if (reader.TokenType == JsonTokenType.PropertyName
                            && (reader.ValueTextEquals("eventType"u8) || reader.ValueTextEquals("amount"u8) || reader.ValueTextEquals("timestamp"u8)))
                        {
                            reader.Read();
                            r++;
                        }
                    }
                }
                return true;
            });
            Interlocked.Add(ref entries, n);
            Interlocked.Add(ref bytes, b);
            Interlocked.Add(ref read, r);
        });
        Console.WriteLine($"round {round + 1}, {what}: {entries:N0} entries, {bytes / 1e6:N1} MB, {watch.Elapsed.TotalSeconds:0.000} s{(parse ? $" ({read:N0} fields read)" : "")}");
    }
}

#:project ../../src/Tessera.Ingestion/Tessera.Ingestion.csproj
#:property PublishAot=false

// What one Parquet row group costs in memory while Tessera's reader holds it (ParquetSourceReader deserializes a row group
// whole, a dictionary a row): the reason for limits.maxParquetRowGroupBytes (BENCHMARKS.md, "A Parquet row group's memory").
// Writes 1,000,000 web orders (the generator's columns) as one row group and as ten, then reads each in a process of its own
// and prints the peak working set beside the group's uncompressed size from the footer.
//   dotnet run -c Release bench/scripts/parquet-row-group.cs
//   dotnet run -c Release bench/scripts/parquet-row-group.cs -- read FILE       # one file, in this process
using System.Diagnostics;
using Parquet;
using Parquet.Schema;
using Tessera.Ingestion.Sources;

if (args is ["read", var file])
{
    using var reader = new ParquetSourceReader(File.OpenRead(file), long.MaxValue);
    long rows = 0;
    foreach (var record in reader.Read())
    {
        rows++;
    }
    await using var footer = await ParquetReader.CreateAsync(File.OpenRead(file));
    var largest = footer.Metadata!.RowGroups.Max(g => g.TotalByteSize);
    Console.WriteLine($"{Path.GetFileName(file)}: {rows:N0} rows in {footer.RowGroupCount} row groups, the largest {largest / 1e6:F0} MB uncompressed; "
        + $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
    return;
}

var directory = Directory.CreateTempSubdirectory("parquet-row-group-").FullName;
try
{
    foreach (var groups in new[] { 10, 1 })
    {
        var path = Path.Combine(directory, $"orders-{groups}.parquet");
        await WriteAsync(path, 1_000_000, groups);
        var start = new ProcessStartInfo("dotnet", ["run", "-c", "Release", "--no-build", Path.Combine(AppContext.GetData("EntryPointFileDirectoryPath") as string ?? ".", "parquet-row-group.cs"), "--", "read", path]);
        using var child = Process.Start(start)!;
        await child.WaitForExitAsync();
    }
}
finally
{
    Directory.Delete(directory, recursive: true);
}

static async Task WriteAsync(string path, int rows, int groups)
{
    var id = new DataField<string>("order_id");
    var time = new DataField<DateTime>("ordered_at");
    var crm = new DataField<string>("crm_id", true);
    var email = new DataField<string>("email", true);
    var ecid = new DataField<string>("ecid", true);
    var channel = new DataField<string>("channel");
    var items = new DataField<int>("items");
    var total = new DataField<double>("total");
    var currency = new DataField<string>("currency");
    await using var file = File.Create(path);
    await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, time, crm, email, ecid, channel, items, total, currency), file);
    var per = rows / groups;
    var epoch = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    for (var g = 0; g < groups; g++)
    {
        var range = Enumerable.Range(g * per, per).ToArray();
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(id, range.Select(i => $"WO{i:D10}").ToArray(), null);
        await group.WriteAsync(time, new ReadOnlyMemory<DateTime>([.. range.Select(i => epoch.AddSeconds(i))]), null);
        await group.WriteAsync(crm, range.Select(i => (string?)$"{i % 200_000:D9}").ToArray(), null);
        await group.WriteAsync(email, range.Select(i => (string?)$"user{i % 200_000}@example.com").ToArray(), null);
        await group.WriteAsync(ecid, range.Select(i => (string?)$"{(long)(i % 400_000) * 7919:D38}").ToArray(), null);
        await group.WriteAsync(channel, range.Select(i => i % 2 == 0 ? "web" : "app").ToArray(), null);
        await group.WriteAsync(items, new ReadOnlyMemory<int>([.. range.Select(i => i % 5 + 1)]), null);
        await group.WriteAsync(total, new ReadOnlyMemory<double>([.. range.Select(i => i % 10_000 / 100.0)]), null);
        await group.WriteAsync(currency, range.Select(_ => "USD").ToArray(), null);
        group.CompleteValidate();
    }
}

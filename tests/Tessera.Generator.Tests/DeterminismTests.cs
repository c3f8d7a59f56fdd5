namespace Tessera.Generator.Tests;

public sealed class DeterminismTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Same_options_write_the_same_bytes_and_another_seed_does_not()
    {
        using var one = new TempDirectory();
        using var two = new TempDirectory();
        using var other = new TempDirectory();
        var options = new RetailOptions { Profiles = 1_500, Seed = 7, Now = Now };

        var first = new RetailGenerator(options).WriteAll(one.Path);
        new RetailGenerator(options).WriteAll(two.Path);
        new RetailGenerator(options with { Seed = 8 }).WriteAll(other.Path);

        var files = Directory.GetFiles(one.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(one.Path, f)).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("crm_customers.csv", files);
        Assert.Contains("web_orders.parquet", files);
        Assert.Contains(Path.Combine("schemas", "web-event.json"), files);
        Assert.Equal(files, Directory.GetFiles(two.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(two.Path, f)).Order(StringComparer.Ordinal));
        foreach (var file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(one.Path, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(two.Path, file))), file);
        }
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(one.Path, "crm_customers.csv")), File.ReadAllBytes(Path.Combine(other.Path, "crm_customers.csv")));

        // The request bodies are the JSON Lines file's events, in the same order.
        var streamed = new RetailGenerator(options).OnlineEventBatches(137).ToList();
        var lines = File.ReadAllLines(Path.Combine(one.Path, RetailGenerator.WebEventsFile));
        Assert.Equal(first.Online.Events, lines.Length);
        Assert.Equal("[" + string.Join(',', lines.Take(137)) + "]", streamed[0]);
        Assert.Equal((int)Math.Ceiling(lines.Length / 137.0), streamed.Count);
        Assert.Equal(first.ToJson(), GeneratedData.Load(one.Path).ToJson());
    }

    [Fact]
    public void Nothing_is_later_than_now_and_some_of_it_is_in_the_last_day()
    {
        using var directory = new TempDirectory();
        var data = new RetailGenerator(new RetailOptions { Profiles = 2_000, Now = Now }).WriteAll(directory.Path);

        var times = File.ReadLines(Path.Combine(directory.Path, RetailGenerator.WebEventsFile))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("timestamp", out var t) && t.GetString()!.EndsWith('Z'))
            .Select(e => e.GetProperty("timestamp").GetDateTimeOffset()).ToList();
        Assert.All(times, t => Assert.True(t <= Now));
        Assert.Contains(times, t => t > Now.AddDays(-1));
        Assert.True(data.Online.DevicesLoggingIn > 0 && data.Online.SharedDevices > 0 && data.Online.Late > 0 && data.Online.Duplicates > 0);
        var updated = File.ReadLines(Path.Combine(directory.Path, "crm_customers.csv")).Skip(1).Select(l => l.Split(',')[^1]).ToList();
        Assert.Contains(updated, u => string.CompareOrdinal(u, Now.AddDays(-1).ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture)) > 0);
    }
}

internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tessera-gen-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

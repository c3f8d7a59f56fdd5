using Tessera.Abstractions;
using Tessera.Storage;

namespace Tessera.Ingestion.Tests;

/// <summary>Observers see every stored fact once, after it is durable and linked, on every ingestion path.</summary>
public sealed class CommittedFactsObserverTests
{
    /// <summary>Keeps the record and event keys of every committed set (hex), and the sandbox it came with.</summary>
    private sealed class Recorder(TestWorkspace test) : ICommittedFactsObserver
    {
        public List<string> Keys { get; } = [];

        public List<string> Sandboxes { get; } = [];

        public void OnCommitted(string sandbox, WriteSet committed)
        {
            Sandboxes.Add(sandbox);
            for (var i = 0; i < committed.Count; i++)
            {
                var op = committed[i];
                if (op is { Space: StoreSpace.Facts, IsDelete: false } && FactKeys.TryParse(op.Key.Span, out var parsed) && parsed.Tag != FactKeys.TimelineTag)
                {
                    // Durable before the observer hears of it, and its identities are in the graph.
                    Assert.NotNull(test.Workspace.Store.Get(StoreSpace.Facts, op.Shard, op.Key.Span));
                    Assert.NotNull(test.Workspace.Identity.Find(sandbox, new Identity.Graph.IdentityKey(parsed.Identity.Namespace, parsed.Identity.Value)));
                    Keys.Add((char)parsed.Tag + Convert.ToHexString(op.Key.Span));
                }
            }
        }
    }

    private sealed class Failing : ICommittedFactsObserver
    {
        public void OnCommitted(string sandbox, WriteSet committed) => throw new InvalidOperationException("observer bug");
    }

    private static List<string> Stored(TestWorkspace test) => [.. RecordVersionTests.FactKeysInStore(test).Where(k => k[0] != 't')];

    private static string CrmRows(int count) => "crmId,age\n" + string.Join('\n', Enumerable.Range(1, count).Select(i => $"{i % 40 + 1:D5},{i % 100}"));

    [Fact]
    public async Task A_streaming_request_is_observed_once_per_stored_fact()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        await test.DefineAsync(Schemas.Orders);
        var recorder = new Recorder(test);
        test.Ingestion.AddObserver(recorder);

        await test.StreamAsync("crm", """[{"crmId":"00001","age":1},{"crmId":"00001","age":2},{"crmId":"00002","age":-5}]""");
        await test.StreamAsync("orders", """[{"_id":"a","timestamp":"2024-05-01T10:00:00Z","customerId":"00001"},{"_id":"a","timestamp":"2024-05-01T10:00:00Z","customerId":"00001"}]""");
        await test.StreamAsync("orders", """[{"_id":"a","timestamp":"2024-05-01T10:00:00Z","customerId":"00001"}]"""); // a duplicate: nothing new

        Assert.Equal(3, recorder.Keys.Count);
        Assert.Equal(Stored(test), recorder.Keys.Order(StringComparer.Ordinal));
        Assert.All(recorder.Sandboxes, s => Assert.Equal("prod", s));
    }

    [Theory]
    [InlineData(null, false)]                          // small: committed set by set after validation
    [InlineData("""{"bulkLoadThreshold": 1}""", false)] // bulk: sorted files handed to the store
    [InlineData(null, true)]                           // too large to keep: written in chunks on a second read
    public async Task A_file_batch_is_observed_once_per_stored_fact(string? config, bool readTwice)
    {
        await using var test = await TestWorkspace.CreateAsync(config);
        await test.DefineAsync(Schemas.Crm);
        var ingestion = readTwice
            ? new IngestionService(test.Catalog, test.Workspace.Identity, test.Ingestion.Limits, Path.Combine(test.Directory, "uploads")) { RetainBytes = 0 }
            : test.Ingestion;
        var recorder = new Recorder(test);
        ingestion.AddObserver(recorder);

        var batch = await ingestion.IngestFileAsync("prod", "crm", test.WriteFile("crm.csv", CrmRows(500)));

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal(500, recorder.Keys.Count);
        Assert.Equal(Stored(test), recorder.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_event_file_batch_is_observed_once_per_stored_event()
    {
        await using var test = await TestWorkspace.CreateAsync("""{"bulkLoadThreshold": 1}""");
        await test.DefineAsync(Schemas.Orders);
        var recorder = new Recorder(test);
        test.Ingestion.AddObserver(recorder);
        var lines = string.Join('\n', Enumerable.Range(1, 60).Select(i => $$"""{"_id":"ev{{i % 50}}","timestamp":"2024-05-01T10:00:00Z","customerId":"C{{i % 50 % 7}}"}"""));

        var batch = await test.IngestAsync("orders", test.WriteFile("orders.jsonl", lines));

        Assert.Equal(10, batch.Counts.Duplicates);
        Assert.Equal(50, recorder.Keys.Count);
        Assert.Equal(Stored(test), recorder.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_replay_is_observed_once_per_stored_fact()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", CrmRows(40) + "\n00041,151\n00042,152"));
        Assert.Equal(2, batch.Counts.Failed);
        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"max\":150", "\"max\":200", StringComparison.Ordinal)));
        var before = Stored(test);
        var recorder = new Recorder(test);
        test.Ingestion.AddObserver(recorder);

        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);

        Assert.Equal(2, replay.Counts.Accepted);
        Assert.Equal(2, recorder.Keys.Count);
        Assert.Equal(Stored(test).Except(before), recorder.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_observer_failure_is_reported_and_neither_fails_the_batch_nor_stops_other_observers()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var failures = new List<Exception>();
        test.Ingestion.ObserverFailed = failures.Add;
        var recorder = new Recorder(test);
        test.Ingestion.AddObserver(new Failing());
        test.Ingestion.AddObserver(recorder);

        var result = await test.StreamAsync("crm", """[{"crmId":"00001","age":1}]""");
        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", CrmRows(10)));

        Assert.Equal(RecordOutcome.Accepted, Assert.Single(result.Records).Status);
        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.Equal("observer bug", f.Message));
        Assert.Equal(11, recorder.Keys.Count);
    }
}

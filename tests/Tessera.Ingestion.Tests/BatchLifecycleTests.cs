using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;
using Tessera.Storage;

namespace Tessera.Ingestion.Tests;

public sealed class BatchLifecycleTests
{
    private static string EventLines(int count, int firstId = 1) => string.Join('\n', Enumerable.Range(firstId, count).Select(i =>
        $$"""{"_id":"ev{{i}}","timestamp":"2024-05-01T10:00:00Z","customerId":"C{{i % 7}}","amount":{{i}}}"""));

    [Fact]
    public async Task The_same_event_file_ingested_twice_stores_each_event_once()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var path = test.WriteFile("orders.jsonl", EventLines(50));

        var first = await test.IngestAsync("orders", path);
        test.Time.Advance(TimeSpan.FromMinutes(5));
        var second = await test.IngestAsync("orders", path);

        Assert.Equal((50L, 50L, 0L), (first.Counts.Input, first.Counts.Accepted, first.Counts.Duplicates));
        Assert.Equal((50L, 50L, 50L), (second.Counts.Input, second.Counts.Accepted, second.Counts.Duplicates));
        var facts = test.Facts();
        Assert.Equal(50, facts.Count);
        Assert.All(facts, f => Assert.Equal(first.Id, f.Batch)); // the first write is kept, not overwritten
    }

    [Fact]
    public async Task An_overlapping_file_stores_only_the_new_events()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        await test.IngestAsync("orders", test.WriteFile("a.jsonl", EventLines(50)));

        var second = await test.IngestAsync("orders", test.WriteFile("b.jsonl", EventLines(50, firstId: 26)));

        Assert.Equal((50L, 25L), (second.Counts.Accepted, second.Counts.Duplicates));
        Assert.Equal(75, test.Facts().Count);
    }

    [Fact]
    public async Task An_event_repeated_inside_one_file_is_stored_once()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var path = test.WriteFile("orders.jsonl", EventLines(20) + "\n" + EventLines(3));

        var batch = await test.IngestAsync("orders", path);

        Assert.Equal((23L, 23L, 3L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Duplicates));
        Assert.Equal(20, test.Facts().Count);
    }

    [Fact]
    public async Task A_profile_file_ingested_twice_leaves_two_versions_per_identity_the_second_batch_newest()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var path = test.WriteFile("crm.csv", "crmId,age\n00001,10\n00002,20\n");

        var first = await test.IngestAsync("crm", path);
        var second = await test.IngestAsync("crm", path);

        Assert.Equal(4, test.Facts().Count);
        Assert.Equal(2, test.Facts().Count(f => f.Batch == first.Id));
        Assert.All(test.Facts(), f => Assert.Equal(f.KeyBatch, f.Batch));
        var newest = test.NewestFacts();
        Assert.Equal(2, newest.Count);
        Assert.All(newest, f => Assert.Equal(second.Id, f.Batch)); // same time (one clock tick): the later batch's order wins
    }

    [Fact]
    public async Task The_same_streaming_request_sent_twice_stores_each_event_once()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var request = "[" + EventLines(10).Replace('\n', ',') + "]";

        var first = await test.StreamAsync("orders", request);
        var second = await test.StreamAsync("orders", request);

        Assert.All(first.Records, r => Assert.Equal(RecordOutcome.Accepted, r.Status));
        Assert.All(second.Records, r => Assert.Equal(RecordOutcome.Duplicate, r.Status));
        Assert.Equal((10L, 10L, 10L), (second.Batch.Counts.Input, second.Batch.Counts.Accepted, second.Batch.Counts.Duplicates));
        Assert.Equal(10, test.Facts().Count);
        Assert.Equal(BatchKind.Stream, second.Batch.Kind);
        Assert.Equal(second.Batch, test.Catalog.RequireBatch("prod", second.Batch.Id));
    }

    [Fact]
    public async Task A_streaming_request_reports_each_record()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);

        var result = await test.StreamAsync("orders", """
            [{"_id":"a","timestamp":"2024-05-01T10:00:00Z","customerId":"C1"},
             {"_id":"a","timestamp":"2024-05-01T10:00:00Z","customerId":"C1"},
             {"_id":"b","timestamp":"2024-05-01T10:00:00Z","customerId":"C1","amount":-1}]
            """);

        Assert.Equal([RecordOutcome.Accepted, RecordOutcome.Duplicate, RecordOutcome.Rejected], result.Records.Select(r => r.Status));
        Assert.Equal([0, 1, 2], result.Records.Select(r => r.Index));
        Assert.Equal("amount", result.Records[2].Errors![0].Path);
        Assert.Equal(3, Assert.Single(test.Quarantine(result.Batch.Id)).Row);
    }

    [Fact]
    public async Task Facts_of_one_sandbox_are_invisible_in_another()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders, sandbox: "prod");
        await test.DefineAsync(Schemas.Orders, sandbox: "dev");
        var path = test.WriteFile("orders.jsonl", EventLines(10));

        var prod = await test.IngestAsync("orders", path, sandbox: "prod");
        var dev = await test.IngestAsync("orders", path, sandbox: "dev");

        // The same events in two sandboxes are not duplicates of each other.
        Assert.Equal(0, dev.Counts.Duplicates);
        Assert.Equal(10, test.Facts("prod", "orders").Count);
        Assert.Equal(10, test.Facts("dev", "orders").Count);
        Assert.All(test.Facts("prod", "orders"), f => Assert.Equal(prod.Id, f.Batch));
        Assert.All(test.FactsOf(FactKeys.EventTag, "dev", "CRMID", "C1"), f => Assert.Equal("dev", f.Sandbox));
        Assert.Null(test.Catalog.GetBatch("dev", prod.Id));
        Assert.Empty(test.Ingestion.Quarantine("dev", prod.Id));
    }

    [Fact]
    public async Task A_sandbox_without_the_dataset_or_namespace_refuses_the_data()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.Catalog.EnsureSandboxAsync("dev");
        await test.Catalog.CreateNamespaceAsync("prod", new IdentityNamespace { Code = "Card", Name = "Card", Type = IdentityType.CrossDevice });
        await test.DefineAsync(Schemas.Web, sandbox: "prod");
        await test.DefineAsync(Schemas.Web, sandbox: "dev");
        const string request = """[{"_id":"e1","timestamp":"2024-05-01T10:00:00Z","identityMap":{"Card":[{"id":"123"}]}}]""";

        Assert.Equal(RecordOutcome.Accepted, (await test.StreamAsync("web", request, "prod")).Records[0].Status);
        var dev = await test.StreamAsync("web", request, "dev");

        Assert.Equal(ErrorCodes.UnknownNamespace, dev.Records[0].Errors![0].Code);
        Assert.Empty(test.Facts("dev", "web"));
        Assert.Equal("DATASET_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => test.StreamAsync("crm", "[]", "dev"))).Code);
    }

    [Fact]
    public async Task Recovery_finishes_a_batch_left_writing()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var rows = string.Join('\n', ["crmId,age", .. Enumerable.Range(1, 40).Select(i => $"{i:D5},{i}"), "00041,-1"]);
        var path = test.WriteFile("crm.csv", rows);
        var done = await test.IngestAsync("crm", path);
        var keys = test.Facts().Select(f => Convert.ToHexString(f.Key)).Order(StringComparer.Ordinal).ToList();

        // Simulate a crash in the middle of writing: the batch record says "writing" and only part
        // of its records reached the store.
        await test.Catalog.SaveBatchAsync(done with { Status = BatchStatus.Writing, CompletedAt = null, Counts = new BatchCounts { Input = 41, Failed = 1 } });
        using (var deletes = new WriteSet())
        {
            foreach (var fact in test.Facts().Where(f => string.CompareOrdinal(f.Identity, "00020") > 0))
            {
                deletes.Delete(StoreSpace.Facts, fact.Shard, fact.Key);
            }
            await test.Workspace.Store.CommitAsync(deletes);
        }
        Assert.Equal(20, test.Facts().Count);
        await test.ReopenAsync();

        var recovered = Assert.Single(await test.Ingestion.RecoverAsync());

        Assert.Equal(done.Id, recovered.Id);
        Assert.Equal(BatchStatus.Success, recovered.Status);
        Assert.Equal((41L, 40L, 1L), (recovered.Counts.Input, recovered.Counts.Accepted, recovered.Counts.Failed));
        Assert.Equal(BatchStatus.Success, test.Catalog.RequireBatch("prod", done.Id).Status);
        Assert.Equal(40, test.Facts().Count);
        Assert.All(test.Facts(), f => Assert.Equal(done.Id, f.Batch));
        Assert.Equal(keys, test.Facts().Select(f => Convert.ToHexString(f.Key)).Order(StringComparer.Ordinal)); // the same versions, not new ones
        Assert.Single(test.Quarantine(done.Id));
        Assert.Empty(await test.Ingestion.RecoverAsync()); // nothing left to do
    }

    [Fact]
    public async Task A_batch_whose_recovery_fails_unexpectedly_is_marked_failed_and_the_others_still_recover()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var good = await test.IngestAsync("orders", test.WriteFile("orders.jsonl", EventLines(10)));
        var bad = await test.IngestAsync("orders", test.WriteFile("more.jsonl", EventLines(5)));
        await test.Catalog.SaveBatchAsync(good with { Status = BatchStatus.Loading, CompletedAt = null });
        // A mapping this version cannot read (not JSON at all): reading it throws, and not by a name a reader gives.
        await test.Catalog.SaveBatchAsync(bad with { Status = BatchStatus.Writing, CompletedAt = null, Mapping = "{not json" });
        await test.ReopenAsync();

        var recovered = (await test.Ingestion.RecoverAsync()).ToDictionary(b => b.Id);

        Assert.Equal(BatchStatus.Success, recovered[good.Id].Status);
        var failed = recovered[bad.Id];
        Assert.Equal(BatchStatus.Failed, failed.Status);
        Assert.StartsWith("its recovery after an interruption failed (JsonException: ", failed.FailureReason, StringComparison.Ordinal);
        Assert.EndsWith("some of its records may be stored; ingest the file again to complete it", failed.FailureReason, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Failed, test.Catalog.RequireBatch("prod", bad.Id).Status);
        Assert.Empty(await test.Ingestion.RecoverAsync());
    }

    [Fact]
    public async Task A_live_batch_that_fails_unexpectedly_while_writing_is_marked_failed_at_once()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var path = test.WriteFile("orders.jsonl", EventLines(10));
        // The real store, whose bulk load fails as a full disk makes it: an error no reader or rule names.
        var store = new FullDisk(test.Workspace.Store);
        var ingestion = new IngestionService(new Catalog.TesseraCatalog(store, test.Time), test.Workspace.Identity, test.Ingestion.Limits,
            Path.Combine(test.Directory, "uploads"));

        var error = await Assert.ThrowsAsync<IOException>(() => ingestion.IngestFileAsync("prod", "orders", path));

        Assert.Same(FullDisk.Error, error);
        var batch = Assert.Single(test.Catalog.ListBatches("prod"));
        Assert.Equal(BatchStatus.Failed, batch.Status);
        Assert.Equal("it failed (IOException: No space left on device); some of its records may be stored; ingest the file again to complete it",
            batch.FailureReason);
        Assert.Equal((10L, 0L), (batch.Counts.Input, batch.Counts.Failed)); // the counts of validation, kept
        Assert.Empty(test.Facts());
        Assert.Empty(await test.Ingestion.RecoverAsync()); // not left loading or writing for the next start
    }

    /// <summary>A store whose bulk loads fail with <see cref="Error"/>; everything else reaches the real store.</summary>
    private sealed class FullDisk(IStore inner) : IStore
    {
        public static readonly IOException Error = new("No space left on device");

        public int ShardCount => inner.ShardCount;

        public Task CommitAsync(WriteSet writes, CancellationToken cancellationToken = default) => inner.CommitAsync(writes, cancellationToken);

        public Task BulkLoadAsync(IReadOnlyList<WriteSet> sets, CancellationToken cancellationToken = default) => Task.FromException(Error);

        public byte[]? Get(StoreSpace space, int shard, ReadOnlySpan<byte> key) => inner.Get(space, shard, key);

        public bool Exists(StoreSpace space, int shard, ReadOnlySpan<byte> key) => inner.Exists(space, shard, key);

        public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(StoreSpace space, int shard, byte[] prefix) => inner.Scan(space, shard, prefix);

        public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, EntryVisitor visit) => inner.Scan(space, shard, prefix, visit);

        public void Scan(StoreSpace space, int shard, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> from, EntryVisitor visit) => inner.Scan(space, shard, prefix, from, visit);

        public IEnumerable<KeyValuePair<byte[], byte[]>> ScanReverse(StoreSpace space, int shard, byte[] prefix, byte[]? before = null) =>
            inner.ScanReverse(space, shard, prefix, before);

        public void Dispose()
        {
            // The workspace owns the store.
        }
    }

    [Fact]
    public async Task Recovery_of_an_event_batch_stores_each_event_once()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var path = test.WriteFile("orders.jsonl", EventLines(30));
        var done = await test.IngestAsync("orders", path);
        await test.Catalog.SaveBatchAsync(done with { Status = BatchStatus.Writing, CompletedAt = null });
        using (var deletes = new WriteSet())
        {
            foreach (var fact in test.Facts().Where(f => f.Identity == "C3"))
            {
                deletes.Delete(StoreSpace.Facts, fact.Shard, System.Text.Encoding.UTF8.GetBytes($"e\0prod\0CRMID\0C3\0orders\0{fact.EventId}"));
            }
            await test.Workspace.Store.CommitAsync(deletes);
        }

        var recovered = Assert.Single(await test.Ingestion.RecoverAsync());

        Assert.Equal(BatchStatus.Success, recovered.Status);
        // The events it had stored before the crash are its own, not duplicates.
        Assert.Equal((30L, 30L, 0L), (recovered.Counts.Input, recovered.Counts.Accepted, recovered.Counts.Duplicates));
        Assert.Equal(30, test.Facts().Count);
        Assert.Equal(30, test.Facts().Select(f => f.EventId).Distinct().Count());
    }

    [Fact]
    public async Task Recovery_finishes_a_batch_left_loading()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var path = test.WriteFile("crm.csv", "crmId,age\n00001,1\n00002,2\n");
        var loading = new BatchInfo
        {
            Id = test.Catalog.NewBatchId(),
            Sandbox = "prod",
            Dataset = "crm",
            Kind = BatchKind.File,
            Format = "csv",
            Status = BatchStatus.Loading,
            CreatedAt = test.Time.GetUtcNow(),
            Source = path,
            SchemaVersion = 1,
            Mapping = new MappingSpec().ToJson(),
        };
        await test.Catalog.SaveBatchAsync(loading);

        var recovered = Assert.Single(await test.Ingestion.RecoverAsync());

        Assert.Equal(BatchStatus.Success, recovered.Status);
        Assert.Equal(2, test.Facts().Count);
    }

    [Fact]
    public async Task A_batch_whose_source_is_gone_is_marked_failed_saying_so()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var path = test.WriteFile("crm.csv", "crmId\n00001\n");
        var done = await test.IngestAsync("crm", path);
        await test.Catalog.SaveBatchAsync(done with { Status = BatchStatus.Writing, CompletedAt = null });
        File.Delete(path);

        var recovered = Assert.Single(await test.Ingestion.RecoverAsync());

        Assert.Equal(BatchStatus.Failed, recovered.Status);
        Assert.Contains("is gone", recovered.FailureReason, StringComparison.Ordinal);
        Assert.Contains("ingest the file again", recovered.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_too_large_to_keep_in_memory_is_read_twice_with_the_same_result()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        // Enough rows for more than one 8 MB chunk of stored records.
        const int rows = 45_000;
        var text = new System.Text.StringBuilder("customerId,timestamp,amount,quantity\n");
        for (var i = 0; i < rows; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i % 997 + 1:D5},2024-05-01T10:{i % 60:D2}:00Z,{(i == 77 ? "-1" : i.ToString(System.Globalization.CultureInfo.InvariantCulture))},{i % 9}\n");
        }
        var path = test.WriteFile("orders.csv", text.ToString());
        var streaming = new IngestionService(test.Catalog, test.Workspace.Identity, test.Ingestion.Limits, Path.Combine(test.Directory, "uploads")) { RetainBytes = 0 };

        var batch = await streaming.IngestFileAsync("prod", "orders", path);

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal((45_000L, 44_999L, 1L, 0L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed, batch.Counts.Duplicates));
        Assert.Equal(44_999, test.Facts().Count);
        Assert.Equal(77 + 1, Assert.Single(test.Quarantine(batch.Id)).Row);

        // The same file through the in-memory path finds every event already stored.
        var again = await test.IngestAsync("orders", path);
        Assert.Equal(44_999, again.Counts.Duplicates);
        Assert.Equal(44_999, test.Facts().Count);
    }

    [Fact]
    public async Task Batches_are_listed_with_their_counts_and_mapping()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var mapping = new MappingSpec { Fields = new Dictionary<string, string?> { ["id"] = "crmId" } };

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", "id\n00001\n"), mapping);

        var stored = Assert.Single(test.Catalog.ListBatches("prod"));
        Assert.Equal(batch, stored);
        Assert.Equal(BatchKind.File, stored.Kind);
        Assert.Equal(test.Time.GetUtcNow(), stored.CreatedAt);
        Assert.Equal(Path.Combine(test.Directory, "crm.csv"), stored.Source);
        Assert.Equal("crmId", JsonDocument.Parse(stored.Mapping!).RootElement.GetProperty("fields").GetProperty("id").GetString());
    }
}

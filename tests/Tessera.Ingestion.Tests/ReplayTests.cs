using Tessera.Abstractions;
using Tessera.Ingestion.Mapping;

namespace Tessera.Ingestion.Tests;

public sealed class ReplayTests
{
    private static string CrmRows(params string[] bad) =>
        string.Join('\n', ["crmId,tier,age", .. Enumerable.Range(1, 40).Select(i => $"{i:D5},gold,{i}"), .. bad]);

    [Fact]
    public async Task Quarantined_records_are_stored_by_a_replay_after_an_additive_schema_fix()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", CrmRows("00041,platinum,41", "00042,diamond,42")));
        Assert.Equal(2, batch.Counts.Failed);

        // Widening the enum is additive; platinum records now pass, diamond still does not.
        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"gold\"]", "\"gold\",\"platinum\"]", StringComparison.Ordinal)));
        test.Time.Advance(TimeSpan.FromMinutes(1));
        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);

        Assert.Equal(BatchKind.Replay, replay.Kind);
        Assert.Equal(batch.Id, replay.ReplayOf);
        Assert.Equal(2, replay.SchemaVersion);
        Assert.Equal((2L, 1L, 1L), (replay.Counts.Input, replay.Counts.Accepted, replay.Counts.Failed));
        var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00041"));
        Assert.Equal("platinum", fact.Text("tier"));
        Assert.Equal(41, fact.Record.GetProperty("age").GetInt32());
        Assert.Equal(replay.Id, fact.Batch);
        Assert.Empty(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00042"));
        var original = test.Quarantine(batch.Id);
        Assert.Equal(replay.Id, original.Single(e => e.Row == 41).ResolvedBy);
        Assert.Null(original.Single(e => e.Row == 42).ResolvedBy);
        var again = Assert.Single(test.Quarantine(replay.Id));
        Assert.Equal((42L, "tier", ErrorCodes.EnumViolation), (again.Row, again.Errors[0].Path, again.Errors[0].Code));
        Assert.Equal(replay, test.Catalog.RequireBatch("prod", replay.Id));

        // A second replay only retries what is still unresolved.
        var second = await test.Ingestion.ReplayAsync("prod", batch.Id);
        Assert.Equal((1L, 0L, 1L), (second.Counts.Input, second.Counts.Accepted, second.Counts.Failed));
    }

    public sealed class TypedRow
    {
        public string? CrmId { get; set; }
        public string? Tier { get; set; }
        public DateTime LastSeen { get; set; }
        public double Score { get; set; }
        public long Visits { get; set; }
        public bool Vip { get; set; }
        public TypedAddress? Address { get; set; }
        public List<string>? Tags { get; set; }
    }

    public sealed class TypedAddress
    {
        [System.Text.Json.Serialization.JsonPropertyName("city")]
        public string? City { get; set; }
        [System.Text.Json.Serialization.JsonPropertyName("street")]
        public string? Street { get; set; }
    }

    [Fact]
    public async Task A_replayed_parquet_row_keeps_its_typed_and_nested_values()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var rows = Enumerable.Range(1, 40).Select(i => new TypedRow
        {
            CrmId = $"{i:D5}",
            Tier = i == 40 ? "platinum" : "gold",
            LastSeen = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc).AddMilliseconds(i * 1_001 + 7),
            Score = i / 3.0,
            Visits = 10_000_000_000L + i,
            Vip = i % 2 == 0,
            Address = new TypedAddress { City = $"City{i}", Street = $"{i} Main St" },
            Tags = ["a", $"b{i % 10}"],
        }).ToList();
        var path = Path.Combine(test.Directory, "crm.parquet");
        await using (var file = File.Create(path))
        {
            await Parquet.Serialization.ParquetSerializer.SerializeAsync(rows, file);
        }
        var mapping = new MappingSpec
        {
            Fields = new Dictionary<string, string?>
            {
                ["CrmId"] = "crmId",
                ["Tier"] = "tier",
                ["LastSeen"] = "lastSeen",
                ["Score"] = "score",
                ["Visits"] = "visits",
                ["Vip"] = "vip",
                ["Address"] = "address",
                ["Tags"] = "tags",
            },
        };
        var batch = await test.IngestAsync("crm", path, mapping);
        Assert.Equal(1, batch.Counts.Failed);
        var direct = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00039")).Record;

        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"gold\"]", "\"gold\",\"platinum\"]", StringComparison.Ordinal)));
        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);

        Assert.Equal((1L, 1L, 0L), (replay.Counts.Input, replay.Counts.Accepted, replay.Counts.Failed));
        var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00040"));
        Assert.Equal("platinum", fact.Text("tier"));
        Assert.Equal("2024-05-01T10:00:40.047Z", fact.Text("lastSeen")); // its milliseconds kept
        Assert.Equal(40 / 3.0, fact.Record.GetProperty("score").GetDouble());
        Assert.Equal(10_000_000_040L, fact.Record.GetProperty("visits").GetInt64());
        Assert.True(fact.Record.GetProperty("vip").GetBoolean());
        Assert.Equal(("City40", "40 Main St"), (fact.Text("address.city"), fact.Text("address.street")));
        Assert.Equal(["a", "b0"], fact.Record.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        // The replayed record has the fields of one ingested directly (row 39, stored from the file).
        Assert.Equal(direct.EnumerateObject().Select(p => p.Name), fact.Record.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Unknown_fields_pass_a_replay_once_the_schema_declares_them()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var lines = string.Join('\n', [.. Enumerable.Range(1, 30).Select(i => $$"""{"crmId":"{{i}}"}"""), """{"crmId":"31","nickname":"Annie"}"""]);
        var batch = await test.IngestAsync("crm", test.WriteFile("crm.jsonl", lines));
        Assert.Equal(ErrorCodes.UnknownField, Assert.Single(test.Quarantine(batch.Id)).Errors[0].Code);

        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"vip\":", "\"nickname\":{\"type\":\"string\"},\"vip\":", StringComparison.Ordinal)));
        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);

        Assert.Equal(1, replay.Counts.Accepted);
        Assert.Equal("Annie", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "31")).Text("nickname"));
    }

    [Fact]
    public async Task Quarantined_rows_are_stored_by_a_replay_with_a_fixed_mapping()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        // The dates are M/d/yyyy but the mapping forgot to say so; only some rows fail (ISO dates pass).
        var rows = string.Join('\n', ["id,born", .. Enumerable.Range(1, 40).Select(i => $"{i:D5},1985-04-{i % 28 + 1:D2}"), "00041,4/1/1985", "00042,12/31/1999"]);
        var path = test.WriteFile("crm.csv", rows);
        var mapping = new MappingSpec { Fields = new Dictionary<string, string?> { ["id"] = "crmId", ["born"] = "birthDate" } };
        var batch = await test.IngestAsync("crm", path, mapping);
        Assert.Equal(2, batch.Counts.Failed);

        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id, mapping with { Formats = new Dictionary<string, string> { ["born"] = "M/d/yyyy" } });

        Assert.Equal((2L, 2L, 0L), (replay.Counts.Input, replay.Counts.Accepted, replay.Counts.Failed));
        Assert.Equal("1985-04-01", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00041")).Text("birthDate"));
        Assert.Equal("1999-12-31", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00042")).Text("birthDate"));
        Assert.Contains("M/d/yyyy", replay.Mapping, StringComparison.Ordinal);
        Assert.All(test.Quarantine(batch.Id), e => Assert.Equal(replay.Id, e.ResolvedBy));
        Assert.Empty(test.Quarantine(replay.Id));
    }

    [Fact]
    public async Task Replayed_csv_events_keep_the_event_id_the_original_row_would_have_had()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var rows = string.Join('\n', ["customerId,timestamp,amount", .. Enumerable.Range(1, 40).Select(i => $"{i:D5},2024-05-01T10:00:00Z,{i}"), "00041,2024-05-01T10:00:00Z,-5"]);
        var path = test.WriteFile("orders.csv", rows);
        var batch = await test.IngestAsync("orders", path);
        Assert.Equal(1, batch.Counts.Failed);

        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Orders.Replace("\"amount\":{\"type\":\"double\",\"min\":0}", "\"amount\":{\"type\":\"double\"}", StringComparison.Ordinal)));
        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);
        Assert.Equal(1, replay.Counts.Accepted);
        var replayed = Assert.Single(test.FactsOf(FactKeys.EventTag, "prod", "CRMID", "00041"));

        // Ingesting the (now valid) file again stores nothing twice: the replayed row has the same id.
        var again = await test.IngestAsync("orders", path);
        Assert.Equal((41L, 41L), (again.Counts.Accepted, again.Counts.Duplicates));
        Assert.Equal(replayed.EventId, Assert.Single(test.FactsOf(FactKeys.EventTag, "prod", "CRMID", "00041")).EventId);
        Assert.Equal(41, test.Facts().Count);
    }

    [Fact]
    public async Task A_malformed_json_line_stays_quarantined_through_a_replay()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var lines = string.Join('\n', [.. Enumerable.Range(1, 40).Select(i => $$"""{"crmId":"{{i}}"}"""), "{not json", """{"crmId":"41","tier":"platinum"}"""]);
        var batch = await test.IngestAsync("crm", test.WriteFile("crm.jsonl", lines));
        Assert.Equal(2, batch.Counts.Failed);
        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"gold\"]", "\"gold\",\"platinum\"]", StringComparison.Ordinal)));

        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);

        Assert.Equal((2L, 1L, 1L), (replay.Counts.Input, replay.Counts.Accepted, replay.Counts.Failed));
        var still = Assert.Single(test.Quarantine(replay.Id));
        Assert.Equal((41L, ErrorCodes.ParseError, "{not json"), (still.Row, still.Errors[0].Code, still.Raw));
    }

    [Fact]
    public async Task A_ragged_csv_row_is_never_stored_with_columns_missing_by_a_replay()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", CrmRows("00041,gold,41,surplus", "00042,gold")));
        Assert.Equal(2, batch.Counts.Failed);

        var replay = await test.Ingestion.ReplayAsync("prod", batch.Id);

        Assert.Equal((2L, 0L, 2L), (replay.Counts.Input, replay.Counts.Accepted, replay.Counts.Failed));
        Assert.Empty(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00041"));
        Assert.Empty(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00042"));
        Assert.All(test.Quarantine(replay.Id), e => Assert.Equal(ErrorCodes.ParseError, e.Errors[0].Code));
    }

    [Fact]
    public async Task A_streamed_batch_can_be_replayed_too()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var result = await test.StreamAsync("crm", """[{"crmId":"1"},{"crmId":"2","nickname":"x"}]""");

        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"vip\":", "\"nickname\":{\"type\":\"string\"},\"vip\":", StringComparison.Ordinal)));
        var replay = await test.Ingestion.ReplayAsync("prod", result.Batch.Id);

        Assert.Equal(1, replay.Counts.Accepted);
        Assert.Equal(2, test.Facts().Count);
    }

    [Fact]
    public async Task A_batch_that_failed_as_a_whole_is_not_replayed_piecemeal()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var path = test.WriteFile("crm.csv", CrmRows([.. Enumerable.Range(41, 10).Select(i => $"{i:D5},platinum,{i}")]));
        var failed = await test.IngestAsync("crm", path);
        Assert.Equal(BatchStatus.Failed, failed.Status);
        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"gold\"]", "\"gold\",\"platinum\"]", StringComparison.Ordinal)));

        // Its 40 good rows were never stored: a replay would store only the 10 rejected ones.
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.Ingestion.ReplayAsync("prod", failed.Id));

        Assert.Equal("BATCH_FAILED", error.Code);
        Assert.Contains("ingest", error.Message, StringComparison.Ordinal);
        Assert.Empty(test.Facts());
        var again = await test.IngestAsync("crm", path);
        Assert.Equal((50L, 50L), (again.Counts.Input, again.Counts.Accepted));
    }

    [Fact]
    public async Task Replaying_a_batch_of_another_sandbox_is_refused()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        await test.Catalog.EnsureSandboxAsync("dev");
        var result = await test.StreamAsync("crm", """[{"crmId":"2","nickname":"x"}]""");

        Assert.Equal("BATCH_NOT_FOUND", (await Assert.ThrowsAsync<CatalogException>(() => test.Ingestion.ReplayAsync("dev", result.Batch.Id))).Code);
    }
}

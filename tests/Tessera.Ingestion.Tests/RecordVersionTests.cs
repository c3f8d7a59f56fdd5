using System.Globalization;
using Tessera.Abstractions;
using Tessera.Storage;

namespace Tessera.Ingestion.Tests;

/// <summary>Record versions, the timeline index and the fact key decoder.</summary>
public sealed class RecordVersionTests
{
    private static readonly IdentityValue Ann = new("CRMID", "00001", true);

    [Fact]
    public void Each_key_kind_round_trips_through_the_decoder()
    {
        var record = FactKeys.RecordKey("prod", Ann, "crm", "b0123", 258);
        var @event = FactKeys.EventKey("prod", Ann, "orders", "ev\u00e9-1");
        var ticks = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero).UtcTicks;
        var timeline = FactKeys.TimelineKey("prod", Ann, ticks, "orders", "ev\u00e9-1");

        Assert.True(FactKeys.TryParse(record, out var r));
        Assert.Equal(new ParsedFactKey(FactKeys.RecordTag, "prod", Ann, "crm", null, "b0123", 258, 0), r);
        Assert.True(FactKeys.TryParse(@event, out var e));
        Assert.Equal(new ParsedFactKey(FactKeys.EventTag, "prod", Ann, "orders", "ev\u00e9-1", null, 0, 0), e);
        Assert.True(FactKeys.TryParse(timeline, out var t));
        Assert.Equal(new ParsedFactKey(FactKeys.TimelineTag, "prod", Ann, "orders", "ev\u00e9-1", null, 0, ticks), t);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), t.Timestamp);
    }

    [Fact]
    public void The_layout_is_the_documented_one()
    {
        var record = FactKeys.RecordKey("prod", Ann, "crm", "b1", 1);
        var timeline = FactKeys.TimelineKey("prod", Ann, 0x0102030405060708, "web", "x");

        Assert.Equal("r\0prod\0CRMID\000001\0crm\0b1\0"u8.ToArray().Concat(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1 }), record);
        Assert.Equal("t\0prod\0CRMID\000001\0"u8.ToArray().Concat(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }).Concat("web\0x"u8.ToArray()), timeline);
        Assert.Equal("e\0prod\0CRMID\000001\0web\0x"u8.ToArray(), FactKeys.EventKey("prod", Ann, "web", "x"));
    }

    [Fact]
    public void Prefixes_select_an_identity_its_datasets_and_a_point_in_time()
    {
        var record = FactKeys.RecordKey("prod", Ann, "crm", "b1", 7);
        Assert.True(record.AsSpan().StartsWith(FactKeys.IdentityPrefix(FactKeys.RecordTag, "prod", Ann)));
        Assert.True(record.AsSpan().StartsWith(FactKeys.IdentityDatasetPrefix(FactKeys.RecordTag, "prod", Ann, "crm")));
        Assert.False(record.AsSpan().StartsWith(FactKeys.IdentityDatasetPrefix(FactKeys.RecordTag, "prod", Ann, "cr")));
        Assert.Equal(FactKeys.IdentityDatasetPrefix(FactKeys.RecordTag, "prod", Ann, "crm").Length, FactKeys.FragmentPrefixLength(record));
        Assert.True(FactKeys.EventKey("prod", Ann, "web", "x").AsSpan().StartsWith(FactKeys.IdentityDatasetPrefix(FactKeys.EventTag, "prod", Ann, "web")));
        Assert.Throws<ArgumentException>(() => FactKeys.IdentityDatasetPrefix(FactKeys.TimelineTag, "prod", Ann, "web"));

        // Rows and times sort as numbers; a timeline position sorts before every event at or after it.
        Assert.True(FactKeys.RecordKey("prod", Ann, "crm", "b1", 255).AsSpan().SequenceCompareTo(FactKeys.RecordKey("prod", Ann, "crm", "b1", 256)) < 0);
        var at = FactKeys.TimelineAt("prod", Ann, 1000);
        Assert.True(at.AsSpan().SequenceCompareTo(FactKeys.TimelineKey("prod", Ann, 1000, "a", "1")) < 0);
        Assert.True(at.AsSpan().SequenceCompareTo(FactKeys.TimelineKey("prod", Ann, 999, "z", "9")) > 0);
        Assert.True(FactKeys.TimelineKey("prod", Ann, 999, "z", "9").AsSpan().StartsWith(FactKeys.IdentityPrefix(FactKeys.TimelineTag, "prod", Ann)));
    }

    [Fact]
    public void Other_keys_are_not_facts()
    {
        Assert.False(FactKeys.TryParse("l\0prod\0\0\0\0\0\0\0\x01"u8, out _));
        Assert.False(FactKeys.TryParse("r\0prod\0CRMID\0"u8, out _));
        Assert.False(FactKeys.TryParse("r\0prod\0CRMID\000001\0crm\0b1\0\0"u8, out _)); // the row is cut short
        Assert.False(FactKeys.TryParse("t\0prod\0CRMID\000001\0\0\0"u8, out _));
        Assert.False(FactKeys.TryParse([], out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_rows_of_one_identity_in_one_file_are_two_versions_in_row_order(bool readTwice)
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var path = test.WriteFile("crm.csv", "crmId,age\n00001,10\n00002,20\n00001,11\n");
        var ingestion = readTwice
            ? new IngestionService(test.Catalog, test.Workspace.Identity, test.Ingestion.Limits, Path.Combine(test.Directory, "uploads")) { RetainBytes = 0 }
            : test.Ingestion;

        var batch = await ingestion.IngestFileAsync("prod", "crm", path);

        var versions = test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001");
        Assert.Equal([1L, 3L], versions.Select(v => v.KeyRow)); // stored in row order
        Assert.All(versions, v => Assert.Equal(batch.Id, v.KeyBatch));
        Assert.Equal([1L, 3L], versions.Select(v => v.Value.GetProperty("row").GetInt64()));
        Assert.Single(versions.Select(v => (v.Value.GetProperty("time").GetString(), v.Value.GetProperty("order").GetInt64())).Distinct());
        Assert.Equal("2026-11-01T12:00:00.000Z", versions[0].Value.GetProperty("time").GetString()); // no lastUpdated: the ingestion time
        Assert.Equal(11, versions.MaxBy(v => v.Rank)!.Record.GetProperty("age").GetInt32());
    }

    [Fact]
    public async Task A_later_batch_has_a_greater_order_even_across_a_restart()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        await test.StreamAsync("crm", """[{"crmId":"00001","age":1}]""");
        await test.ReopenAsync();
        await test.StreamAsync("crm", """[{"crmId":"00001","age":2}]""");

        var versions = test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001");

        Assert.Equal(2, versions.Count);
        Assert.Equal(2, versions.MaxBy(v => v.Value.GetProperty("order").GetInt64())!.Record.GetProperty("age").GetInt32());
        Assert.All(versions, v => Assert.Equal(1, v.KeyRow)); // a streaming record's row is its place in the request, from 1
    }

    [Fact]
    public async Task The_time_of_a_version_is_its_last_updated_field_when_the_schema_declares_one()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync("""
            {"name":"crm","class":"profile","fields":{
              "crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}},
              "tier":{"type":"string"},
              "meta":{"type":"object","fields":{"updated":{"type":"date-time","lastUpdated":true}}}}}
            """);

        await test.StreamAsync("crm", """
            [{"crmId":"00001","tier":"gold","meta":{"updated":"2024-06-01T10:00:00+02:00"}},
             {"crmId":"00001","tier":"bronze","meta":{"updated":"2024-01-01T00:00:00Z"}},
             {"crmId":"00002","tier":"silver"}]
            """);

        var ann = test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001");
        Assert.Equal(["2024-06-01T08:00:00.000Z", "2024-01-01T00:00:00.000Z"], ann.Select(v => v.Value.GetProperty("time").GetString()));
        Assert.Equal("gold", ann.MaxBy(v => v.Rank)!.Text("tier")); // the record's own time, not its place in the request, decides
        var bob = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00002"));
        Assert.Equal(bob.Value.GetProperty("ingestedAt").GetString(), bob.Value.GetProperty("time").GetString()); // field absent: the ingestion time
    }

    [Fact]
    public async Task Stored_events_are_indexed_on_the_timeline_and_duplicates_are_not()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);

        await test.StreamAsync("orders", """
            [{"_id":"a","timestamp":"2024-05-01T10:00:00Z","customerId":"00001"},
             {"_id":"b","timestamp":"2024-04-01T10:00:00Z","customerId":"00001"},
             {"_id":"a","timestamp":"2024-05-09T10:00:00Z","customerId":"00001"}]
            """);
        await test.StreamAsync("orders", """[{"_id":"b","timestamp":"2024-05-20T10:00:00Z","customerId":"00001"}]""");

        var timeline = Timeline(test, Ann);
        Assert.Equal([("b", "2024-04-01"), ("a", "2024-05-01")], timeline.Select(t => (t.EventId!, t.Timestamp.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))));
        Assert.All(timeline, t => Assert.Equal("orders", t.Dataset));
        Assert.Equal(2, test.FactsOf(FactKeys.EventTag, "prod", "CRMID", "00001").Count);
    }

    [Fact]
    public async Task Re_running_a_file_batch_writes_the_same_keys()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Orders);
        var lines = string.Join('\n', Enumerable.Range(1, 20).Select(i => $$"""{"_id":"ev{{i}}","timestamp":"2024-05-01T10:{{i:D2}}:00Z","customerId":"C{{i % 3}}"}"""));
        var done = await test.IngestAsync("orders", test.WriteFile("orders.jsonl", lines));
        await test.DefineAsync(Schemas.Crm);
        var crm = await test.IngestAsync("crm", test.WriteFile("crm.csv", "crmId,age\n00001,1\n00001,2\n00002,3\n"));
        var before = FactKeysInStore(test);

        foreach (var batch in new[] { done, crm })
        {
            await test.Catalog.SaveBatchAsync(batch with { Status = BatchStatus.Writing, CompletedAt = null });
        }
        await test.ReopenAsync();
        Assert.Equal(2, (await test.Ingestion.RecoverAsync()).Count);

        Assert.Equal(before, FactKeysInStore(test));
        Assert.Equal(20, before.Count(k => k[0] == 't'));
        Assert.Equal(3, before.Count(k => k[0] == 'r'));
    }

    /// <summary>Every record, event and timeline key of the store (hex after the tag), sorted.</summary>
    internal static List<string> FactKeysInStore(TestWorkspace test)
    {
        var keys = new List<string>();
        for (var shard = 0; shard < test.Workspace.Store.ShardCount; shard++)
        {
            foreach (var (key, _) in test.Workspace.Store.Scan(StoreSpace.Facts, shard, []))
            {
                if (FactKeys.TryParse(key, out _))
                {
                    keys.Add((char)key[0] + Convert.ToHexString(key));
                }
            }
        }
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    private static List<ParsedFactKey> Timeline(TestWorkspace test, IdentityValue identity)
    {
        var shard = FactKeys.ShardOf("prod", identity, test.Workspace.Store.ShardCount);
        return [.. test.Workspace.Store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityPrefix(FactKeys.TimelineTag, "prod", identity)).Select(e =>
        {
            Assert.Empty(e.Value);
            Assert.True(FactKeys.TryParse(e.Key, out var parsed));
            return parsed;
        })];
    }
}

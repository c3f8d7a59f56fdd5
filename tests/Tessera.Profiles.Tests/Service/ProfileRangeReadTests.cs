using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Storage;
using static Tessera.Profiles.Tests.Service.ProfileWorkspace;

namespace Tessera.Profiles.Tests.Service;

/// <summary>
/// A range read (what a batch run over every profile uses) gives each identity exactly the profile a
/// read of that identity alone gives, with the same event records, and leaves identities whose graph
/// holds others to that read.
/// </summary>
public sealed class ProfileRangeReadTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // Events found with their records, from their bodies alone.
    public async Task A_range_read_gives_each_identity_the_profile_and_events_a_read_of_it_alone_gives(bool withEventRecords)
    {
        await using var test = await CreateAsync(webTtl: TimeSpan.FromDays(2));
        var crm = string.Join(",", Enumerable.Range(1, 60).Select(i => $$"""{"crmId":"{{i}}","firstName":"P{{i}}","tier":"{{(i % 3 == 0 ? "gold" : "silver")}}","interests":["i{{i % 4}}"]}"""));
        await test.StreamAsync("crm", $"[{crm}]");
        await test.StreamAsync("loyalty", """[{"crmId":"7","tier":"platinum"},{"crmId":"8","firstName":"Loyal"}]""");
        test.Time.Advance(TimeSpan.FromDays(3));
        // App events by CRM id; web events by device, some of them joining a device to a person, some older than the web TTL.
        var app = string.Join(",", Enumerable.Range(1, 120).Select(i => $$"""{"_id":"a{{i}}","timestamp":"2026-11-0{{1 + i % 3}}T{{10 + i % 10}}:00:00Z","crmId":"{{1 + i % 50}}","page":"p{{i % 5}}"}"""));
        await test.StreamAsync("app", $"[{app}]");
        var web = string.Join(",", Enumerable.Range(1, 80).Select(i => $$"""{"_id":"w{{i}}","timestamp":"2026-11-0{{1 + i % 4}}T12:00:00Z","ecid":"D{{i % 30}}","page":"home"{{(i % 7 == 0 ? $$""","crmId":"{{i % 60 + 1}}" """ : "")}}}"""));
        await test.StreamAsync("web", $"[{web}]");

        var store = test.Workspace.Store;
        var identities = Enumerable.Range(1, 60).Select(i => new IdentityKey("CRMID", $"{i}"))
            .Concat(Enumerable.Range(0, 30).Select(i => new IdentityKey("ECID", $"D{i}")))
            .Append(new IdentityKey("CRMID", "no-such-person"));
        var ranges = 0;
        var larger = 0;
        foreach (var shard in identities.GroupBy(i => FactKeys.ShardOf("prod", Value(i), store.ShardCount)))
        {
            var inOrder = shard.OrderBy(i => FactKeys.IdentityPrefix(FactKeys.RecordTag, "prod", Value(i)), ByteOrder.Instance).ToList();
            var range = test.Profiles.ReadRangeForEvaluation("prod", shard.Key, inOrder, withEventRecords: withEventRecords);
            Assert.Equal(withEventRecords, range.HasEventRecords);
            var records = new Dictionary<(int, int), string>();
            RangeEventRecordVisitor visit = (at, index, record) => records.Add((at, index), System.Text.Encoding.UTF8.GetString(record));
            if (withEventRecords)
            {
                range.VisitEventRecords(visit);
            }
            else
            {
                test.Profiles.ReadEventRecords(range, visit);
            }
            ranges++;
            for (var at = 0; at < inOrder.Count; at++)
            {
                var alone = test.Profiles.ForEvaluationSource("prod", inOrder[at], keepInCache: false);
                if (test.Workspace.Identity.GraphOf("prod", inOrder[at]) is { Identities.Count: > 1 })
                {
                    Assert.True(range.InLargerGraph[at], $"{inOrder[at]}");
                    Assert.Null(range.Sources[at]);
                    larger++;
                    continue;
                }
                Assert.False(range.InLargerGraph[at]);
                var read = range.Sources[at];
                Assert.Equal(alone is null, read is null);
                if (alone is null || read is null)
                {
                    continue;
                }
                Assert.Equal(alone.Primary, read.Primary);
                Assert.Equal(alone.Identities, read.Identities);
                Assert.Equal(alone.Attributes.ToJsonString(), read.Attributes.ToJsonString());
                Assert.Equal(alone.Events, read.Events);
                var expected = new Dictionary<int, string>();
                test.Profiles.ReadEventRecords("prod", alone.Events, (index, record) => expected.Add(index, System.Text.Encoding.UTF8.GetString(record)));
                Assert.Equal(expected.OrderBy(e => e.Key), records.Where(r => r.Key.Item1 == at).Select(r => KeyValuePair.Create(r.Key.Item2, r.Value)).OrderBy(e => e.Key));
            }
        }
        Assert.True(ranges > 1);
        Assert.True(larger > 0); // Devices joined to people.
    }

    [Fact]
    public async Task A_range_refuses_identities_out_of_key_order_or_of_another_shard()
    {
        await using var test = await CreateAsync();
        var store = test.Workspace.Store;
        var one = new IdentityKey("CRMID", "1");
        var shard = FactKeys.ShardOf("prod", Value(one), store.ShardCount);
        var sameShard = Enumerable.Range(2, 200).Select(i => new IdentityKey("CRMID", $"{i}"))
            .First(i => FactKeys.ShardOf("prod", Value(i), store.ShardCount) == shard);
        var otherShard = Enumerable.Range(2, 200).Select(i => new IdentityKey("CRMID", $"{i}"))
            .First(i => FactKeys.ShardOf("prod", Value(i), store.ShardCount) != shard);
        var ordered = new[] { one, sameShard }.OrderBy(i => FactKeys.IdentityPrefix(FactKeys.RecordTag, "prod", Value(i)), ByteOrder.Instance).ToArray();

        Assert.Contains("key order", Assert.Throws<ArgumentException>(() => test.Profiles.ReadRangeForEvaluation("prod", shard, [ordered[1], ordered[0]])).Message);
        Assert.Contains("key order", Assert.Throws<ArgumentException>(() => test.Profiles.ReadRangeForEvaluation("prod", shard, [one, one])).Message);
        Assert.Contains($"not on shard {shard}", Assert.Throws<ArgumentException>(() => test.Profiles.ReadRangeForEvaluation("prod", shard, [otherShard])).Message);
        Assert.Null(test.Profiles.ReadRangeForEvaluation("prod", shard, ordered).Sources[0]); // Nothing stored yet.
    }

    [Fact]
    public async Task Events_read_from_their_bodies_keep_the_timeline_order_below_a_millisecond_and_the_cap_and_a_body_without_its_time_is_read_the_other_way()
    {
        await using var test = await CreateAsync(config: """{"profiles":{"maxEventsPerProfile":3}}""");
        // One device: four events within one millisecond (the record's timestamp keeps the millisecond only; the
        // timeline keeps every tick). In time order the cap keeps b, c, d; tied at the millisecond, the tie would go
        // by _id (a newest) and keep a, b, c.
        await test.StreamAsync("web", """
            [{"_id":"a","timestamp":"2026-11-01T10:00:00.0001Z","ecid":"D1","page":"p1"},
             {"_id":"b","timestamp":"2026-11-01T10:00:00.0005Z","ecid":"D1","page":"p2"},
             {"_id":"c","timestamp":"2026-11-01T10:00:00.0007Z","ecid":"D1","page":"p3"},
             {"_id":"d","timestamp":"2026-11-01T10:00:00.0009Z","ecid":"D1","page":"p4"}]
            """);
        var device = new IdentityKey("ECID", "D1");
        var store = test.Workspace.Store;
        var shard = FactKeys.ShardOf("prod", Value(device), store.ShardCount);

        var range = test.Profiles.ReadRangeForEvaluation("prod", shard, [device], withEventRecords: true);
        Assert.True(range.HasEventRecords);
        Assert.Equal(["b", "c", "d"], range.Sources[0]!.Events.Select(e => e.EventId));
        Assert.Equal(test.Profiles.ForEvaluationSource("prod", device, keepInCache: false)!.Events, range.Sources[0]!.Events);
        var pages = new List<string>();
        range.VisitEventRecords((_, index, record) => pages.Add($"{index}:{System.Text.Json.JsonDocument.Parse(record.ToArray()).RootElement.GetProperty("page")}"));
        Assert.Equal(["0:p2", "1:p3", "2:p4"], pages);

        // A body as stored before bodies carried their time: the range is read from the timeline instead, and answers the same.
        var old = new IdentityKey("ECID", Enumerable.Range(2, 500).Select(i => $"D{i}").First(d => FactKeys.ShardOf("prod", Value(new IdentityKey("ECID", d)), store.ShardCount) == shard));
        using (var writes = new WriteSet())
        {
            writes.Put(StoreSpace.Facts, shard, FactKeys.EventKey("prod", Value(old), "web", "old-1"), System.Text.Encoding.UTF8.GetBytes(
                $$"""{"record":{"_id":"old-1","timestamp":"2026-11-01T09:00:00.000Z","ecid":"{{old.Value}}","page":"p0"},"identities":[{"namespace":"ECID","id":"{{old.Value}}","primary":true}],"batch":"b0","ingestedAt":"2026-11-01T12:00:00.000Z"}"""));
            writes.Put(StoreSpace.Facts, shard, FactKeys.TimelineKey("prod", Value(old), new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero).UtcTicks, "web", "old-1"), []);
            await store.CommitAsync(writes);
        }
        var both = new[] { device, old }.OrderBy(i => FactKeys.IdentityPrefix(FactKeys.RecordTag, "prod", Value(i)), ByteOrder.Instance).ToList();
        var mixed = test.Profiles.ReadRangeForEvaluation("prod", shard, both, withEventRecords: true);
        Assert.False(mixed.HasEventRecords);
        for (var at = 0; at < both.Count; at++)
        {
            Assert.Equal(test.Profiles.ForEvaluationSource("prod", both[at], keepInCache: false)!.Events, mixed.Sources[at]!.Events);
        }
        var records = 0;
        test.Profiles.ReadEventRecords(mixed, (_, _, _) => records++);
        Assert.Equal(4, records);
    }

    [Theory]
    [InlineData("""{"record":{},"ingestedAt":"x","ticks":638000000000000000}""", true, 638000000000000000L)]
    [InlineData("""{"record":{"ticks":5},"ingestedAt":"x"}""", false, 0L)] // stored before bodies carried their time
    [InlineData("""{"record":{"a":{"b":1,"ticks":7}},"ingestedAt":"x","ticks":9}""", true, 9L)] // the record's own "ticks" is not it
    [InlineData("""{"record":{},"ticks":12x}""", false, 0L)]
    public void An_event_body_carries_its_time_last(string envelope, bool carried, long ticks)
    {
        Assert.Equal(carried, ProfileService.TryGetEventTicks(System.Text.Encoding.UTF8.GetBytes(envelope), out var read));
        Assert.Equal(ticks, read);
    }

    [Theory]
    [InlineData("""{"record":{"a":1},"identities":[{"namespace":"ECID","id":"1"}],"batch":"b","ingestedAt":"x","ticks":9}""", """{"a":1}""")]
    // The record's own identities (a field of that name, an escaped quote in a string) do not end it early.
    [InlineData("""{"record":{"x":{"b":1,"identities":[2]},"s":"\",\"identities\":["},"identities":[],"batch":"b","ingestedAt":"x"}""",
        """{"x":{"b":1,"identities":[2]},"s":"\",\"identities\":["}""")]
    [InlineData("""{"record":null,"identities":[],"batch":"b","ingestedAt":"x"}""", null)]
    // Not as ingestion writes it: read token by token.
    [InlineData("""{"batch":"b","record":{"a":[1,2]},"ingestedAt":"x"}""", """{"a":[1,2]}""")]
    [InlineData("""{"batch":"b","ingestedAt":"x"}""", null)]
    public void An_event_body_gives_its_record(string envelope, string? record)
    {
        var found = ProfileService.TryGetEventRecord(System.Text.Encoding.UTF8.GetBytes(envelope), out var read);
        Assert.Equal(record is not null, found);
        if (record is not null)
        {
            Assert.Equal(record, System.Text.Encoding.UTF8.GetString(read));
        }
    }

    private static IdentityValue Value(IdentityKey identity) => new(identity.Namespace, identity.Value, true);

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

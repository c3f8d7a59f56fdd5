using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using static Tessera.Profiles.Tests.Service.ProfileWorkspace;

namespace Tessera.Profiles.Tests.Service;

/// <summary>
/// A range read (what a batch run over every profile uses) gives each identity exactly the profile a
/// read of that identity alone gives, with the same event records, and leaves identities whose graph
/// holds others to that read.
/// </summary>
public sealed class ProfileRangeReadTests
{
    [Fact]
    public async Task A_range_read_gives_each_identity_the_profile_and_events_a_read_of_it_alone_gives()
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
            var range = test.Profiles.ReadRangeForEvaluation("prod", shard.Key, inOrder);
            var records = new Dictionary<(int, int), string>();
            test.Profiles.ReadEventRecords(range, (at, index, record) => records.Add((at, index), System.Text.Encoding.UTF8.GetString(record)));
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

    private static IdentityValue Value(IdentityKey identity) => new(identity.Namespace, identity.Value, true);

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

using System.Text.Json;
using Tessera.Generator;
using Tessera.Server;

namespace Tessera.EndToEnd.Tests;

/// <summary>
/// The README's first command, at its smallest size, through the real command line: it must run to
/// the end, and every number of its summary must be what the stores hold (and what the generator
/// planted), not what the demo counted on the way.
/// </summary>
public sealed class DemoTests() : CliWorkspaceTest("demo")
{
    private const string Sandbox = "prod";

    [Fact]
    public async Task The_demo_runs_to_the_end_and_its_summary_is_what_the_stores_hold()
    {
        var run = await SucceedAsync("--json", "demo", "--profiles", "2000");
        using var document = JsonDocument.Parse(run.Output);
        var summary = document.RootElement;
        Assert.Equal(run.Output.Trim(), File.ReadAllText(Path.Combine(Data, "demo", "summary.json")).Trim());
        var planted = GeneratedData.Load(Path.Combine(Data, "demo", "sample"));
        using var workspace = await Workspace.OpenAsync(Data);

        // Ingested: each file's batch and the streamed batches, as the catalog has them and as planted.
        var ingested = summary.GetProperty("ingested").EnumerateArray().ToDictionary(r => r.GetProperty("dataset").GetString()!);
        var batches = workspace.Catalog.ListBatches(Sandbox);
        foreach (var file in planted.Files)
        {
            var row = ingested[file.Dataset];
            var batch = Assert.Single(batches, b => b.Dataset == file.Dataset);
            Assert.Equal((file.Rows, file.Failed, file.Duplicates), (Long(row, "input"), Long(row, "quarantined"), Long(row, "duplicates")));
            Assert.Equal((batch.Counts.Input, batch.Counts.Failed, batch.Counts.Duplicates), (Long(row, "input"), Long(row, "quarantined"), Long(row, "duplicates")));
            Assert.Equal(batch.Counts.Accepted - batch.Counts.Duplicates, Long(row, "stored"));
        }
        var web = ingested[planted.Online.Dataset];
        Assert.Equal((planted.Online.Events, planted.Online.Failed, planted.Online.Duplicates), (Long(web, "input"), Long(web, "quarantined"), Long(web, "duplicates")));
        var edgeCalls = summary.GetProperty("edge").GetArrayLength();
        // The edge requests' page views are stored in the same dataset, as batches of their own.
        Assert.Equal(planted.Online.Events + edgeCalls, batches.Where(b => b.Dataset == planted.Online.Dataset).Sum(b => b.Counts.Input));
        Assert.Equal(Long(web, "batches") + edgeCalls, batches.Count(b => b.Dataset == planted.Online.Dataset));

        // Quarantined by reason: per dataset and code, exactly what was planted, and what the quarantine holds.
        var reasons = summary.GetProperty("quarantined").EnumerateArray()
            .GroupBy(r => (r.GetProperty("dataset").GetString()!, r.GetProperty("code").GetString()!))
            .ToDictionary(g => g.Key, g => g.Sum(r => Long(r, "records")));
        var expected = planted.Files.SelectMany(f => f.Invalid.Select(i => (f.Dataset, i.Code, i.Count)))
            .Concat(planted.Online.Invalid.Select(i => (planted.Online.Dataset, i.Code, i.Count)))
            .GroupBy(i => (i.Item1, i.Code)).ToDictionary(g => g.Key, g => g.Sum(i => i.Count));
        Assert.Equal(expected.OrderBy(p => p.Key).ToList(), reasons.OrderBy(p => p.Key).ToList());
        var quarantined = batches.Where(b => b.Counts.Failed > 0).Sum(b => workspace.Ingestion.Quarantine(Sandbox, b.Id).Count());
        Assert.Equal(ingested.Values.Sum(r => Long(r, "quarantined")), quarantined);

        // The identity graph.
        var identity = summary.GetProperty("identity");
        var counts = workspace.Identity.Counts(Sandbox);
        Assert.Equal((counts.Identities, counts.Graphs, counts.Links, counts.CutLinks),
            ((int)Long(identity, "identities"), (int)Long(identity, "profiles"), (int)Long(identity, "links"), (int)Long(identity, "cutLinks")));
        Assert.True(Long(identity, "mergedProfiles") > 0, "no device was stitched to a CRM customer");
        Assert.True(counts.CutLinks > 0, "shared devices and junk emails should have links cut by the unique-namespace rule");
        Assert.Equal(counts.CutLinks, identity.GetProperty("cutReasons").EnumerateArray().Sum(r => Long(r, "links")));

        // Audiences: one per engine, members as the membership store counts them.
        var audiences = summary.GetProperty("audiences").EnumerateArray().ToList();
        Assert.Equal(["batch", "edge", "streaming"], audiences.Select(a => a.GetProperty("mode").GetString()).Order(StringComparer.Ordinal));
        foreach (var audience in audiences)
        {
            Assert.Equal(workspace.Memberships.Counts(Sandbox, audience.GetProperty("id").GetString()!).Members, Long(audience, "members"));
        }
        var batchAudience = audiences.Single(a => a.GetProperty("mode").GetString() == "batch");
        var edgeAudience = audiences.Single(a => a.GetProperty("mode").GetString() == "edge").GetProperty("id").GetString();
        Assert.True(Long(batchAudience, "members") > 0);

        // Edge: every visitor was stitched to a profile and is on the home page now.
        foreach (var answer in summary.GetProperty("edge").EnumerateArray())
        {
            Assert.StartsWith("CRMID:", answer.GetProperty("profile").GetString(), StringComparison.Ordinal);
            Assert.Contains(edgeAudience, answer.GetProperty("audiences").EnumerateArray().Select(a => a.GetString()));
        }

        // Deliveries: as the runs recorded them, and as the file and the receiver got them.
        var deliveries = summary.GetProperty("deliveries").EnumerateArray().ToDictionary(d => d.GetProperty("destination").GetString()!);
        foreach (var (name, delivery) in deliveries)
        {
            var runs = workspace.Activation.Log.Runs(Sandbox, name, take: int.MaxValue);
            Assert.Equal((runs.Count, runs.Sum(r => r.Activated), runs.Sum(r => r.Requests)), ((int)Long(delivery, "runs"), Long(delivery, "activated"), (int)Long(delivery, "requests")));
            Assert.Equal(0, Long(delivery, "failed"));
        }
        var export = Assert.Single(Directory.GetFiles(Path.Combine(Data, "demo", "exports")));
        Assert.Equal(Long(deliveries["crm-export"], "activated"), File.ReadLines(export).Count() - 1);
        // Every member is a row, or excluded with its reason (a store buyer known only by a loyalty card has no mapped identity).
        var excluded = deliveries["crm-export"].GetProperty("excluded").EnumerateObject().Sum(e => e.Value.GetInt64());
        Assert.Equal(Long(batchAudience, "members"), Long(deliveries["crm-export"], "activated") + excluded);
        var received = Directory.GetFiles(Path.Combine(Data, "demo", "received")).Select(Path.GetFileName).ToList();
        foreach (var (name, segment) in new[] { ("marketing-webhook", "-webhook-"), ("meta-ads", "-meta-") })
        {
            Assert.True(Long(deliveries[name], "activated") > 0, $"{name} sent nothing");
            Assert.Equal(Long(deliveries[name], "requests"), received.Count(f => f!.Contains(segment, StringComparison.Ordinal)));
        }
    }

    private static long Long(JsonElement element, string property) => element.GetProperty(property).GetInt64();
}

using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Activation.Destinations;
using Tessera.Server;
using Tessera.Tests.Shared;

namespace Tessera.EndToEnd.Tests;

/// <summary>
/// A SIGKILL of the server during delivery loses nothing: the real <c>tessera serve</c> delivers a
/// backfill and then feed changes to a local receiver, is killed in the middle of each, restarted,
/// and at the end every member and every change reached the receiver at least once, with each
/// profile's last operation the feed's last.
/// </summary>
[Trait("Category", "Crash")]
public sealed class ActivationCrashTests
{
    private const int Customers = 400;

    [Fact]
    public async Task Delivery_resumes_after_sigkill_and_loses_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        var directory = Path.Combine(Path.GetTempPath(), "tessera-activation-crash-" + Guid.NewGuid().ToString("N"));
        await using var receiver = await LocalReceiver.StartAsync(token);
        receiver.Delay = TimeSpan.FromMilliseconds(15);
        string audienceId;
        // The receiver is on 127.0.0.1, which destinations may call only when allowed (the server process reads this too).
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), """{"activation": {"allowedPrivateNetworks": ["127.0.0.0/8"]}}""", token);
        using (var workspace = await Workspace.OpenAsync(directory))
        {
            await workspace.Catalog.RegisterSchemaAsync("prod", new SchemaDocument
            {
                Name = "crm",
                Class = SchemaClass.Profile,
                Fields = new Dictionary<string, FieldDefinition>
                {
                    ["crmId"] = new() { Type = FieldType.String, Required = true, Identity = new IdentityDescriptor("CRMID", Primary: true) },
                    ["tier"] = new() { Type = FieldType.String },
                },
            });
            await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
            await UpsertAsync(workspace, Enumerable.Range(1, Customers), "gold");
            var audience = await workspace.Audiences.CreateAsync("prod", "gold", "tier = \"gold\"");
            await workspace.Audiences.PublishAsync("prod", audience.Id);
            audienceId = audience.Id;
            await workspace.Batch.RunAsync("prod", null, token);
            await workspace.Activation.CreateAsync("prod", new Destination
            {
                Name = "hook",
                Connector = "webhook",
                Settings = new(StringComparer.Ordinal) { ["endpoint"] = receiver.Address.ToString() },
                Audiences = [new ActivatedAudience { AudienceId = audience.Id }],
                Identities = [new FieldMapping { Source = "CRMID", Target = "crmId" }],
                Batching = new MicroBatchPolicy { MaxRecords = 10, MaxAgeSeconds = 0 },
            }, token);
        }

        // Killed in the middle of the backfill.
        using (await ServerProcess.StartAsync(directory, token))
        {
            await receiver.WaitUntilAsync(r => r.Accepted.Count() >= 12, TimeSpan.FromMinutes(2), token);
        }

        // While it is down, a quarter leave the audience: feed changes wait for it.
        using (var workspace = await Workspace.OpenAsync(directory))
        {
            await UpsertAsync(workspace, Enumerable.Range(1, Customers).Where(i => i % 4 == 0), "silver");
            await workspace.Batch.RunAsync("prod", null, token);
        }
        var feed = await FeedOfAsync(directory);

        // Killed again once it has started on the feed, then left to finish.
        using (await ServerProcess.StartAsync(directory, token))
        {
            await receiver.WaitUntilAsync(r => Records(r).Any(x => x.Operation == "remove"), TimeSpan.FromMinutes(2), token);
        }
        using (await ServerProcess.StartAsync(directory, token))
        {
            await receiver.WaitUntilAsync(r => Records(r) is var records
                && records.Where(x => x.Operation == "remove").Select(x => x.Id).Distinct().Count() >= feed.Count
                && records.Where(x => x.Operation == "add").Select(x => x.Profile).Distinct().Count(p => Number(p) % 4 != 0) >= Customers * 3 / 4,
                TimeSpan.FromMinutes(3), token);
        }

        var sent = Records(receiver);
        // Every member was added at least once (those who left before the backfill reached them need
        // not be), every exit removed at least once.
        Assert.Equal(Enumerable.Range(1, Customers).Where(i => i % 4 != 0).Select(i => $"CRMID:c{i}").Order(StringComparer.Ordinal),
            sent.Where(r => r.Operation == "add" && Number(r.Profile) % 4 != 0).Select(r => r.Profile).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(feed.Select(c => c.Id).Order(StringComparer.Ordinal),
            sent.Where(r => r.Operation == "remove").Select(r => r.Id).Distinct().Order(StringComparer.Ordinal));
        // Per profile, the last operation received is the truth: the feed's exits came after the adds.
        var last = sent.GroupBy(r => r.Profile).ToDictionary(g => g.Key, g => g.Last().Operation);
        Assert.All(Enumerable.Range(1, Customers), i => Assert.Equal(i % 4 == 0 ? "remove" : "add", last[$"CRMID:c{i}"]));
        Assert.Contains(audienceId, sent.Select(r => r.Audience));
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    private static int Number(string profile) => int.Parse(profile.AsSpan("CRMID:c".Length), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task UpsertAsync(Workspace workspace, IEnumerable<int> ids, string tier)
    {
        var records = ids.Select(i => JsonDocument.Parse($"{{\"crmId\": \"c{i}\", \"tier\": \"{tier}\"}}").RootElement.Clone()).ToList();
        var result = await workspace.Ingestion.IngestRecordsAsync("prod", "crm", records, "test");
        Assert.Equal(records.Count, result.Batch.Counts.Accepted);
    }

    private static async Task<List<(string Id, string Operation)>> FeedOfAsync(string directory)
    {
        using var workspace = await Workspace.OpenAsync(directory);
        return [.. workspace.Memberships.Read("prod", 0, 100_000)
            .Where(c => c.Status == Segmentation.MembershipStatus.Exited)
            .Select(c => ($"{c.AudienceId}:{c.Sequence}", "remove"))];
    }

    private static List<(string Id, string Operation, string Profile, string Audience)> Records(LocalReceiver receiver) =>
        [.. receiver.Accepted.ToList().SelectMany(r =>
        {
            using var document = JsonDocument.Parse(Encoding.UTF8.GetString(r.Body));
            return document.RootElement.GetProperty("records").EnumerateArray()
                .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("operation").GetString()!, e.GetProperty("profileId").GetString()!, e.GetProperty("audienceId").GetString()!))
                .ToList();
        })];
}

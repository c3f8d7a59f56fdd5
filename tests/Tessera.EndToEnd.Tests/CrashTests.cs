using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Server;
using Tessera.Storage;

namespace Tessera.EndToEnd.Tests;

/// <summary>
/// Nothing acknowledged is lost: the real server process is killed with SIGKILL at random points
/// while events stream in and CSV batches upload, restarted, and at the end every acknowledged
/// event and record must be stored exactly once and no batch may be left half-done.
/// </summary>
[Trait("Category", "Crash")]
public sealed class CrashTests
{
    private const int Rounds = 12;
    private const int Senders = 4;
    private const int EventsPerRequest = 50;
    private const int RowsPerUpload = 2_000;

    [Fact]
    public async Task Acknowledged_events_and_records_survive_sigkill_exactly_once()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var directory = Path.Combine(Path.GetTempPath(), "tessera-crash-" + Guid.NewGuid().ToString("N"));
        string key;
        // Uploads bulk-load (sorted files handed to RocksDB, no WAL), so kills land in that path too.
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), $$"""{"bulkLoadThreshold": {{RowsPerUpload / 2}}}""", cancellationToken);
        using (var workspace = await Workspace.OpenAsync(directory))
        {
            await workspace.Catalog.RegisterSchemaAsync("prod", new SchemaDocument
            {
                Name = "click",
                Class = SchemaClass.Event,
                Fields = new Dictionary<string, FieldDefinition> { ["eventType"] = new() { Type = FieldType.String, Required = true } },
            });
            await workspace.Catalog.RegisterSchemaAsync("prod", new SchemaDocument
            {
                Name = "crm",
                Class = SchemaClass.Profile,
                Fields = new Dictionary<string, FieldDefinition>
                {
                    ["crmId"] = new() { Type = FieldType.String, Required = true, Identity = new IdentityDescriptor("CRMID", Primary: true) },
                    ["round"] = new() { Type = FieldType.Int },
                },
            });
            await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "web", Schema = "click" });
            await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
            (_, key) = await workspace.Catalog.CreateApiKeyAsync("prod", ApiRole.Admin, "crash-test");
        }

        var random = new Random(20261128);
        var acknowledgedEvents = new ConcurrentDictionary<string, byte>();
        var acknowledgedUploads = new ConcurrentDictionary<int, string>();
        // Requests cut off by a kill are retried after the restart, as a real sender would:
        // some of them were stored before the kill, and must not be stored twice.
        var retries = new ConcurrentQueue<List<string>>();
        var sequence = 0;
        var uploads = 0;
        try
        {
            for (var round = 0; round < Rounds; round++)
            {
                using var server = await ServerProcess.StartAsync(directory, cancellationToken);
                using var http = new HttpClient { BaseAddress = server.Address };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
                var killAfter = random.Next(3, 150);
                var acks = 0;
                var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

                async Task SendEventsAsync(int sender)
                {
                    while (!killNow.Task.IsCompleted)
                    {
                        if (!retries.TryDequeue(out var ids))
                        {
                            ids = [.. Enumerable.Range(0, EventsPerRequest).Select(_ => $"ev-{Interlocked.Increment(ref sequence)}")];
                        }
                        var body = "[" + string.Join(',', ids.Select(id => EventJson(id, int.Parse(id.AsSpan(3), CultureInfo.InvariantCulture) % 1000))) + "]";
                        try
                        {
                            using var response = await http.PostAsync("/collection/v1/datasets/web/events", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
                            if (response.StatusCode != HttpStatusCode.OK)
                            {
                                throw new InvalidOperationException($"events refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
                            }
                        }
                        catch (HttpRequestException)
                        {
                            retries.Enqueue(ids); // The server died mid-request: not acknowledged.
                            return;
                        }
                        foreach (var id in ids)
                        {
                            acknowledgedEvents.TryAdd(id, 0);
                        }
                        if (Interlocked.Increment(ref acks) >= killAfter)
                        {
                            killNow.TrySetResult();
                        }
                    }
                }

                async Task UploadAsync()
                {
                    while (!killNow.Task.IsCompleted && await UploadOneAsync(Interlocked.Increment(ref uploads)))
                    {
                    }
                }

                async Task<bool> UploadOneAsync(int upload)
                {
                    var csv = new StringBuilder("crmId,round\n");
                    for (var row = 0; row < RowsPerUpload; row++)
                    {
                        csv.Append(CultureInfo.InvariantCulture, $"u{upload:D3}-{row:D6},{upload}\n");
                    }
                    try
                    {
                        using var response = await http.PostAsync("/batches/v1/datasets/crm?format=csv", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"), cancellationToken);
                        if (response.IsSuccessStatusCode)
                        {
                            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                            Assert.Equal("success", document.RootElement.GetProperty("status").GetString());
                            acknowledgedUploads[upload] = document.RootElement.GetProperty("id").GetString()!;
                            return true;
                        }
                        throw new InvalidOperationException($"upload refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
                    }
                    catch (HttpRequestException)
                    {
                        return false; // Killed mid-upload: not acknowledged.
                    }
                }

                var work = Enumerable.Range(0, Senders).Select(SendEventsAsync).Append(UploadAsync()).ToList();
                var finished = Task.WhenAll(work);
                await Task.WhenAny(killNow.Task, finished);
                server.Kill();
                await finished;
            }

            // One more start runs recovery (interrupted batches are finished before it listens).
            using (await ServerProcess.StartAsync(directory, cancellationToken))
            {
            }

            using var check = await Workspace.OpenAsync(directory);
            var stored = new Dictionary<string, int>(StringComparer.Ordinal);
            var storedCrmIds = new HashSet<string>(StringComparer.Ordinal);
            for (var shard = 0; shard < check.Store.ShardCount; shard++)
            {
                foreach (var (_, value) in check.Store.Scan(StoreSpace.Facts, shard, FactKeys.SandboxPrefix(FactKeys.EventTag, "prod")))
                {
                    using var envelope = JsonDocument.Parse(value);
                    var id = envelope.RootElement.GetProperty("record").GetProperty("_id").GetString()!;
                    stored[id] = stored.GetValueOrDefault(id) + 1;
                    AssertInGraph(check, envelope.RootElement);
                }
                foreach (var (_, value) in check.Store.Scan(StoreSpace.Facts, shard, FactKeys.SandboxPrefix(FactKeys.RecordTag, "prod")))
                {
                    using var envelope = JsonDocument.Parse(value);
                    Assert.True(storedCrmIds.Add(envelope.RootElement.GetProperty("record").GetProperty("crmId").GetString()!));
                    AssertInGraph(check, envelope.RootElement);
                }
            }
            var recovered = check.Catalog.ListBatches("prod").Count(b => b.Kind == BatchKind.File && b.Status == BatchStatus.Success && !acknowledgedUploads.Values.Contains(b.Id));
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{Rounds} kills: {acknowledgedEvents.Count} events acknowledged, {stored.Count} stored; {acknowledgedUploads.Count} uploads acknowledged, {recovered} finished after a kill");
            Assert.NotEmpty(acknowledgedEvents);
            foreach (var id in acknowledgedEvents.Keys)
            {
                Assert.True(stored.TryGetValue(id, out var count), $"acknowledged event {id} is missing");
                Assert.Equal(1, count);
            }
            Assert.All(stored, pair => Assert.Equal(1, pair.Value));
            foreach (var (upload, batchId) in acknowledgedUploads)
            {
                Assert.Equal(BatchStatus.Success, check.Catalog.RequireBatch("prod", batchId).Status);
                for (var row = 0; row < RowsPerUpload; row++)
                {
                    Assert.Contains($"u{upload:D3}-{row:D6}", storedCrmIds);
                }
            }
            Assert.DoesNotContain(check.Catalog.ListBatches("prod"), b => b.Status is BatchStatus.Loading or BatchStatus.Writing);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string EventJson(string id, int device) =>
        $$$"""{"_id":"{{{id}}}","timestamp":"2026-11-01T12:00:00Z","eventType":"click","identityMap":{"ECID":[{"id":"dev-{{{device}}}","primary":true}]}}""";

    /// <summary>A stored fact's link ledger entry went into the same commit: its identities are in the graph after the restart.</summary>
    private static void AssertInGraph(Workspace workspace, JsonElement envelope)
    {
        foreach (var identity in envelope.GetProperty("identities").EnumerateArray())
        {
            var key = new Identity.Graph.IdentityKey(identity.GetProperty("namespace").GetString()!, identity.GetProperty("id").GetString()!);
            Assert.True(workspace.Identity.Find("prod", key) is not null, $"stored identity {key} is not in the identity graph");
        }
    }
}

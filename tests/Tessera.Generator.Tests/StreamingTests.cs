using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Server;

namespace Tessera.Generator.Tests;

/// <summary>What <c>tessera generate --stream</c> does: the request bodies POSTed to the collection endpoint with a collect key.</summary>
public sealed class StreamingTests
{
    [Fact]
    public async Task The_collection_endpoint_accepts_the_batches_with_exactly_the_planted_duplicates_and_rejects()
    {
        var now = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
        using var store = new TempDirectory();
        var generator = new RetailGenerator(new RetailOptions { Profiles = 1_000, Now = now });
        using var workspace = await Workspace.OpenAsync(store.Path, new FakeTimeProvider(now.AddHours(1)));
        await workspace.Catalog.EnsureSandboxAsync("prod");
        await workspace.Catalog.RegisterSchemaAsync("prod", JsonSerializer.Deserialize(RetailSchemas.WebEvent, CatalogJson.Default.SchemaDocument)!);
        await workspace.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = RetailSchemas.WebEventsDataset, Schema = RetailSchemas.WebEventName });
        var (_, key) = await workspace.Catalog.CreateApiKeyAsync("prod", ApiRole.Collect, "generator-test");
        await using var server = TesseraServer.Build(workspace, ["http://127.0.0.1:0"], configure: builder => builder.Logging.ClearProviders());
        await server.StartAsync(TestContext.Current.CancellationToken);
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        long input = 0, accepted = 0, failed = 0, duplicates = 0;
        foreach (var body in generator.OnlineEventBatches(500))
        {
            using var response = await http.PostAsync("/collection/v1/datasets/web/events?outcomes=none",
                new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.True(response.IsSuccessStatusCode, answer.RootElement.GetRawText());
            var counts = answer.RootElement.GetProperty("counts");
            input += counts.GetProperty("input").GetInt64();
            accepted += counts.GetProperty("accepted").GetInt64();
            failed += counts.GetProperty("failed").GetInt64();
            duplicates += counts.GetProperty("duplicates").GetInt64();
        }

        var online = generator.Online;
        Assert.Equal((online.Events, online.Accepted, online.Failed, online.Duplicates), (input, accepted, failed, duplicates));
    }
}

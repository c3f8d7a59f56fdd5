using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Cli.Demo;
using Tessera.Generator;
using Tessera.Ingestion.Mapping;
using Tessera.Server;

namespace Tessera.Cli.Commands;

/// <summary>
/// <c>tessera demo</c>: the whole online/offline activation story on generated retail data, on the
/// embedded default: setup, offline files, online events over HTTP, the identity graph, audiences in
/// each engine, activation to a file, a webhook and an ad platform, and a summary read back from the
/// stores. Re-running it on the same workspace stores nothing twice (same seed, same data).
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var profiles = new Option<int>("--profiles") { Description = "Customers to generate (1,000 to 10,000,000)", DefaultValueFactory = _ => 5_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated data", DefaultValueFactory = _ => new RetailOptions().Seed };
        var serve = new Option<bool>("--serve") { Description = "Keep the server running afterwards (Ctrl+C stops it)" };
        var command = new Command("demo", "Run the whole pipeline on generated retail data: ingest, stitch, segment, activate, report") { profiles, seed, serve };
        command.WithWorkspace((context, parse, cancellationToken) => parse.GetValue(profiles) is < 1_000 or > RetailOptions.MaxProfiles
            ? Task.FromResult(CommandExtensions.Fail("PARAMETER_INVALID", "--profiles must be between 1,000 and 10,000,000"))
            : RunAsync(context, parse.GetValue(profiles), parse.GetValue(seed), parse.GetValue(serve), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, int customers, int seed, bool serve, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var workspace = context.Workspace;
        var sandbox = context.Sandbox;
        var console = context.Json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }) : AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            // A log or a pipe has no width of its own: wide enough for the tables.
            console.Profile.Width = Math.Max(console.Profile.Width, 160);
        }
        var folder = Path.Combine(workspace.Directory, "demo");
        var outputs = new DemoOutputs(Path.Combine(folder, "sample"), Path.Combine(folder, "exports"), Path.Combine(folder, "received"), Path.Combine(folder, "summary.json"));
        console.MarkupLine($"[bold]Tessera demo[/] — workspace [blue]{Markup.Escape(workspace.Directory)}[/], sandbox [blue]{Markup.Escape(sandbox)}[/], {customers:N0} customers");

        var generator = new RetailGenerator(new RetailOptions { Profiles = customers, Seed = seed, Now = workspace.Catalog.Time.GetUtcNow() });
        var data = generator.WriteOffline(outputs.SampleFiles);
        var setup = new DemoSetup(workspace, sandbox, console);
        await setup.DefineAsync(outputs.SampleFiles, data, cancellationToken);

        await using var receiver = await DemoReceiver.StartAsync(outputs.Received, cancellationToken);
        var (_, adminKey) = await workspace.Catalog.CreateApiKeyAsync(sandbox, ApiRole.Admin, "demo-admin");
        var (_, collectKey) = await workspace.Catalog.CreateApiKeyAsync(sandbox, ApiRole.Collect, "demo-collect");
        await using var server = TesseraServer.Build(workspace, ["http://127.0.0.1:0"], configure: builder => builder.Logging.ClearProviders());
        await server.StartAsync(cancellationToken);
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", collectKey);

        // Audiences and destinations first, so the streaming engine and the webhook see the data arrive.
        var audiences = await setup.AudiencesAsync(cancellationToken);
        await setup.DestinationsAsync(audiences, receiver.Address, outputs.Exports, cancellationToken);

        var batches = new List<BatchInfo>();
        List<string> requests = [];
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                foreach (var file in data.Files)
                {
                    var task = progress.AddTask($"{Markup.Escape(file.Dataset)} ({Markup.Escape(file.Path)}, {file.Rows:N0} rows)", maxValue: 1);
                    var mapping = file.Mapping is { } path ? MappingSpec.FromJson(await File.ReadAllTextAsync(Path.Combine(outputs.SampleFiles, path), cancellationToken)) : null;
                    batches.Add(await workspace.Ingestion.IngestFileAsync(sandbox, file.Dataset, Path.Combine(outputs.SampleFiles, file.Path), mapping, cancellationToken));
                    task.Increment(1);
                }
                requests = generator.OnlineEventBatches(eventsPerRequest: 200).ToList();
                var online = progress.AddTask($"web and app events (HTTP {Markup.Escape(address)})", maxValue: requests.Count);
                var streamed = new System.Collections.Concurrent.ConcurrentBag<string>();
                // In order per request, several requests at a time, as many browsers would send them.
                await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (request, token) =>
                {
                    streamed.Add(await PostEventsAsync(http, data.Online.Dataset, request, token));
                    online.Increment(1);
                });
                batches.AddRange(streamed.Select(id => workspace.Catalog.RequireBatch(sandbox, id)));

                var engines = progress.AddTask("audiences: streaming engine, batch run", maxValue: 2);
                await workspace.Streaming!.WhenIdleAsync();
                engines.Increment(1);
                await workspace.Batch.RunAsync(sandbox, cancellationToken: cancellationToken);
                engines.Increment(1);
            });

        var edge = await setup.EdgeAsync(http, data.Online.Dataset, DemoSetup.LoggedInDevices(requests).Take(5), cancellationToken);
        // The edge stored its page views through ingestion; the streaming engine evaluates them after the answer, so the
        // report and the deliveries wait for it (without this a gold visitor's entry was counted in some runs, not others).
        await workspace.Streaming!.WhenIdleAsync();
        await setup.DeliverAsync(cancellationToken);

        var summary = DemoReport.Collect(workspace, sandbox, customers, clock.Elapsed, batches, audiences, edge, receiver, outputs);
        await File.WriteAllTextAsync(outputs.Summary, JsonSerializer.Serialize(summary, DemoJson.Default.DemoSummary), cancellationToken);
        if (context.Json)
        {
            CliContext.PrintJson(summary, DemoJson.Default.DemoSummary);
        }
        else
        {
            DemoReport.Print(console, summary, workspace, sandbox);
            console.MarkupLine("\n[bold]API keys[/] made for this demo (stored hashed; shown once):");
            console.MarkupLine($"  admin   [yellow]{adminKey}[/]");
            console.MarkupLine($"  collect [yellow]{collectKey}[/]  (safe in a web page: can only send events and ask the edge)");
        }

        if (serve)
        {
            console.MarkupLine($"\n[bold]serving[/] on [blue]{Markup.Escape(address)}[/] (OpenAPI at /openapi/v1.json, with the admin key); Ctrl+C stops it.");
            // The host's console lifetime takes Ctrl+C and SIGTERM (as tessera serve does).
            await server.WaitForShutdownAsync(cancellationToken);
        }
        await server.StopAsync(CancellationToken.None);
        return ExitCodes.Ok;
    }

    /// <summary>Posts one request of events with the collect key; the batch id of what the server stored.</summary>
    private static async Task<string> PostEventsAsync(HttpClient http, string dataset, string body, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"/collection/v1/datasets/{dataset}/events?outcomes=none",
            new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode || JsonNode.Parse(text)?["batchId"]?.GetValue<string>() is not { } batchId)
        {
            throw new CatalogException("DEMO_FAILED", $"the server refused events: {(int)response.StatusCode} {text}");
        }
        return batchId;
    }
}

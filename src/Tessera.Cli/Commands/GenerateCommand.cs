using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tessera.Generator;

namespace Tessera.Cli.Commands;

/// <summary>
/// <c>tessera generate</c>: an omnichannel retailer's files (CRM, loyalty, store and online
/// orders, web and app events) with their schemas, mappings and a manifest of the planted
/// defects; optionally streams the online events to a running server. No workspace needed.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var profiles = new Option<int>("--profiles") { Description = "Customers to generate (1,000 to 10,000,000)", DefaultValueFactory = _ => 5_000 };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same seed, profiles and --now give the same bytes", DefaultValueFactory = _ => new RetailOptions().Seed };
        var now = new Option<string?>("--now") { Description = "The instant the data is generated at (ISO 8601; default: now)" };
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => "./tessera-sample" };
        var stream = new Option<string?>("--stream") { Description = "Also POST the online events to this Tessera server (e.g. http://127.0.0.1:8080)" };
        var key = new Option<string?>("--key") { Description = "API key for --stream (collect or admin role)" };
        var dataset = new Option<string>("--dataset") { Description = "Event dataset to stream into", DefaultValueFactory = _ => RetailSchemas.WebEventsDataset };
        var perRequest = new Option<int>("--events-per-request") { Description = "Events in one streamed request", DefaultValueFactory = _ => 500 };
        var command = new Command("generate", "Generate a retailer's sample files (CSV, JSON Lines, Parquet) with schemas, mappings and a manifest; optionally stream the web events")
        {
            profiles, seed, now, output, stream, key, dataset, perRequest,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(profiles);
            if (count is < 1_000 or > RetailOptions.MaxProfiles)
            {
                return CommandExtensions.Fail("PARAMETER_INVALID", "--profiles must be between 1,000 and 10,000,000");
            }
            var at = TimeProvider.System.GetUtcNow();
            if (parse.GetValue(now) is { } text && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at))
            {
                return CommandExtensions.Fail("PARAMETER_INVALID", $"--now: not an ISO 8601 date-time: {text}");
            }
            var url = parse.GetValue(stream);
            if (url is not null && (string.IsNullOrEmpty(parse.GetValue(key)) || !Uri.TryCreate(url, UriKind.Absolute, out _)))
            {
                return CommandExtensions.Fail("PARAMETER_INVALID", "--stream needs an absolute URL and --key");
            }
            var json = parse.GetValue(CommonOptions.Json);
            var directory = Path.GetFullPath(parse.GetValue(output)!);
            var generator = new RetailGenerator(new RetailOptions { Profiles = count, Seed = parse.GetValue(seed), Now = at });
            var clock = Stopwatch.StartNew();
            var data = json
                ? generator.WriteAll(directory)
                : AnsiConsole.Status().Start($"generating {count:N0} customers into {Markup.Escape(directory)}", _ => generator.WriteAll(directory));
            var elapsed = clock.Elapsed;
            StreamTotals? streamed = null;
            if (url is not null)
            {
                streamed = await StreamAsync(generator, new Uri(url), parse.GetValue(key)!, parse.GetValue(dataset)!, Math.Max(1, parse.GetValue(perRequest)), json, cancellationToken);
            }
            if (json)
            {
                Console.Out.WriteLine(data.ToJson());
                return streamed is { Errors: > 0 } ? ExitCodes.Refused : ExitCodes.Ok;
            }
            Print(data, directory, elapsed);
            if (streamed is { } totals)
            {
                AnsiConsole.MarkupLine($"\n[bold]streamed[/] to {Markup.Escape(url!)}: {totals.Requests:N0} requests, {totals.Input:N0} events — "
                    + $"accepted {totals.Accepted:N0} (duplicates {totals.Duplicates:N0}), rejected {totals.Failed:N0}"
                    + (totals.Errors > 0 ? $", [red]{totals.Errors:N0} requests refused[/] ({Markup.Escape(totals.FirstError ?? "")})" : ""));
                AnsiConsole.MarkupLine($"planted: {data.Online.Events:N0} events, {data.Online.Duplicates:N0} duplicates, {data.Online.Failed:N0} invalid");
            }
            return streamed is { Errors: > 0 } ? ExitCodes.Refused : ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(GeneratedData data, string directory, TimeSpan elapsed)
    {
        AnsiConsole.MarkupLine($"[bold]generated[/] {data.Profiles:N0} customers (seed {data.Seed}, now {data.Now:u}) into [blue]{Markup.Escape(directory)}[/] in {elapsed.TotalSeconds:0.0} s");
        var table = new Table().AddColumns("file", "dataset", "format", "rows", "accepted", "invalid", "duplicates");
        var planted = new Table().Title("planted").AddColumns("file", "defect", "rows", "quarantined as");
        foreach (var file in data.Files)
        {
            table.AddRow(Markup.Escape(file.Path), file.Dataset, file.Format, N(file.Rows), N(file.Accepted), N(file.Failed), N(file.Duplicates));
            foreach (var invalid in file.Invalid)
            {
                planted.AddRow(Markup.Escape(file.Path), Markup.Escape(invalid.Reason), N(invalid.Count), invalid.Code);
            }
            foreach (var defect in file.Defects)
            {
                planted.AddRow(Markup.Escape(file.Path), Markup.Escape(defect.Kind), N(defect.Count), "-");
            }
        }
        var online = data.Online;
        var onlineName = Markup.Escape(online.Path ?? "(online)");
        table.AddRow(onlineName, online.Dataset, "jsonl", N(online.Events), N(online.Accepted), N(online.Failed), N(online.Duplicates));
        foreach (var invalid in online.Invalid)
        {
            planted.AddRow(onlineName, Markup.Escape(invalid.Reason), N(invalid.Count), invalid.Code);
        }
        planted.AddRow(onlineName, "duplicate", N(online.Duplicates), "-");
        planted.AddRow(onlineName, "late", N(online.Late), "-");
        AnsiConsole.Write(table);
        AnsiConsole.Write(planted);
        AnsiConsole.MarkupLine($"devices {N(online.Devices)} (web {N(online.WebDevices)}, app {N(online.AppDevices)}): {N(online.DevicesLoggingIn)} log in, "
            + $"{N(online.SharedDevices)} shared by two people, {N(online.AnonymousDevices)} stay anonymous, {N(online.ZeroedIdfaDevices)} with a zeroed IDFA");
        AnsiConsole.MarkupLine($"schemas in [blue]schemas/[/], mappings in [blue]mappings/[/], everything planted in [blue]{GeneratedData.ManifestFile}[/]");
    }

    private sealed record StreamTotals(long Requests, long Input, long Accepted, long Failed, long Duplicates, long Errors, string? FirstError);

    private static async Task<StreamTotals> StreamAsync(RetailGenerator generator, Uri server, string key, string dataset, int perRequest, bool quiet, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        long requests = 0, input = 0, accepted = 0, failed = 0, duplicates = 0, errors = 0;
        string? firstError = null;
        var path = $"/collection/v1/datasets/{Uri.EscapeDataString(dataset)}/events?outcomes=none";
        async Task SendAllAsync(Action? onRequest)
        {
            // Requests go in order, two at a time: a duplicate is sent after its original.
            await Parallel.ForEachAsync(generator.OnlineEventBatches(perRequest), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = cancellationToken },
                async (body, token) =>
                {
                    using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), token);
                    var text = await response.Content.ReadAsStringAsync(token);
                    Interlocked.Increment(ref requests);
                    onRequest?.Invoke();
                    using var document = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
                    if (!response.IsSuccessStatusCode || !document.RootElement.TryGetProperty("counts", out var counts))
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, $"{(int)response.StatusCode} {text[..Math.Min(text.Length, 300)]}", null);
                        return;
                    }
                    Interlocked.Add(ref input, counts.GetProperty("input").GetInt64());
                    Interlocked.Add(ref accepted, counts.GetProperty("accepted").GetInt64());
                    Interlocked.Add(ref failed, counts.GetProperty("failed").GetInt64());
                    Interlocked.Add(ref duplicates, counts.GetProperty("duplicates").GetInt64());
                });
        }
        if (quiet)
        {
            await SendAllAsync(null);
        }
        else
        {
            var total = (int)Math.Ceiling(generator.Online.Events / (double)perRequest);
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"web events → {Markup.Escape(server.ToString())}", maxValue: total);
                    await SendAllAsync(() => task.Increment(1));
                });
        }
        return new StreamTotals(requests, input, accepted, failed, duplicates, errors, firstError);
    }

    private static string N(long value) => IngestCommands.N(value);
}

using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Segmentation.Memberships;
using Tessera.Server;
using Tessera.Tests.Shared;

namespace Tessera.Bench;

/// <summary>
/// Streaming delivery (<c>--only activation</c>): membership changes read from the feed, mapped (an
/// email SHA-256'd, a CRM id), built into webhook micro-batches and POSTed to a local receiver, with
/// the cursor, runs and audit log written; beside it the floor of POSTing the same bodies with a bare
/// HttpClient to the same receiver, in the same run.
/// </summary>
internal static class ActivationBench
{
    private const double TargetPerSecond = 50_000;
    private const int BatchRecords = 5_000;

    public static async Task<IReadOnlyList<Figure>> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var profiles = options.Quick ? 50_000 : 200_000;
        var root = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"tessera-bench-activation-{Environment.ProcessId}");
        AnsiConsole.MarkupLine($"[bold]Tessera streaming delivery benchmark[/]: {profiles:N0} membership changes, micro-batches of {BatchRecords:N0}, webhook to a local receiver");
        await using var receiver = await LocalReceiver.StartAsync();
        var rows = new List<string[]>();
        var figures = new List<Figure>();
        try
        {
            // Warm-up pass (tiered JIT), then the measured pass; each on a fresh workspace.
            await DeliverAsync(Path.Combine(root, "warm"), receiver, Math.Min(profiles, 20_000));
            var (seconds, runs) = await DeliverAsync(Path.Combine(root, "run"), receiver, profiles);
            var bodies = receiver.Accepted.TakeLast(runs).Select(r => r.Body).ToList();
            var floor = await BareFloorAsync(receiver, bodies);
            var tessera = profiles / seconds;
            var bare = profiles / floor;
            rows.Add(["floor: bare HttpClient POST of the same bodies to the same receiver", PerSecond(bare), "1.00", ""]);
            rows.Add(["Tessera: feed → map (SHA-256 email) → webhook batches → POST, cursor/runs/audit committed", PerSecond(tessera),
                (tessera / bare).ToString("0.00", CultureInfo.InvariantCulture), tessera >= TargetPerSecond ? "meets ≥ 50,000/s" : "[red]below 50,000/s[/]"]);

            figures.Add(new Figure("activation", "streaming delivery: feed → map (SHA-256 email) → webhook batches → POST, cursor/runs/audit committed", tessera, "profiles/s",
                HigherIsBetter: true, "bare HttpClient POSTs of the same bodies to the same receiver", bare, "≥ 50,000 profiles/s", tessera >= TargetPerSecond,
                options.QuickNote($"{profiles:N0} membership changes") + $"; micro-batches of {BatchRecords:N0}; {runs} runs; {seconds:0.00} s"));
            var members = options.Quick ? 200_000 : 1_000_000;
            var (exported, exportFloor) = await ExportAsync(Path.Combine(root, "export"), members);
            rows.Add([$"Tessera: full export of a {members:N0}-member audience to CSV (SHA-256 email, CRM id) through the file destination, members read from the store",
                $"{members / exported:N0} ({exported:0.00} s)", "", members < 1_000_000 ? "(1,000,000 at default size)" : exported <= 3 ? "meets ≤ 3 s" : "[red]over 3 s[/]"]);
            figures.Add(new Figure("activation", $"full export of a {members:N0}-member audience to hashed CSV through the file destination, members read from the store", exported, "s",
                HigherIsBetter: false, "the same members read from the store, email SHA-256'd, written as CSV lines (no mapping, audit or atomic file)", exportFloor,
                "≤ 3 s at 1,000,000 members", members < 1_000_000 ? null : exported <= 3,
                options.QuickNote($"{members:N0} members") + $"; {members / exported:N0} members/s"
                + (members < 1_000_000 ? "; the target is for 1,000,000 (judged at default size); FileExporter alone is in the export group" : "; FileExporter alone is in the export group")));
        }
        finally
        {
            if (!options.Keep)
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                    // Leftovers in the temp folder are harmless.
                }
            }
        }
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Streaming delivery[/]").AddColumns("what", "profiles/s", "ratio to floor", "target");
        foreach (var row in rows)
        {
            table.AddRow(Markup.Escape(row[0]), row[1], row[2], row[3]);
        }
        AnsiConsole.Write(table);
        return figures;
    }

    private static async Task<(double Seconds, int Runs)> DeliverAsync(string directory, LocalReceiver receiver, int profiles)
    {
        // The receiver is on 127.0.0.1, which destinations may call only when the workspace allows it.
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, Workspace.ConfigFile), """{"activation": {"allowedPrivateNetworks": ["127.0.0.0/8"]}}""");
        using var workspace = await Workspace.OpenAsync(directory);
        var audience = await workspace.Audiences.CreateAsync("prod", "gold", "tier = \"gold\"");
        await workspace.Audiences.PublishAsync("prod", audience.Id);
        await workspace.Activation.CreateAsync("prod", new Destination
        {
            Name = "hook",
            Connector = "webhook",
            Settings = new(StringComparer.Ordinal) { ["endpoint"] = receiver.Address.ToString() },
            Audiences = [new ActivatedAudience { AudienceId = audience.Id }],
            Identities = [new FieldMapping { Source = "Email", Target = "email", Hash = "sha256" }, new FieldMapping { Source = "CRMID", Target = "crmId" }],
            Batching = new MicroBatchPolicy { MaxRecords = BatchRecords, MaxAgeSeconds = 0 },
        });
        for (var start = 0; start < profiles; start += 10_000)
        {
            var evaluations = Enumerable.Range(start, Math.Min(10_000, profiles - start))
                .Select(i => new Evaluation($"CRMID:c{i}", [$"CRMID:c{i}", $"Email:user{i}@example.com"], audience.Id, true))
                .ToList();
            await workspace.Memberships.ApplyAsync("prod", evaluations, DateTimeOffset.UtcNow);
        }
        var clock = Stopwatch.StartNew();
        var runs = await workspace.Activation.DrainAsync("prod", "hook");
        clock.Stop();
        if (runs.Any(r => r.Status != RunStatuses.Delivered) || runs.Sum(r => r.Activated) != profiles)
        {
            throw new InvalidOperationException($"delivery incomplete: {runs.Sum(r => r.Activated)} of {profiles}");
        }
        return (clock.Elapsed.TotalSeconds, runs.Count);
    }

    /// <summary>A file destination's full export of an audience of <paramref name="members"/>; returns its seconds.</summary>
    private static async Task<(double Seconds, double FloorSeconds)> ExportAsync(string directory, int members)
    {
        using var workspace = await Workspace.OpenAsync(directory);
        var audience = await workspace.Audiences.CreateAsync("prod", "gold", "tier = \"gold\"");
        await workspace.Audiences.PublishAsync("prod", audience.Id);
        for (var start = 0; start < members; start += 20_000)
        {
            var evaluations = Enumerable.Range(start, Math.Min(20_000, members - start))
                .Select(i => new Evaluation($"CRMID:c{i}", [$"CRMID:c{i}", $"Email:user{i}@example.com"], audience.Id, true))
                .ToList();
            await workspace.Memberships.ApplyAsync("prod", evaluations, DateTimeOffset.UtcNow);
        }
        await workspace.Activation.CreateAsync("prod", new Destination
        {
            Name = "crm-export",
            Connector = "file",
            Audiences = [new ActivatedAudience { AudienceId = audience.Id }],
            Identities = [new FieldMapping { Source = "Email", Target = "email_sha256", Hash = "sha256" }, new FieldMapping { Source = "CRMID", Target = "crm_id" }],
            Schedule = new ExportSchedule { Frequency = "once", Mode = "full" },
            File = new Tessera.Activation.Files.FileExportSettings { Folder = Path.Combine(directory, "out") },
        });
        var clock = Stopwatch.StartNew();
        var run = await workspace.Activation.ExportAsync("prod", "crm-export");
        var exportSeconds = clock.Elapsed.TotalSeconds;
        if (run.Activated != members)
        {
            throw new InvalidOperationException($"export incomplete: {run.Activated} of {members}");
        }

        // Floor: the same members read from the membership store, each email lowered, SHA-256'd and
        // written as hex with the CRM id, one CSV line each: no mapping, consent, audit or atomic file.
        clock.Restart();
        await using (var writer = new StreamWriter(Path.Combine(directory, "floor.csv")))
        {
            writer.Write("email_sha256,crm_id\n");
            foreach (var member in workspace.Memberships.Members("prod", audience.Id))
            {
                var email = member.Identities.First(i => i.StartsWith("Email:", StringComparison.Ordinal))["Email:".Length..];
                writer.Write(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(email.ToLowerInvariant()))));
                writer.Write(',');
                writer.Write(member.Identities.First(i => i.StartsWith("CRMID:", StringComparison.Ordinal))["CRMID:".Length..]);
                writer.Write('\n');
            }
        }
        return (exportSeconds, clock.Elapsed.TotalSeconds);
    }

    private static async Task<double> BareFloorAsync(LocalReceiver receiver, List<byte[]> bodies)
    {
        using var http = new HttpClient { BaseAddress = receiver.Address };
        var clock = Stopwatch.StartNew();
        foreach (var body in bodies)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync("", content);
            response.EnsureSuccessStatusCode();
        }
        return clock.Elapsed.TotalSeconds;
    }

    private static string PerSecond(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

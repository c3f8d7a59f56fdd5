using nietras.SeparatedValues;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;
using Tessera.Activation.Files;

namespace Tessera.Activation.Tests.Delivery;

public sealed class ExportTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Destination FileDestination(ActivationWorkspace ws, string folder, string mode) => new()
    {
        Name = "crm-export",
        Connector = "file",
        Audiences = [new ActivatedAudience { AudienceId = ws.GoldId }],
        Identities = [new FieldMapping { Source = "Email", Target = "email_sha256", Hash = "sha256" }, new FieldMapping { Source = "CRMID", Target = "crm_id" }],
        Attributes = [new FieldMapping { Source = "tier", Target = "tier" }],
        Schedule = new ExportSchedule { Frequency = "daily", At = "02:00", Mode = mode },
        File = new FileExportSettings { Format = FileExportFormat.Csv, Folder = folder },
    };

    [Fact]
    public async Task Full_and_incremental_exports_write_the_members_and_the_changes_on_schedule()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var folder = Path.Combine(ws.Directory, "exports");
        await ws.CustomersAsync(Enumerable.Range(1, 20), i => i <= 12 ? "gold" : "silver");
        await ws.EvaluateAsync();
        var full = await ws.Activation.CreateAsync("prod", FileDestination(ws, folder, "full"), Token);
        await ws.Activation.CreateAsync("prod", FileDestination(ws, folder, "incremental") with { Name = "crm-changes" }, Token);

        // Created at 12:00: the first daily slot is 02:00 the next day.
        Assert.False(ws.Activation.ExportDue("prod", full));
        ws.Time.Advance(TimeSpan.FromHours(14));
        Assert.True(ws.Activation.ExportDue("prod", full));
        var run = await ws.Activation.ExportAsync("prod", "crm-export", Token);
        Assert.Equal(12, run.Activated);
        Assert.False(ws.Activation.ExportDue("prod", ws.Activation.Destinations.Require("prod", "crm-export")));
        var name = $"crm-export_{ws.GoldId}_20260611020000.csv";
        using (var reader = Sep.Reader().FromFile(Path.Combine(folder, name)))
        {
            Assert.Equal(["email_sha256", "crm_id", "tier"], reader.Header.ColNames);
            var rows = reader.Enumerate(r => r["crm_id"].ToString()).ToList();
            Assert.Equal(Enumerable.Range(1, 12).Select(i => $"c{i}").Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));
        }
        var audit = Assert.Single(ws.Activation.Log.Audit("prod", "crm-export"));
        Assert.Equal(name, audit.File);

        // The incremental destination: 1 leaves, 13 joins; its export holds just those, with the operation.
        await ws.CustomersAsync([1], _ => "silver");
        await ws.CustomersAsync([13], _ => "gold");
        await ws.EvaluateAsync();
        var changes = await ws.Activation.ExportAsync("prod", "crm-changes", Token);
        Assert.Equal(2, changes.Activated);
        using (var reader = Sep.Reader().FromFile(Path.Combine(folder, $"crm-changes_{ws.GoldId}_20260611020000.csv")))
        {
            Assert.Equal(["email_sha256", "crm_id", "tier", "operation"], reader.Header.ColNames);
            var rows = reader.Enumerate(r => (r["crm_id"].ToString(), r["operation"].ToString())).ToList();
            Assert.Equal([("c1", "remove"), ("c13", "add")], rows.Order().ToList());
        }
    }

    [Fact]
    public async Task Schedules_find_their_next_slot()
    {
        var created = new DateTimeOffset(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(created, ActivationService.NextExport(new ExportSchedule { Frequency = "once" }, created, null));
        Assert.Null(ActivationService.NextExport(new ExportSchedule { Frequency = "once" }, created, created));
        Assert.Equal(created.AddHours(14), ActivationService.NextExport(new ExportSchedule { Frequency = "daily", At = "02:00" }, created, null));
        Assert.Equal(created.AddHours(2), ActivationService.NextExport(new ExportSchedule { Frequency = "6h", At = "02:00" }, created, null));
        Assert.Equal(created.AddHours(8), ActivationService.NextExport(new ExportSchedule { Frequency = "6h", At = "02:00" }, created, created.AddHours(2)));
        Assert.Equal(created, ActivationService.NextExport(new ExportSchedule { Frequency = "12h", At = "00:00" }, created, null));
    }
}

public sealed class ExportResumeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_export_interrupted_after_it_started_is_finished_under_its_own_time_replacing_what_it_wrote()
    {
        await using var ws = await ActivationWorkspace.CreateAsync();
        var folder = Path.Combine(ws.Directory, "exports");
        await ws.CustomersAsync(Enumerable.Range(1, 5), _ => "gold");
        await ws.EvaluateAsync();
        await ws.Activation.CreateAsync("prod", new Destination
        {
            Name = "crm-export",
            Connector = "file",
            Audiences = [new ActivatedAudience { AudienceId = ws.GoldId }],
            Identities = [new FieldMapping { Source = "CRMID", Target = "crm_id" }],
            Schedule = new ExportSchedule { Frequency = "once", Mode = "full" },
            File = new FileExportSettings { Folder = folder },
        }, Token);

        // What a crash leaves: the run recorded as in flight, and a half-written file under its final name.
        var state = ws.Activation.Log.State("prod", "crm-export");
        var started = ActivationWorkspace.Start;
        state.InFlight = new InFlightBatch { RunId = state.NextRun++, Kind = DeliveryKinds.Export, StartedAt = started };
        await ws.Activation.Log.SaveStateAsync("prod", "crm-export", state, Token);
        Directory.CreateDirectory(folder);
        var name = Path.Combine(folder, $"crm-export_{ws.GoldId}_20260610120000.csv");
        await File.WriteAllTextAsync(name, "crm_id\nc1\n", Token);

        ws.Time.Advance(TimeSpan.FromHours(1));
        Assert.True(ws.Activation.ExportDue("prod", ws.Activation.Destinations.Require("prod", "crm-export")));
        var run = await ws.Activation.ExportAsync("prod", "crm-export", Token);
        Assert.Equal(state.InFlight.RunId, run.Id);
        Assert.Equal(started, run.StartedAt);
        Assert.Equal(["c1", "c2", "c3", "c4", "c5", "crm_id"], (await File.ReadAllLinesAsync(name, Token)).Order(StringComparer.Ordinal));
        Assert.Single(Directory.GetFiles(folder));
        Assert.Null(ws.Activation.Log.State("prod", "crm-export").InFlight);
        Assert.False(ws.Activation.ExportDue("prod", ws.Activation.Destinations.Require("prod", "crm-export")));
    }
}

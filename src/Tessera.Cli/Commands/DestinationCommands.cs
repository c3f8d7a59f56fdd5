using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Activation;
using Tessera.Activation.Delivery;
using Tessera.Activation.Destinations;

namespace Tessera.Cli.Commands;

/// <summary>
/// <c>tessera destination create|list|show|update|delete|activate|deactivate|deliver|export|runs|audit|dead-letters|replay</c>:
/// destinations and their monitoring (docs/destinations.md).
/// </summary>
internal static class DestinationCommands
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The destination as JSON (docs/destinations.md)" };
        var create = new Command("create", "Create a destination from a JSON file; its audiences' current members are backfilled on its first delivery") { file };
        create.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var destination = await context.Workspace.Activation.CreateAsync(context.Sandbox, Read(parse.GetValue(file)!), cancellationToken);
            Print(context, destination, $"destination [bold]{Markup.Escape(destination.Name)}[/] created");
            return ExitCodes.Ok;
        });

        var updateFile = new Argument<FileInfo>("file") { Description = "The whole new definition as JSON (its name says which destination)" };
        var update = new Command("update", "Replace a destination's definition; audiences new to it are backfilled") { updateFile };
        update.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var destination = await context.Workspace.Activation.UpdateAsync(context.Sandbox, Read(parse.GetValue(updateFile)!), cancellationToken);
            Print(context, destination, $"destination [bold]{Markup.Escape(destination.Name)}[/] updated (version {destination.Version})");
            return ExitCodes.Ok;
        });

        var list = new Command("list", "List destinations");
        list.WithWorkspace((context, _, _) =>
        {
            var destinations = context.Workspace.Activation.Destinations.List(context.Sandbox);
            if (context.Json)
            {
                CliContext.PrintJson(destinations, ActivationJson.Indented.ListDestination);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("destination", "connector", "audiences", "identities", "consent", "enabled");
            foreach (var d in destinations)
            {
                table.AddRow(Markup.Escape(d.Name), d.Connector, Markup.Escape(string.Join(", ", d.Audiences.Select(a => a.AudienceId))),
                    Markup.Escape(string.Join(", ", d.Identities.Select(i => $"{i.Source}→{i.Target}"))), Markup.Escape(d.Consent ?? "(connector's)"), d.Enabled ? "yes" : "no");
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });

        var showName = Name();
        var show = new Command("show", "Show a destination's definition") { showName };
        show.WithWorkspace((context, parse, _) =>
        {
            CliContext.PrintJson(context.Workspace.Activation.Destinations.Require(context.Sandbox, parse.GetValue(showName)!), ActivationJson.Indented.Destination);
            return Task.FromResult(ExitCodes.Ok);
        });

        var deleteName = Name();
        var delete = new Command("delete", "Delete a destination with its feed cursor, runs, audit log and dead letters") { deleteName };
        delete.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var deleted = await context.Workspace.Activation.DeleteAsync(context.Sandbox, parse.GetValue(deleteName)!, cancellationToken);
            Print(context, deleted, $"destination [bold]{Markup.Escape(deleted.Name)}[/] deleted");
            return ExitCodes.Ok;
        });

        var activateName = Name();
        var activateAudience = new Argument<string>("audience") { Description = "Audience name or id (published)" };
        var externalId = new Option<string?>("--external-id") { Description = "The audience's id on the platform (a Meta custom audience id, ...)" };
        var activate = new Command("activate", "Activate a published audience on a destination (its current members are backfilled)") { activateName, activateAudience, externalId };
        activate.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var destination = await context.Workspace.Activation.ActivateAsync(context.Sandbox, parse.GetValue(activateName)!, parse.GetValue(activateAudience)!, parse.GetValue(externalId), cancellationToken);
            Print(context, destination, $"audience [bold]{Markup.Escape(parse.GetValue(activateAudience)!)}[/] activated on [bold]{Markup.Escape(destination.Name)}[/]");
            return ExitCodes.Ok;
        });

        var deactivateName = Name();
        var deactivateAudience = new Argument<string>("audience") { Description = "Audience name or id" };
        var deactivate = new Command("deactivate", "Stop sending an audience to a destination") { deactivateName, deactivateAudience };
        deactivate.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var destination = await context.Workspace.Activation.DeactivateAsync(context.Sandbox, parse.GetValue(deactivateName)!, parse.GetValue(deactivateAudience)!, cancellationToken);
            Print(context, destination, $"audience [bold]{Markup.Escape(parse.GetValue(deactivateAudience)!)}[/] no longer sent to [bold]{Markup.Escape(destination.Name)}[/]");
            return ExitCodes.Ok;
        });

        var deliverName = Name();
        var deliver = new Command("deliver", "Deliver every pending change of a streaming destination now (the server does this continuously)") { deliverName };
        deliver.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var runs = await context.Workspace.Activation.DrainAsync(context.Sandbox, parse.GetValue(deliverName)!, cancellationToken);
            PrintRuns(context, runs);
            return runs.Any(r => r.Status == RunStatuses.Retrying) ? ExitCodes.Refused : ExitCodes.Ok;
        });

        var exportName = Name();
        var export = new Command("export", "Export a file destination now (the server exports on its schedule)") { exportName };
        export.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var run = await context.Workspace.Activation.ExportAsync(context.Sandbox, parse.GetValue(exportName)!, cancellationToken);
            PrintRuns(context, [run]);
            return run.Status == RunStatuses.Delivered ? ExitCodes.Ok : ExitCodes.Refused;
        });

        var runsName = Name();
        var take = new Option<int>("--take") { Description = "How many runs, newest first", DefaultValueFactory = _ => 20 };
        var runsCommand = new Command("runs", "A destination's runs: received, activated, excluded by reason, failed, retried") { runsName, take };
        runsCommand.WithWorkspace((context, parse, _) =>
        {
            var activation = context.Workspace.Activation;
            var name = activation.Destinations.Require(context.Sandbox, parse.GetValue(runsName)!).Name;
            PrintRuns(context, activation.Log.Runs(context.Sandbox, name, parse.GetValue(take)));
            return Task.FromResult(ExitCodes.Ok);
        });

        var auditName = Name();
        var run = new Option<long?>("--run") { Description = "Only this run" };
        var audit = new Command("audit", "The audit log: every delivery with its audiences, counts and payload SHA-256") { auditName, run };
        audit.WithWorkspace((context, parse, _) =>
        {
            var activation = context.Workspace.Activation;
            var entries = activation.Log.Audit(context.Sandbox, activation.Destinations.Require(context.Sandbox, parse.GetValue(auditName)!).Name, parse.GetValue(run)).ToList();
            if (context.Json)
            {
                CliContext.PrintJson(entries, ActivationJson.Indented.ListDeliveryAudit);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("at", "run", "request", "audiences", "records", "identities", "status", "payload sha-256");
            foreach (var e in entries)
            {
                table.AddRow(e.At.ToString("u"), e.RunId.ToString(), e.Request.ToString(), Markup.Escape(string.Join(", ", e.Audiences)),
                    e.Records.ToString(), e.Identities.ToString(), e.StatusCode?.ToString() ?? "", e.File is null ? e.PayloadSha256 : $"{e.PayloadSha256} ({Markup.Escape(e.File)})");
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });

        var deadName = Name();
        var dead = new Command("dead-letters", "Batches the destination refused for good, with the changes they held") { deadName };
        dead.WithWorkspace((context, parse, _) =>
        {
            var activation = context.Workspace.Activation;
            var letters = activation.Log.DeadLetters(context.Sandbox, activation.Destinations.Require(context.Sandbox, parse.GetValue(deadName)!).Name);
            if (context.Json)
            {
                CliContext.PrintJson(letters, ActivationJson.Indented.ListDeadLetter);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("run", "at", "changes", "error");
            foreach (var letter in letters)
            {
                table.AddRow(letter.RunId.ToString(), letter.At.ToString("u"), letter.Records.Count.ToString(), Markup.Escape(letter.Error));
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });

        var replayName = Name();
        var replay = new Command("replay", "Send the dead-lettered changes again, as what is true now") { replayName };
        replay.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var activation = context.Workspace.Activation;
            var runs = await activation.ReplayAsync(context.Sandbox, activation.Destinations.Require(context.Sandbox, parse.GetValue(replayName)!).Name, cancellationToken);
            PrintRuns(context, runs);
            return runs.All(r => r.Status == RunStatuses.Delivered) ? ExitCodes.Ok : ExitCodes.Refused;
        });

        return new Command("destination", "Destinations: where audiences are activated, and how their delivery went")
            .With(create).With(list).With(show).With(update).With(delete).With(activate).With(deactivate)
            .With(deliver).With(export).With(runsCommand).With(audit).With(dead).With(replay);
    }

    private static Argument<string> Name() => new("name") { Description = "Destination name" };

    private static Destination Read(FileInfo file)
    {
        if (!file.Exists)
        {
            throw new CatalogException("FILE_NOT_FOUND", $"{file.FullName} does not exist");
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(file.FullName), ActivationJson.Default.Destination)
                ?? throw new CatalogException("DESTINATION_INVALID", $"{file.FullName}: the file holds null, not a destination");
        }
        catch (JsonException error)
        {
            throw new CatalogException("DESTINATION_INVALID", $"{file.FullName}: {error.Message}");
        }
    }

    private static void Print(CliContext context, Destination destination, string message)
    {
        if (context.Json)
        {
            CliContext.PrintJson(destination, ActivationJson.Indented.Destination);
        }
        else
        {
            AnsiConsole.MarkupLine(message);
        }
    }

    private static void PrintRuns(CliContext context, List<DeliveryRun> runs)
    {
        if (context.Json)
        {
            CliContext.PrintJson(runs, ActivationJson.Indented.ListDeliveryRun);
            return;
        }
        if (runs.Count == 0)
        {
            AnsiConsole.MarkupLine("no runs");
            return;
        }
        var table = new Table().AddColumns("run", "kind", "status", "started", "received", "activated", "excluded", "failed", "retried", "error");
        foreach (var r in runs)
        {
            table.AddRow(r.Id.ToString(), r.Kind, r.Status, r.StartedAt.ToString("u"), r.Received.ToString(), r.Activated.ToString(),
                Markup.Escape(string.Join(", ", r.Excluded.Select(e => $"{e.Key} {e.Value}"))), r.Failed.ToString(), r.Retried.ToString(), Markup.Escape(r.Error ?? ""));
        }
        AnsiConsole.Write(table);
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tessera.Profiles.Privacy;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera privacy access|delete|show|list</c>: privacy requests about a person.</summary>
internal static class PrivacyCommands
{
    public static Command Create() =>
        new Command("privacy", "Privacy requests: export (access) or delete everything held about a person")
            .With(Access()).With(Delete()).With(Show()).With(List());

    private static Command Access()
    {
        var identities = IdentitiesArgument();
        var output = new Option<FileInfo?>("--out") { Description = "Write the export (JSON) to this file instead of standard output" };
        var command = new Command("access", "Export everything held about the person these identities name (their graphs included), as JSON") { identities, output };
        command.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var request = await SubmitAsync(context, PrivacyRequestTypes.Access, parse.GetValue(identities)!);
            if (request.Status != PrivacyRequestStatus.Completed)
            {
                return Failed(request, context.Json);
            }
            var file = parse.GetValue(output);
            if (file is not null)
            {
                await File.WriteAllBytesAsync(file.FullName, JsonSerializer.SerializeToUtf8Bytes(request.Export!, PrivacyJson.Indented.PrivacyExport), cancellationToken);
            }
            if (context.Json)
            {
                // With --out the export is in the file: print the request and its receipt only.
                CliContext.PrintJson(file is null ? request : request with { Export = null }, PrivacyJson.Indented.PrivacyRequest);
                return ExitCodes.Ok;
            }
            if (file is null)
            {
                CliContext.PrintJson(request.Export!, PrivacyJson.Indented.PrivacyExport);
                return ExitCodes.Ok;
            }
            PrintRequest(request);
            AnsiConsole.MarkupLine($"export written to [bold]{Markup.Escape(file.FullName)}[/]");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Delete()
    {
        var identities = IdentitiesArgument();
        var command = new Command("delete", "Delete every record version, event, link and quarantined row of the person these identities name (their graphs included)") { identities };
        command.WithWorkspace(async (context, parse, _) =>
        {
            var request = await SubmitAsync(context, PrivacyRequestTypes.Delete, parse.GetValue(identities)!);
            if (request.Status != PrivacyRequestStatus.Completed)
            {
                return Failed(request, context.Json);
            }
            if (context.Json)
            {
                CliContext.PrintJson(request, PrivacyJson.Indented.PrivacyRequest);
                return ExitCodes.Ok;
            }
            PrintRequest(request);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "Request id (from privacy list)" };
        var command = new Command("show", "One privacy request: status, times and receipt") { id };
        command.WithWorkspace((context, parse, _) =>
        {
            var request = context.Workspace.Privacy.Require(context.Sandbox, parse.GetValue(id)!);
            if (context.Json)
            {
                CliContext.PrintJson(request, PrivacyJson.Indented.PrivacyRequest);
                return Task.FromResult(ExitCodes.Ok);
            }
            PrintRequest(request);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "The sandbox's privacy requests, newest first");
        command.WithWorkspace((context, _, _) =>
        {
            List<PrivacyRequest> requests = [.. context.Workspace.Privacy.List(context.Sandbox)];
            if (context.Json)
            {
                CliContext.PrintJson(requests, PrivacyJson.Indented.ListPrivacyRequest);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("id", "type", "status", "identities", "created", "completed");
            foreach (var request in requests)
            {
                table.AddRow(Markup.Escape(request.Id), request.Type, Status(request.Status), Markup.Escape(string.Join(", ", request.Identities)),
                    request.CreatedAt.ToString("u", CultureInfo.InvariantCulture), request.CompletedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "");
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Argument<string[]> IdentitiesArgument() => new("identities")
    {
        Description = "Namespace:value, one or more (e.g. Email:ann@example.com CRMID:123)",
        Arity = ArgumentArity.OneOrMore,
    };

    private static Task<PrivacyRequest> SubmitAsync(CliContext context, string type, string[] identities)
    {
        var keys = identities.Select(i => context.Workspace.ParseIdentity(context.Sandbox, i)).ToList();
        // Not the command's token: a delete that has started runs to its end.
        return context.Workspace.Privacy.SubmitAsync(context.Sandbox, type, keys, CancellationToken.None);
    }

    private static int Failed(PrivacyRequest request, bool json)
    {
        if (json)
        {
            CliContext.PrintJson(request, PrivacyJson.Indented.PrivacyRequest);
        }
        return CommandExtensions.Fail("PRIVACY_REQUEST_FAILED", $"privacy request {request.Id} failed: {request.Error}");
    }

    private static void PrintRequest(PrivacyRequest request)
    {
        AnsiConsole.MarkupLine($"{request.Type} request [bold]{Markup.Escape(request.Id)}[/]: {Status(request.Status)}"
            + (request.Error is null ? "" : $" ({Markup.Escape(request.Error)})"));
        AnsiConsole.MarkupLine($"named: {Markup.Escape(string.Join(", ", request.Identities))}");
        if (request.Receipt is not { } receipt)
        {
            return;
        }
        AnsiConsole.MarkupLine($"person: {Markup.Escape(string.Join(", ", receipt.Identities))}");
        var table = new Table().AddColumns("store", receipt.Action);
        table.AddRow("facts: record versions", Count(receipt.RecordVersions));
        table.AddRow("facts: events", Count(receipt.Events));
        table.AddRow("facts: timeline keys", Count(receipt.TimelineKeys));
        table.AddRow("identity ledger: entries", receipt.Action == "removed"
            ? $"{Count(receipt.LedgerEntriesRemoved)} removed, {Count(receipt.LedgerEntriesRewritten)} rewritten"
            : Count(receipt.LedgerEntries));
        table.AddRow("identity graph: identities", $"{Count(receipt.GraphIdentitiesBefore)} → {Count(receipt.GraphIdentitiesAfter)}");
        table.AddRow("quarantine: rows", Count(receipt.QuarantineRows));
        table.AddRow("audience memberships", receipt.Action == "removed"
            ? $"{Count(receipt.Memberships)} removed, {Count(receipt.MembershipsExited)} exited ({Markup.Escape(receipt.MembershipsNote)})"
            : $"{Count(receipt.Memberships)} ({Markup.Escape(receipt.MembershipsNote)})");
        if (receipt.Action == "removed")
        {
            table.AddRow("membership feed: changes", $"{Count(receipt.FeedEntriesScrubbed)} scrubbed, {Count(receipt.FeedEntriesHeld)} held for consumers");
        }
        AnsiConsole.Write(table);
    }

    private static string Status(string status) => status switch
    {
        PrivacyRequestStatus.Completed => "[green]completed[/]",
        PrivacyRequestStatus.Failed => "[red]failed[/]",
        _ => "[yellow]processing[/]",
    };

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);
}

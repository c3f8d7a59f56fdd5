using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Profiles;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera profile show</c>: a unified profile by any of its identities.</summary>
internal static class ProfileCommands
{
    public static Command Create()
    {
        var profile = new Command("profile", "Unified profiles: lookup by identity");
        profile.Subcommands.Add(Show());
        profile.Subcommands.Add(Expire());
        return profile;
    }

    private static Command Show()
    {
        var identity = new Argument<string>("identity") { Description = "Namespace:value, e.g. Email:ann@example.com" };
        var policy = new Option<string?>("--policy") { Description = "Merge policy (default: the sandbox's default)" };
        var events = new Option<int>("--events") { Description = "Newest events to show (0 to 1000)", DefaultValueFactory = _ => 10 };
        var before = new Option<string?>("--before") { Description = "Show events after this cursor (the 'next' of a previous page)" };
        var command = new Command("show", "The merged profile of an identity: attributes and their sources, identities, newest events")
        {
            identity, policy, events, before,
        };
        command.WithWorkspace((context, parse, _) =>
        {
            var count = parse.GetValue(events);
            if (count is < 0 or > 1000)
            {
                throw new CatalogException("PARAMETER_INVALID", $"--events must be between 0 and 1000, not {count}");
            }
            var sandbox = context.Sandbox;
            var key = context.Workspace.ParseIdentity(sandbox, parse.GetValue(identity)!);
            var report = context.Workspace.Profiles.Lookup(sandbox, key, parse.GetValue(policy), count, parse.GetValue(before))
                ?? throw new CatalogException("PROFILE_NOT_FOUND", $"no profile of sandbox '{sandbox}' holds anything about {key}");
            if (context.Json)
            {
                CliContext.PrintJson(report, ProfileJson.Default.ProfileReport);
                return Task.FromResult(ExitCodes.Ok);
            }
            Print(report);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command Expire()
    {
        var command = new Command("expire", "Delete events past their dataset's TTL from the store (profiles already leave them out)");
        command.WithWorkspace(async (context, _, cancellationToken) =>
        {
            var report = await context.Workspace.Profiles.ExpireAsync(context.Sandbox, cancellationToken);
            if (context.Json)
            {
                CliContext.PrintJson(report, ProfileJson.Default.ExpiryReport);
                return ExitCodes.Ok;
            }
            AnsiConsole.MarkupLine(report.DatasetsWithTtl.Count == 0
                ? $"no dataset of sandbox [bold]{Markup.Escape(report.Sandbox)}[/] has an event TTL"
                : $"{report.EventsExpired:N0} events expired ({Markup.Escape(string.Join(", ", report.DatasetsWithTtl))})");
            if (report.DatasetsWithInvalidTtl is { } invalid)
            {
                AnsiConsole.MarkupLine($"[yellow]warning:[/] events kept, not expired, because the stored event TTL is out of bounds: {Markup.Escape(string.Join("; ", invalid))}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(ProfileReport report)
    {
        AnsiConsole.MarkupLine($"profile of [bold]{Markup.Escape(report.Identity)}[/] (merge policy [bold]{Markup.Escape(report.MergePolicy)}[/]), primary [bold]{Markup.Escape(report.Primary)}[/]");
        AnsiConsole.MarkupLine($"identities: {Markup.Escape(string.Join(", ", report.Identities))}");
        var attributes = new Table().AddColumns("attribute", "value", "dataset", "batch", "time", "identity");
        foreach (var source in report.Sources)
        {
            attributes.AddRow(Markup.Escape(source.Path), Markup.Escape(ValueAt(report, source.Path)), Markup.Escape(source.Dataset),
                Markup.Escape(source.Batch), source.Time.ToString("u"), Markup.Escape(source.Identity));
        }
        AnsiConsole.Write(attributes);
        var timeline = report.Timeline;
        AnsiConsole.MarkupLine($"events: {timeline.Count}{(timeline.CapReached ? " [yellow](event cap reached: older events left out)[/]" : "")}");
        if (timeline.Events.Count > 0)
        {
            var table = new Table().AddColumns("time", "dataset", "_id", "identity");
            foreach (var e in timeline.Events)
            {
                table.AddRow(e.Timestamp.ToString("u"), Markup.Escape(e.Dataset), Markup.Escape(e.Id), Markup.Escape(e.Identity));
            }
            AnsiConsole.Write(table);
        }
        if (timeline.Next is not null)
        {
            AnsiConsole.MarkupLine($"more events: --before {Markup.Escape(timeline.Next)}");
        }
    }

    private static string ValueAt(ProfileReport report, string path)
    {
        System.Text.Json.Nodes.JsonNode? node = report.Attributes;
        foreach (var part in path.Split('.'))
        {
            node = node is System.Text.Json.Nodes.JsonObject o ? o[part] : null;
        }
        return node?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "";
    }
}

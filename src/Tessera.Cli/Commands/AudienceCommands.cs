using System.CommandLine;
using Spectre.Console;
using Tessera.Segmentation;
using Tessera.Segmentation.Audiences;

namespace Tessera.Cli.Commands;

/// <summary>
/// <c>tessera audience create|list|show|update|publish|deactivate|delete</c>: the audience catalog
/// (limits: <c>segmentation.maxAudiences</c>, <c>maxStreamingAudiences</c>, <c>maxEdgeAudiences</c>).
/// </summary>
internal static class AudienceCommands
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Audience name (a letter, then letters, digits, '_' or '-')" };
        var pql = new Option<string>("--pql") { Description = "The condition, in PQL", Required = true };
        var description = new Option<string?>("--description") { Description = "What the audience is for" };
        var policy = new Option<string?>("--policy") { Description = "Merge policy to read profiles with (default: the sandbox's default)" };
        var id = new Option<string?>("--id") { Description = "Id to give it (what inSegment names; default: a new UUID)" };
        var publish = new Option<bool>("--publish") { Description = "Publish it right away" };
        var create = new Command("create", "Create an audience (a draft unless --publish)") { name, pql, description, policy, id, publish };
        create.WithWorkspace(async (context, parse, _) =>
        {
            var audiences = context.Workspace.Audiences;
            var audience = await audiences.CreateAsync(context.Sandbox, parse.GetValue(name)!, parse.GetValue(pql)!,
                parse.GetValue(description), parse.GetValue(policy), parse.GetValue(id));
            if (parse.GetValue(publish))
            {
                audience = await audiences.PublishAsync(context.Sandbox, audience.Id);
            }
            Print(context, audience, $"audience [bold]{Markup.Escape(audience.Name)}[/] created ({Markup.Escape(audience.Id)}): {Summary(audience)}");
            return ExitCodes.Ok;
        });

        var state = new Option<string?>("--state") { Description = "Only audiences in this state: draft, published, inactive or deleted (default: all but deleted)" };
        state.AcceptOnlyFromAmong("draft", "published", "inactive", "deleted");
        var list = new Command("list", "List audiences") { state };
        list.WithWorkspace((context, parse, _) =>
        {
            var filter = parse.GetValue(state) is { } text ? Enum.Parse<AudienceState>(text, ignoreCase: true) : (AudienceState?)null;
            var audiences = context.Workspace.Audiences.List(context.Sandbox, filter);
            if (context.Json)
            {
                CliContext.PrintJson(audiences, AudienceJson.Indented.ListAudience);
                return Task.FromResult(ExitCodes.Ok);
            }
            if (audiences.Count == 0)
            {
                AnsiConsole.MarkupLine("no audiences");
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("audience", "id", "state", "mode", "merge policy", "reads", "updated");
            foreach (var audience in audiences)
            {
                table.AddRow(Markup.Escape(audience.Name), Markup.Escape(audience.Id), AudienceCatalog.StateName(audience.State), audience.Mode,
                    Markup.Escape(audience.MergePolicy ?? "(default)"), Markup.Escape(string.Join(", ", audience.DependsOn)), audience.UpdatedAt.ToString("u"));
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });

        var showName = new Argument<string>("audience") { Description = "Audience name or id" };
        var show = new Command("show", "Show an audience: its expression, state, mode and why, and the audiences it reads") { showName };
        show.WithWorkspace((context, parse, _) =>
        {
            var audience = context.Workspace.Audiences.Require(context.Sandbox, parse.GetValue(showName)!);
            if (context.Json)
            {
                CliContext.PrintJson(audience, AudienceJson.Indented.Audience);
                return Task.FromResult(ExitCodes.Ok);
            }
            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("name", Markup.Escape(audience.Name));
            grid.AddRow("id", Markup.Escape(audience.Id));
            if (audience.Description is { } text)
            {
                grid.AddRow("description", Markup.Escape(text));
            }
            grid.AddRow("state", AudienceCatalog.StateName(audience.State));
            grid.AddRow("pql", Markup.Escape(audience.Pql));
            grid.AddRow("merge policy", Markup.Escape(audience.MergePolicy ?? "(the sandbox's default)"));
            grid.AddRow("mode", audience.Mode);
            grid.AddRow("why", Markup.Escape(string.Join(Environment.NewLine, audience.Reasons)));
            grid.AddRow("reads", Markup.Escape(audience.DependsOn.Count == 0 ? "-" : string.Join(", ", audience.DependsOn)));
            grid.AddRow("created", audience.CreatedAt.ToString("u"));
            grid.AddRow("updated", $"{audience.UpdatedAt:u} (version {audience.Version})");
            AnsiConsole.Write(grid);
            return Task.FromResult(ExitCodes.Ok);
        });

        var updateName = new Argument<string>("audience") { Description = "Audience name or id" };
        var newPql = new Option<string?>("--pql") { Description = "The new condition" };
        var newDescription = new Option<string?>("--description") { Description = "The new description (\"\" clears it)" };
        var newPolicy = new Option<string?>("--policy") { Description = "The new merge policy (\"\" goes back to the sandbox's default)" };
        var update = new Command("update", "Change an audience's expression, description or merge policy") { updateName, newPql, newDescription, newPolicy };
        update.WithWorkspace(async (context, parse, _) =>
        {
            var audience = await context.Workspace.Audiences.UpdateAsync(context.Sandbox, parse.GetValue(updateName)!,
                parse.GetValue(newPql), parse.GetValue(newDescription), parse.GetValue(newPolicy));
            Print(context, audience, $"audience [bold]{Markup.Escape(audience.Name)}[/] updated: {Summary(audience)}");
            return ExitCodes.Ok;
        });

        return new Command("audience", "Audiences: PQL conditions over unified profiles, their states and evaluation modes")
            .With(create).With(list).With(show).With(update)
            .With(Transition("publish", "Publish an audience (every audience it reads must be published)", "published",
                (audiences, sandbox, audience) => audiences.PublishAsync(sandbox, audience)))
            .With(Transition("deactivate", "Take a published audience out of evaluation (published → inactive)", "deactivated",
                (audiences, sandbox, audience) => audiences.DeactivateAsync(sandbox, audience)))
            .With(Transition("delete", "Delete an audience (refused while another audience reads it)", "deleted",
                (audiences, sandbox, audience) => audiences.DeleteAsync(sandbox, audience)))
            .With(Evaluate()).With(Members());
    }

    /// <summary><c>tessera audience evaluate [AUDIENCE]</c>: a batch run now, the changes to the membership feed.</summary>
    private static Command Evaluate()
    {
        var name = new Argument<string?>("audience") { Description = "Only this audience (name or id; default: every published audience)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("evaluate", "Evaluate published audiences over every profile now (a batch run); memberships and the feed follow") { name };
        command.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var sandbox = context.Sandbox;
            IReadOnlyCollection<string>? only = parse.GetValue(name) is { } chosen ? [context.Workspace.Audiences.Require(sandbox, chosen).Id] : null;
            var report = await context.Workspace.Batch.RunAsync(sandbox, only, cancellationToken);
            if (context.Json)
            {
                CliContext.PrintJson(report, AudienceJson.Indented.BatchRunReport);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("audience", "members");
            foreach (var (audience, members) in report.Members.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                table.AddRow(Markup.Escape(audience), $"{members:N0}");
            }
            AnsiConsole.MarkupLine($"{report.Profiles:N0} profiles evaluated in {report.Took.TotalSeconds:0.00} s at {report.At:u}");
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>tessera audience members AUDIENCE</c>: the current members.</summary>
    private static Command Members()
    {
        var name = new Argument<string>("audience") { Description = "Audience name or id" };
        var command = new Command("members", "The audience's current members (realized and existing)") { name };
        command.WithWorkspace((context, parse, _) =>
        {
            var sandbox = context.Sandbox;
            var id = context.Workspace.Audiences.Require(sandbox, parse.GetValue(name)!).Id;
            var members = context.Workspace.Memberships.Members(sandbox, id).ToList();
            if (context.Json)
            {
                CliContext.PrintJson(members, AudienceJson.Indented.ListMembership);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("profile", "status", "last qualified", "identities");
            foreach (var member in members)
            {
                table.AddRow(Markup.Escape(member.ProfileId), AudienceCatalog.StatusName(member.Status), member.LastQualifiedAt.ToString("u"),
                    Markup.Escape(string.Join(", ", member.Identities)));
            }
            AnsiConsole.MarkupLine($"{members.Count:N0} members");
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command Transition(string verb, string description, string done, Func<AudienceCatalog, string, string, Task<Audience>> apply)
    {
        var name = new Argument<string>("audience") { Description = "Audience name or id" };
        var command = new Command(verb, description) { name };
        command.WithWorkspace(async (context, parse, _) =>
        {
            var audience = await apply(context.Workspace.Audiences, context.Sandbox, parse.GetValue(name)!);
            Print(context, audience, $"audience [bold]{Markup.Escape(audience.Name)}[/] {done}: {Summary(audience)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>State, mode and the deciding reason, markup-escaped.</summary>
    private static string Summary(Audience audience) =>
        Markup.Escape($"{AudienceCatalog.StateName(audience.State)}, {audience.Mode}" + (audience.Reasons.Count > 0 ? $" ({audience.Reasons[0]})" : ""));

    private static void Print(CliContext context, Audience audience, string markup)
    {
        if (context.Json)
        {
            CliContext.PrintJson(audience, AudienceJson.Indented.Audience);
        }
        else
        {
            AnsiConsole.MarkupLine(markup);
        }
    }
}

using System.CommandLine;
using Spectre.Console;
using Tessera.Abstractions;
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
            .With(Evaluate()).With(Members())
            .With(Estimate()).With(Preview()).With(Overlap()).With(History());
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
            AnsiConsole.MarkupLine($"{report.Profiles:N0} profiles evaluated in {report.Took.TotalSeconds:0.00} s at {report.At:u}; "
                + $"the event conditions of {report.Columnar?.Count ?? 0} of {report.Members.Count} audiences answered in columns");
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

    /// <summary>The audience argument and the <c>--pql</c> option of estimate and preview: one of the two.</summary>
    private static (Argument<string?> Audience, Option<string?> Pql, Option<string?> Policy) Target()
    {
        var audience = new Argument<string?>("audience") { Description = "Audience name or id (or --pql)", Arity = ArgumentArity.ZeroOrOne };
        var pql = new Option<string?>("--pql") { Description = "A draft condition, in PQL, instead of an audience" };
        var policy = new Option<string?>("--policy") { Description = "Merge policy to read profiles with, for --pql (default: the sandbox's default)" };
        return (audience, pql, policy);
    }

    private static string? Chosen(ParseResult parse, Argument<string?> audience, Option<string?> pql)
    {
        var (name, text) = (parse.GetValue(audience), parse.GetValue(pql));
        if ((name is null) == (text is null))
        {
            throw new CatalogException("PARAMETER_INVALID", "give an audience or --pql, not both");
        }
        return name;
    }

    /// <summary><c>tessera audience estimate AUDIENCE | --pql EXPR [--sample N]</c>.</summary>
    private static Command Estimate()
    {
        var (audience, pql, policy) = Target();
        var sample = new Option<int>("--sample") { Description = "Profiles to sample (the whole population when it is smaller)", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the sample (the same seed draws the same sample)" };
        var command = new Command("estimate", "Estimate how many profiles an audience or a draft matches, with a 95% interval, from a sample") { audience, pql, policy, sample, seed };
        command.WithWorkspace((context, parse, cancellationToken) =>
        {
            var estimator = context.Workspace.Estimator;
            var estimate = Chosen(parse, audience, pql) is { } name
                ? estimator.EstimateAudience(context.Sandbox, name, parse.GetValue(sample), parse.GetValue(seed), cancellationToken)
                : estimator.EstimatePql(context.Sandbox, parse.GetValue(pql)!, parse.GetValue(policy), parse.GetValue(sample), parse.GetValue(seed), cancellationToken);
            if (context.Json)
            {
                CliContext.PrintJson(estimate, AudienceJson.Indented.SizeEstimate);
                return Task.FromResult(ExitCodes.Ok);
            }
            var exact = estimate.Sampled >= estimate.Profiles;
            AnsiConsole.MarkupLine(exact
                ? $"[bold]{estimate.Estimate:N0}[/] of {estimate.Profiles:N0} profiles (every profile read, exact)"
                : $"[bold]{estimate.Estimate:N0}[/] of {estimate.Profiles:N0} profiles (95%: {estimate.Low:N0} to {estimate.High:N0})");
            AnsiConsole.MarkupLine($"{estimate.Matched:N0} of {estimate.Sampled:N0} sampled match ({estimate.Share:P2}), in {estimate.Took.TotalSeconds:0.000} s");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary><c>tessera audience preview AUDIENCE | --pql EXPR [--count N]</c>.</summary>
    private static Command Preview()
    {
        var (audience, pql, policy) = Target();
        var count = new Option<int>("--count") { Description = "Profiles to show", DefaultValueFactory = _ => 20 };
        var command = new Command("preview", "The first matching profiles (in key order) of an audience or a draft, with their attributes") { audience, pql, policy, count };
        command.WithWorkspace((context, parse, cancellationToken) =>
        {
            var estimator = context.Workspace.Estimator;
            var preview = Chosen(parse, audience, pql) is { } name
                ? estimator.PreviewAudience(context.Sandbox, name, parse.GetValue(count), cancellationToken)
                : estimator.PreviewPql(context.Sandbox, parse.GetValue(pql)!, parse.GetValue(policy), parse.GetValue(count), cancellationToken);
            if (context.Json)
            {
                CliContext.PrintJson(preview, AudienceJson.Indented.Preview);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("profile", "identities", "attributes");
            foreach (var profile in preview.Profiles)
            {
                table.AddRow(Markup.Escape(profile.Primary), Markup.Escape(string.Join(", ", profile.Identities)), Markup.Escape(profile.Attributes.ToJsonString()));
            }
            AnsiConsole.MarkupLine($"{preview.Profiles.Count:N0} matching of {preview.Scanned:N0} profiles read, in {preview.Took.TotalSeconds:0.000} s");
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary><c>tessera audience overlap A B</c>: from current memberships.</summary>
    private static Command Overlap()
    {
        var a = new Argument<string>("a") { Description = "Audience name or id" };
        var b = new Argument<string>("b") { Description = "Audience name or id" };
        var command = new Command("overlap", "How many current members two audiences have, each and in common") { a, b };
        command.WithWorkspace((context, parse, _) =>
        {
            var overlap = context.Workspace.Estimator.Overlap(context.Sandbox, parse.GetValue(a)!, parse.GetValue(b)!);
            if (context.Json)
            {
                CliContext.PrintJson(overlap, AudienceJson.Indented.AudienceOverlap);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("a", "b", "both", "jaccard");
            table.AddRow($"{overlap.MembersA:N0}", $"{overlap.MembersB:N0}", $"{overlap.Both:N0}", $"{overlap.Jaccard:0.0000}");
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary><c>tessera audience history AUDIENCE</c>: its size after each batch run.</summary>
    private static Command History()
    {
        var name = new Argument<string>("audience") { Description = "Audience name or id" };
        var command = new Command("history", "The audience's size after each batch run, oldest first") { name };
        command.WithWorkspace((context, parse, _) =>
        {
            var id = context.Workspace.Audiences.Require(context.Sandbox, parse.GetValue(name)!).Id;
            var history = context.Workspace.SizeHistory.History(context.Sandbox, id);
            if (context.Json)
            {
                CliContext.PrintJson(history, AudienceJson.Indented.ListAudienceSize);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("at", "members");
            foreach (var size in history)
            {
                table.AddRow(size.At.ToString("u"), $"{size.Members:N0}");
            }
            AnsiConsole.MarkupLine($"{history.Count:N0} batch runs");
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

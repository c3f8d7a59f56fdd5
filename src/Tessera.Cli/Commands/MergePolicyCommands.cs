using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera merge-policy create|list|show|set-default|delete</c> (limit: <c>profiles.maxMergePolicies</c>).</summary>
internal static class MergePolicyCommands
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Merge policy name" };
        var precedence = new Option<string?>("--precedence")
        {
            Description = "Dataset precedence, highest first (ds1,ds2); unlisted datasets are left out. Without it the newest value wins",
        };
        var noStitching = new Option<bool>("--no-stitching") { Description = "One profile per primary identity instead of one per identity graph" };
        var makeDefault = new Option<bool>("--default") { Description = "Make it the sandbox's default (the first policy always is)" };
        var create = new Command("create", "Create a merge policy") { name, precedence, noStitching, makeDefault };
        create.WithWorkspace(async (context, parse, _) =>
        {
            var datasets = parse.GetValue(precedence) is { } list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : null;
            var policy = await context.Workspace.Catalog.CreateMergePolicyAsync(context.Sandbox, new MergePolicy
            {
                Name = parse.GetValue(name)!,
                AttributeMerge = datasets is null ? AttributeMerge.Timestamp : AttributeMerge.DatasetPrecedence,
                Datasets = datasets,
                Stitching = parse.GetValue(noStitching) ? IdentityStitching.None : IdentityStitching.Graph,
                Default = parse.GetValue(makeDefault),
            }, context.Workspace.Config.Profiles.MaxMergePolicies);
            Print(context, policy, $"merge policy [bold]{Markup.Escape(policy.Name)}[/] created: {Markup.Escape(Describe(policy))}");
            return ExitCodes.Ok;
        });

        var list = new Command("list", "List merge policies");
        list.WithWorkspace((context, _, _) =>
        {
            var policies = context.Workspace.Catalog.ListMergePolicies(context.Sandbox);
            if (context.Json)
            {
                CliContext.PrintJson(policies, CatalogJson.Indented.ListMergePolicy);
                return Task.FromResult(ExitCodes.Ok);
            }
            if (policies.Count == 0)
            {
                AnsiConsole.MarkupLine($"no merge policies; lookups use the built-in default: {Markup.Escape(Describe(MergePolicy.BuiltInDefault with { Default = false }))}");
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("policy", "default", "attribute merge", "datasets", "stitching", "created");
            foreach (var policy in policies)
            {
                table.AddRow(Markup.Escape(policy.Name), policy.Default ? "yes" : "", Name(policy.AttributeMerge),
                    Markup.Escape(policy.Datasets is { } datasets ? string.Join(" > ", datasets) : "-"), Name(policy.Stitching), policy.CreatedAt.ToString("u"));
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });

        var showName = new Argument<string>("name");
        var show = new Command("show", "Show a merge policy") { showName };
        show.WithWorkspace((context, parse, _) =>
        {
            var policy = context.Workspace.Catalog.ResolveMergePolicy(context.Sandbox, parse.GetValue(showName)!);
            Print(context, policy, $"merge policy [bold]{Markup.Escape(policy.Name)}[/]: {Markup.Escape(Describe(policy))}, created {policy.CreatedAt:u}");
            return Task.FromResult(ExitCodes.Ok);
        });

        var defaultName = new Argument<string>("name");
        var setDefault = new Command("set-default", "Make a merge policy the sandbox's default (the old default stops being one)") { defaultName };
        setDefault.WithWorkspace(async (context, parse, _) =>
        {
            var policy = await context.Workspace.Catalog.SetDefaultMergePolicyAsync(context.Sandbox, parse.GetValue(defaultName)!);
            Print(context, policy, $"merge policy [bold]{Markup.Escape(policy.Name)}[/] is the default of sandbox {Markup.Escape(context.Sandbox)}");
            return ExitCodes.Ok;
        });

        var deleteName = new Argument<string>("name");
        var delete = new Command("delete", "Delete a merge policy (the default only when it is the last one)") { deleteName };
        delete.WithWorkspace(async (context, parse, _) =>
        {
            var policy = await context.Workspace.Catalog.DeleteMergePolicyAsync(context.Sandbox, parse.GetValue(deleteName)!);
            Print(context, policy, $"merge policy [bold]{Markup.Escape(policy.Name)}[/] deleted");
            return ExitCodes.Ok;
        });

        return new Command("merge-policy", "Merge policies: which value wins in a unified profile, and whether identities are stitched")
            .With(create).With(list).With(show).With(setDefault).With(delete);
    }

    /// <summary>One line: how values are picked and which fragments form a profile.</summary>
    private static string Describe(MergePolicy policy) =>
        (policy.AttributeMerge == AttributeMerge.DatasetPrecedence && policy.Datasets is { } datasets
            ? $"dataset precedence {string.Join(" > ", datasets)}"
            : "newest value wins (timestamp)")
        + (policy.Stitching == IdentityStitching.Graph ? ", stitched over the identity graph" : ", no stitching (one profile per primary identity)")
        + (policy.Default ? ", default" : "");

    private static string Name(AttributeMerge merge) => JsonSerializer.Serialize(merge, CatalogJson.Default.AttributeMerge).Trim('"');

    private static string Name(IdentityStitching stitching) => JsonSerializer.Serialize(stitching, CatalogJson.Default.IdentityStitching).Trim('"');

    private static void Print(CliContext context, MergePolicy policy, string markup)
    {
        if (context.Json)
        {
            CliContext.PrintJson(policy, CatalogJson.Indented.MergePolicy);
        }
        else
        {
            AnsiConsole.MarkupLine(markup);
        }
    }
}

using System.CommandLine;
using Spectre.Console;
using Tessera.Activation;
using Tessera.Activation.Governance;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera governance label|labels|policy</c>: data usage labels and the policies destinations are checked against (docs/governance.md).</summary>
internal static class GovernanceCommands
{
    public static Command Create()
    {
        var dataset = new Argument<string>("dataset") { Description = "Dataset to label (all its data, or one field with --field)" };
        var labels = new Argument<string[]>("labels") { Description = "Labels (for example C2 C5 I1)", Arity = ArgumentArity.OneOrMore };
        var field = new Option<string?>("--field") { Description = "A dotted field path of the dataset's schema (the label covers the fields below it)" };
        var remove = new Option<bool>("--remove") { Description = "Remove these labels instead of adding them" };
        var label = new Command("label", "Add (or --remove) data usage labels on a dataset or one of its fields") { dataset, labels, field, remove };
        label.WithWorkspace(async (context, parse, _) =>
        {
            var result = await context.Workspace.Activation.Governance.LabelAsync(context.Sandbox, parse.GetValue(dataset)!, parse.GetValue(field), parse.GetValue(labels)!, parse.GetValue(remove));
            PrintLabels(context, result);
            return ExitCodes.Ok;
        });

        var list = new Command("labels", "The sandbox's data usage labels");
        list.WithWorkspace((context, _, _) =>
        {
            PrintLabels(context, context.Workspace.Activation.Governance.Labels(context.Sandbox));
            return Task.FromResult(ExitCodes.Ok);
        });

        var name = new Argument<string>("name") { Description = "Policy name" };
        var policyLabels = new Option<string[]>("--labels") { Description = "Labels the policy restricts", Required = true, AllowMultipleArgumentsPerToken = true };
        var actions = new Option<string[]>("--actions") { Description = "Marketing actions they must not be used for", Required = true, AllowMultipleArgumentsPerToken = true };
        var match = new Option<string>("--match") { Description = "any: one label is enough; all: only all of them together", DefaultValueFactory = _ => "any" };
        match.AcceptOnlyFromAmong("any", "all");
        var description = new Option<string?>("--description") { Description = "What the policy is for" };
        var disabled = new Option<bool>("--disabled") { Description = "Save it switched off" };
        var save = new Command("save", "Create or replace a data usage policy") { name, policyLabels, actions, match, description, disabled };
        save.WithWorkspace(async (context, parse, _) =>
        {
            var policy = await context.Workspace.Activation.Governance.SavePolicyAsync(context.Sandbox, new UsagePolicy
            {
                Name = parse.GetValue(name)!,
                Labels = [.. parse.GetValue(policyLabels)!],
                Actions = [.. parse.GetValue(actions)!],
                Match = parse.GetValue(match)!,
                Description = parse.GetValue(description),
                Enabled = !parse.GetValue(disabled),
            });
            if (context.Json)
            {
                CliContext.PrintJson(policy, ActivationJson.Indented.UsagePolicy);
            }
            else
            {
                AnsiConsole.MarkupLine($"policy [bold]{Markup.Escape(policy.Name)}[/] saved");
            }
            return ExitCodes.Ok;
        });

        var policies = new Command("list", "The sandbox's data usage policies");
        policies.WithWorkspace((context, _, _) =>
        {
            var all = context.Workspace.Activation.Governance.Policies(context.Sandbox);
            if (context.Json)
            {
                CliContext.PrintJson(all, ActivationJson.Indented.ListUsagePolicy);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("policy", "labels", "match", "forbidden for", "enabled");
            foreach (var p in all)
            {
                table.AddRow(Markup.Escape(p.Name), Markup.Escape(string.Join(", ", p.Labels)), p.Match, Markup.Escape(string.Join(", ", p.Actions)), p.Enabled ? "yes" : "no");
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });

        var deleteName = new Argument<string>("name") { Description = "Policy name" };
        var delete = new Command("delete", "Delete a data usage policy") { deleteName };
        delete.WithWorkspace(async (context, parse, _) =>
        {
            await context.Workspace.Activation.Governance.DeletePolicyAsync(context.Sandbox, parse.GetValue(deleteName)!);
            AnsiConsole.MarkupLine($"policy [bold]{Markup.Escape(parse.GetValue(deleteName)!)}[/] deleted");
            return ExitCodes.Ok;
        });

        return new Command("governance", "Data usage labels and policies: what data may be used for which marketing action")
            .With(label).With(list)
            .With(new Command("policy", "Data usage policies").With(save).With(policies).With(delete));
    }

    private static void PrintLabels(CliContext context, DataLabels labels)
    {
        if (context.Json)
        {
            CliContext.PrintJson(labels, ActivationJson.Indented.DataLabels);
            return;
        }
        var table = new Table().AddColumns("on", "labels");
        foreach (var (dataset, values) in labels.Datasets.Where(d => d.Value.Count > 0))
        {
            table.AddRow($"dataset {Markup.Escape(dataset)}", Markup.Escape(string.Join(", ", values)));
        }
        foreach (var (schema, fields) in labels.Fields)
        {
            foreach (var (path, values) in fields.Where(f => f.Value.Count > 0))
            {
                table.AddRow($"schema {Markup.Escape(schema)} field {Markup.Escape(path)}", Markup.Escape(string.Join(", ", values)));
            }
        }
        AnsiConsole.Write(table);
    }
}

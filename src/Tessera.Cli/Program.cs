using System.CommandLine;
using Tessera.Cli.Commands;

namespace Tessera.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = BuildRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}");
            }
            await Console.Error.WriteLineAsync("see 'tessera --help'");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync();
    }

    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("Tessera: an open, self-hostable customer data platform");
        root.Options.Add(CommonOptions.Data);
        root.Options.Add(CommonOptions.Sandbox);
        root.Options.Add(CommonOptions.Json);
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(IngestCommands.Ingest());
        root.Subcommands.Add(IngestCommands.Batch());
        root.Subcommands.Add(CatalogCommands.Schema());
        root.Subcommands.Add(CatalogCommands.Dataset());
        root.Subcommands.Add(NormalizeCommand.AddTo(IdentityGraphCommands.AddTo(CatalogCommands.Identity())));
        root.Subcommands.Add(MergePolicyCommands.Create());
        root.Subcommands.Add(ProfileCommands.Create());
        root.Subcommands.Add(PqlCommands.Create());
        root.Subcommands.Add(AudienceCommands.Create());
        root.Subcommands.Add(DestinationCommands.Create());
        root.Subcommands.Add(GovernanceCommands.Create());
        root.Subcommands.Add(PrivacyCommands.Create());
        root.Subcommands.Add(CatalogCommands.Sandbox());
        root.Subcommands.Add(CatalogCommands.Key());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}

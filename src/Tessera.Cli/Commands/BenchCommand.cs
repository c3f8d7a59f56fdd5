using System.CommandLine;
using Tessera.Bench;

namespace Tessera.Cli.Commands;

/// <summary>
/// <c>tessera bench [--quick] [--json FILE] [--data DIR] [--only GROUP[,GROUP]]</c>: the end-to-end
/// benchmark suite (bench/Tessera.Bench, BENCHMARKS.md): every figure beside its peer or floor
/// measured in the same run, one table, optionally JSON. Needs no workspace: it makes its own.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The sizes the suite takes, each a positive count, with what it sets.</summary>
    private static readonly (string Name, string Description, Func<BenchOptions, int, BenchOptions> Set)[] Sizes =
    [
        ("--rows", "CSV rows (default 2,000,000; quick 200,000)", (o, n) => o with { CsvRows = n }),
        ("--events", "web events streamed (default 1,000,000; quick 200,000)", (o, n) => o with { Events = n }),
        ("--batch", "events per request (default 500)", (o, n) => o with { EventBatch = n }),
        ("--callers", "concurrent in-process callers / HTTP senders (default 4)", (o, n) => o with { Callers = n }),
        ("--identities", "identities in the identity graph (default 10,000,000; quick 1,000,000)", (o, n) => o with { Identities = n }),
        ("--lookups", "identity-to-graph lookups timed (default 1,000,000; quick 200,000)", (o, n) => o with { Lookups = n }),
        ("--budget", "seconds any one identity step over the ledger may run before it is stopped and reported as the share it got through (default 60)", (o, n) => o with { Budget = n }),
        ("--profiles", "profiles in the profile store (default 1,000,000; quick 100,000)", (o, n) => o with { Profiles = n }),
        ("--heavy", "of them, profiles with 10 fragments and 500 events (default 1,000; quick 200)", (o, n) => o with { HeavyProfiles = n }),
        ("--light-cached", "light profiles cached to measure their memory (default 100,000; quick 20,000)", (o, n) => o with { LightCached = n }),
        ("--batch-runs", "batch runs over the same data (default 1: a first run; a second re-qualifies every member)", (o, n) => o with { BatchRuns = n }),
    ];

    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Small sizes: the whole suite in about 5 minutes on 2 cores" };
        var json = new Option<string?>("--json") { Description = "Also write every figure, the machine and the options as JSON to FILE", HelpName = "FILE" };
        var markdown = new Option<string?>("--markdown")
        {
            Description = "Also write the table as Markdown to FILE: between its '<!-- tessera bench: begin' and 'end -->' markers if it has them (BENCHMARKS.md does), else the whole file",
            HelpName = "FILE",
        };
        var only = new Option<string?>("--only")
        {
            Description = $"Run only these groups, comma-separated: {string.Join(", ", BenchSuite.Groups.Select(g => g.Name))} (or csv, events, http: parts of ingestion)",
            HelpName = "GROUP[,GROUP]",
        };
        only.Validators.Add(result =>
        {
            try
            {
                BenchSuite.Select(SplitGroups(result.GetValueOrDefault<string?>()));
            }
            catch (ArgumentException error)
            {
                result.AddError(error.Message);
            }
        });
        var keep = new Option<bool>("--keep") { Description = "Keep the generated input and workspaces (in --data DIR)" };
        var sizes = Sizes.Select(size =>
        {
            var option = new Option<int?>(size.Name) { Description = size.Description, HelpName = "N" };
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int?>() is <= 0)
                {
                    result.AddError($"{size.Name} takes a positive number");
                }
            });
            return option;
        }).ToArray();

        var command = new Command("bench", Description()) { quick, json, markdown, only, keep };
        foreach (var option in sizes)
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = BenchOptions.Defaults(parse.GetValue(quick)) with
            {
                JsonPath = parse.GetValue(json) is { } file ? Path.GetFullPath(file) : null,
                MarkdownPath = parse.GetValue(markdown) is { } page ? Path.GetFullPath(page) : null,
                // --data is the workspace option every command takes: only when given does the suite's data go there.
                DataDirectory = parse.GetResult(CommonOptions.Data) is { Implicit: false } ? Path.GetFullPath(parse.GetValue(CommonOptions.Data)!) : null,
                Only = SplitGroups(parse.GetValue(only)),
                Keep = parse.GetValue(keep),
            };
            for (var i = 0; i < Sizes.Length; i++)
            {
                if (parse.GetValue(sizes[i]) is { } n)
                {
                    options = Sizes[i].Set(options, n);
                }
            }
            return await BenchSuite.RunAsync(options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The groups of <c>--only</c>, or null for every group.</summary>
    internal static IReadOnlyList<string>? SplitGroups(string? only) =>
        only?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } names ? names : null;

    private static string Description() =>
        "Run the end-to-end benchmark suite: every group in order ("
        + string.Join(", ", BenchSuite.Groups.Select(g => g.Name))
        + "), each Tessera figure beside its peer or floor measured in the same run (raw parse, plain union-find, bare SHA-256, bare POSTs, ...), "
        + "printed as one table with the ratio and the target. Build with -c Release: a Debug build is warned about, its figures mean nothing. "
        + "--data DIR is where the generated input and workspaces go (default: a temporary folder, deleted after). "
        + $"Exit codes: {BenchSuite.Completed} the run completed (targets not met are reported, not errors); "
        + $"{BenchSuite.CheckFailed} a measurement's correctness check failed (wrong counts, a failed delivery) or a group could not run; "
        + $"{ExitCodes.Usage} the command line is wrong.";
}

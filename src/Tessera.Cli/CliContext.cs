using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Server;

namespace Tessera.Cli;

/// <summary>Options every command understands.</summary>
internal static class CommonOptions
{
    public static readonly Option<string> Data = new("--data")
    {
        Description = "Workspace directory (created if missing)",
        DefaultValueFactory = _ => "./tessera-data",
        Recursive = true,
    };

    public static readonly Option<string> Sandbox = new("--sandbox")
    {
        Description = "Sandbox to work in",
        DefaultValueFactory = _ => "prod",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print machine-readable JSON instead of tables",
        Recursive = true,
    };
}

/// <summary>Exit codes (docs/cli.md).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The request was refused or failed (bad definition, unknown object, breaking change).</summary>
    public const int Refused = 1;
    /// <summary>The command line itself is wrong.</summary>
    public const int Usage = 2;
    /// <summary>A batch failed as a whole (nothing was stored).</summary>
    public const int BatchFailed = 3;
}

/// <summary>An open workspace plus the output settings of one command invocation.</summary>
internal sealed class CliContext : IDisposable
{
    private CliContext(Workspace workspace, string sandbox, bool json)
    {
        Workspace = workspace;
        Sandbox = sandbox;
        Json = json;
    }

    public Workspace Workspace { get; }

    public string Sandbox { get; }

    public bool Json { get; }

    public static async Task<CliContext> OpenAsync(ParseResult parse)
    {
        var workspace = await Workspace.OpenAsync(parse.GetValue(CommonOptions.Data)!).ConfigureAwait(false);
        return new CliContext(workspace, parse.GetValue(CommonOptions.Sandbox)!, parse.GetValue(CommonOptions.Json));
    }

    public static void PrintJson<T>(T value, JsonTypeInfo<T> type) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(value, type));

    public void Dispose() => Workspace.Dispose();
}

/// <summary>Files named on the command line.</summary>
internal static class CliFiles
{
    /// <summary>
    /// Why <paramref name="path"/> could not be read or written, for a message: a directory is named as
    /// one (.NET reports it as "access denied"), otherwise the error's own message.
    /// </summary>
    public static string Why(string path, Exception error) =>
        Directory.Exists(path) ? $"{path} is a directory, not a file" : $"{path}: {error.Message}";
}

internal static class CommandExtensions
{
    /// <summary>
    /// Runs <paramref name="body"/> with an open workspace; a refused request prints its code and
    /// message on stderr and exits 1.
    /// </summary>
    public static Command WithWorkspace(this Command command, Func<CliContext, ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                using var context = await CliContext.OpenAsync(parse).ConfigureAwait(false);
                return await body(context, parse, cancellationToken).ConfigureAwait(false);
            }
            catch (CatalogException error)
            {
                return Fail(error.Code, error.Message);
            }
        });
        return command;
    }

    public static int Fail(string code, string message)
    {
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
        {
            stderr.Profile.Width = int.MaxValue; // One line per error in a log or a pipe, not wrapped at 80 columns.
        }
        stderr.MarkupLine($"[red]error[/] [bold]{Markup.Escape(code)}[/]: {Markup.Escape(message)}");
        return ExitCodes.Refused;
    }

    public static Command With(this Command parent, Command child)
    {
        parent.Subcommands.Add(child);
        return parent;
    }
}

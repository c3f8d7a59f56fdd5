using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tessera.Pql.Binding;
using Tessera.Pql.Classification;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera pql check|eval</c>: the audience language on its own, no workspace needed.</summary>
internal static class PqlCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var pql = new Command("pql", "The audience language (PQL): check an expression, evaluate it against a profile");
        pql.Subcommands.Add(Check());
        pql.Subcommands.Add(Eval());
        return pql;
    }

    private static Command Check()
    {
        var expression = new Argument<string>("expression") { Description = "A PQL expression, e.g. 'homeAddress.countryCode = \"US\"'" };
        var schema = new Option<FileInfo?>("--schema") { Description = "Schema file (one schema document or an array of them) to check fields and types against" };
        var sample = new Option<FileInfo?>("--sample") { Description = "With no schema: a sample profile (JSON, events under xEvent) to infer the types from" };
        var command = new Command("check", "Validity, evaluation mode (edge, streaming or batch) with the reasons, errors with line and column, canonical text")
        {
            expression, schema, sample,
        };
        command.SetAction(parse =>
        {
            ObjectType profile;
            try
            {
                profile = ProfileType(parse.GetValue(schema), parse.GetValue(sample));
            }
            catch (Exception error) when (error is IOException or JsonException or InvalidDataException or UnauthorizedAccessException)
            {
                return CommandExtensions.Fail("FILE_INVALID", error.Message);
            }
            var report = CheckReport.Of(parse.GetValue(expression)!, profile);
            if (parse.GetValue(CommonOptions.Json))
            {
                Console.Out.WriteLine(report.ToJson().ToJsonString(Indented));
            }
            else
            {
                report.Print();
            }
            return report.Valid ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static ObjectType ProfileType(FileInfo? schema, FileInfo? sample) => (schema, sample) switch
    {
        ({ } file, _) => PqlTypes.FromSchemas(PqlTypes.ReadSchemaFile(file.FullName)),
        (null, { } file) => PqlTypes.FromSample(ReadProfile(file)),
        _ => ObjectType.OpenProfile,
    };

    private static JsonObject ReadProfile(FileInfo file)
    {
        using var stream = file.OpenRead();
        return JsonNode.Parse(stream) as JsonObject
            ?? throw new InvalidDataException($"{file.FullName}: a profile is a JSON object (attributes, events under xEvent)");
    }

    private static Command Eval()
    {
        var expression = new Argument<string>("expression") { Description = "A PQL expression" };
        var profile = new Option<FileInfo>("--profile") { Description = "The profile: a JSON object of attributes with its events in an xEvent array", Required = true };
        var now = new Option<string?>("--now") { Description = "The instant to evaluate at (ISO-8601, e.g. 2026-06-10T12:00:00Z; default: the clock)" };
        var zone = new Option<string?>("--zone") { Description = "Time zone for calendar units (IANA id, default UTC)" };
        var command = new Command("eval", "Evaluate an expression against a JSON profile at an instant and print its value")
        {
            expression, profile, now, zone,
        };
        command.SetAction(parse =>
        {
            PqlNode tree;
            try
            {
                tree = Parser.Parse(parse.GetValue(expression)!);
            }
            catch (PqlException error)
            {
                return CommandExtensions.Fail("PQL_INVALID", $"line {error.Position.Line}, column {error.Position.Column}: {error.Reason}");
            }
            DateTimeOffset instant;
            TimeZoneInfo timeZone;
            JsonObject json;
            try
            {
                instant = parse.GetValue(now) is { } text
                    ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                    : TimeProvider.System.GetUtcNow();
                timeZone = parse.GetValue(zone) is { } id ? TimeZoneInfo.FindSystemTimeZoneById(id) : TimeZoneInfo.Utc;
                json = ReadProfile(parse.GetValue(profile)!);
            }
            catch (FormatException)
            {
                return CommandExtensions.Fail("PARAMETER_INVALID", $"--now '{parse.GetValue(now)}' is not an ISO-8601 instant");
            }
            catch (TimeZoneNotFoundException)
            {
                return CommandExtensions.Fail("PARAMETER_INVALID", $"--zone '{parse.GetValue(zone)}' is not a known time zone");
            }
            catch (Exception error) when (error is IOException or JsonException or InvalidDataException or UnauthorizedAccessException)
            {
                return CommandExtensions.Fail("FILE_INVALID", error.Message);
            }
            PqlValue value;
            try
            {
                value = PqlCompiler.Compile(tree, timeZone).Evaluate(PqlProfile.FromJson(json, timeZone), instant);
            }
            catch (PqlException error)
            {
                return CommandExtensions.Fail("PQL_INVALID", $"line {error.Position.Line}, column {error.Position.Column}: {error.Reason}");
            }
            var result = value.ToJson();
            Console.Out.WriteLine(parse.GetValue(CommonOptions.Json)
                ? new JsonObject { ["value"] = result }.ToJsonString(Indented)
                : result?.ToJsonString(Indented) ?? "null");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>What <c>pql check</c> reports: syntax, types, mode and canonical form of one expression.</summary>
    private sealed record CheckReport(bool Valid, ModeClassification? Mode, IReadOnlyList<(int Line, int Column, string Message)> Errors, string? Canonical, PqlNode? Tree)
    {
        public static CheckReport Of(string text, ObjectType profile)
        {
            PqlNode tree;
            try
            {
                tree = Parser.Parse(text);
            }
            catch (PqlException error)
            {
                return new CheckReport(false, null, [(error.Position.Line, error.Position.Column, error.Reason)], null, null);
            }
            var errors = Binder.Check(tree, profile).Errors.Select(d => (d.Position.Line, d.Position.Column, d.Message)).ToList();
            return new CheckReport(errors.Count == 0, EvaluationModeClassifier.Classify(tree), errors, Printer.Print(tree), tree);
        }

        public JsonObject ToJson() => new()
        {
            ["valid"] = Valid,
            ["mode"] = Mode is null ? null : EvaluationModeClassifier.Name(Mode.Mode),
            ["reasons"] = new JsonArray([.. (Mode?.Reasons ?? []).Select(r => (JsonNode?)JsonValue.Create(r))]),
            ["errors"] = new JsonArray([.. Errors.Select(e => (JsonNode?)new JsonObject { ["line"] = e.Line, ["column"] = e.Column, ["message"] = e.Message })]),
            ["canonical"] = Canonical,
            ["tree"] = Tree is null ? null : PqlJson.ToJson(Tree),
        };

        public void Print()
        {
            AnsiConsole.MarkupLine(Valid ? "[green]valid[/]" : "[red]not valid[/]");
            foreach (var (line, column, message) in Errors)
            {
                AnsiConsole.MarkupLine($"  [red]error[/] line {line}, column {column}: {Markup.Escape(message)}");
            }
            if (Mode is not null)
            {
                AnsiConsole.MarkupLine($"mode: [bold]{EvaluationModeClassifier.Name(Mode.Mode)}[/]");
                foreach (var reason in Mode.Reasons)
                {
                    AnsiConsole.MarkupLine($"  - {Markup.Escape(reason)}");
                }
            }
            if (Canonical is not null)
            {
                AnsiConsole.MarkupLine($"canonical: {Markup.Escape(Canonical)}");
            }
        }
    }
}

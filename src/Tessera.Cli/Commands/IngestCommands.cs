using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;
using Tessera.Ingestion;
using Tessera.Ingestion.Mapping;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera ingest</c> and <c>tessera batch list|show|replay</c>.</summary>
internal static class IngestCommands
{
    public static Command Ingest()
    {
        var dataset = new Option<string>("--dataset") { Description = "Target dataset", Required = true };
        var mapping = new Option<FileInfo?>("--mapping") { Description = "Mapping file (JSON): format, delimiter, header, columns, fields, formats" };
        var file = new Argument<FileInfo>("file") { Description = "CSV (optionally .gz), JSON Lines, JSON/XDM or Parquet file" };
        var command = new Command("ingest", "Ingest a file as one batch: validated, stored durably, bad records quarantined") { dataset, mapping, file };
        command.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var spec = parse.GetValue(mapping) is { } mappingFile ? MappingSpec.Load(mappingFile.FullName) : null;
            var path = parse.GetValue(file)!.FullName;
            var batch = context.Json
                ? await context.Workspace.Ingestion.IngestFileAsync(context.Sandbox, parse.GetValue(dataset)!, path, spec, cancellationToken)
                : await AnsiConsole.Status().StartAsync($"ingesting {Markup.Escape(Path.GetFileName(path))}",
                    _ => context.Workspace.Ingestion.IngestFileAsync(context.Sandbox, parse.GetValue(dataset)!, path, spec, cancellationToken));
            Report(context, batch);
            return batch.Status == BatchStatus.Failed ? ExitCodes.BatchFailed : ExitCodes.Ok;
        });
        return command;
    }

    public static Command Batch()
    {
        var count = new Option<int>("--limit") { Description = "How many of the newest batches to list", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List the newest batches (newest last)") { count };
        list.WithWorkspace((context, parse, _) =>
        {
            var batches = context.Workspace.Catalog.BatchesNewestFirst(context.Sandbox).Take(parse.GetValue(count)).Reverse().ToList();
            if (context.Json)
            {
                CliContext.PrintJson(batches, CatalogJson.Indented.ListBatchInfo);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("batch", "dataset", "kind", "status", "input", "accepted", "failed", "duplicates", "created");
            foreach (var batch in batches)
            {
                table.AddRow(batch.Id, Markup.Escape(batch.Dataset), Word(batch.Kind), StatusMarkup(batch.Status), N(batch.Counts.Input), N(batch.Counts.Accepted),
                    N(batch.Counts.Failed), N(batch.Counts.Duplicates), batch.CreatedAt.ToString("u"));
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        var id = new Argument<string>("id");
        var limit = new Option<int>("--limit") { Description = "Quarantined records to list", DefaultValueFactory = _ => 50 };
        var show = new Command("show", "Show a batch and its quarantined records") { id, limit };
        show.WithWorkspace((context, parse, _) =>
        {
            var batch = context.Workspace.Catalog.RequireBatch(context.Sandbox, parse.GetValue(id)!);
            var entries = context.Workspace.Ingestion.Quarantine(context.Sandbox, batch.Id).Take(parse.GetValue(limit)).ToList();
            if (context.Json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(batch, CatalogJson.Indented.BatchInfo));
                Console.Out.WriteLine(JsonSerializer.Serialize(entries, QuarantineJson.Default.ListQuarantineEntry));
                return Task.FromResult(ExitCodes.Ok);
            }
            Report(context, batch);
            if (entries.Count > 0)
            {
                var table = new Table().Title("quarantine").AddColumns("row", "line", "field", "code", "message", "resolved by");
                foreach (var entry in entries)
                {
                    foreach (var error in entry.Errors)
                    {
                        table.AddRow(N(entry.Row), N(entry.Line), Markup.Escape(error.Path), error.Code, Markup.Escape(error.Message), entry.ResolvedBy ?? "-");
                    }
                }
                AnsiConsole.Write(table);
            }
            return Task.FromResult(ExitCodes.Ok);
        });
        var mapping = new Option<FileInfo?>("--mapping") { Description = "A corrected mapping file (default: the batch's own)" };
        var replay = new Command("replay", "Replay a batch's quarantined records (after fixing the schema or the mapping)") { id, mapping };
        replay.WithWorkspace(async (context, parse, cancellationToken) =>
        {
            var spec = parse.GetValue(mapping) is { } mappingFile ? MappingSpec.Load(mappingFile.FullName) : null;
            var batch = await context.Workspace.Ingestion.ReplayAsync(context.Sandbox, parse.GetValue(id)!, spec, cancellationToken);
            Report(context, batch);
            return ExitCodes.Ok;
        });
        return new Command("batch", "Batches: every ingestion, its counts and its quarantine").With(list).With(show).With(replay);
    }

    public static void Report(CliContext context, BatchInfo batch)
    {
        if (context.Json)
        {
            CliContext.PrintJson(batch, CatalogJson.Indented.BatchInfo);
            return;
        }
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("batch", batch.Id);
        grid.AddRow("dataset", Markup.Escape(batch.Dataset));
        grid.AddRow("status", StatusMarkup(batch.Status));
        grid.AddRow("input", N(batch.Counts.Input));
        grid.AddRow("accepted", N(batch.Counts.Accepted));
        grid.AddRow("failed (quarantined)", N(batch.Counts.Failed));
        grid.AddRow("duplicates", N(batch.Counts.Duplicates));
        if (batch.Counts.IdentitiesDropped > 0)
        {
            var reasons = batch.Counts.IdentitiesDroppedByReason is { } byReason
                ? " (" + string.Join(", ", byReason.Select(r => $"{r.Key} {N(r.Value)}")) + ")"
                : "";
            grid.AddRow("identities dropped", N(batch.Counts.IdentitiesDropped) + reasons);
        }
        if (batch.ReplayOf is not null)
        {
            grid.AddRow("replay of", batch.ReplayOf);
        }
        if (batch.FailureReason is not null)
        {
            grid.AddRow("reason", Markup.Escape(batch.FailureReason));
        }
        AnsiConsole.Write(grid);
    }

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Word<T>(T value) where T : Enum => value.ToString().ToLowerInvariant();

    public static string StatusMarkup(BatchStatus status) => status switch
    {
        BatchStatus.Success => "[green]success[/]",
        BatchStatus.Failed => "[red]failed[/]",
        _ => $"[yellow]{status.ToString().ToLowerInvariant()}[/]",
    };
}

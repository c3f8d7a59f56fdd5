using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Tessera.Abstractions;
using Tessera.Catalog;

namespace Tessera.Cli.Commands;

/// <summary><c>tessera sandbox|schema|dataset|identity namespace|key</c>.</summary>
internal static class CatalogCommands
{
    public static Command Sandbox()
    {
        var name = new Argument<string>("name") { Description = "Sandbox name" };
        var create = new Command("create", "Create a sandbox (with the standard identity namespaces)") { name };
        create.WithWorkspace(async (context, parse, _) =>
        {
            var sandbox = await context.Workspace.Catalog.EnsureSandboxAsync(parse.GetValue(name)!);
            Print(context, sandbox, CatalogJson.Indented.SandboxInfo, $"sandbox [bold]{sandbox.Name}[/] ready");
            return ExitCodes.Ok;
        });
        var list = new Command("list", "List sandboxes");
        list.WithWorkspace((context, _, _) =>
        {
            var sandboxes = context.Workspace.Catalog.ListSandboxes();
            if (context.Json)
            {
                CliContext.PrintJson(sandboxes, CatalogJson.Indented.ListSandboxInfo);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("sandbox", "created");
            foreach (var sandbox in sandboxes)
            {
                table.AddRow(Markup.Escape(sandbox.Name), sandbox.CreatedAt.ToString("u"));
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        return new Command("sandbox", "Sandboxes: isolated sets of catalog objects and data").With(create).With(list);
    }

    public static Command Schema()
    {
        var file = new Argument<FileInfo>("file") { Description = "Schema document (JSON)" };
        var register = new Command("register", "Register a schema, or a new version of it (only additive changes are accepted)") { file };
        register.WithWorkspace(async (context, parse, _) =>
        {
            var path = parse.GetValue(file)!.FullName;
            SchemaDocument document;
            try
            {
                document = SchemaCompiler.Parse(File.ReadAllBytes(path))
                    ?? throw new CatalogException("SCHEMA_INVALID", $"{path} is empty");
            }
            catch (Exception error) when (error is JsonException or IOException or UnauthorizedAccessException)
            {
                throw new CatalogException("SCHEMA_INVALID", CliFiles.Why(path, error));
            }
            var stored = await context.Workspace.Catalog.RegisterSchemaAsync(context.Sandbox, document);
            Print(context, stored, CatalogJson.Indented.SchemaDocument, $"schema [bold]{stored.Name}[/] is at version {stored.Version}");
            return ExitCodes.Ok;
        });
        var list = new Command("list", "List schemas (latest versions)");
        list.WithWorkspace((context, _, _) =>
        {
            var schemas = context.Workspace.Catalog.ListSchemas(context.Sandbox);
            if (context.Json)
            {
                CliContext.PrintJson(schemas, CatalogJson.Indented.ListSchemaDocument);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("schema", "class", "version", "fields");
            foreach (var schema in schemas)
            {
                table.AddRow(Markup.Escape(schema.Name), schema.Class.ToString().ToLowerInvariant(), schema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    SchemaCompiler.MergedFields(schema).Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        var name = new Argument<string>("name");
        var version = new Option<int?>("--version") { Description = "A given version (default: latest)" };
        var show = new Command("show", "Show a schema document") { name, version };
        show.WithWorkspace((context, parse, _) =>
        {
            var schema = context.Workspace.Catalog.GetSchema(context.Sandbox, parse.GetValue(name)!, parse.GetValue(version))
                ?? throw new CatalogException("SCHEMA_NOT_FOUND", $"schema '{parse.GetValue(name)}' does not exist in sandbox '{context.Sandbox}'");
            CliContext.PrintJson(schema, CatalogJson.Indented.SchemaDocument);
            return Task.FromResult(ExitCodes.Ok);
        });
        return new Command("schema", "Schemas: classes profile and event, versioned, additive evolution").With(register).With(list).With(show);
    }

    public static Command Dataset()
    {
        var name = new Argument<string>("name");
        var schema = new Option<string>("--schema") { Description = "Schema the dataset is bound to", Required = true };
        var notProfile = new Option<bool>("--no-profile") { Description = "Keep the data out of profiles (profileEnabled=false)" };
        var ttl = new Option<TimeSpan?>("--ttl") { Description = "Event time-to-live, e.g. 90.00:00:00 for 90 days (event datasets)" };
        var create = new Command("create", "Create a dataset bound to a schema") { name, schema, notProfile, ttl };
        create.WithWorkspace(async (context, parse, _) =>
        {
            var dataset = await context.Workspace.Catalog.CreateDatasetAsync(context.Sandbox, new DatasetDefinition
            {
                Name = parse.GetValue(name)!,
                Schema = parse.GetValue(schema)!,
                ProfileEnabled = !parse.GetValue(notProfile),
                EventTtl = parse.GetValue(ttl),
            });
            Print(context, dataset, CatalogJson.Indented.DatasetDefinition, $"dataset [bold]{dataset.Name}[/] bound to schema {dataset.Schema}");
            return ExitCodes.Ok;
        });
        var list = new Command("list", "List datasets");
        list.WithWorkspace((context, _, _) =>
        {
            var datasets = context.Workspace.Catalog.ListDatasets(context.Sandbox);
            if (context.Json)
            {
                CliContext.PrintJson(datasets, CatalogJson.Indented.ListDatasetDefinition);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("dataset", "schema", "profile", "event TTL");
            foreach (var dataset in datasets)
            {
                table.AddRow(Markup.Escape(dataset.Name), Markup.Escape(dataset.Schema), dataset.ProfileEnabled ? "yes" : "no", dataset.EventTtl?.ToString() ?? "-");
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        return new Command("dataset", "Datasets: named streams of batches bound to a schema").With(create).With(list);
    }

    public static Command Identity()
    {
        var list = new Command("list", "List identity namespaces");
        list.WithWorkspace((context, _, _) =>
        {
            var namespaces = context.Workspace.Catalog.ListNamespaces(context.Sandbox);
            if (context.Json)
            {
                CliContext.PrintJson(namespaces, CatalogJson.Indented.ListIdentityNamespace);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("code", "name", "type", "format", "standard");
            foreach (var ns in namespaces)
            {
                var format = NamespaceDefinitions.FormatName(ns.EffectiveFormat) + (ns.DefaultRegion is { } region ? $" ({region})" : "");
                table.AddRow(Markup.Escape(ns.Code), Markup.Escape(ns.Name), JsonSerializer.Serialize(ns.Type, CatalogJson.Default.IdentityType).Trim('"'),
                    format, ns.Standard ? "yes" : "custom");
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        var code = new Argument<string>("code");
        var type = new Option<string>("--type") { Description = "cookie, device, cross-device, email, phone, partner or non-people", Required = true };
        var displayName = new Option<string?>("--name") { Description = "Display name" };
        var numericId = new Option<int?>("--numeric-id") { Description = "Adobe's integer namespace id, so XDM identityMaps keyed https://data.adobe.io/entities/namespace/{id} resolve here" };
        var format = new Option<string?>("--format") { Description = "How values are checked and normalized: text, email, phone, sha256 or uuid (default: email for type email, phone for type phone, else text)" };
        format.AcceptOnlyFromAmong("text", "email", "phone", "sha256", "uuid");
        var region = new Option<string?>("--default-region") { Description = "Phone format: ISO 3166 alpha-2 region of numbers written without +country code (default: the workspace's identity.defaultPhoneRegion)" };
        var blocked = new Option<string[]>("--blocked") { Description = "A value to refuse in this namespace besides the default blocked values (repeatable)" };
        var noDefaults = new Option<bool>("--no-default-blocked") { Description = "Do not refuse the default blocked values (null, unknown, n/a, all zeros, ...)" };
        var create = new Command("create", "Create a custom namespace") { code, type, displayName, numericId, format, region, blocked, noDefaults };
        create.WithWorkspace(async (context, parse, _) =>
        {
            IdentityType identityType;
            try
            {
                identityType = JsonSerializer.Deserialize($"\"{parse.GetValue(type)}\"", CatalogJson.Default.IdentityType);
            }
            catch (JsonException)
            {
                throw new CatalogException("NAMESPACE_INVALID", $"identity type '{parse.GetValue(type)}' is not one of cookie, device, cross-device, email, phone, partner, non-people");
            }
            var ns = await context.Workspace.Catalog.CreateNamespaceAsync(context.Sandbox, new IdentityNamespace
            {
                Code = parse.GetValue(code)!,
                Name = parse.GetValue(displayName) ?? parse.GetValue(code)!,
                Type = identityType,
                NumericId = parse.GetValue(numericId),
                Format = parse.GetValue(format) is { } name ? JsonSerializer.Deserialize($"\"{name}\"", CatalogJson.Default.IdentityFormat) : null,
                DefaultRegion = parse.GetValue(region),
                BlockedValues = parse.GetValue(blocked) is { Length: > 0 } values ? values : null,
                DefaultBlockedValues = parse.GetValue(noDefaults) ? false : null,
            });
            Print(context, ns, CatalogJson.Indented.IdentityNamespace, $"namespace [bold]{ns.Code}[/] ready");
            return ExitCodes.Ok;
        });
        var namespaces = new Command("namespace", "Identity namespaces").With(list).With(create);
        return new Command("identity", "Identities").With(namespaces);
    }

    public static Command Key()
    {
        var role = new Option<string>("--role") { Description = "collect (send events only; safe in a web page) or admin", Required = true };
        role.AcceptOnlyFromAmong("collect", "admin");
        var name = new Option<string>("--name") { Description = "A label for the key", DefaultValueFactory = _ => "key" };
        var create = new Command("create", "Create an API key for the sandbox; the secret is printed once") { role, name };
        create.WithWorkspace(async (context, parse, _) =>
        {
            var (record, secret) = await context.Workspace.Catalog.CreateApiKeyAsync(context.Sandbox,
                parse.GetValue(role) == "admin" ? ApiRole.Admin : ApiRole.Collect, parse.GetValue(name)!);
            if (context.Json)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["id"] = record.Id,
                    ["sandbox"] = record.Sandbox,
                    ["role"] = parse.GetValue(role)!,
                    ["secret"] = secret,
                }, CliJson.Default.DictionaryStringString));
                return ExitCodes.Ok;
            }
            AnsiConsole.MarkupLine($"key [bold]{record.Id}[/] ({parse.GetValue(role)}, sandbox {Markup.Escape(record.Sandbox)}); secret, shown once:");
            Console.Out.WriteLine(secret);
            return ExitCodes.Ok;
        });
        var list = new Command("list", "List API keys (secrets are never shown again)");
        list.WithWorkspace((context, _, _) =>
        {
            var keys = context.Workspace.Catalog.ListApiKeys().Where(k => k.Sandbox == context.Sandbox).ToList();
            var redacted = keys.Select(k => k with { SecretSha256 = "" }).ToList();
            if (context.Json)
            {
                CliContext.PrintJson(redacted, CatalogJson.Indented.ListApiKeyRecord);
                return Task.FromResult(ExitCodes.Ok);
            }
            var table = new Table().AddColumns("id", "name", "role", "created", "revoked");
            foreach (var key in keys)
            {
                table.AddRow(key.Id, Markup.Escape(key.Name), key.Role.ToString().ToLowerInvariant(), key.CreatedAt.ToString("u"), key.RevokedAt?.ToString("u") ?? "-");
            }
            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        var id = new Argument<string>("id");
        var revoke = new Command("revoke", "Revoke an API key") { id };
        revoke.WithWorkspace(async (context, parse, _) =>
        {
            var revoked = await context.Workspace.Catalog.RevokeApiKeyAsync(parse.GetValue(id)!);
            AnsiConsole.MarkupLine($"key [bold]{revoked.Id}[/] revoked at {revoked.RevokedAt:u}");
            return ExitCodes.Ok;
        });
        return new Command("key", "API keys scoped to a sandbox and a role").With(create).With(list).With(revoke);
    }

    private static void Print<T>(CliContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string markup)
    {
        if (context.Json)
        {
            CliContext.PrintJson(value, type);
        }
        else
        {
            AnsiConsole.MarkupLine(markup);
        }
    }
}

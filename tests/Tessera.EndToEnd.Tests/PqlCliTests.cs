using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera pql check|eval</c> through the real command line.</summary>
public sealed class PqlCliTests() : CliWorkspaceTest("pql-cli")
{
    [Fact]
    public async Task Check_reports_validity_mode_reasons_canonical_text_and_tree()
    {
        var run = await SucceedAsync("--json", "pql", "check",
            "homeAddress.countryCode  =  'US' and CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals(\"commerce.checkouts\", false)) WHEN(today)])");
        using var report = JsonDocument.Parse(run.Output);
        var root = report.RootElement;
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.Equal("edge", root.GetProperty("mode").GetString());
        Assert.NotEmpty(root.GetProperty("reasons").EnumerateArray());
        Assert.Empty(root.GetProperty("errors").EnumerateArray());
        Assert.Equal("homeAddress.countryCode = \"US\" and CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals(\"commerce.checkouts\", false)) WHEN(today)])",
            root.GetProperty("canonical").GetString());
        Assert.Equal("fnApply", root.GetProperty("tree").GetProperty("nodeType").GetString());

        var batch = await SucceedAsync("pql", "check", "chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(< 8 days before now)])");
        Assert.Contains("batch", batch.Output);
    }

    [Fact]
    public async Task Check_names_syntax_and_type_errors_with_line_and_column()
    {
        var syntax = await RunAsync("--json", "pql", "check", "homeAddress.countryCode =\n  and x");
        Assert.Equal(1, syntax.ExitCode);
        using (var report = JsonDocument.Parse(syntax.Output))
        {
            Assert.False(report.RootElement.GetProperty("valid").GetBoolean());
            var error = Assert.Single(report.RootElement.GetProperty("errors").EnumerateArray());
            Assert.Equal(2, error.GetProperty("line").GetInt32());
            Assert.Equal(3, error.GetProperty("column").GetInt32());
            Assert.Equal(JsonValueKind.Null, report.RootElement.GetProperty("canonical").ValueKind);
        }

        var sample = Write("sample.json", """{"homeAddress": {"countryCode": "US"}, "age": 30, "xEvent": [{"eventType": "a", "timestamp": "2026-06-10T10:00:00Z"}]}""");
        var unknown = await RunAsync("--json", "pql", "check", "homeAdress.countryCode = \"US\"", "--sample", sample);
        Assert.Equal(1, unknown.ExitCode);
        using (var report = JsonDocument.Parse(unknown.Output))
        {
            var error = Assert.Single(report.RootElement.GetProperty("errors").EnumerateArray());
            Assert.Contains("homeAddress", error.GetProperty("message").GetString());
            Assert.Equal(1, error.GetProperty("column").GetInt32());
        }
        var typed = await RunAsync("--json", "pql", "check", "age.startsWith(\"3\")", "--sample", sample);
        Assert.Equal(1, typed.ExitCode);
        using (var report = JsonDocument.Parse(typed.Output))
        {
            var message = Assert.Single(report.RootElement.GetProperty("errors").EnumerateArray()).GetProperty("message").GetString()!;
            Assert.Contains("string", message);
        }

        var schema = Write("schema.json", """
            {"name":"crm","class":"profile","fields":{"crmId":{"type":"string"},"tier":{"type":"string"}}}
            """);
        await SucceedAsync("pql", "check", "tier = \"gold\"", "--schema", schema);
        var wrong = await RunAsync("pql", "check", "tiers = \"gold\"", "--schema", schema);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("tier", wrong.Output);
        Assert.Contains("FILE_INVALID", (await RunAsync("pql", "check", "tier = 1", "--schema", Path.Combine(Folder, "missing.json"))).Errors);
    }

    [Fact]
    public async Task Eval_gives_the_value_at_the_instant_asked_for()
    {
        var profile = Write("profile.json", """
            {"homeAddress": {"countryCode": "US"}, "loyalty": {"points": 1200},
             "xEvent": [{"eventType": "addToCart", "timestamp": "2026-06-10T09:00:00Z"}, {"eventType": "addToCart", "timestamp": "2026-06-01T09:00:00Z"}]}
            """);
        const string recent = "chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(< 3 hours before now)])";
        Assert.Equal("""{"value":true}""", Compact((await SucceedAsync("--json", "pql", "eval", recent, "--profile", profile, "--now", "2026-06-10T11:00:00Z")).Output));
        Assert.Equal("""{"value":false}""", Compact((await SucceedAsync("--json", "pql", "eval", recent, "--profile", profile, "--now", "2026-06-10T12:00:01Z")).Output));
        Assert.Equal("""{"value":2}""", Compact((await SucceedAsync("--json", "pql", "eval", "count(xEvent)", "--profile", profile)).Output));
        Assert.Equal("1300", (await SucceedAsync("pql", "eval", "loyalty.points + 100", "--profile", profile)).Output.Trim());

        Assert.Contains("PQL_INVALID", (await RunAsync("pql", "eval", "loyalty.points +", "--profile", profile)).Errors);
        Assert.Contains("PARAMETER_INVALID", (await RunAsync("pql", "eval", "true", "--profile", profile, "--now", "yesterday-ish")).Errors);
        Assert.Contains("FILE_INVALID", (await RunAsync("pql", "eval", "true", "--profile", Write("bad.json", "[1, 2"))).Errors);
    }

    private static string Compact(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
}

using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

public sealed class IdentitySimulateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tessera-simulate-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Simulate_prints_graphs_and_removed_links_as_json_and_dot()
    {
        var links = Path.Combine(_directory, "links.txt");
        await File.WriteAllLinesAsync(links, [
            "CRMID:tom, ECID:111",
            "# a shared tablet: Ann logs in after Tom",
            "CRMID:ann, ECID:111",
            "CRMID:tom, Email:tom@example.com, ECID:222",
            "Email:tom@example.com, ECID:333",
        ], TestContext.Current.CancellationToken);
        var rules = Path.Combine(_directory, "rules.json");
        await File.WriteAllTextAsync(rules, """{"uniqueNamespaces": ["CRMID"], "priority": ["CRMID", "Email"], "maxIdentities": 3}""", TestContext.Current.CancellationToken);
        var dot = Path.Combine(_directory, "graph.dot");

        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "identity", "simulate", links, "--rules", rules, "--json", "--dot", dot);

        Assert.True(run.ExitCode == 0, run.Errors);
        using var result = JsonDocument.Parse(run.Output);
        var graphs = result.RootElement.GetProperty("graphs").EnumerateArray()
            .Select(g => $"{g.GetProperty("primary").GetString()}: {string.Join(" ", g.GetProperty("identities").EnumerateArray().Select(i => i.GetString()))}")
            .ToList();
        // The cap of 3 keeps Tom's newest links; the cookie seen only with his email on the oldest is evicted.
        Assert.Equal([
            "CRMID:ann: CRMID:ann ECID:111",
            "CRMID:tom: CRMID:tom Email:tom@example.com ECID:333",
            "ECID:222: ECID:222",
        ], graphs);
        var removed = result.RootElement.GetProperty("removedLinks").EnumerateArray()
            .Select(l => $"{l.GetProperty("from").GetString()}-{l.GetProperty("to").GetString()} {l.GetProperty("rule").GetString()} line {l.GetProperty("line").GetInt32()}")
            .ToList();
        Assert.Equal(["CRMID:tom-ECID:222 size-cap line 4", "CRMID:tom-ECID:111 unique-namespace line 1"], removed);

        var picture = await File.ReadAllTextAsync(dot, TestContext.Current.CancellationToken);
        Assert.Contains("\"CRMID:tom\" -- \"ECID:111\" [style=dashed, color=red];", picture);
        Assert.Contains("\"CRMID:ann\" -- \"ECID:111\";", picture);
    }

    [Fact]
    public async Task Simulate_refuses_bad_rules_and_bad_lines_by_name()
    {
        var links = Path.Combine(_directory, "links.txt");
        await File.WriteAllLinesAsync(links, ["CRMID:tom, ECID:111", "nonsense"], TestContext.Current.CancellationToken);
        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "identity", "simulate", links);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("SIMULATION_INPUT_INVALID", run.Errors);
        Assert.Contains("links.txt:2: 'nonsense' is not Namespace:value", run.Errors);

        var rules = Path.Combine(_directory, "rules.json");
        await File.WriteAllTextAsync(rules, """{"priority": ["ECID", "CRMID"]}""", TestContext.Current.CancellationToken);
        var refused = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "identity", "simulate", links, "--rules", rules);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("INVALID_GRAPH_RULES", refused.Errors);
        Assert.Contains("device namespace 'ECID' may not rank above person namespace 'CRMID'", refused.Errors);
    }

    [Fact]
    public async Task Simulate_refuses_a_line_with_more_identities_than_a_record_may_carry()
    {
        // 100,000 identities on one line ran for minutes (a list searched per identity, then linked).
        var links = Path.Combine(_directory, "links.txt");
        await File.WriteAllLinesAsync(links, ["CRMID:tom, ECID:111", string.Join(", ", Enumerable.Range(0, 100_000).Select(i => $"ECID:{i}"))], TestContext.Current.CancellationToken);

        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "identity", "simulate", links);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("TOO_MANY_IDENTITIES: links.txt:2: 100000 identities on one line, more than the limit of 20 (--max-identities-per-line", run.Errors);
        await File.WriteAllLinesAsync(links, [string.Join(", ", Enumerable.Range(0, 20).Select(i => $"ECID:{i}"))], TestContext.Current.CancellationToken);
        Assert.Equal(0, (await CliProcess.RunAsync(TestContext.Current.CancellationToken, "identity", "simulate", links)).ExitCode);
    }

    [Fact]
    public async Task Simulate_takes_the_line_limit_as_an_option_and_names_line_count_and_limit()
    {
        var ct = TestContext.Current.CancellationToken;
        var links = Path.Combine(_directory, "links.txt");
        // Repeats count once: 25 distinct identities on line 3.
        await File.WriteAllLinesAsync(links, ["# a kiosk", "CRMID:tom, ECID:111",
            string.Join(", ", Enumerable.Range(0, 25).Select(i => $"ECID:{i}").Append("ECID:0"))], ct);

        var refused = await CliProcess.RunAsync(ct, "identity", "simulate", links);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("TOO_MANY_IDENTITIES: links.txt:3: 25 identities on one line, more than the limit of 20", refused.Errors);

        var raised = await CliProcess.RunAsync(ct, "identity", "simulate", links, "--max-identities-per-line", "25", "--json");
        Assert.True(raised.ExitCode == 0, raised.Errors);
        using (var result = JsonDocument.Parse(raised.Output))
        {
            Assert.Contains(result.RootElement.GetProperty("graphs").EnumerateArray(), g => g.GetProperty("identities").GetArrayLength() == 25);
        }

        var lower = await CliProcess.RunAsync(ct, "identity", "simulate", links, "--max-identities-per-line", "24");
        Assert.Equal(1, lower.ExitCode);
        Assert.Contains("TOO_MANY_IDENTITIES: links.txt:3: 25 identities on one line, more than the limit of 24 (--max-identities-per-line)", lower.Errors);

        var zero = await CliProcess.RunAsync(ct, "identity", "simulate", links, "--max-identities-per-line", "0");
        Assert.Equal(1, zero.ExitCode);
        Assert.Contains("PARAMETER_INVALID: --max-identities-per-line must be 1 or more, not 0", zero.Errors);
    }

    [Theory]
    [InlineData("""{"priority": [null]}""", "priority: entry 1 must be a namespace code, found null")]
    [InlineData("""{"uniqueNamespaces": ["CRMID", null]}""", "uniqueNamespaces: entry 2 must be a namespace code, found null")]
    [InlineData("""{"priority": null}""", "priority must be a list of namespace codes, not null")]
    public async Task Simulate_refuses_nulls_in_rules_by_name(string rulesJson, string message)
    {
        var links = Path.Combine(_directory, "links.txt");
        await File.WriteAllLinesAsync(links, ["CRMID:tom, ECID:111"], TestContext.Current.CancellationToken);
        var rules = Path.Combine(_directory, "rules.json");
        await File.WriteAllTextAsync(rules, rulesJson, TestContext.Current.CancellationToken);

        var run = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "identity", "simulate", links, "--rules", rules);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("INVALID_GRAPH_RULES", run.Errors);
        Assert.Contains(message, run.Errors);
    }
}

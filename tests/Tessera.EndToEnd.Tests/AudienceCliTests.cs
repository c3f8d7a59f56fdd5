using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera audience</c> on a real workspace, through the real command line, with a limit from tessera.json.</summary>
public sealed class AudienceCliTests() : CliWorkspaceTest("audience-cli")
{
    [Fact]
    public async Task Create_publish_list_show_update_deactivate_and_delete()
    {
        Directory.CreateDirectory(Data);
        File.WriteAllText(Path.Combine(Data, "tessera.json"), """{"segmentation":{"maxEdgeAudiences":1}}""");
        var schema = Write("crm.json", """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}},"tier":{"type":"string"},"age":{"type":"int"}}}""");
        await SucceedAsync("schema", "register", schema);

        using (var created = JsonDocument.Parse((await SucceedAsync("--json", "audience", "create", "gold", "--pql", "tier = \"gold\"", "--id", "gold", "--publish")).Output))
        {
            var audience = created.RootElement;
            Assert.Equal("published", audience.GetProperty("state").GetString());
            Assert.Equal("edge", audience.GetProperty("mode").GetString());
            Assert.Equal("tier = \"gold\"", audience.GetProperty("pql").GetString());
        }
        await SucceedAsync("audience", "create", "adults", "--pql", "age >= 18 and inSegment(\"gold\")", "--description", "grown-up gold members");
        var typeError = await RefusedAsync("audience", "create", "bad", "--pql", "age = \"old\"");
        Assert.Contains("PQL_INVALID", typeError, StringComparison.Ordinal);
        Assert.Contains("line 1, column", typeError, StringComparison.Ordinal);
        var limit = await RefusedAsync("audience", "publish", "adults");
        Assert.Contains("EDGE_AUDIENCE_LIMIT", limit, StringComparison.Ordinal);
        Assert.Contains("segmentation.maxEdgeAudiences = 1", limit, StringComparison.Ordinal);

        using (var listed = JsonDocument.Parse((await SucceedAsync("--json", "audience", "list", "--state", "draft")).Output))
        {
            var adults = Assert.Single(listed.RootElement.EnumerateArray());
            Assert.Equal("adults", adults.GetProperty("name").GetString());
            Assert.Equal(["gold"], adults.GetProperty("dependsOn").EnumerateArray().Select(d => d.GetString()));
        }
        var table = await SucceedAsync("audience", "list");
        Assert.Contains("gold", table.Output, StringComparison.Ordinal);
        Assert.Contains("adults", table.Output, StringComparison.Ordinal);

        var inUse = await RefusedAsync("audience", "delete", "gold");
        Assert.Contains("AUDIENCE_IN_USE", inUse, StringComparison.Ordinal);
        Assert.Contains("'adults'", inUse, StringComparison.Ordinal);

        using (var updated = JsonDocument.Parse((await SucceedAsync("--json", "audience", "update", "adults", "--pql", "age >= 21", "--description", "")).Output))
        {
            Assert.Empty(updated.RootElement.GetProperty("dependsOn").EnumerateArray());
            Assert.False(updated.RootElement.TryGetProperty("description", out _));
        }
        var shown = await SucceedAsync("audience", "show", "adults");
        Assert.Contains("age >= 21", shown.Output, StringComparison.Ordinal);
        Assert.Contains("profile attributes only", shown.Output, StringComparison.Ordinal);

        await SucceedAsync("audience", "deactivate", "gold");
        await SucceedAsync("audience", "publish", "adults");
        await SucceedAsync("audience", "delete", "gold");
        using (var deleted = JsonDocument.Parse((await SucceedAsync("--json", "audience", "show", "gold")).Output))
        {
            Assert.Equal("deleted", deleted.RootElement.GetProperty("state").GetString()); // Its id still names the record.
        }
        using (var published = JsonDocument.Parse((await SucceedAsync("--json", "audience", "list", "--state", "published")).Output))
        {
            Assert.Equal(["adults"], published.RootElement.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        }
        Assert.Contains("AUDIENCE_NOT_FOUND", await RefusedAsync("audience", "show", "nope"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_runs_a_batch_and_members_lists_who_qualifies()
    {
        var schema = Write("crm.json", """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}},"tier":{"type":"string"}}}""");
        await SucceedAsync("schema", "register", schema);
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        await SucceedAsync("ingest", "--dataset", "crm", Write("crm.csv", "crmId,tier\nc1,gold\nc2,silver\nc3,gold\n"));
        await SucceedAsync("audience", "create", "gold", "--pql", "tier = \"gold\"", "--id", "gold", "--publish");

        using (var report = JsonDocument.Parse((await SucceedAsync("--json", "audience", "evaluate")).Output))
        {
            Assert.Equal(3, report.RootElement.GetProperty("profiles").GetInt32());
            Assert.Equal(2, report.RootElement.GetProperty("members").GetProperty("gold").GetInt32());
        }
        using (var members = JsonDocument.Parse((await SucceedAsync("--json", "audience", "members", "gold")).Output))
        {
            Assert.Equal(["CRMID:c1", "CRMID:c3"], members.RootElement.EnumerateArray().Select(m => m.GetProperty("profileId").GetString()).Order());
        }
        Assert.Contains("2 members", (await SucceedAsync("audience", "members", "gold")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_preview_overlap_and_history_answer_on_the_command_line()
    {
        var schema = Write("crm.json", """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}},"tier":{"type":"string"}}}""");
        await SucceedAsync("schema", "register", schema);
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        await SucceedAsync("ingest", "--dataset", "crm", Write("crm.csv", "crmId,tier\nc1,gold\nc2,silver\nc3,gold\n"));
        await SucceedAsync("audience", "create", "gold", "--pql", "tier = \"gold\"", "--id", "gold", "--publish");
        await SucceedAsync("audience", "create", "c1", "--pql", "crmId = \"c1\"", "--id", "c1", "--publish");

        using (var estimate = JsonDocument.Parse((await SucceedAsync("--json", "audience", "estimate", "--pql", "tier = \"gold\"")).Output))
        {
            Assert.Equal((3, 2, 2), (estimate.RootElement.GetProperty("profiles").GetInt32(), estimate.RootElement.GetProperty("estimate").GetInt32(),
                estimate.RootElement.GetProperty("high").GetInt32()));
        }
        using (var preview = JsonDocument.Parse((await SucceedAsync("--json", "audience", "preview", "gold", "--count", "1")).Output))
        {
            // Key order is shard by shard: either gold profile may come first.
            Assert.Contains(Assert.Single(preview.RootElement.GetProperty("profiles").EnumerateArray()).GetProperty("primary").GetString(), new[] { "CRMID:c1", "CRMID:c3" });
        }
        await SucceedAsync("audience", "evaluate");
        using (var overlap = JsonDocument.Parse((await SucceedAsync("--json", "audience", "overlap", "gold", "c1")).Output))
        {
            Assert.Equal((2, 1, 1), (overlap.RootElement.GetProperty("membersA").GetInt32(), overlap.RootElement.GetProperty("membersB").GetInt32(),
                overlap.RootElement.GetProperty("both").GetInt32()));
        }
        using (var history = JsonDocument.Parse((await SucceedAsync("--json", "audience", "history", "gold")).Output))
        {
            Assert.Equal(2, Assert.Single(history.RootElement.EnumerateArray()).GetProperty("members").GetInt32());
        }
        Assert.Contains("exact", (await SucceedAsync("audience", "estimate", "gold")).Output, StringComparison.Ordinal);
    }
}

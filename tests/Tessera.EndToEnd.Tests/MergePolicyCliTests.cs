using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera merge-policy</c> on a real workspace, through the real command line, with the limit from tessera.json.</summary>
public sealed class MergePolicyCliTests() : CliWorkspaceTest("merge-policy-cli")
{
    [Fact]
    public async Task Create_list_show_set_default_and_delete_within_the_configured_limit()
    {
        Directory.CreateDirectory(Data);
        File.WriteAllText(Path.Combine(Data, "tessera.json"), """{"profiles":{"maxMergePolicies":2}}""");
        var schema = Path.Combine(Folder, "crm.json");
        File.WriteAllText(schema, """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}}}}""");
        await SucceedAsync("schema", "register", schema);
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        await SucceedAsync("dataset", "create", "pos", "--schema", "crm");

        await SucceedAsync("merge-policy", "create", "newest");
        Assert.Contains("MERGE_POLICY_INVALID", await RefusedAsync("merge-policy", "create", "x", "--precedence", "crm,nope"), StringComparison.Ordinal);
        using (var created = JsonDocument.Parse((await SucceedAsync("--json", "merge-policy", "create", "crm-first", "--precedence", "crm, pos", "--no-stitching", "--default")).Output))
        {
            var policy = created.RootElement;
            Assert.Equal("datasetPrecedence", policy.GetProperty("attributeMerge").GetString());
            Assert.Equal(["crm", "pos"], policy.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()));
            Assert.Equal("none", policy.GetProperty("stitching").GetString());
            Assert.True(policy.GetProperty("default").GetBoolean());
        }
        var limit = await RefusedAsync("merge-policy", "create", "third");
        Assert.Contains("MERGE_POLICY_LIMIT", limit, StringComparison.Ordinal);
        Assert.Contains("profiles.maxMergePolicies = 2", limit, StringComparison.Ordinal);

        using (var listed = JsonDocument.Parse((await SucceedAsync("--json", "merge-policy", "list")).Output))
        {
            Assert.Equal(["crm-first"], listed.RootElement.EnumerateArray().Where(p => p.GetProperty("default").GetBoolean()).Select(p => p.GetProperty("name").GetString()));
            Assert.Equal(2, listed.RootElement.GetArrayLength());
        }
        Assert.Contains("MERGE_POLICY_IS_DEFAULT", await RefusedAsync("merge-policy", "delete", "crm-first"), StringComparison.Ordinal);
        await SucceedAsync("merge-policy", "set-default", "newest");
        await SucceedAsync("merge-policy", "delete", "crm-first");
        using (var shown = JsonDocument.Parse((await SucceedAsync("--json", "merge-policy", "show", "newest")).Output))
        {
            Assert.True(shown.RootElement.GetProperty("default").GetBoolean());
            Assert.Equal("graph", shown.RootElement.GetProperty("stitching").GetString());
        }
        Assert.Contains("MERGE_POLICY_NOT_FOUND", await RefusedAsync("merge-policy", "show", "crm-first"), StringComparison.Ordinal);
    }
}

using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera profile show</c> on a real workspace, through the real command line.</summary>
public sealed class ProfileCliTests() : CliWorkspaceTest("profile-cli")
{
    [Fact]
    public async Task Show_merges_two_datasets_under_each_policy_and_names_a_missing_profile()
    {
        await SucceedAsync("schema", "register", Write("crm.json", """
            {"name":"crm","class":"profile","fields":{
              "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
              "email":{"type":"string","identity":{"namespace":"Email"}},
              "tier":{"type":"string"}}}
            """));
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        await SucceedAsync("dataset", "create", "loyalty", "--schema", "crm");
        await SucceedAsync("ingest", "--dataset", "loyalty", Write("loyalty.csv", "crmId,tier\nc1,gold\n"));
        await SucceedAsync("ingest", "--dataset", "crm", Write("crm.csv", "crmId,email,tier\nc1,ann@example.com,silver\n"));
        await SucceedAsync("merge-policy", "create", "newest");
        await SucceedAsync("merge-policy", "create", "loyalty-first", "--precedence", "loyalty,crm");

        using (var newest = JsonDocument.Parse((await SucceedAsync("--json", "profile", "show", "Email:ANN@example.com")).Output))
        {
            Assert.Equal("newest", newest.RootElement.GetProperty("mergePolicy").GetString());
            Assert.Equal("silver", newest.RootElement.GetProperty("attributes").GetProperty("tier").GetString());
        }
        using (var precedence = JsonDocument.Parse((await SucceedAsync("--json", "profile", "show", "CRMID:c1", "--policy", "loyalty-first")).Output))
        {
            Assert.Equal("gold", precedence.RootElement.GetProperty("attributes").GetProperty("tier").GetString());
            Assert.Equal(2, precedence.RootElement.GetProperty("fragments").GetArrayLength());
        }
        var table = await SucceedAsync("profile", "show", "CRMID:c1");
        Assert.Contains("silver", table.Output);
        Assert.Contains("ann@example.com", table.Output);

        var missing = await RunAsync("profile", "show", "CRMID:nobody");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("PROFILE_NOT_FOUND", missing.Errors);
    }
}

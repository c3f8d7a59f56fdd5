using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera identity show|explain|rules|delete</c> on a real workspace, through the real command line.</summary>
public sealed class IdentityCliTests() : CliWorkspaceTest("identity-cli")
{
    [Fact]
    public async Task Show_explain_rules_and_delete_work_on_ingested_data()
    {
        await SucceedAsync("schema", "register", Write("crm.json", """
            {"name":"crm","class":"profile","fields":{
              "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
              "email":{"type":"string","identity":{"namespace":"Email"}}}}
            """));
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        await SucceedAsync("--json", "ingest", "--dataset", "crm", Write("first.csv", "crmId,email\nc1,Shared@Example.com\n"));
        var second = await SucceedAsync("--json", "ingest", "--dataset", "crm", Write("second.csv", "crmId,email\nc2,shared@example.com\n"));
        using var secondBatch = JsonDocument.Parse(second.Output);
        var secondId = secondBatch.RootElement.GetProperty("id").GetString()!;

        using (var shown = JsonDocument.Parse((await SucceedAsync("--json", "identity", "show", "Email:SHARED@example.com")).Output))
        {
            // The second batch was ingested later, so its link is the newest and wins the email.
            Assert.Equal("CRMID:c2", shown.RootElement.GetProperty("primary").GetString());
        }
        using (var why = JsonDocument.Parse((await SucceedAsync("--json", "identity", "explain", "CRMID:c1", "CRMID:c2")).Output))
        {
            Assert.False(why.RootElement.GetProperty("joined").GetBoolean());
            Assert.Equal("unique-namespace", why.RootElement.GetProperty("cuts")[0].GetProperty("rule").GetString());
        }
        var loose = Write("loose.json", """{"uniqueNamespaces":[]}""");
        using (var dryRun = JsonDocument.Parse((await SucceedAsync("--json", "identity", "rules", "set", loose, "--dry-run")).Output))
        {
            Assert.False(dryRun.RootElement.GetProperty("applied").GetBoolean());
            Assert.Equal(1, dryRun.RootElement.GetProperty("changes").GetProperty("merged").GetInt32());
        }
        using (var receipt = JsonDocument.Parse((await SucceedAsync("--json", "identity", "delete", "--batch", secondId)).Output))
        {
            Assert.Equal(1, receipt.RootElement.GetProperty("entriesRemoved").GetInt32());
        }
        using (var after = JsonDocument.Parse((await SucceedAsync("--json", "identity", "show", "Email:shared@example.com")).Output))
        {
            Assert.Equal("CRMID:c1", after.RootElement.GetProperty("primary").GetString());
        }
        var missing = await CliProcess.RunAsync(TestContext.Current.CancellationToken, "--data", Path.Combine(Folder, "data"), "identity", "show", "CRMID:c2");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("IDENTITY_NOT_FOUND", missing.Errors);
    }
}

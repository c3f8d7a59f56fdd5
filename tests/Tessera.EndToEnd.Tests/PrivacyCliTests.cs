using System.Text.Json;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera privacy</c> on a real workspace, through the real command line.</summary>
public sealed class PrivacyCliTests() : CliWorkspaceTest("privacy-cli")
{
    [Fact]
    public async Task Access_writes_an_export_delete_removes_the_person_and_both_are_listed()
    {
        await SucceedAsync("schema", "register", Write("crm.json", """
            {"name":"crm","class":"profile","fields":{
              "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
              "email":{"type":"string","identity":{"namespace":"Email"}},
              "tier":{"type":"string"}}}
            """));
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        await SucceedAsync("ingest", "--dataset", "crm", Write("crm.csv", "crmId,email,tier\nc1,ann@example.com,gold\nc2,bob@example.com,silver\n"));

        var exportFile = Path.Combine(Folder, "ann.json");
        string accessId;
        using (var access = JsonDocument.Parse((await SucceedAsync("--json", "privacy", "access", "Email:ANN@example.com", "--out", exportFile)).Output))
        {
            Assert.Equal("completed", access.RootElement.GetProperty("status").GetString());
            accessId = access.RootElement.GetProperty("id").GetString()!;
        }
        using (var export = JsonDocument.Parse(await File.ReadAllTextAsync(exportFile, TestContext.Current.CancellationToken)))
        {
            var profile = export.RootElement.GetProperty("profiles")[0];
            Assert.Equal("gold", profile.GetProperty("attributes").GetProperty("tier").GetString());
        }

        var delete = await SucceedAsync("privacy", "delete", "CRMID:c1");
        Assert.Contains("completed", delete.Output);
        Assert.Contains("record versions", delete.Output);
        var gone = await RunAsync("profile", "show", "Email:ann@example.com");
        Assert.Equal((1, true), (gone.ExitCode, gone.Errors.Contains("PROFILE_NOT_FOUND", StringComparison.Ordinal)));
        await SucceedAsync("profile", "show", "Email:bob@example.com");

        using (var list = JsonDocument.Parse((await SucceedAsync("--json", "privacy", "list")).Output))
        {
            var requests = list.RootElement.EnumerateArray().ToList();
            Assert.Equal(["delete", "access"], requests.Select(r => r.GetProperty("type").GetString()));
            var receipt = requests[0].GetProperty("receipt");
            Assert.Equal((1, 0), (receipt.GetProperty("recordVersions").GetInt32(), receipt.GetProperty("graphIdentitiesAfter").GetInt32()));
        }
        using (var shown = JsonDocument.Parse((await SucceedAsync("--json", "privacy", "show", accessId)).Output))
        {
            Assert.Equal("access", shown.RootElement.GetProperty("type").GetString());
        }

        var missing = await RunAsync("privacy", "show", "p-nope");
        Assert.Equal((1, true), (missing.ExitCode, missing.Errors.Contains("PRIVACY_REQUEST_NOT_FOUND", StringComparison.Ordinal)));
        var invalid = await RunAsync("privacy", "delete", "not-an-identity");
        Assert.Equal((1, true), (invalid.ExitCode, invalid.Errors.Contains("IDENTITY_INVALID", StringComparison.Ordinal)));
    }
}

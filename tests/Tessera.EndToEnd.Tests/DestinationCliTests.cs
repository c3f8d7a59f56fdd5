using System.Text.Json;
using Tessera.Tests.Shared;

namespace Tessera.EndToEnd.Tests;

/// <summary><c>tessera destination</c> on a real workspace, through the real command line, against a local receiver.</summary>
public sealed class DestinationCliTests() : CliWorkspaceTest("destination-cli")
{
    [Fact]
    public async Task Create_deliver_and_monitor_a_webhook_destination()
    {
        var token = TestContext.Current.CancellationToken;
        await using var receiver = await LocalReceiver.StartAsync(token);
        // The receiver is on 127.0.0.1, which destinations may call only when the workspace allows it.
        Directory.CreateDirectory(Data);
        await File.WriteAllTextAsync(Path.Combine(Data, "tessera.json"), """{"activation": {"allowedPrivateNetworks": ["127.0.0.0/8"]}}""", token);
        await SucceedAsync("schema", "register", Write("crm.json", """
            {"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}},
             "email":{"type":"string","identity":{"namespace":"Email"}},"tier":{"type":"string"}}}
            """));
        await SucceedAsync("dataset", "create", "crm", "--schema", "crm");
        await SucceedAsync("ingest", "--dataset", "crm", Write("crm.csv", "crmId,email,tier\nc1,ann@example.com,gold\nc2,bob@example.com,gold\nc3,cy@example.com,silver\n"));
        await SucceedAsync("audience", "create", "gold", "--pql", "tier = \"gold\"", "--id", "gold", "--publish");
        await SucceedAsync("audience", "evaluate");

        var invalid = await RefusedAsync("destination", "create", Write("bad.json", """{"name":"bad","connector":"webhook","settings":{"endpoint":"ftp://x"},"identities":[{"source":"Email","target":"email"}]}"""));
        Assert.Contains("DESTINATION_INVALID", invalid, StringComparison.Ordinal);
        Assert.Contains("settings.endpoint", invalid, StringComparison.Ordinal);

        await SucceedAsync("governance", "label", "crm", "C2", "--field", "email");
        await SucceedAsync("governance", "policy", "save", "no-export", "--labels", "C2", "--actions", "exportToThirdParty");
        var forbidden = await RefusedAsync("destination", "create", Write("export.json", $$"""
            {"name": "export", "connector": "webhook", "settings": {"endpoint": "{{receiver.Address}}"}, "marketingAction": "exportToThirdParty",
             "audiences": [{"audienceId": "gold"}], "identities": [{"source": "Email", "target": "email", "hash": "sha256"}]}
            """));
        Assert.Contains("POLICY_VIOLATION", forbidden, StringComparison.Ordinal);
        Assert.Contains("dataset crm → field email [C2] → identity Email as email → destination export", forbidden, StringComparison.Ordinal);

        await SucceedAsync("destination", "create", Write("hook.json", $$"""
            {"name": "hook", "connector": "webhook", "settings": {"endpoint": "{{receiver.Address}}"},
             "audiences": [{"audienceId": "gold"}],
             "identities": [{"source": "Email", "target": "email", "hash": "sha256"}]}
            """));
        using (var runs = JsonDocument.Parse((await SucceedAsync("--json", "destination", "deliver", "hook")).Output))
        {
            var run = Assert.Single(runs.RootElement.EnumerateArray());
            Assert.Equal("backfill", run.GetProperty("kind").GetString());
            Assert.Equal("delivered", run.GetProperty("status").GetString());
            Assert.Equal(2, run.GetProperty("activated").GetInt32());
        }
        Assert.Single(receiver.Accepted);
        using (var audit = JsonDocument.Parse((await SucceedAsync("--json", "destination", "audit", "hook")).Output))
        {
            var entry = Assert.Single(audit.RootElement.EnumerateArray());
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(receiver.Accepted.Single().Body)), entry.GetProperty("payloadSha256").GetString());
            Assert.Equal(2, entry.GetProperty("identities").GetInt32());
        }
        using (var runs = JsonDocument.Parse((await SucceedAsync("--json", "destination", "runs", "hook")).Output))
        {
            Assert.Equal(1, Assert.Single(runs.RootElement.EnumerateArray()).GetProperty("id").GetInt64());
        }
        await SucceedAsync("destination", "runs", "hook");
        Assert.Contains("hook", (await SucceedAsync("destination", "list")).Output, StringComparison.Ordinal);
        var folder = Path.Combine(Data, "exports").Replace("\\", "/", StringComparison.Ordinal);
        await SucceedAsync("destination", "create", Write("file.json", $$$"""
            {"name": "crm-file", "connector": "file", "audiences": [{"audienceId": "gold"}],
             "identities": [{"source": "Email", "target": "email_sha256", "hash": "sha256"}],
             "schedule": {"frequency": "once", "mode": "full"}, "file": {"format": "csv", "folder": "{{{folder}}}"}}
            """));
        using (var exported = JsonDocument.Parse((await SucceedAsync("--json", "destination", "export", "crm-file")).Output))
        {
            var run = Assert.Single(exported.RootElement.EnumerateArray());
            Assert.Equal(2, run.GetProperty("activated").GetInt32());
        }
        var file = Assert.Single(Directory.GetFiles(folder, "crm-file_gold_*.csv"));
        Assert.Equal(3, File.ReadAllLines(file).Length);
        Assert.Contains("DESTINATION_NOT_STREAMING", await RefusedAsync("destination", "deliver", "crm-file"), StringComparison.Ordinal);
        await SucceedAsync("destination", "delete", "hook");
        Assert.Contains("DESTINATION_NOT_FOUND", await RefusedAsync("destination", "show", "hook"), StringComparison.Ordinal);
    }
}

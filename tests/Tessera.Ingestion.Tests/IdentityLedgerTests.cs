using System.Text;
using System.Text.Json;
using Tessera.Identity.Graph;

namespace Tessera.Ingestion.Tests;

/// <summary>Ingestion appends every stored fact's identities to the link ledger; the graph survives a restart.</summary>
public sealed class IdentityLedgerTests
{
    private const string Crm = """
        {"name":"crm","class":"profile","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "email":{"type":"string","identity":{"namespace":"Email"}}}}
        """;

    private const string Web = """
        {"name":"web","class":"event","fields":{
          "ecid":{"type":"string","required":true,"identity":{"namespace":"ECID","primary":true}},
          "crmId":{"type":"string","identity":{"namespace":"CRMID"}}}}
        """;

    private static string Describe(TestWorkspace test, string identity)
    {
        var found = test.Workspace.Identity.Find("prod", GraphKey(identity));
        return found is null ? "-" : string.Join(" ", found.Graph.Identities);
    }

    private static IdentityKey GraphKey(string text) => IdentityKey.TryParse(text, out var key) ? key : throw new ArgumentException(text);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task File_and_streamed_facts_link_and_the_graphs_are_derived_again_after_a_restart(bool bulkLoad)
    {
        await using var test = await TestWorkspace.CreateAsync(bulkLoad ? """{"bulkLoadThreshold": 1}""" : null);
        await test.DefineAsync(Crm);
        await test.DefineAsync(Web);
        var csv = new StringBuilder("crmId,email\n");
        for (var i = 0; i < 50; i++)
        {
            csv.Append($"c{i},Person{i}@Example.com\n");
        }
        csv.Append("c50,unknown\n"); // blocked email: no link, the CRM id alone
        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", csv.ToString()));
        Assert.Equal(51, batch.Counts.Accepted);

        test.Time.Advance(TimeSpan.FromMinutes(1));
        using var events = JsonDocument.Parse("""
            [{"_id":"e1","timestamp":"2026-11-01T12:05:00Z","ecid":"d1","crmId":"c1"},
             {"_id":"e2","timestamp":"2026-11-01T12:06:00Z","ecid":"d1","crmId":"c2"},
             {"_id":"e2","timestamp":"2026-11-01T12:06:00Z","ecid":"d1","crmId":"c2"}]
            """);
        var streamed = await test.Ingestion.IngestRecordsAsync("prod", "web", [.. events.RootElement.EnumerateArray()], "test");
        Assert.Equal(1, streamed.Batch.Counts.Duplicates);

        const string expectedC1 = "CRMID:c1 Email:person1@example.com";
        const string expectedC2 = "CRMID:c2 Email:person2@example.com ECID:d1";
        Assert.Equal(expectedC1, Describe(test, "CRMID:c1"));
        Assert.Equal(expectedC2, Describe(test, "ECID:d1"));
        Assert.Equal("CRMID:c50", Describe(test, "CRMID:c50"));
        var counts = test.Workspace.Identity.Counts("prod");

        // The second start sizes the graph from what the first derived (a size hint it kept).
        for (var start = 0; start < 2; start++)
        {
            await test.ReopenAsync();

            Assert.Equal(counts, test.Workspace.Identity.Counts("prod"));
            Assert.Equal(expectedC1, Describe(test, "CRMID:c1"));
            Assert.Equal(expectedC2, Describe(test, "ECID:d1"));
        }
        // The duplicate event was not stored, so it left no ledger entry: d1 was seen with c2 once.
        var link = Assert.Single(test.Workspace.Identity.Find("prod", GraphKey("ECID:d1"))!.Links, l => l.To == GraphKey("CRMID:c2"));
        Assert.Equal((1, "e2"), (link.Occurrences, link.Origin.Record));
    }

    [Fact]
    public async Task A_graph_grown_by_a_file_batch_keeps_its_size_for_the_next_start()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Crm);
        var csv = new StringBuilder("crmId,email\n");
        for (var i = 0; i < 200; i++)
        {
            csv.Append($"c{i},p{i}@example.com\n");
        }
        await test.IngestAsync("crm", test.WriteFile("crm.csv", csv.ToString()));
        var counts = test.Workspace.Identity.Counts("prod");
        // The size is kept by a commit nobody waits for; one committed after it is durable only once it is.
        using var after = new Tessera.Storage.WriteSet(64);
        after.Put(Tessera.Storage.StoreSpace.Catalog, 0, "test\0after"u8, [1]);
        await test.Workspace.Store.CommitAsync(after, TestContext.Current.CancellationToken);

        // The start before the batch derived an empty graph and kept nothing; the batch's 400 identities are kept, with an
        // eighth more room.
        Assert.Equal((400, 200), (counts.Identities, counts.Links));
        Assert.Equal((450, 225), test.Workspace.Identity.SizeKept("prod"));
    }
}

using System.Text.Json;
using Tessera.Identity.Graph;
using Tessera.Ingestion;
using Tessera.Profiles.Privacy;
using Tessera.Profiles.Tests.Service;
using Tessera.Storage;
using static Tessera.Profiles.Tests.Service.ProfileWorkspace;

namespace Tessera.Profiles.Tests.Privacy;

/// <summary>Access and delete requests, checked against every store by scanning it directly.</summary>
public sealed class PrivacyRequestTests
{
    private static readonly string[] Ann = ["CRMID:1", "Email:ann@example.com", "ECID:K1"];

    /// <summary>Ann (CRM, loyalty, a web event, a rejected CRM row) and Bob (the same kinds of data).</summary>
    private static async Task<ProfileWorkspace> TwoPeopleAsync()
    {
        var test = await CreateAsync();
        await test.StreamAsync("crm", """
            [{"crmId":"1","email":"ann@example.com","firstName":"Ann"},
             {"crmId":"2","email":"bob@example.com","firstName":"Bob"}]
            """);
        await test.StreamAsync("loyalty", """[{"crmId":"1","tier":"gold"},{"crmId":"2","tier":"silver"}]""");
        await test.StreamAsync("web", """
            [{"_id":"a1","timestamp":"2026-11-01T11:00:00Z","ecid":"K1","crmId":"1","page":"home"},
             {"_id":"b1","timestamp":"2026-11-01T11:00:00Z","ecid":"K2","crmId":"2","page":"cart"}]
            """);
        // Rejected (an object where a string belongs): the quarantine keeps the raw text with the email in it.
        var rejected = await test.Workspace.Ingestion.IngestRecordsAsync("prod", "crm",
            [Element("""{"crmId":"1","email":"ANN@example.com","tier":{"x":1}}"""), Element("""{"crmId":"2","email":"bob@example.com","tier":{"x":"y"}}""")], "test");
        Assert.Equal(2, rejected.Batch.Counts.Failed);
        return test;
    }

    [Fact]
    public async Task A_delete_leaves_nothing_of_the_person_in_any_store_and_nothing_else_changes()
    {
        await using var test = await TwoPeopleAsync();
        var bobBefore = Json(test.Lookup("CRMID:2"));
        Assert.NotNull(test.Lookup("ECID:K1")); // A cached view, which the delete must drop.
        var bobKeys = PersonKeys(test, ["CRMID:2", "Email:bob@example.com", "ECID:K2"]);

        var request = await test.Workspace.Privacy.DeleteAsync("prod", [Key("Email:ann@example.com")]);

        Assert.Equal(PrivacyRequestStatus.Completed, request.Status);
        var receipt = request.Receipt!;
        Assert.Equal("removed", receipt.Action);
        Assert.Equal(Ann.Order(), receipt.Identities.Order());
        Assert.Equal((2, 1, 1), (receipt.RecordVersions, receipt.Events, receipt.TimelineKeys)); // crm + loyalty; the web event and its index key
        Assert.Equal((3, 3, 0), (receipt.LedgerEntries, receipt.LedgerEntriesRemoved, receipt.LedgerEntriesRewritten));
        Assert.Equal((1, 3, 0), (receipt.QuarantineRows, receipt.GraphIdentitiesBefore, receipt.GraphIdentitiesAfter));
        Assert.Equal(0, receipt.Memberships);
        Assert.Equal(3, receipt.Facts.Count);
        AssertGone(test);

        Assert.Equal(bobKeys, PersonKeys(test, ["CRMID:2", "Email:bob@example.com", "ECID:K2"]));
        Assert.Equal(bobBefore, Json(test.Lookup("CRMID:2")));
        Assert.Single(QuarantineRaw(test), raw => raw.Contains("bob@example.com", StringComparison.Ordinal));

        // Durable: the request and its receipt survive a reopen, and nothing comes back.
        await test.ReopenAsync();
        var stored = test.Workspace.Privacy.Require("prod", request.Id);
        Assert.Equal(JsonSerializer.Serialize(request, PrivacyJson.Default.PrivacyRequest), JsonSerializer.Serialize(stored, PrivacyJson.Default.PrivacyRequest));
        Assert.Equal([request.Id], test.Workspace.Privacy.List("prod").Select(r => r.Id));
        AssertGone(test);
        Assert.Equal(bobBefore, Json(test.Lookup("CRMID:2")));

        // Deleting again finds nothing and fails nothing.
        var again = await test.Workspace.Privacy.DeleteAsync("prod", [Key("CRMID:1")]);
        Assert.Equal((PrivacyRequestStatus.Completed, 0L, 0), (again.Status, again.Receipt!.RecordVersions, again.Receipt.LedgerEntries));
    }

    [Fact]
    public async Task An_access_request_exports_every_fact_link_profile_and_quarantined_row_of_the_person()
    {
        await using var test = await TwoPeopleAsync();
        var request = await test.Workspace.Privacy.AccessAsync("prod", [Key("ECID:K1")]);

        Assert.Equal(PrivacyRequestStatus.Completed, request.Status);
        var export = request.Export!;
        Assert.Equal(["ECID:K1"], export.Requested);
        Assert.Equal(Ann.Order(), export.Identities.Select(i => i.Identity).Order());
        var crm = export.Identities.Single(i => i.Identity == "CRMID:1");
        Assert.Equal(["crm", "loyalty"], crm.RecordVersions.Select(v => v.Dataset).Order());
        Assert.Equal("Ann", (string?)crm.RecordVersions.Single(v => v.Dataset == "crm").Stored!["record"]!["firstName"]);
        Assert.Empty(crm.Events);
        var ecid = export.Identities.Single(i => i.Identity == "ECID:K1");
        var visit = Assert.Single(ecid.Events);
        Assert.Equal(("web", "a1", "home"), (visit.Dataset, visit.Id, (string?)visit.Stored!["record"]!["page"]));
        var link = Assert.Single(ecid.Links);
        Assert.Equal("web", link.Dataset);
        Assert.Equal(["ECID:K1", "CRMID:1"], link.Identities);
        Assert.Equal(["crm", "loyalty", "web"], crm.Links.Select(l => l.Dataset).Order()); // Loyalty's row carries the CRM id alone.
        var profile = Assert.Single(export.Profiles);
        Assert.Equal(("CRMID:1", "Ann", "gold"), (profile.Primary, (string?)profile.Attributes["firstName"], (string?)profile.Attributes["tier"]));
        Assert.Empty(profile.Timeline.Events); // Events are in the export once, under their identity.
        var row = Assert.Single(export.Quarantine);
        Assert.Contains("ANN@example.com", row.Raw, StringComparison.Ordinal); // Matched case-insensitively.
        Assert.Equal((2, 1, 1, 3, 1), (request.Receipt!.RecordVersions, request.Receipt.Events, request.Receipt.TimelineKeys, request.Receipt.LedgerEntries, request.Receipt.QuarantineRows));
        Assert.DoesNotContain("bob", JsonSerializer.Serialize(export, PrivacyJson.Default.PrivacyExport), StringComparison.OrdinalIgnoreCase);

        // Nothing was removed, and the export is kept with the request.
        Assert.NotEmpty(PersonKeys(test, Ann));
        await test.ReopenAsync();
        var stored = test.Workspace.Privacy.RequireExport("prod", request.Id);
        Assert.Equal(JsonSerializer.Serialize(export, PrivacyJson.Default.PrivacyExport), JsonSerializer.Serialize(stored, PrivacyJson.Default.PrivacyExport));
        Assert.Null(test.Workspace.Privacy.Require("prod", request.Id).Export);
    }

    [Fact]
    public async Task A_person_in_two_graphs_is_deleted_whole_when_the_request_names_both()
    {
        await using var test = await TwoPeopleAsync();
        // A device never seen with a login: a graph of its own, but the same person.
        await test.StreamAsync("app", """[{"_id":"x1","timestamp":"2026-11-01T10:00:00Z","ecid":"K9"}]""");
        Assert.Null(test.Workspace.Identity.Find("prod", Key("ECID:K1"))!.Graph.Identities.FirstOrDefault(i => i == Key("ECID:K9")).Value);

        var request = await test.Workspace.Privacy.DeleteAsync("prod", [Key("Email:ann@example.com"), Key("ECID:K9")]);

        string[] person = [.. Ann, "ECID:K9"];
        Assert.Equal(person.Order(), request.Receipt!.Identities.Order());
        Assert.Equal((2L, 2L, 4), (request.Receipt.Events, request.Receipt.TimelineKeys, request.Receipt.GraphIdentitiesBefore));
        Assert.Empty(PersonKeys(test, person));
        Assert.Null(test.Workspace.Identity.Find("prod", Key("ECID:K9")));
        Assert.Null(test.Lookup("ECID:K9"));
        Assert.NotNull(test.Lookup("ECID:K2"));
    }

    [Fact]
    public async Task A_link_to_someone_else_that_a_rule_cut_is_rewritten_without_the_person()
    {
        await using var test = await TwoPeopleAsync();
        // Bob logs in on Ann's device: CRMIDs are unique per graph, so the device follows Bob and its link to Ann is cut.
        await test.StreamAsync("web", """[{"_id":"b2","timestamp":"2026-11-01T11:30:00Z","ecid":"K1","crmId":"2"}]""");
        Assert.Equal(Key("CRMID:2"), test.Workspace.Identity.Find("prod", Key("ECID:K1"))!.Graph.Primary);

        var request = await test.Workspace.Privacy.DeleteAsync("prod", [Key("CRMID:1")]);

        var receipt = request.Receipt!;
        Assert.Equal(["CRMID:1", "Email:ann@example.com"], receipt.Identities.Order());
        // Ann's CRM and loyalty rows go; the web event that linked her to the device is kept without her.
        Assert.Equal((3, 2, 1), (receipt.LedgerEntries, receipt.LedgerEntriesRemoved, receipt.LedgerEntriesRewritten));
        Assert.Empty(PersonKeys(test, ["CRMID:1", "Email:ann@example.com"]));
        Assert.Equal(["CRMID:2", "ECID:K1", "ECID:K2", "Email:bob@example.com"], test.Lookup("ECID:K1")!.Identities);
    }

    [Fact]
    public async Task An_entry_rewritten_without_its_primary_adds_no_profile()
    {
        await using var test = await TwoPeopleAsync();
        // Zoe's CRM record takes Ann's email (the newer CRM id wins it), so the email is not Ann's when she is deleted, and
        // Ann's CRM entry is rewritten to the email alone: the email holds nothing (Ann's record went with her).
        await test.StreamAsync("crm", """[{"crmId":"3","email":"ann@example.com","firstName":"Zoe"}]""");
        Assert.Equal(Key("CRMID:3"), test.Workspace.Identity.Find("prod", Key("Email:ann@example.com"))!.Graph.Primary);

        var request = await test.Workspace.Privacy.DeleteAsync("prod", [Key("CRMID:1")]);

        Assert.Equal(["CRMID:1", "ECID:K1"], request.Receipt!.Identities.Order());
        Assert.Equal(1, request.Receipt.LedgerEntriesRewritten);
        // Profiles left: CRMID:2 and ECID:K2 (Bob's records and his web event), CRMID:3; stitched, Bob's graph and Zoe's.
        for (var reopened = 0; reopened < 2; reopened++)
        {
            Assert.Equal(3, test.Workspace.Identity.SampleProfiles("prod", 0, stitched: false, new Random(1)).Profiles);
            Assert.Equal(2, test.Workspace.Identity.SampleProfiles("prod", 0, stitched: true, new Random(1)).Profiles);
            await test.ReopenAsync(); // the graph derived again from the stored ledger
        }
    }

    [Fact]
    public async Task A_request_a_crash_left_processing_is_run_again_on_open()
    {
        await using var test = await TwoPeopleAsync();
        // As a crash would leave it: stored as processing, the work not (or only partly) done.
        var crashed = new PrivacyRequest
        {
            Id = "p0000000000000000000001",
            Sandbox = "prod",
            Type = PrivacyRequestTypes.Delete,
            Identities = ["CRMID:1"],
            Members = ["CRMID:1"],
            Status = PrivacyRequestStatus.Processing,
            CreatedAt = Start,
            Runs = 1,
        };
        using (var writes = new WriteSet())
        {
            PrivacyService.Put(writes, crashed);
            await test.Workspace.Store.CommitAsync(writes);
        }
        await test.ReopenAsync();
        Assert.Equal(PrivacyRequestStatus.Processing, test.Workspace.Privacy.Require("prod", crashed.Id).Status);

        var recovered = Assert.Single(await test.Workspace.Privacy.RecoverAsync());

        Assert.Equal((crashed.Id, PrivacyRequestStatus.Completed, 2), (recovered.Id, recovered.Status, recovered.Runs));
        Assert.Equal(Ann.Order(), recovered.Receipt!.Identities.Order());
        AssertGone(test);
        Assert.Equal(PrivacyRequestStatus.Completed, test.Workspace.Privacy.Require("prod", crashed.Id).Status);
        Assert.Empty(await test.Workspace.Privacy.RecoverAsync()); // Nothing left processing.
        Assert.NotNull(test.Lookup("CRMID:2"));
    }

    [Fact]
    public async Task Requests_are_refused_or_reported_with_named_codes()
    {
        await using var test = await CreateAsync();
        var privacy = test.Workspace.Privacy;
        Assert.Equal("PRIVACY_REQUEST_INVALID", (await Assert.ThrowsAsync<Abstractions.CatalogException>(() => privacy.SubmitAsync("prod", "erase", [Key("CRMID:1")]))).Code);
        Assert.Equal("PRIVACY_REQUEST_INVALID", (await Assert.ThrowsAsync<Abstractions.CatalogException>(() => privacy.SubmitAsync("prod", "access", []))).Code);
        Assert.Equal("PRIVACY_REQUEST_NOT_FOUND", Assert.Throws<Abstractions.CatalogException>(() => privacy.Require("prod", "p-nope")).Code);
        var delete = await privacy.DeleteAsync("prod", [Key("CRMID:nobody")]);
        Assert.Equal("PRIVACY_EXPORT_NOT_FOUND", Assert.Throws<Abstractions.CatalogException>(() => privacy.RequireExportJson("prod", delete.Id)).Code);
        Assert.Empty(privacy.List("dev"));
    }

    [Theory]
    [InlineData("""{"email":"ann@example.com"}""", "ann@example.com", true)]
    [InlineData("""{"email":"ANN@EXAMPLE.COM"}""", "ann@example.com", true)]
    [InlineData("""{"crmId":"12"}""", "1", false)]
    [InlineData("""{"crmId":"1"}""", "1", true)]
    [InlineData("""{"email":"joann@example.com"}""", "ann@example.com", false)]
    [InlineData("""{"email":" ann@example.com ","tier":{"x":1}}""", "1", true)]
    [InlineData("""{"email":"ann@example.com", broken""", "ann@example.com", true)]
    [InlineData("""{"email":"joann@example.com", broken""", "ann@example.com", false)]
    public void Quarantined_rows_are_matched_by_text_as_whole_values(string raw, string value, bool expected) =>
        Assert.Equal(expected, PrivacyService.Mentions(raw, value));

    // ------------------------------------------------------------------ direct checks of the stores

    /// <summary>No record version, event, timeline or ledger key of Ann on any shard; no graph knows her; no quarantined row names her; no profile.</summary>
    private static void AssertGone(ProfileWorkspace test)
    {
        Assert.Empty(PersonKeys(test, Ann));
        foreach (var identity in Ann)
        {
            Assert.Null(test.Workspace.Identity.Find("prod", Key(identity)));
            Assert.Null(test.Lookup(identity));
        }
        Assert.DoesNotContain(QuarantineRaw(test), raw => raw.Contains("ann@example.com", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Every fact and ledger key, on every shard, that belongs to or names one of <paramref name="identities"/>.</summary>
    private static List<string> PersonKeys(ProfileWorkspace test, string[] identities)
    {
        var person = identities.Select(Key).ToHashSet();
        var store = test.Workspace.Store;
        var found = new List<string>();
        for (var shard = 0; shard < store.ShardCount; shard++)
        {
            foreach (var (key, value) in store.Scan(StoreSpace.Facts, shard, []))
            {
                if (key[0] == LedgerCodec.Tag)
                {
                    var entry = LedgerCodec.Decode(key, value);
                    if (entry.Identities.Any(person.Contains))
                    {
                        found.Add($"{shard} l {entry.Sequence} {string.Join(",", entry.Identities)}");
                    }
                }
                else if (FactKeys.TryParse(key, out var parsed) && person.Contains(new IdentityKey(parsed.Identity.Namespace, parsed.Identity.Value)))
                {
                    found.Add($"{shard} {(char)parsed.Tag} {parsed.Identity} {parsed.Dataset} {parsed.BatchId}{parsed.EventId}");
                }
            }
        }
        return found;
    }

    private static List<string> QuarantineRaw(ProfileWorkspace test) =>
        [.. test.Workspace.Store.Scan(StoreSpace.Quarantine, 0, "prod\0"u8.ToArray())
            .Select(e => JsonSerializer.Deserialize(e.Value, QuarantineJson.Default.QuarantineEntry)!.Raw ?? "")];

    private static IdentityKey Key(string text) => IdentityKey.TryParse(text, out var key) ? key : throw new ArgumentException(text);

    private static JsonElement Element(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}

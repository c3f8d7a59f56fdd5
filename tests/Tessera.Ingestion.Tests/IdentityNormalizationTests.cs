using Tessera.Abstractions;

namespace Tessera.Ingestion.Tests;

/// <summary>
/// Identities are normalized as records are validated: a blocked or invalid one is dropped (and
/// counted in the batch) while the record is stored with the others; a record left with none is
/// quarantined with <c>NO_USABLE_IDENTITY</c>.
/// </summary>
public sealed class IdentityNormalizationTests
{
    /// <summary>Lenient enough that a few rejected records do not fail a small batch.</summary>
    private const string Lenient = """{"limits":{"batchFailureThreshold":0.5}}""";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_csv_record_with_a_blocked_email_is_stored_with_its_crm_id_only_and_the_drop_is_counted(bool readTwice)
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var path = test.WriteFile("crm.csv", """
            crmId,email,firstName
            00001,n/a,Ann
            00002, Bob@Example.COM ,Bob
            00003,not-an-address,Cy
            00004,NULL,Di
            """);
        var ingestion = readTwice
            ? new IngestionService(test.Catalog, test.Workspace.Identity, test.Ingestion.Limits, Path.Combine(test.Directory, "uploads")) { RetainBytes = 0 }
            : test.Ingestion;

        var batch = await ingestion.IngestFileAsync("prod", "crm", path);

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal((4L, 4L, 0L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        Assert.Equal(3, batch.Counts.IdentitiesDropped);
        Assert.Equal(new Dictionary<string, long> { [ErrorCodes.IdentityBlocked] = 2, [ErrorCodes.IdentityInvalidEmail] = 1 },
            batch.Counts.IdentitiesDroppedByReason);
        var stored = test.Catalog.RequireBatch("prod", batch.Id).Counts;
        Assert.Equal(3, stored.IdentitiesDropped);
        Assert.Equal(batch.Counts.IdentitiesDroppedByReason, stored.IdentitiesDroppedByReason);

        var ann = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001"));
        Assert.Equal([("CRMID", "00001", true)], ann.Identities);
        Assert.Equal("n/a", ann.Text("email")); // the record keeps the field as written
        var bob = Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00002"));
        Assert.Equal([("CRMID", "00002", true), ("Email", "bob@example.com", false)], bob.Identities);
        Assert.Equal([("CRMID", "00003", true)], Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00003")).Identities);
        Assert.Empty(test.Quarantine(batch.Id));
    }

    [Fact]
    public async Task A_record_whose_only_identity_is_blocked_is_quarantined_with_a_named_error()
    {
        await using var test = await TestWorkspace.CreateAsync(Lenient);
        await test.DefineAsync(Schemas.Web);
        var path = test.WriteFile("web.jsonl", """
            {"_id":"ev1","timestamp":"2024-05-01T10:00:00Z","identityMap":{"ECID":[{"id":"E-1"}]}}
            {"_id":"ev2","timestamp":"2024-05-01T10:01:00Z","identityMap":{"Email":[{"id":"undefined","primary":true}],"IDFA":[{"id":"00000000-0000-0000-0000-000000000000"}]}}
            {"_id":"ev3","timestamp":"2024-05-01T10:02:00Z","ecid":"null"}
            {"_id":"ev4","timestamp":"2024-05-01T10:03:00Z","identityMap":{"Email":[{"id":"ann@example.com"}]}}
            """);

        var batch = await test.IngestAsync("web", path);

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal((4L, 2L, 2L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        Assert.Equal(0, batch.Counts.IdentitiesDropped); // drops of rejected records are in their quarantine entry, not counted
        Assert.Null(batch.Counts.IdentitiesDroppedByReason);
        var quarantine = test.Quarantine(batch.Id);
        Assert.Equal([2L, 3L], quarantine.Select(e => e.Row));
        var both = Assert.Single(quarantine[0].Errors);
        Assert.Equal(ErrorCodes.NoUsableIdentity, both.Code);
        Assert.Equal("", both.Path); // two identities: no single path
        Assert.Contains("Email at 'identityMap.Email[0].id': 'undefined' is a blocked value", both.Message, StringComparison.Ordinal);
        Assert.Contains("IDFA at 'identityMap.IDFA[0].id': '00000000-0000-0000-0000-000000000000' is a blocked value", both.Message, StringComparison.Ordinal);
        Assert.Contains($"({ErrorCodes.IdentityBlocked})", both.Message, StringComparison.Ordinal);
        var one = Assert.Single(quarantine[1].Errors);
        Assert.Equal((ErrorCodes.NoUsableIdentity, "ecid"), (one.Code, one.Path));
        Assert.Equal(2, test.Facts().Count);
    }

    [Fact]
    public async Task A_record_without_any_identity_still_gets_no_primary_identity()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Web);

        // An empty value is an absent identity, as an empty CSV cell is.
        var result = await test.StreamAsync("web", """[{"_id":"ev1","timestamp":"2024-05-01T10:00:00Z","ecid":"  "}]""");

        Assert.Equal(ErrorCodes.NoPrimaryIdentity, Assert.Single(Assert.Single(result.Records).Errors!).Code);
    }

    [Fact]
    public async Task When_the_primary_identity_is_dropped_the_next_one_keys_the_record()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Web);

        var result = await test.StreamAsync("web", """
            [{"_id":"ev1","timestamp":"2024-05-01T10:00:00Z","identityMap":{"Email":[{"id":"unknown","primary":true}],"ECID":[{"id":"E-7"}]}}]
            """);

        Assert.Equal(RecordOutcome.Accepted, Assert.Single(result.Records).Status);
        Assert.Equal(1, result.Batch.Counts.IdentitiesDropped);
        var fact = Assert.Single(test.FactsOf(FactKeys.EventTag, "prod", "ECID", "E-7"));
        Assert.Equal([("ECID", "E-7", false)], fact.Identities);
    }

    [Fact]
    public async Task Streaming_requests_count_their_drops_in_their_batch()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);

        var result = await test.StreamAsync("crm", """
            [{"crmId":"1","email":"ann@"},{"crmId":"2","email":"Unknown"},{"crmId":"3","email":"cy@example.com"},{"crmId":"0"}]
            """);

        Assert.Equal([RecordOutcome.Accepted, RecordOutcome.Accepted, RecordOutcome.Accepted, RecordOutcome.Rejected], result.Records.Select(r => r.Status));
        Assert.Equal(ErrorCodes.NoUsableIdentity, Assert.Single(result.Records[3].Errors!).Code);
        Assert.Equal(2, result.Batch.Counts.IdentitiesDropped);
        Assert.Equal(new Dictionary<string, long> { [ErrorCodes.IdentityBlocked] = 1, [ErrorCodes.IdentityInvalidEmail] = 1 },
            result.Batch.Counts.IdentitiesDroppedByReason);
        Assert.Equal(2, test.Catalog.RequireBatch("prod", result.Batch.Id).Counts.IdentitiesDropped);
    }

    [Fact]
    public async Task Facts_are_keyed_by_the_normalized_identity_so_spellings_of_one_address_meet()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync("""
            {"name":"contacts","class":"profile","fields":{
              "email":{"type":"string","identity":{"namespace":"Email","primary":true}},
              "phone":{"type":"string","identity":{"namespace":"Phone"}},
              "idfa":{"type":"string","identity":{"namespace":"IDFA"}},
              "n":{"type":"int"}}}
            """);

        await test.StreamAsync("contacts", """[{"email":"Ann@Example.com","phone":"(650) 253-0000","idfa":"6D92078A-8246-4BA4-AE5B-76104861E7DC","n":1}]""");
        await test.StreamAsync("contacts", """[{"email":" ann@example.COM","n":2}]""");

        var versions = test.FactsOf(FactKeys.RecordTag, "prod", "Email", "ann@example.com");
        Assert.Equal(2, versions.Count); // both spellings are versions of one identity's fragment
        Assert.Equal(2, versions.MaxBy(f => f.Rank)!.Record.GetProperty("n").GetInt32()); // the second is the newer
        Assert.Equal(2, test.Facts().Count);
        var first = await test.StreamAsync("contacts", """[{"email":"bo@example.com","phone":"(650) 253-0000","idfa":"6D92078A-8246-4BA4-AE5B-76104861E7DC"}]""");
        Assert.Equal(0, first.Batch.Counts.IdentitiesDropped);
        Assert.Equal([("Email", "bo@example.com", true), ("Phone", "+16502530000", false), ("IDFA", "6d92078a-8246-4ba4-ae5b-76104861e7dc", false)],
            Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "Email", "bo@example.com")).Identities);
    }

    [Fact]
    public async Task A_custom_namespace_applies_its_own_blocked_values_and_phone_region()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "Member", Name = "Member", Type = IdentityType.CrossDevice, BlockedValues = ["guest"] });
        await test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "UkPhone", Name = "UK phone", Type = IdentityType.Phone, DefaultRegion = "GB" });
        await test.DefineAsync("""
            {"name":"members","class":"profile","fields":{
              "member":{"type":"string","identity":{"namespace":"Member","primary":true}},
              "phone":{"type":"string","identity":{"namespace":"UkPhone"}},
              "usPhone":{"type":"string","identity":{"namespace":"Phone"}}}}
            """);

        var result = await test.StreamAsync("members", """
            [{"member":"M-1","phone":"020 7946 0958","usPhone":"(650) 253-0000"},
             {"member":"GUEST","phone":"07400 123456"},
             {"member":"M-3","usPhone":"020 7946 0958"}]
            """);

        Assert.Equal([RecordOutcome.Accepted, RecordOutcome.Accepted, RecordOutcome.Accepted], result.Records.Select(r => r.Status));
        Assert.Equal([("Member", "M-1", true), ("UkPhone", "+442079460958", false), ("Phone", "+16502530000", false)],
            Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "Member", "M-1")).Identities);
        // The blocked member id is dropped; the phone keys the record.
        Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "UkPhone", "+447400123456"));
        Assert.Equal(new Dictionary<string, long> { [ErrorCodes.IdentityBlocked] = 1, [ErrorCodes.IdentityInvalidPhone] = 1 },
            result.Batch.Counts.IdentitiesDroppedByReason);
    }

    [Fact]
    public async Task The_workspace_sets_the_default_phone_region()
    {
        await using var test = await TestWorkspace.CreateAsync("""{"identity":{"defaultPhoneRegion":"fr"}}""");
        await test.DefineAsync("""
            {"name":"sms","class":"profile","fields":{"phone":{"type":"string","identity":{"namespace":"Phone","primary":true}}}}
            """);

        await test.StreamAsync("sms", """[{"phone":"06 12 34 56 78"}]""");

        Assert.Equal("FR", test.Workspace.Config.Identity.DefaultPhoneRegion);
        Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "Phone", "+33612345678"));
    }

    [Fact]
    public async Task An_unknown_workspace_phone_region_is_a_config_error()
    {
        var error = await Assert.ThrowsAsync<CatalogException>(() => TestWorkspace.CreateAsync("""{"identity":{"defaultPhoneRegion":"Mars"}}"""));
        Assert.Equal("CONFIG_INVALID", error.Code);
        Assert.Contains("identity.defaultPhoneRegion 'MARS'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replay_counts_the_drops_of_the_records_it_stores()
    {
        await using var test = await TestWorkspace.CreateAsync(Lenient);
        await test.DefineAsync(Schemas.Crm);
        var first = await test.StreamAsync("crm", """[{"crmId":"1","email":"unknown","age":200},{"crmId":"2"}]""");
        Assert.Equal(RecordOutcome.Rejected, first.Records[0].Status);
        Assert.Equal(0, first.Batch.Counts.IdentitiesDropped);

        // Relax the age limit (additive), then replay the rejected record: it is stored without its blocked email.
        await test.Catalog.RegisterSchemaAsync("prod", TestWorkspace.Parse(Schemas.Crm.Replace("\"max\":150", "\"max\":250", StringComparison.Ordinal)));
        var replay = await test.Ingestion.ReplayAsync("prod", first.Batch.Id);

        Assert.Equal((1L, 1L), (replay.Counts.Accepted, replay.Counts.IdentitiesDropped));
        Assert.Equal([("CRMID", "1", true)], Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "1")).Identities);
    }
}

using Tessera.Abstractions;

namespace Tessera.Ingestion.Tests;

/// <summary>Every limit, set low in the workspace's tessera.json, rejects with its named error.</summary>
public sealed class LimitTests
{
    private const string Config = """
        {
          // Comments are allowed in tessera.json.
          "limits": {
            "maxRecordBytes": 300,
            "maxIdentitiesPerRecord": 3,
            "maxIdentityValueLength": 16,
            "maxFieldsPerRecord": 8,
            "batchFailureThreshold": 0.25,
            "maxRecordsPerRequest": 5
          }
        }
        """;

    private static async Task<TestWorkspace> LimitedAsync()
    {
        var test = await TestWorkspace.CreateAsync(Config);
        await test.DefineAsync(Schemas.Crm);
        return test;
    }

    [Fact]
    public async Task The_workspace_config_sets_the_limits()
    {
        await using var test = await LimitedAsync();
        var limits = test.Ingestion.Limits;
        Assert.Equal((300, 3, 16, 8, 0.25, 5), (limits.MaxRecordBytes, limits.MaxIdentitiesPerRecord, limits.MaxIdentityValueLength,
            limits.MaxFieldsPerRecord, limits.BatchFailureThreshold, limits.MaxRecordsPerRequest));
    }

    [Fact]
    public async Task Defaults_apply_without_a_config()
    {
        await using var test = await TestWorkspace.CreateAsync();
        var limits = test.Ingestion.Limits;
        Assert.Equal((20, 1024, 0.05), (limits.MaxIdentitiesPerRecord, limits.MaxIdentityValueLength, limits.BatchFailureThreshold));
    }

    public static TheoryData<string, string, string, string> Breaches => new()
    {
        { "record size", "{\"crmId\":\"1\",\"address\":{\"street\":\"" + new string('x', 300) + "\"}}", "", ErrorCodes.RecordTooLarge },
        { "identities per record", """{"crmId":"1","email":"a@b.co","identityMap":{"ECID":[{"id":"e1"},{"id":"e2"}]}}""", "", ErrorCodes.TooManyIdentities },
        { "identity value length (field)", """{"crmId":"12345678901234567"}""", "crmId", ErrorCodes.IdentityTooLong },
        { "identity value length (identityMap)", """{"crmId":"1","identityMap":{"ECID":[{"id":"12345678901234567"}]}}""", "identityMap.ECID[0].id", ErrorCodes.IdentityTooLong },
        { "fields per record", """{"crmId":"1","tags":["a","b","c","d","e","f","g","h"]}""", "", ErrorCodes.TooManyFields },
        { "fields per record (scalars)", """{"crmId":"1","age":1,"score":1,"vip":true,"firstName":"a","zip":"12345","visits":1,"tier":"gold","email":"e"}""", "", ErrorCodes.TooManyFields },
    };

    [Theory]
    [MemberData(nameof(Breaches))]
    public async Task Each_limit_rejects_with_its_named_error(string what, string record, string path, string code)
    {
        await using var test = await LimitedAsync();

        var result = await test.StreamAsync("crm", $"[{record}]");

        var outcome = Assert.Single(result.Records);
        Assert.True(outcome.Status == RecordOutcome.Rejected, what);
        var error = Assert.Single(outcome.Errors!, e => e.Code == code);
        Assert.Equal(path, error.Path);
        Assert.Contains("limits.", error.Message, StringComparison.Ordinal); // names the setting to change
        Assert.Empty(test.Facts());
    }

    [Fact]
    public async Task Records_at_each_limit_are_accepted()
    {
        await using var test = await LimitedAsync();

        var result = await test.StreamAsync("crm", """
            [{"crmId":"1234567890123456","email":"a@b.co","identityMap":{"ECID":[{"id":"e1"}]}},
             {"crmId":"2","tags":["a","b","c","d","e","f","g"]}]
            """);

        Assert.All(result.Records, r => Assert.Equal(RecordOutcome.Accepted, r.Status));
    }

    [Fact]
    public async Task The_record_size_limit_applies_to_csv_rows()
    {
        await using var test = await LimitedAsync();
        var rows = string.Join('\n', ["crmId,street", .. Enumerable.Range(1, 10).Select(i => $"{i:D5},short"), "00099," + new string('y', 400)]);
        var path = test.WriteFile("crm.csv", rows);

        var batch = await test.IngestAsync("crm", path, new Mapping.MappingSpec { Fields = new Dictionary<string, string?> { ["street"] = "address.street" } });

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal(ErrorCodes.RecordTooLarge, Assert.Single(test.Quarantine(batch.Id)).Errors[0].Code);
    }

    [Fact]
    public async Task Too_many_records_in_one_request_are_refused_before_anything_is_stored()
    {
        await using var test = await LimitedAsync();

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.StreamAsync("crm",
            "[" + string.Join(',', Enumerable.Range(1, 6).Select(i => $"{{\"crmId\":\"{i}\"}}")) + "]"));

        Assert.Equal("TOO_MANY_RECORDS", error.Code);
        Assert.Empty(test.Facts());
        Assert.Empty(test.Catalog.ListBatches("prod"));
    }

    [Fact]
    public async Task A_batch_at_the_failure_threshold_stores_its_good_records()
    {
        await using var test = await LimitedAsync();
        // 2 bad of 8 = 25%, not above the threshold of 25%.
        var rows = string.Join('\n', ["crmId,age", .. Enumerable.Range(1, 6).Select(i => $"{i:D5},{i}"), "00007,-1", "00008,999"]);

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", rows));

        Assert.Equal(BatchStatus.Success, batch.Status);
        Assert.Equal((8L, 6L, 2L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        Assert.Equal(6, test.Facts().Count);
        Assert.Equal(2, test.Quarantine(batch.Id).Count);
    }

    [Fact]
    public async Task A_batch_above_the_failure_threshold_fails_as_a_whole_and_stores_nothing()
    {
        await using var test = await LimitedAsync();
        // 3 bad of 10 = 30%, above the threshold of 25%.
        var rows = string.Join('\n', ["crmId,age", .. Enumerable.Range(1, 7).Select(i => $"{i:D5},{i}"), "00008,-1", "00009,999", "00010,x"]);

        var batch = await test.IngestAsync("crm", test.WriteFile("crm.csv", rows));

        Assert.Equal(BatchStatus.Failed, batch.Status);
        Assert.Equal((10L, 0L, 3L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        Assert.Contains("limits.batchFailureThreshold", batch.FailureReason, StringComparison.Ordinal);
        Assert.Contains("nothing from this batch was stored", batch.FailureReason, StringComparison.Ordinal);
        Assert.Empty(test.Facts());
        Assert.DoesNotContain(test.Facts(), f => f.Batch == batch.Id);
        // The quarantine still says why.
        Assert.Equal(3, test.Quarantine(batch.Id).Count);
        Assert.Equal(BatchStatus.Failed, test.Catalog.RequireBatch("prod", batch.Id).Status);
        Assert.NotNull(test.Catalog.RequireBatch("prod", batch.Id).CompletedAt);
    }

    [Fact]
    public async Task A_failed_batch_leaves_earlier_facts_alone()
    {
        await using var test = await LimitedAsync();
        var good = await test.IngestAsync("crm", test.WriteFile("good.csv", "crmId,age\n00001,10\n00002,20\n"));
        var rows = string.Join('\n', ["crmId,age", "00001,11", "00003,-1", "00004,-1"]);

        var failed = await test.IngestAsync("crm", test.WriteFile("bad.csv", rows));

        Assert.Equal(BatchStatus.Failed, failed.Status);
        var facts = test.Facts();
        Assert.Equal(2, facts.Count);
        Assert.All(facts, f => Assert.Equal(good.Id, f.Batch));
        Assert.Equal("10", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "00001")).Text("age"));
    }

    [Fact]
    public async Task Streaming_requests_have_no_failure_threshold()
    {
        await using var test = await LimitedAsync();

        var result = await test.StreamAsync("crm", """[{"crmId":"1"},{"crmId":"2","age":-1},{"crmId":"3","age":-1}]""");

        Assert.Equal(BatchStatus.Success, result.Batch.Status);
        Assert.Equal((3L, 1L, 2L), (result.Batch.Counts.Input, result.Batch.Counts.Accepted, result.Batch.Counts.Failed));
        Assert.Single(test.Facts());
    }
}

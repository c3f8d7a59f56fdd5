using System.Text.Json;
using Tessera.Abstractions;

namespace Tessera.Ingestion.Tests;

public sealed class ConstraintTests
{
    public static TheoryData<string, string, string, string> Violations => new()
    {
        { "required", """{"email":"a@b.c"}""", "crmId", ErrorCodes.RequiredMissing },
        { "required but null", """{"crmId":null,"email":"a@b.c"}""", "crmId", ErrorCodes.RequiredMissing },
        { "enum", """{"crmId":"1","tier":"platinum"}""", "tier", ErrorCodes.EnumViolation },
        { "enum is case-sensitive", """{"crmId":"1","tier":"Gold"}""", "tier", ErrorCodes.EnumViolation },
        { "pattern", """{"crmId":"1","zip":"1234"}""", "zip", ErrorCodes.PatternViolation },
        { "pattern is anchored by the schema", """{"crmId":"1","zip":"123456"}""", "zip", ErrorCodes.PatternViolation },
        { "min", """{"crmId":"1","age":-1}""", "age", ErrorCodes.BelowMinimum },
        { "min on a double", """{"crmId":"1","score":-0.5}""", "score", ErrorCodes.BelowMinimum },
        { "max", """{"crmId":"1","age":151}""", "age", ErrorCodes.AboveMaximum },
        { "maxLength", """{"crmId":"1","firstName":"Maximilianus"}""", "firstName", ErrorCodes.TooLong },
        { "maxLength nested", """{"crmId":"1","address":{"city":"Llanfairpwllgwyngyll"}}""", "address.city", ErrorCodes.TooLong },
        { "maxLength in an array", """{"crmId":"1","tags":["ok","too-long"]}""", "tags[1]", ErrorCodes.TooLong },
        { "string given a number", """{"crmId":1}""", "crmId", ErrorCodes.TypeMismatch },
        { "int given a string", """{"crmId":"1","age":"41"}""", "age", ErrorCodes.TypeMismatch },
        { "int given a fraction", """{"crmId":"1","age":41.5}""", "age", ErrorCodes.TypeMismatch },
        { "int out of range", """{"crmId":"1","age":3000000000}""", "age", ErrorCodes.TypeMismatch },
        { "double given a string", """{"crmId":"1","score":"1.5"}""", "score", ErrorCodes.TypeMismatch },
        { "bool given a string", """{"crmId":"1","vip":"yes"}""", "vip", ErrorCodes.TypeMismatch },
        { "object given a string", """{"crmId":"1","address":"Lyon"}""", "address", ErrorCodes.TypeMismatch },
        { "array given a string", """{"crmId":"1","tags":"a"}""", "tags", ErrorCodes.TypeMismatch },
        { "map value of the wrong type", """{"crmId":"1","attributes":{"k":"v"}}""", "attributes.k", ErrorCodes.TypeMismatch },
        { "date in another format", """{"crmId":"1","birthDate":"01/04/1985"}""", "birthDate", ErrorCodes.FormatInvalid },
        { "date that does not exist", """{"crmId":"1","birthDate":"1985-02-30"}""", "birthDate", ErrorCodes.FormatInvalid },
        { "date given a number", """{"crmId":"1","birthDate":19850401}""", "birthDate", ErrorCodes.FormatInvalid },
        { "date-time that is not one", """{"crmId":"1","lastSeen":"yesterday"}""", "lastSeen", ErrorCodes.FormatInvalid },
        { "date-time in an ambiguous local format", """{"crmId":"1","lastSeen":"03/07/2024 10:00"}""", "lastSeen", ErrorCodes.FormatInvalid },
        { "date-time in a long English format", """{"crmId":"1","lastSeen":"Tuesday, 1 May 2024"}""", "lastSeen", ErrorCodes.FormatInvalid },
        { "unknown field", """{"crmId":"1","nickname":"Annie"}""", "nickname", ErrorCodes.UnknownField },
        { "unknown nested field", """{"crmId":"1","address":{"planet":"Mars"}}""", "address.planet", ErrorCodes.UnknownField },
        { "unknown identity namespace", """{"crmId":"1","identityMap":{"Nope":[{"id":"x"}]}}""", "identityMap.Nope", ErrorCodes.UnknownNamespace },
        { "identityMap entry without an id", """{"crmId":"1","identityMap":{"Email":[{"value":"x"}]}}""", "identityMap.Email[0]", ErrorCodes.TypeMismatch },
        { "no identity at all", """{"firstName":"Ann"}""", "crmId", ErrorCodes.RequiredMissing },
        { "a record that is not an object", """[1,2]""", "", ErrorCodes.TypeMismatch },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task Each_constraint_rejects_with_its_code_and_field_path(string what, string record, string path, string code)
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);

        var result = await test.StreamAsync("crm", $"[{record}]");

        var outcome = Assert.Single(result.Records);
        Assert.True(outcome.Status == RecordOutcome.Rejected, $"{what}: {outcome.Status}");
        Assert.Contains(outcome.Errors!, e => e.Path == path && e.Code == code);
        Assert.All(outcome.Errors!, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
        Assert.Empty(test.Facts());
        var entry = Assert.Single(test.Quarantine(result.Batch.Id));
        Assert.Contains(entry.Errors, e => e.Path == path && e.Code == code);
        Assert.Equal(record, entry.Raw);
    }

    public static TheoryData<string, string> Valid => new()
    {
        { "every field", """{"crmId":"1","email":"a@b.c","firstName":"Ann","age":150,"tier":"gold","zip":"69001","birthDate":"1985-04-01","lastSeen":"2024-05-01T10:00:00.123+02:00","score":0,"visits":9007199254740993,"vip":false,"address":{"city":"Lyon"},"tags":["a"],"attributes":{"k":1},"context":{"anything":{"goes":[1,"x",null]}}}""" },
        { "boundaries", """{"crmId":"1","age":0,"firstName":"Maximilian"}""" },
        { "nulls are absent values", """{"crmId":"1","age":null,"address":null}""" },
        { "a date-time without an offset is UTC", """{"crmId":"1","lastSeen":"2024-05-01T10:00:00"}""" },
        { "a date-time may be a date", """{"crmId":"1","lastSeen":"2024-05-01"}""" },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public async Task Valid_records_are_accepted(string what, string record)
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);

        var result = await test.StreamAsync("crm", $"[{record}]");

        var outcome = Assert.Single(result.Records);
        Assert.True(outcome.Status == RecordOutcome.Accepted, $"{what}: {JsonSerializer.Serialize(outcome.Errors)}");
        Assert.Single(test.Facts());
    }

    [Fact]
    public async Task Date_times_are_stored_in_one_utc_form()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);

        // The third is written with JSON escapes ("T" and "Z"): it is read from its decoded text, not its raw bytes.
        await test.StreamAsync("crm", """[{"crmId":"1","lastSeen":"2024-05-01T10:00:00.123456+02:00"},{"crmId":"2","lastSeen":"2024-05-01"},{"crmId":"3","lastSeen":"2024-05-01\u005410:00:00\u005a"}]""");

        Assert.Equal("2024-05-01T08:00:00.123Z", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "1")).Text("lastSeen"));
        Assert.Equal("2024-05-01T00:00:00.000Z", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "2")).Text("lastSeen"));
        Assert.Equal("2024-05-01T10:00:00.000Z", Assert.Single(test.FactsOf(FactKeys.RecordTag, "prod", "CRMID", "3")).Text("lastSeen"));
    }

    [Fact]
    public async Task Every_error_of_a_record_is_reported()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);

        var result = await test.StreamAsync("crm", """[{"crmId":"1","age":-5,"tier":"x","zip":"y","nickname":"z"}]""");

        var errors = Assert.Single(result.Records).Errors!;
        Assert.Equal(["age", "nickname", "tier", "zip"], errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Unknown_fields_are_dropped_when_the_schema_says_so()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync("""
            {"name":"loose","class":"profile","unknownFields":"drop","fields":{
              "crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}},
              "address":{"type":"object","fields":{"city":{"type":"string"}}}}}
            """);

        var result = await test.StreamAsync("loose", """[{"crmId":"1","nickname":"Annie","address":{"city":"Lyon","planet":"Earth"}}]""");

        Assert.Equal(RecordOutcome.Accepted, Assert.Single(result.Records).Status);
        var fact = Assert.Single(test.Facts());
        Assert.Null(fact.Text("nickname"));
        Assert.Null(fact.Text("address.planet"));
        Assert.Equal("Lyon", fact.Text("address.city"));
    }

    [Fact]
    public async Task An_empty_identity_value_is_no_identity()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Web);

        var result = await test.StreamAsync("web", """[{"_id":"e1","timestamp":"2024-05-01T10:00:00Z","ecid":"   "}]""");

        var outcome = Assert.Single(result.Records);
        Assert.Equal(ErrorCodes.NoPrimaryIdentity, Assert.Single(outcome.Errors!).Code);
    }

    [Fact]
    public async Task Events_need_an_id_and_a_timestamp()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Web);

        var result = await test.StreamAsync("web", """[{"ecid":"E1"},{"ecid":"E1","_id":"e1","timestamp":"not a time"}]""");

        Assert.Equal(["_id", "timestamp"], result.Records[0].Errors!.Where(e => e.Code == ErrorCodes.RequiredMissing).Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Equal(("timestamp", ErrorCodes.FormatInvalid), (result.Records[1].Errors![0].Path, result.Records[1].Errors![0].Code));
    }

    [Fact]
    public async Task An_empty_event_id_is_refused_rather_than_deduplicated_away()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Web);

        var result = await test.StreamAsync("web", """
            [{"_id":"","timestamp":"2024-05-01T10:00:00Z","ecid":"E1","page":"/a"},
             {"_id":"  ","timestamp":"2024-05-01T10:00:00Z","ecid":"E1","page":"/b"}]
            """);

        Assert.All(result.Records, r => Assert.Equal(("_id", ErrorCodes.RequiredMissing), (r.Errors![0].Path, r.Errors[0].Code)));
        Assert.Empty(test.Facts());
    }

    [Fact]
    public async Task Constraints_apply_to_csv_values_with_the_mapped_field_path()
    {
        await using var test = await TestWorkspace.CreateAsync();
        await test.DefineAsync(Schemas.Crm);
        var rows = string.Join('\n', ["id,town,age,tier", .. Enumerable.Range(1, 60).Select(i => $"{i:D5},Lyon,{i},gold"),
            "00061,Llanfairpwllgwyngyll,5,gold", "00062,Lyon,abc,gold", "", "00063,Lyon,5,platinum"]);
        var path = test.WriteFile("crm.csv", rows);
        var mapping = new Mapping.MappingSpec { Fields = new Dictionary<string, string?> { ["id"] = "crmId", ["town"] = "address.city" } };

        var batch = await test.IngestAsync("crm", path, mapping);

        Assert.Equal((63L, 60L, 3L), (batch.Counts.Input, batch.Counts.Accepted, batch.Counts.Failed));
        var entries = test.Quarantine(batch.Id);
        Assert.Equal([(61L, "address.city", ErrorCodes.TooLong), (62L, "age", ErrorCodes.TypeMismatch), (63L, "tier", ErrorCodes.EnumViolation)],
            entries.Select(e => (e.Row, e.Errors[0].Path, e.Errors[0].Code)));
        Assert.Equal(65, entries[2].Line);
        Assert.True(entries[1].Tabular);
        Assert.Equal("abc", JsonDocument.Parse(entries[1].Raw!).RootElement.GetProperty("age").GetString());
    }
}

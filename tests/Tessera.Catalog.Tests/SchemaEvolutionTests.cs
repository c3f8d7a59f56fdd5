using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

public sealed class SchemaEvolutionTests
{
    /// <summary>Version 1 of every evolution case; each case rewrites one field of it.</summary>
    private static readonly Dictionary<string, string> Base = new(StringComparer.Ordinal)
    {
        ["crmId"] = """{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}}""",
        ["email"] = """{"type":"string","identity":{"namespace":"Email"}}""",
        ["status"] = """{"type":"string","enum":["bronze","silver","gold"]}""",
        ["code"] = """{"type":"string","pattern":"^[A-Z]{3}$"}""",
        ["name"] = """{"type":"string","maxLength":50}""",
        ["note"] = """{"type":"string"}""",
        ["age"] = """{"type":"int","min":0,"max":150}""",
        ["score"] = """{"type":"double"}""",
        ["address"] = """{"type":"object","fields":{"city":{"type":"string"},"zip":{"type":"string"}}}""",
        ["tags"] = """{"type":"array","items":{"type":"string","maxLength":20}}""",
        ["extra"] = """{"type":"object","open":true}""",
    };

    private static string Document(Action<Dictionary<string, string>>? change = null, string schemaClass = "profile")
    {
        var fields = new Dictionary<string, string>(Base, StringComparer.Ordinal);
        change?.Invoke(fields);
        var body = string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}"));
        return "{\"name\":\"person\",\"class\":\"" + schemaClass + "\",\"fields\":{" + body + "}}";
    }

    private static async Task<TestCatalog> WithVersion1Async()
    {
        var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Document());
        return test;
    }

    public static TheoryData<string, string> Additive => new()
    {
        { "new optional field", Document(f => f["loyaltyTier"] = """{"type":"string"}""") },
        { "new optional nested field", Document(f => f["address"] = """{"type":"object","fields":{"city":{"type":"string"},"zip":{"type":"string"},"country":{"type":"string"}}}""") },
        { "new optional object with a required child", Document(f => f["loyalty"] = """{"type":"object","fields":{"tier":{"type":"string","required":true}}}""") },
        { "enum widened", Document(f => f["status"] = """{"type":"string","enum":["bronze","silver","gold","platinum"]}""") },
        { "maxLength raised", Document(f => f["name"] = """{"type":"string","maxLength":200}""") },
        { "maxLength removed", Document(f => f["name"] = """{"type":"string"}""") },
        { "min lowered", Document(f => f["age"] = """{"type":"int","min":-1,"max":150}""") },
        { "max raised", Document(f => f["age"] = """{"type":"int","min":0,"max":200}""") },
        { "pattern removed", Document(f => f["code"] = """{"type":"string"}""") },
        { "required relaxed", Document(f => f["crmId"] = """{"type":"string","identity":{"namespace":"CRMID","primary":true}}""") },
        { "new non-primary identity field", Document(f => f["phone"] = """{"type":"string","identity":{"namespace":"Phone"}}""") },
        { "existing field becomes a non-primary identity", Document(f => f["note"] = """{"type":"string","identity":{"namespace":"LoyaltyID"}}""") },
        { "object opened", Document(f => f["address"] = """{"type":"object","open":true,"fields":{"city":{"type":"string"},"zip":{"type":"string"}}}""") },
        { "description added", Document(f => f["note"] = """{"type":"string","description":"free text"}""") },
    };

    [Theory]
    [MemberData(nameof(Additive))]
    public async Task An_additive_change_is_accepted_as_a_new_version(string what, string proposed)
    {
        await using var test = await WithVersion1Async();

        var v2 = await test.RegisterAsync(proposed);

        Assert.True(v2.Version == 2, what);
    }

    [Fact]
    public async Task Moving_a_field_into_a_field_group_unchanged_is_accepted()
    {
        await using var test = await WithVersion1Async();
        var fields = string.Join(",", Base.Where(f => f.Key != "note").Select(f => $"\"{f.Key}\":{f.Value}"));
        var proposed = "{\"name\":\"person\",\"class\":\"profile\",\"fieldGroups\":[{\"name\":\"notes\",\"fields\":{\"note\":"
            + Base["note"] + "}}],\"fields\":{" + fields + "}}";

        var v2 = await test.RegisterAsync(proposed);

        Assert.Equal(2, v2.Version);
    }

    public static TheoryData<string, string, string> Breaking => new()
    {
        { "removed field", Document(f => f.Remove("note")), "field 'note': removed" },
        { "removed nested field", Document(f => f["address"] = """{"type":"object","fields":{"city":{"type":"string"}}}"""), "field 'address.zip': removed" },
        { "type change", Document(f => f["age"] = """{"type":"string"}"""), "field 'age': type changed from int to string" },
        { "type widened int to long is still a type change", Document(f => f["age"] = """{"type":"long","min":0,"max":150}"""), "field 'age': type changed from int to long" },
        { "array items type change", Document(f => f["tags"] = """{"type":"array","items":{"type":"int"}}"""), "field 'tags[]': type changed from string to int" },
        { "became required", Document(f => f["note"] = """{"type":"string","required":true}"""), "field 'note': became required" },
        { "new required field", Document(f => f["mandatory"] = """{"type":"string","required":true}"""), "field 'mandatory': a new field cannot be required" },
        { "new required nested field", Document(f => f["address"] = """{"type":"object","fields":{"city":{"type":"string"},"zip":{"type":"string"},"street":{"type":"string","required":true}}}"""), "field 'address.street': a new field cannot be required" },
        { "enum narrowed", Document(f => f["status"] = """{"type":"string","enum":["bronze","gold"]}"""), "field 'status': enum values removed: silver" },
        { "enum added", Document(f => f["note"] = """{"type":"string","enum":["a","b"]}"""), "field 'note': an enum was added" },
        { "pattern added", Document(f => f["note"] = """{"type":"string","pattern":"^x"}"""), "field 'note': pattern added" },
        { "pattern changed", Document(f => f["code"] = """{"type":"string","pattern":"^[A-Z]{4}$"}"""), "field 'code': pattern changed" },
        { "min raised", Document(f => f["age"] = """{"type":"int","min":18,"max":150}"""), "field 'age': minimum raised to 18" },
        { "min added", Document(f => f["score"] = """{"type":"double","min":0}"""), "field 'score': minimum raised to 0" },
        { "max lowered", Document(f => f["age"] = """{"type":"int","min":0,"max":120}"""), "field 'age': maximum lowered to 120" },
        { "maxLength lowered", Document(f => f["name"] = """{"type":"string","maxLength":20}"""), "field 'name': maxLength lowered to 20" },
        { "maxLength added", Document(f => f["note"] = """{"type":"string","maxLength":20}"""), "field 'note': maxLength lowered to 20" },
        { "nested maxLength lowered", Document(f => f["tags"] = """{"type":"array","items":{"type":"string","maxLength":10}}"""), "field 'tags[]': maxLength lowered to 10" },
        { "identity namespace changed", Document(f => f["email"] = """{"type":"string","identity":{"namespace":"Email_LC_SHA256"}}"""), "field 'email': identity descriptor changed" },
        { "identity removed", Document(f => f["email"] = """{"type":"string"}"""), "field 'email': identity descriptor changed" },
        { "primary identity moved", Document(f => { f["crmId"] = """{"type":"string","required":true,"identity":{"namespace":"CRMID"}}"""; f["email"] = """{"type":"string","identity":{"namespace":"Email","primary":true}}"""; }), "field 'crmId': identity descriptor changed" },
        { "primary identity moved (new primary)", Document(f => { f["crmId"] = """{"type":"string","required":true,"identity":{"namespace":"CRMID"}}"""; f["email"] = """{"type":"string","identity":{"namespace":"Email","primary":true}}"""; }), "field 'email': identity descriptor changed" },
        { "new primary identity field", Document(f => { f["crmId"] = """{"type":"string","required":true,"identity":{"namespace":"CRMID"}}"""; f["loyalty"] = """{"type":"string","identity":{"namespace":"LoyaltyID","primary":true}}"""; }), "field 'loyalty': a new field cannot be the primary identity" },
        { "object closed", Document(f => f["extra"] = """{"type":"object"}"""), "field 'extra': no longer open" },
        { "class changed", Document(schemaClass: "event"), "class changed from Profile to Event" },
    };

    [Theory]
    [MemberData(nameof(Breaking))]
    public async Task A_breaking_change_is_refused_naming_the_field_and_the_reason(string what, string proposed, string expected)
    {
        await using var test = await WithVersion1Async();

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.RegisterAsync(proposed));

        Assert.True(error.Code == "SCHEMA_BREAKING_CHANGE", $"{what}: code {error.Code}: {error.Message}");
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, test.Catalog.GetSchema("prod", "person")!.Version);
        Assert.Single(test.Catalog.SchemaVersions("prod", "person"));
    }

    [Fact]
    public async Task Every_breaking_change_of_one_proposal_is_listed()
    {
        await using var test = await WithVersion1Async();
        var proposed = Document(f =>
        {
            f.Remove("note");
            f["age"] = """{"type":"string"}""";
            f["name"] = """{"type":"string","maxLength":10}""";
        });

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.RegisterAsync(proposed));

        Assert.Contains("field 'note': removed", error.Message, StringComparison.Ordinal);
        Assert.Contains("field 'age': type changed", error.Message, StringComparison.Ordinal);
        Assert.Contains("field 'name': maxLength lowered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BreakingChanges_is_empty_for_an_identical_document()
    {
        var document = TestCatalog.Schema(Document());
        Assert.Empty(SchemaEvolution.BreakingChanges(document, document));
    }

    [Fact]
    public async Task An_event_schema_evolves_additively_too()
    {
        await using var test = await TestCatalog.CreateAsync();
        const string v1 = """{"name":"ev","class":"event","fields":{"ecid":{"type":"string","identity":{"namespace":"ECID","primary":true}}}}""";
        await test.RegisterAsync(v1);

        var v2 = await test.RegisterAsync(v1.Replace("}}}}", "}},\"page\":{\"type\":\"string\"}}}", StringComparison.Ordinal));
        Assert.Equal(2, v2.Version);

        // Declaring the implicit fields explicitly, as they already are, changes nothing that matters.
        var v3 = await test.RegisterAsync("""{"name":"ev","class":"event","fields":{"_id":{"type":"string","required":true},"timestamp":{"type":"date-time","required":true},"ecid":{"type":"string","identity":{"namespace":"ECID","primary":true}},"page":{"type":"string"}}}""");
        Assert.Equal(3, v3.Version);
    }
}

using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

public sealed class SchemaRegistryTests
{
    private const string Crm = """
        {"name":"crm","class":"profile","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "email":{"type":"string","identity":{"namespace":"Email"}},
          "age":{"type":"int","min":0,"max":150}}}
        """;

    [Fact]
    public async Task A_schema_is_registered_as_version_1_and_read_back()
    {
        await using var test = await TestCatalog.CreateAsync();

        var stored = await test.RegisterAsync(Crm);

        Assert.Equal(1, stored.Version);
        var read = test.Catalog.GetSchema("prod", "crm");
        Assert.NotNull(read);
        Assert.Equal(1, read.Version);
        Assert.Equal(SchemaClass.Profile, read.Class);
        Assert.Equal(["crmId", "email", "age"], read.Fields!.Keys);
        Assert.Equal("CRMID", read.Fields["crmId"].Identity!.Namespace);
        Assert.Single(test.Catalog.ListSchemas("prod"));
    }

    [Fact]
    public async Task Registering_the_same_document_again_keeps_the_version()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Crm);

        var again = await test.RegisterAsync(Crm);

        Assert.Equal(1, again.Version);
        Assert.Single(test.Catalog.SchemaVersions("prod", "crm"));
    }

    [Fact]
    public async Task An_additive_change_makes_a_new_version_and_old_versions_stay_readable()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Crm);

        var v2 = await test.RegisterAsync(Crm.Replace("\"age\":", "\"tier\":{\"type\":\"string\"},\"age\":", StringComparison.Ordinal));

        Assert.Equal(2, v2.Version);
        Assert.Equal(2, test.Catalog.GetSchema("prod", "crm")!.Version);
        Assert.False(test.Catalog.GetSchema("prod", "crm", 1)!.Fields!.ContainsKey("tier"));
        Assert.True(test.Catalog.GetSchema("prod", "crm", 2)!.Fields!.ContainsKey("tier"));
        Assert.Equal([1, 2], test.Catalog.SchemaVersions("prod", "crm").Select(s => s.Version));
        Assert.Null(test.Catalog.Compiled("prod", "crm", 1).Resolve("tier"));
        Assert.NotNull(test.Catalog.Compiled("prod", "crm").Resolve("tier"));
    }

    [Fact]
    public async Task Schemas_survive_a_restart()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Crm);

        test.Reopen();

        Assert.Equal(1, test.Catalog.GetSchema("prod", "crm")!.Version);
        Assert.Equal("crmId", test.Catalog.Compiled("prod", "crm").PrimaryIdentityField!.Path);
    }

    [Fact]
    public async Task Event_schemas_always_have_a_required_id_and_timestamp()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync("""
            {"name":"clicks","class":"event","fields":{
              "ecid":{"type":"string","identity":{"namespace":"ECID","primary":true}},
              "page":{"type":"string"}}}
            """);

        var compiled = test.Catalog.Compiled("prod", "clicks");

        var id = compiled.Resolve("_id");
        var timestamp = compiled.Resolve("timestamp");
        Assert.NotNull(id);
        Assert.NotNull(timestamp);
        Assert.Equal(FieldType.String, id.Type);
        Assert.Equal(FieldType.DateTime, timestamp.Type);
        Assert.True(id.Definition.Required);
        Assert.True(timestamp.Definition.Required);
        Assert.Contains("_id", compiled.Root.RequiredChildren);
        Assert.Contains("timestamp", compiled.Root.RequiredChildren);
    }

    [Fact]
    public async Task An_event_schema_may_declare_its_id_and_timestamp_but_not_with_another_type()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync("""
            {"name":"declared","class":"event","fields":{
              "_id":{"type":"string","maxLength":64},
              "timestamp":{"type":"date-time"},
              "ecid":{"type":"string","identity":{"namespace":"ECID"}}}}
            """);
        Assert.True(test.Catalog.Compiled("prod", "declared").Resolve("timestamp")!.Definition.Required);

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.RegisterAsync("""
            {"name":"wrong","class":"event","fields":{
              "timestamp":{"type":"long"},
              "ecid":{"type":"string","identity":{"namespace":"ECID"}}}}
            """));
        Assert.Equal("SCHEMA_INVALID", error.Code);
        Assert.Contains("'timestamp'", error.Message, StringComparison.Ordinal);
        Assert.Contains("date-time", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Field_groups_are_merged_into_the_root()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync("""
            {"name":"person","class":"profile",
             "fieldGroups":[
               {"name":"ids","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}}}},
               {"name":"contact","fields":{"email":{"type":"string"},"address":{"type":"object","fields":{"city":{"type":"string"}}}}}],
             "fields":{"email":{"type":"string"}}}
            """);

        var compiled = test.Catalog.Compiled("prod", "person");

        Assert.NotNull(compiled.Resolve("crmId"));
        Assert.NotNull(compiled.Resolve("address.city"));
        Assert.NotNull(compiled.Resolve("email"));
        Assert.Equal("crmId", compiled.PrimaryIdentityField!.Path);
    }

    [Fact]
    public async Task A_schema_in_a_missing_sandbox_is_refused()
    {
        await using var test = await TestCatalog.CreateAsync();
        var error = await Assert.ThrowsAsync<CatalogException>(() => test.RegisterAsync(Crm, sandbox: "nowhere"));
        Assert.Equal("SANDBOX_NOT_FOUND", error.Code);
    }

    public static TheoryData<string, string, string> InvalidSchemas => new()
    {
        {
            "bad pattern",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"code":{"type":"string","pattern":"[a-"}}}""",
            "field 'code': pattern is not a valid regular expression"
        },
        {
            "pattern the linear-time engine cannot run (look-ahead)",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"password":{"type":"string","pattern":"^(?=.*[0-9]).+$"}}}""",
            "field 'password': pattern"
        },
        {
            "pattern with a back-reference",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"twice":{"type":"string","pattern":"^(a)\\1$"}}}""",
            "field 'twice': pattern"
        },
        {
            "min greater than max",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"age":{"type":"int","min":10,"max":1}}}""",
            "field 'age': min 10 is greater than max 1"
        },
        {
            "negative maxLength",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"name":{"type":"string","maxLength":-1}}}""",
            "field 'name': maxLength must not be negative"
        },
        {
            "unknown namespace in an identity",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"NoSuchNs"}}}}""",
            "field 'id': identity namespace 'NoSuchNs' is not defined"
        },
        {
            "identity on a number",
            """{"name":"s","class":"profile","fields":{"id":{"type":"long","identity":{"namespace":"CRMID"}}}}""",
            "field 'id': only string fields can be identities"
        },
        {
            "two primary identities",
            """{"name":"s","class":"profile","fields":{"a":{"type":"string","identity":{"namespace":"CRMID","primary":true}},"b":{"type":"string","identity":{"namespace":"Email","primary":true}}}}""",
            "fields 'a' and 'b' are both marked primary identity"
        },
        {
            "array without items",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"tags":{"type":"array"}}}""",
            "field 'tags': an array needs 'items'"
        },
        {
            "map without values",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"attrs":{"type":"map"}}}""",
            "field 'attrs': a map needs 'values'"
        },
        {
            "nested problem names the full path",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"address":{"type":"object","fields":{"zip":{"type":"string","pattern":"("}}}}}""",
            "field 'address.zip': pattern is not a valid regular expression"
        },
        {
            "field-group conflict",
            """{"name":"s","class":"profile","fieldGroups":[{"name":"g1","fields":{"email":{"type":"string"}}},{"name":"g2","fields":{"email":{"type":"string","maxLength":5}}}],"fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "field 'email' is defined by both field group 'g1' and field group 'g2'"
        },
        {
            "schema field conflicting with a field group",
            """{"name":"s","class":"profile","fieldGroups":[{"name":"g1","fields":{"email":{"type":"string"}}}],"fields":{"email":{"type":"int"},"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "field 'email' is defined by both field group 'g1' and the schema"
        },
        {
            "field name with a dot",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"a.b":{"type":"string"}}}""",
            "field name 'a.b' is not allowed"
        },
        {
            "schema name",
            """{"name":"1bad","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "schema name '1bad'"
        },
        // JSON nulls and numbers a double cannot hold (these threw NullReference/Argument exceptions).
        {
            "null schema name",
            """{"name":null,"class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "schema name ''"
        },
        {
            "a field written as null",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"age":null}}""",
            "the schema: field 'age' is null"
        },
        {
            "a nested field written as null",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"address":{"type":"object","fields":{"zip":null}}}}""",
            "field 'address.zip' is null"
        },
        {
            "fields written as null",
            """{"name":"s","class":"profile","fields":null}""",
            "schema 's': 'fields' is null; give it as an object of fields or leave it out"
        },
        {
            "field groups written as null",
            """{"name":"s","class":"profile","fieldGroups":null,"fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "schema 's': 'fieldGroups' is null; give it as an array of field groups or leave it out"
        },
        {
            "a null field group",
            """{"name":"s","class":"profile","fieldGroups":[null],"fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "field group 1 must be an object with a 'name' and 'fields', found null"
        },
        {
            "a field group with null fields",
            """{"name":"s","class":"profile","fieldGroups":[{"name":"g1","fields":null}],"fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "found 'g1' with null 'fields'"
        },
        {
            "a null field in a field group",
            """{"name":"s","class":"profile","fieldGroups":[{"name":"g1","fields":{"x":null}}],"fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}}}}""",
            "field group 'g1': field 'x' is null"
        },
        {
            "a minimum beyond a double",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"n":{"type":"double","min":1e400}}}""",
            "field 'n': min must be a finite number"
        },
        {
            "a maximum beyond a double",
            """{"name":"s","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID"}},"n":{"type":"long","max":-1e999}}}""",
            "field 'n': max must be a finite number"
        },
    };

    [Theory]
    [MemberData(nameof(InvalidSchemas))]
    public async Task An_invalid_schema_is_refused_naming_the_field(string what, string json, string expected)
    {
        await using var test = await TestCatalog.CreateAsync();

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.RegisterAsync(json));

        Assert.True(error.Code == "SCHEMA_INVALID", $"{what}: code {error.Code}");
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(test.Catalog.ListSchemas("prod"));
    }
}

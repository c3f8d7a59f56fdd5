using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

/// <summary>The profile-merge annotations of a schema: <c>merge</c> on arrays and maps, one <c>lastUpdated</c> date-time.</summary>
public sealed class SchemaMergeAnnotationTests
{
    private const string Id = """ "id":{"type":"string","identity":{"namespace":"CRMID","primary":true}} """;

    private static string Schema(string fields, string schemaClass = "profile") =>
        "{\"name\":\"s\",\"class\":\"" + schemaClass + "\",\"fields\":{" + Id + "," + fields + "}}";

    [Fact]
    public async Task Merge_and_last_updated_are_exposed_on_the_compiled_schema()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Schema("""
            "tags":{"type":"array","items":{"type":"string"},"merge":"union"},
            "attrs":{"type":"map","values":{"type":"string"},"merge":"replace"},
            "codes":{"type":"array","items":{"type":"string"}},
            "meta":{"type":"object","fields":{"updated":{"type":"date-time","lastUpdated":true}}}
            """));

        var compiled = test.Catalog.Compiled("prod", "s");

        Assert.Equal(FieldMerge.Union, compiled.Resolve("tags")!.Merge);
        Assert.Equal(FieldMerge.Replace, compiled.Resolve("attrs")!.Merge);
        Assert.Equal(FieldMerge.Replace, compiled.Resolve("codes")!.Merge);
        Assert.Equal("meta.updated", compiled.LastUpdatedField?.Path);
        Assert.Same(compiled.Resolve("meta.updated"), compiled.LastUpdatedField);
    }

    [Fact]
    public async Task A_schema_without_last_updated_has_no_last_updated_field()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Schema("""  "when":{"type":"date-time"}  """));

        Assert.Null(test.Catalog.Compiled("prod", "s").LastUpdatedField);
    }

    [Fact]
    public async Task The_annotations_survive_the_stored_form()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Schema("""  "tags":{"type":"array","items":{"type":"string"},"merge":"union"}, "when":{"type":"date-time","lastUpdated":true}  """));

        var stored = test.Catalog.GetSchema("prod", "s")!;

        Assert.Equal(FieldMerge.Union, stored.Fields!["tags"].Merge);
        Assert.True(stored.Fields["when"].LastUpdated);
    }

    public static TheoryData<string, string, string> Invalid => new()
    {
        { "merge on a string", Schema("""  "name":{"type":"string","merge":"union"}  """), "field 'name': 'merge' applies only to array or map fields (found string)" },
        { "merge on an object", Schema("""  "a":{"type":"object","merge":"replace","fields":{}}  """), "field 'a': 'merge' applies only to array or map fields (found object)" },
        { "merge on an event schema", Schema("""  "tags":{"type":"array","items":{"type":"string"},"merge":"union"}  """, "event"), "field 'tags': 'merge' applies only to profile schemas" },
        { "merge inside an array", Schema("""  "m":{"type":"array","items":{"type":"array","items":{"type":"string"},"merge":"union"}}  """), "field 'm[]': 'merge' cannot be set inside an array or map" },
        { "last updated on a string", Schema("""  "when":{"type":"string","lastUpdated":true}  """), "field 'when': 'lastUpdated' must be on a date-time field (found string)" },
        { "last updated on a date", Schema("""  "when":{"type":"date","lastUpdated":true}  """), "field 'when': 'lastUpdated' must be on a date-time field (found date)" },
        { "last updated on an event schema", Schema("""  "when":{"type":"date-time","lastUpdated":true}  """, "event"), "field 'when': 'lastUpdated' applies only to profile schemas" },
        { "last updated inside an array", Schema("""  "visits":{"type":"array","items":{"type":"date-time","lastUpdated":true}}  """), "field 'visits[]': 'lastUpdated' cannot be inside an array or map" },
        { "last updated inside a map", Schema("""  "seen":{"type":"map","values":{"type":"object","fields":{"at":{"type":"date-time","lastUpdated":true}}}}  """), "field 'seen{}.at': 'lastUpdated' cannot be inside an array or map" },
        { "two last updated fields", Schema("""  "a":{"type":"date-time","lastUpdated":true}, "b":{"type":"object","fields":{"c":{"type":"date-time","lastUpdated":true}}}  """), "fields 'a' and 'b.c' are both marked lastUpdated; at most one may be" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task A_misplaced_annotation_is_refused_naming_the_field(string what, string json, string expected)
    {
        await using var test = await TestCatalog.CreateAsync();

        var error = await Assert.ThrowsAsync<CatalogException>(() => test.RegisterAsync(json));

        Assert.True(error.Code == "SCHEMA_INVALID", $"{what}: code {error.Code}");
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(test.Catalog.ListSchemas("prod"));
    }

    public static TheoryData<string, string> Evolutions => new()
    {
        { "merge added", Schema("""  "tags":{"type":"array","items":{"type":"string"},"merge":"union"}, "when":{"type":"date-time"}  """) },
        { "last updated added", Schema("""  "tags":{"type":"array","items":{"type":"string"}}, "when":{"type":"date-time","lastUpdated":true}  """) },
        { "both added", Schema("""  "tags":{"type":"array","items":{"type":"string"},"merge":"replace"}, "when":{"type":"date-time","lastUpdated":true}  """) },
    };

    [Theory]
    [MemberData(nameof(Evolutions))]
    public async Task Adding_an_annotation_to_an_existing_field_is_a_new_version(string what, string proposed)
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Schema("""  "tags":{"type":"array","items":{"type":"string"}}, "when":{"type":"date-time"}  """));

        var v2 = await test.RegisterAsync(proposed);

        Assert.True(v2.Version == 2, what);
    }

    [Fact]
    public async Task Changing_or_removing_an_annotation_is_a_new_version()
    {
        await using var test = await TestCatalog.CreateAsync();
        await test.RegisterAsync(Schema("""  "tags":{"type":"array","items":{"type":"string"},"merge":"union"}, "a":{"type":"date-time","lastUpdated":true}, "b":{"type":"date-time"}  """));

        var v2 = await test.RegisterAsync(Schema("""  "tags":{"type":"array","items":{"type":"string"},"merge":"replace"}, "a":{"type":"date-time"}, "b":{"type":"date-time","lastUpdated":true}  """));
        var v3 = await test.RegisterAsync(Schema("""  "tags":{"type":"array","items":{"type":"string"}}, "a":{"type":"date-time"}, "b":{"type":"date-time"}  """));

        Assert.Equal(2, v2.Version);
        Assert.Equal(3, v3.Version);
        Assert.Equal("b", test.Catalog.Compiled("prod", "s", 2).LastUpdatedField?.Path);
        Assert.Equal(FieldMerge.Replace, test.Catalog.Compiled("prod", "s", 2).Resolve("tags")!.Merge);
        Assert.Null(test.Catalog.Compiled("prod", "s", 3).LastUpdatedField);
    }
}

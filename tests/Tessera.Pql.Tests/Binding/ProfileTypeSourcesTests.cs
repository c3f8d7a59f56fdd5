using System.Text.Json.Nodes;
using Tessera.Abstractions;
using Tessera.Pql.Binding;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Binding;

/// <summary>Profile types built from schema documents, schema files and sample profiles.</summary>
public sealed class ProfileTypeSourcesTests
{
    private static List<string> Errors(string pql, ObjectType profile) =>
        [.. Binder.Check(Parser.Parse(pql), profile).Errors.Select(d => $"{d.Position}: {d.Message}")];

    [Fact]
    public void Field_groups_mix_into_the_root_and_events_go_under_xEvent()
    {
        var type = XdmSchema.Type;
        Assert.Equal(["city", "emailAddress", "homeAddress", "identityMap", "loyalty", "numbers", "orders", "person", "person1", "person2",
            "preferences", "product", "product1", "product2", "segmentMembership", "totalProduct", "workAddress", "xEvent"], type.Fields.Keys.Order(StringComparer.Ordinal));
        var person = Assert.IsType<ObjectType>(type.Fields["person"]);
        Assert.Equal(PqlType.Int, person.Fields["age"]);
        Assert.Equal(PqlType.Date, person.Fields["birthday"]);
        Assert.Equal(new ArrayType(PqlType.String), person.Fields["favoriteColors"]);
        var orders = Assert.IsType<ObjectType>(Assert.IsType<ArrayType>(person.Fields["orders"]).Item);
        Assert.Equal(PqlType.Double, orders.Fields["price"]);
        var membership = Assert.IsType<MapType>(type.Fields["segmentMembership"]);
        Assert.Equal(PqlType.DateTime, Assert.IsType<ObjectType>(Assert.IsType<MapType>(membership.Value).Value).Fields["lastQualificationTime"]);
        Assert.True(Assert.IsType<ObjectType>(type.Fields["preferences"]).Open);
        var events = Assert.IsType<ObjectType>(Assert.IsType<ArrayType>(type.Fields["xEvent"]).Item);
        // Every event has an _id and a timestamp, declared or not.
        Assert.Equal(PqlType.String, events.Fields["_id"]);
        Assert.Equal(PqlType.DateTime, events.Fields["timestamp"]);
        Assert.Equal(PqlType.Boolean, Assert.IsType<ObjectType>(Assert.IsType<ObjectType>(events.Fields["web"]).Fields["webPageDetails"]).Fields["isHomePage"]);
    }

    [Fact]
    public void Several_schemas_of_a_class_merge()
    {
        var loyalty = new SchemaDocument
        {
            Name = "loyalty",
            Class = SchemaClass.Profile,
            Fields = new Dictionary<string, FieldDefinition>
            {
                ["loyalty"] = new() { Type = FieldType.Object, Fields = new Dictionary<string, FieldDefinition> { ["status"] = new() { Type = FieldType.String } } },
                ["person"] = new() { Type = FieldType.String }, // conflicts with the XDM person object
            },
        };
        var pos = new SchemaDocument
        {
            Name = "pos",
            Class = SchemaClass.Event,
            Fields = new Dictionary<string, FieldDefinition> { ["storeId"] = new() { Type = FieldType.String } },
        };
        var type = PqlTypes.FromSchemas([XdmSchema.Profile, XdmSchema.Events, loyalty, pos]);
        Assert.Equal(["joined", "points", "status", "tier"], Assert.IsType<ObjectType>(type.Fields["loyalty"]).Fields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(PqlType.Unknown, type.Fields["person"]);
        Assert.Empty(Errors("xEvent[storeId = \"7\" and eventType = \"sale\"].count() > 0 and person.whatever = 1", type));
    }

    [Fact]
    public void Without_event_schemas_there_is_no_xEvent()
    {
        var type = PqlTypes.FromSchemas([XdmSchema.Profile]);
        Assert.False(type.Fields.ContainsKey(PqlTypes.EventsField));
        Assert.Equal(["1:1: unknown field 'xEvent'"], Errors("xEvent.count() > 0", type));
    }

    [Fact]
    public void A_schema_file_holds_one_document_or_an_array_of_them()
    {
        var folder = Directory.CreateTempSubdirectory("tessera-pql-");
        try
        {
            var one = Path.Combine(folder.FullName, "one.json");
            File.WriteAllText(one, """
                {
                  // comments and trailing commas, as the registry reads them
                  "name": "crm", "class": "profile",
                  "fieldGroups": [ { "name": "contact", "fields": { "email": { "type": "string" } } } ],
                  "fields": {
                    "tags": { "type": "array", "items": { "type": "string" } },
                    "scores": { "type": "map", "values": { "type": "double" } },
                    "extra": { "type": "object", "open": true },
                  }
                }
                """);
            var many = Path.Combine(folder.FullName, "many.json");
            File.WriteAllText(many, """
                [ { "name": "crm", "class": "profile", "fields": { "birthDate": { "type": "date" } } },
                  { "name": "web", "class": "event", "fields": { "page": { "type": "object", "fields": { "views": { "type": "int" } } } } } ]
                """);
            var crm = PqlTypes.FromSchemas(PqlTypes.ReadSchemaFile(one));
            Assert.Equal(PqlType.String, crm.Fields["email"]);
            Assert.Equal(new ArrayType(PqlType.String), crm.Fields["tags"]);
            Assert.Equal(new MapType(PqlType.Double), crm.Fields["scores"]);
            Assert.Empty(Errors("tags.includes(\"vip\") and scores.get(\"churn\") > 0.5 and extra.anything = 1", crm));

            var both = PqlTypes.FromSchemas(PqlTypes.ReadSchemaFile(many));
            Assert.Empty(Errors("birthDate occurs this month and xEvent[page.views > 3 and timestamp occurs last week].count() > 0", both));
            Assert.Equal(["1:13: unknown field 'view'; did you mean 'views'?"], Errors("xEvent[page.view > 3].count() > 0", both));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("{ \"name\": \"x\", \"class\": \"profile\", \"fields\": { \"a\": { \"type\": \"text\" } } }")]
    [InlineData("{ \"class\": \"profile\" }")]
    [InlineData("42")]
    [InlineData("{ not json")]
    public void A_bad_schema_file_is_an_error_naming_the_file(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tessera-pql-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => PqlTypes.ReadSchemaFile(path));
            Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_schema_file_is_an_error_naming_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tessera-pql-missing-{Guid.NewGuid():N}.json");
        var error = Assert.Throws<InvalidDataException>(() => PqlTypes.ReadSchemaFile(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
    }

    private static readonly JsonObject Sample = JsonNode.Parse("""
        {
          "person": { "name": "Ann", "age": 41, "height": 1.7, "vip": true, "birthday": "1985-02-11", "nickname": null },
          "lastSeen": "2026-11-02T10:00:00Z",
          "notADate": "2026-13-45",
          "scores": [1, 2.5],
          "tags": ["a", "b"],
          "mixed": [1, "a"],
          "empty": [],
          "xEvent": [
            { "eventType": "view", "timestamp": "2026-11-01T09:00:00Z", "web": { "url": "/a" } },
            { "eventType": "buy", "timestamp": "2026-11-02T09:00:00.123+01:00", "commerce": { "total": 12 } },
            { "eventType": "buy", "timestamp": "2026-11-03T09:00:00Z", "commerce": { "total": 3.5, "currency": "EUR" } }
          ]
        }
        """)!.AsObject();

    [Fact]
    public void A_sample_profile_shows_the_types_of_its_values()
    {
        var type = PqlTypes.FromSample(Sample);
        var person = Assert.IsType<ObjectType>(type.Fields["person"]);
        Assert.Equal(PqlType.String, person.Fields["name"]);
        Assert.Equal(PqlType.Long, person.Fields["age"]);
        Assert.Equal(PqlType.Double, person.Fields["height"]);
        Assert.Equal(PqlType.Boolean, person.Fields["vip"]);
        Assert.Equal(PqlType.Date, person.Fields["birthday"]);
        Assert.Equal(PqlType.Unknown, person.Fields["nickname"]);
        Assert.Equal(PqlType.DateTime, type.Fields["lastSeen"]);
        Assert.Equal(PqlType.String, type.Fields["notADate"]);
        Assert.Equal(new ArrayType(PqlType.Double), type.Fields["scores"]);
        Assert.Equal(new ArrayType(PqlType.String), type.Fields["tags"]);
        Assert.Equal(new ArrayType(PqlType.Unknown), type.Fields["mixed"]);
        Assert.Equal(new ArrayType(PqlType.Unknown), type.Fields["empty"]);
        // Events' objects merge field by field; 12 and 3.5 are numbers, so double.
        var events = Assert.IsType<ObjectType>(Assert.IsType<ArrayType>(type.Fields["xEvent"]).Item);
        Assert.Equal(PqlType.DateTime, events.Fields["timestamp"]);
        var commerce = Assert.IsType<ObjectType>(events.Fields["commerce"]);
        Assert.Equal(PqlType.Double, commerce.Fields["total"]);
        Assert.Equal(PqlType.String, commerce.Fields["currency"]);
        Assert.Equal(PqlType.String, Assert.IsType<ObjectType>(events.Fields["web"]).Fields["url"]);
    }

    [Theory]
    [InlineData("person.age > 40 and person.birthday occurs before today and xEvent[commerce.total > 10 and timestamp occurs last week].count() > 0", "")]
    [InlineData("person.agee > 40", "1:8: unknown field 'agee'; did you mean 'age'?")]
    [InlineData("xEvent[commerce.totl > 10].count() > 0", "1:17: unknown field 'totl'; did you mean 'total'?")]
    [InlineData("person.age.startsWith(\"4\")", "1:8: 'startsWith' expects a string, found long (field 'person.age')")]
    [InlineData("loyalty.tier = \"gold\"", "1:1: unknown field 'loyalty'")]
    public void Checking_against_a_sample_finds_fields_it_does_not_have(string pql, string expected)
    {
        Assert.Equal(expected.Length == 0 ? [] : [expected], Errors(pql, PqlTypes.FromSample(Sample)));
    }

    [Fact]
    public void The_open_profile_accepts_every_field()
    {
        Assert.True(ObjectType.OpenProfile.Open);
        Assert.Empty(Errors("anything.at.all = 1 and xEvent[whatever > 2].count() > 0", ObjectType.OpenProfile));
        Assert.Equal(["1:1: 'and' expects a boolean, found string"], Errors("\"a\" and anything", ObjectType.OpenProfile));
    }
}

using Tessera.Abstractions;
using Tessera.Pql.Binding;

namespace Tessera.Pql.Tests.Binding;

/// <summary>
/// An XDM-like pair of schemas (a profile class with field groups, an event class) holding the fields the
/// documented examples read, typed as the pages' texts describe them.
/// </summary>
internal static class XdmSchema
{
    private static FieldDefinition Of(FieldType type) => new() { Type = type };

    private static FieldDefinition Obj(params (string Name, FieldDefinition Field)[] fields) =>
        new() { Type = FieldType.Object, Fields = fields.ToDictionary(f => f.Name, f => f.Field) };

    private static FieldDefinition ArrayOf(FieldDefinition item) => new() { Type = FieldType.Array, Items = item };

    private static FieldDefinition MapOf(FieldDefinition value) => new() { Type = FieldType.Map, Values = value };

    private static readonly FieldDefinition Text = Of(FieldType.String);

    private static FieldDefinition Address() =>
        Obj(("street1", Text), ("city", Text), ("stateProvince", Text), ("country", Text), ("countryCode", Text), ("countryISO", Text), ("postalCode", Text));

    public static SchemaDocument Profile { get; } = new()
    {
        Name = "xdm-profile",
        Class = SchemaClass.Profile,
        FieldGroups =
        [
            new FieldGroup
            {
                Name = "demographics",
                Fields = new Dictionary<string, FieldDefinition>
                {
                    ["person"] = Obj(
                        ("name", Text), ("gender", Text), ("birthYear", Of(FieldType.Int)), ("birthMonth", Of(FieldType.Int)),
                        ("birthDay", Of(FieldType.Int)), ("birthdate", Of(FieldType.Date)), ("birthday", Of(FieldType.Date)),
                        ("age", Of(FieldType.Int)), ("emailAddress", Text),
                        ("favoriteColors", ArrayOf(Text)), ("favoriteCities", ArrayOf(Text)), ("visitedCities", ArrayOf(Text)), ("eatenFoods", ArrayOf(Text)),
                        ("homeAddress", Address()),
                        ("orders", ArrayOf(Obj(("storeId", Text), ("price", Of(FieldType.Double)))))),
                    ["emailAddress"] = Text,
                },
            },
            new FieldGroup
            {
                Name = "addresses",
                Fields = new Dictionary<string, FieldDefinition> { ["homeAddress"] = Address(), ["workAddress"] = Address(), ["city"] = Text },
            },
            new FieldGroup
            {
                Name = "loyalty",
                Fields = new Dictionary<string, FieldDefinition> { ["loyalty"] = Obj(("tier", Text), ("points", Of(FieldType.Long)), ("joined", Of(FieldType.Date))) },
            },
        ],
        Fields = new Dictionary<string, FieldDefinition>
        {
            ["orders"] = ArrayOf(Obj(("orderId", Text), ("storeId", Text), ("price", Of(FieldType.Double)))),
            ["segmentMembership"] = MapOf(MapOf(Obj(("status", Text), ("lastQualificationTime", Of(FieldType.DateTime))))),
            ["identityMap"] = MapOf(ArrayOf(Obj(("id", Text), ("primary", Of(FieldType.Bool))))),
            ["person1"] = Obj(("favoriteColors", ArrayOf(Text))),
            ["person2"] = Obj(("favoriteColors", ArrayOf(Text))),
            ["product"] = Obj(("price", Of(FieldType.Double)), ("inventory", Of(FieldType.Int)), ("saleYear", Of(FieldType.Int)),
                ("sale", Of(FieldType.Date)), ("saleDate", Of(FieldType.DateTime))),
            ["product1"] = Obj(("price", Of(FieldType.Double))),
            ["product2"] = Obj(("price", Of(FieldType.Double))),
            ["totalProduct"] = Obj(("price", Of(FieldType.Double)), ("sold", Of(FieldType.Int))),
            ["numbers"] = ArrayOf(Of(FieldType.Long)),
            ["preferences"] = new FieldDefinition { Type = FieldType.Object, Open = true },
        },
    };

    public static SchemaDocument Events { get; } = new()
    {
        Name = "xdm-experience-event",
        Class = SchemaClass.Event,
        Fields = new Dictionary<string, FieldDefinition>
        {
            ["eventType"] = Text,
            ["commerce"] = Obj(
                ("order", Obj(("priceTotal", Of(FieldType.Double)), ("currencyCode", Text))),
                ("item", Obj(("price", Of(FieldType.Double)))),
                ("checkouts", Obj(("value", Of(FieldType.Double))))),
            ["productListItems"] = ArrayOf(Obj(("SKU", Text), ("name", Text), ("priceTotal", Of(FieldType.Double)), ("quantity", Of(FieldType.Int)))),
            ["web"] = Obj(("webPageDetails", Obj(("name", Text), ("URL", Text), ("isHomePage", Of(FieldType.Bool))))),
            ["_experience"] = Obj(("analytics", Obj(("endUser", Obj(("firstWeb", Obj(("webPageDetails", Obj(("isHomePage", Of(FieldType.Bool))))))))))),
            ["externalSegmentMapProperty"] = MapOf(Obj(("stringProperty", Text))),
        },
    };

    public static ObjectType Type { get; } = PqlTypes.FromSchemas([Profile, Events]);
}

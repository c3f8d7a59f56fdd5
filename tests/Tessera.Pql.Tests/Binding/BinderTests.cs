using Tessera.Pql.Binding;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Binding;

public sealed class BinderTests
{
    private static readonly ScalarType Text = new("string");
    private static readonly ScalarType Number = new("double");

    private static readonly ObjectType Profile = new(new Dictionary<string, PqlType>
    {
        ["homeAddress"] = new ObjectType(new Dictionary<string, PqlType> { ["stateProvince"] = Text, ["countryCode"] = Text }),
        ["person"] = new ObjectType(new Dictionary<string, PqlType>
        {
            ["name"] = new ObjectType(new Dictionary<string, PqlType> { ["firstName"] = Text }),
            ["gender"] = Text,
        }),
        ["preferences"] = new MapType(Text),
        ["xEvent"] = new ArrayType(new ObjectType(new Dictionary<string, PqlType>
        {
            ["eventType"] = Text,
            ["timestamp"] = new ScalarType("date-time"),
            ["productListItems"] = new ArrayType(new ObjectType(new Dictionary<string, PqlType> { ["SKU"] = Text, ["priceTotal"] = Number })),
            ["commerce"] = new ObjectType(new Dictionary<string, PqlType>
            {
                ["order"] = new ObjectType(new Dictionary<string, PqlType> { ["priceTotal"] = Number }),
            }),
            ["context"] = new ObjectType(new Dictionary<string, PqlType>(), Open: true),
        })),
    });

    private static List<string> Check(string pql) =>
        [.. Binder.Bind(Parser.Parse(pql), Profile).Select(d => $"{d.Position}: {d.Message}")];

    [Theory]
    [InlineData("homeAddress.stateProvince = workAddress.stateProvince", "1:29: unknown field 'workAddress'; did you mean 'homeAddress'?")]
    [InlineData("homeAdress.stateProvince = \"CA\"", "1:1: unknown field 'homeAdress'; did you mean 'homeAddress'?")]
    [InlineData("xEvent[eventTyp = \"x\"]", "1:8: unknown field 'eventTyp'; did you mean 'eventType'?")]
    [InlineData("exists X from xEvent where X.commerce.order.priceTotl > 1", "1:45: unknown field 'priceTotl'; did you mean 'priceTotal'?")]
    [InlineData("(Profile) => Profile.person.nme.firstName = \"A\"", "1:29: unknown field 'nme'; did you mean 'name'?")]
    [InlineData("person.gender.code = 1", "1:15: 'code' is looked up on a value that has no fields (a string)")]
    [InlineData("\"x\" in xEvent.eventTyp", "1:15: unknown field 'eventTyp'; did you mean 'eventType'?")]
    [InlineData("loyalty.tier = \"gold\"", "1:1: unknown field 'loyalty'")]
    public void Unknown_fields_are_named_with_the_nearest_known_one(string pql, string expected)
    {
        Assert.Equal([expected], Check(pql));
    }

    [Theory]
    [InlineData("xEvent[productListItems[SKU = \"PS\" or ^^.person.gender = \"female\"]]")]
    [InlineData("exists E from xEvent where E.eventType = \"x\", I from E.productListItems where I.SKU = \"PS\"")]
    [InlineData("sum X.commerce.order.priceTotal over X from xEvent where X.eventType = \"p\"")]
    [InlineData("let A = homeAddress in A.countryCode = \"US\"")]
    [InlineData("preferences.anything = \"x\" and xEvent[context.whatever.deep = 1].count() > 0")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(< 8 days before now)])")]
    [InlineData("xEvent.map((X) => X.eventType).includes(\"x\")")]
    public void Known_paths_bind_cleanly(string pql)
    {
        Assert.Empty(Check(pql));
    }

    [Fact]
    public void Nearest_suggests_only_likely_typos()
    {
        Assert.Equal("firstName", Binder.Nearest("firstname", ["firstName", "lastName"]));
        Assert.Null(Binder.Nearest("zip", ["firstName", "lastName"]));
    }
}

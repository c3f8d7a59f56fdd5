using System.Text.Json.Nodes;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Evaluation;

/// <summary>The documented meanings of the string, comparison, boolean and array examples, on profiles built to test them.</summary>
public sealed class InterpreterTests
{
    private static readonly JsonObject Profile = JsonNode.Parse("""
        {
          "homeAddress": {"countryISO": "CA", "stateProvince": "QC"},
          "workAddress": {"stateProvince": "ON"},
          "city": "Valencia",
          "emailAddress": "ann@example.com",
          "person": {
            "name": "Joe Smith", "emailAddress": "joe2010@gmail.com", "birthMonth": 6, "birthYear": 1985,
            "favoriteColors": ["red", "yellow"], "favoriteCities": ["Paris"], "visitedCities": ["Paris", "Rome"],
            "eatenFoods": ["sushi", "pizza", "pasta"],
            "orders": [{"storeId": "s1", "price": 10}, {"storeId": "s2", "price": 30}, {"storeId": "s1", "price": 20}]
          },
          "xEvent": [
            {"eventType": "commerce.purchases", "commerce": {"order": {"priceTotal": 120.5}}, "productListItems": [{"SKU": "PS"}]},
            {"eventType": "web.pageViews", "productListItems": []}
          ]
        }
        """)!.AsObject();

    private static object? Eval(string pql) => BothEngines.Evaluate(Parser.Parse(pql), Profile);

    [Theory]
    [InlineData("city like \"%es%\"", false)]
    [InlineData("city like \"Val_ncia\"", true)]
    [InlineData("person.name.startsWith(\"Joe\")", true)]
    [InlineData("person.name.startsWith(\"joe\")", false)]
    [InlineData("person.name.startsWith(\"joe\", false)", true)]
    [InlineData("person.name.doesNotStartWith(\"Joe\")", false)]
    [InlineData("person.emailAddress.endsWith(\".com\")", true)]
    [InlineData("person.emailAddress.doesNotEndWith(\".com\")", false)]
    [InlineData("person.emailAddress.contains(\"2010@gm\")", true)]
    [InlineData("person.emailAddress.doesNotContain(\"2010@gm\")", false)]
    [InlineData("person.name.equals(\"John\")", false)]
    [InlineData("person.name.notEqualTo(\"John\")", true)]
    [InlineData("person.name.matches(\"(?i)^joe\")", true)]
    [InlineData("person.birthMonth in [3, 6, 9]", true)]
    [InlineData("person.birthMonth notIn [3, 6, 9]", false)]
    [InlineData("person.missing notIn [3, 6, 9]", false)]
    [InlineData("person.favoriteColors.intersects([\"red\", \"blue\", \"green\"])", true)]
    [InlineData("person.favoriteCities.subsetOf(person.visitedCities)", true)]
    [InlineData("person.eatenFoods.supersetOf([\"sushi\", \"pizza\"])", true)]
    [InlineData("person.favoriteColors.includes(\"red\")", true)]
    [InlineData("homeAddress.countryISO = \"CA\" and person.birthYear = 1985", true)]
    [InlineData("homeAddress.countryISO = \"US\" or person.birthYear = 1985", true)]
    [InlineData("not (homeAddress.countryISO = \"CA\")", false)]
    [InlineData("homeAddress.countryISO != \"CA\"", false)]
    [InlineData("person.birthMonth > 2", true)]
    [InlineData("person.birthMonth <= 2", false)]
    [InlineData("exists X from xEvent where X.eventType = \"commerce.purchases\"", true)]
    [InlineData("forall X from xEvent where X.eventType = \"commerce.purchases\"", false)]
    [InlineData("xEvent[productListItems[SKU = \"PS\"]].count() > 0", true)]
    [InlineData("exists E from xEvent where E.commerce.order.priceTotal > 50, I from E.productListItems where I.SKU = \"PS\"", true)]
    [InlineData("(Profile) => Profile.homeAddress.stateProvince = Profile.workAddress.stateProvince", false)]
    [InlineData("person.missing = null", false)]
    [InlineData("isNull(person.missing) and isNotNull(person.name)", true)]
    public void Documented_meanings_hold(string pql, bool expected)
    {
        Assert.Equal(expected, Eval(pql));
    }

    [Theory]
    [InlineData("inSegment(\"gold\")", true)]
    [InlineData("inSegment(\"lapsed\")", true)]
    [InlineData("inSegment(\"churned\")", false)]
    [InlineData("inSegment(\"unknown\")", false)]
    [InlineData("inSegment(\"gold\") and not inSegment(\"churned\")", true)]
    public void InSegment_reads_the_profile_memberships(string pql, bool expected)
    {
        var profile = JsonNode.Parse("""
            {"segmentMembership": {
              "ups": {"gold": {"status": "realized"}, "churned": {"status": "exited"}},
              "external": {"lapsed": {"status": "existing"}}}}
            """)!.AsObject();
        Assert.Equal(expected, BothEngines.Evaluate(Parser.Parse(pql), profile));
    }

    [Fact]
    public void An_engine_can_answer_in_segment_itself()
    {
        // An engine evaluating dependent audiences in one pass knows this pass's answers before the profile does.
        var tree = Parser.Parse("inSegment(\"gold\") and not inSegment(\"churned\")");
        var profile = JsonNode.Parse("""{"segmentMembership": {"ups": {"churned": {"status": "realized"}}}}""")!.AsObject();
        Func<string, bool> known = id => id == "gold";
        Assert.Equal(false, Interpreter.Evaluate(tree, profile));
        Assert.Equal(true, Interpreter.Evaluate(tree, profile, inSegment: known));
        var compiled = PqlCompiler.Compile(tree);
        var converted = PqlProfile.FromJson(profile);
        Assert.False(compiled.Matches(converted, DateTimeOffset.UnixEpoch));
        Assert.True(compiled.Matches(converted, DateTimeOffset.UnixEpoch, known));
    }

    [Fact]
    public void Values_compute_as_documented()
    {
        Assert.Equal(1L, Eval("if (homeAddress.countryISO = \"CA\", 1, 2)"));
        Assert.Equal("example", Eval("emailAddress.regexGroup(\"@(\\\\w+)\", 1)"));
        Assert.Equal(30L, Eval("sum X.price over X from person.orders where X.storeId = \"s1\""));
        Assert.Equal(20.0, Eval("average X.price over X from person.orders"));
        Assert.Equal(2L, Eval("count(select O from person.orders where O.storeId = \"s1\")"));
        Assert.Equal(7L, Eval("let X = 3, Y = 4 in X + Y"));
        Assert.Equal(2.5, Eval("5 / 2"));
        Assert.Null(Eval("person.missing + 1"));
    }

    [Fact]
    public void Per_item_functions_read_each_item()
    {
        // The page's text for topN says the highest prices, for bottomN the lowest.
        Assert.Equal(30L, Eval("person.orders.topN(price, 1).head().price"));
        Assert.Equal(10L, Eval("person.orders.bottomN(price, 1).head().price"));
        Assert.Equal(2L, Eval("person.orders.filter(price >= 20).count()"));
        Assert.Equal(60L, Eval("sum(person.orders.map(price))"));
        Assert.Equal(60L, Eval("sum(person.orders.map((O) => O.price))"));
        Assert.Equal(2L, Eval("person.orders.groupBy(storeId).keys().count()"));
        Assert.Equal("s2", Eval("person.orders.groupBy(storeId).get(\"s2\").head().storeId"));
        Assert.Equal(60L, Eval("person.orders.sum(price)"));
        Assert.Equal(2L, Eval("person.orders.count(price >= 20)"));
        Assert.Equal(true, Eval("person.orders.exists(storeId = \"s2\")"));
        Assert.Equal(false, Eval("person.orders.forall(storeId = \"s2\")"));
    }

    [Fact]
    public void Map_over_a_map_keeps_the_keys_unless_a_map_entry_names_new_ones()
    {
        var counts = Eval("person.orders.groupBy(storeId).map((K, G) => G.count())");
        Assert.Equal(new Dictionary<string, object?> { ["s1"] = 2L, ["s2"] = 1L }, counts);
        var totals = Eval("person.orders.groupBy(storeId).map((K, G) => mapEntry(K, G.sum(price)))");
        Assert.Equal(new Dictionary<string, object?> { ["s1"] = 30L, ["s2"] = 30L }, totals);
        var renamed = Eval("person.orders.groupBy(storeId).map((K, G) => mapEntry(G.count(), K))");
        Assert.Equal(new Dictionary<string, object?> { ["2"] = "s1", ["1"] = "s2" }, renamed);
        Assert.Equal(new Dictionary<string, object?> { ["a"] = 1L }, Eval("mapEntry(\"a\", 1)"));
        Assert.Equal(2L, Eval("person.orders.groupBy(storeId).map((G) => G.count()).get(\"s1\")"));
    }

    [Fact]
    public void A_field_of_an_array_is_the_field_of_each_item()
    {
        Assert.Equal(new List<object?> { "s1", "s2", "s1" }, Eval("person.orders.storeId"));
        // Arrays are spread into one (every SKU of every event), missing values left out.
        Assert.Equal(new List<object?> { "PS" }, Eval("xEvent.productListItems.SKU"));
        Assert.Equal(new List<object?> { 120.5 }, Eval("xEvent.commerce.order.priceTotal"));
        Assert.Equal(true, Eval("\"web.pageViews\" in xEvent.eventType"));
    }

    [Theory]
    [InlineData("text.matches(badPattern)", false)]
    [InlineData("text.regexGroup(badPattern, 0)", null)]
    [InlineData("long.matches(evilPattern)", false)]
    [InlineData("long.regexGroup(evilPattern, 1)", null)]
    [InlineData("text.matches(goodPattern)", true)]
    [InlineData("long like \"%a%a%a%a%a%a%b\"", false)] // linear: backtracking took time to the 7th power of the length
    [InlineData("long like \"%a%a%a%a%a%a%!\"", true)]
    public void A_pattern_from_data_that_is_not_a_regular_expression_or_outruns_its_budget_does_not_match_and_like_is_linear(string pql, object? expected)
    {
        // The checker refuses a literal pattern that is not a regular expression; one read from the profile reaches the engines.
        var profile = new JsonObject
        {
            ["text"] = "abc",
            ["badPattern"] = "[",
            ["goodPattern"] = "^a.c$",
            ["evilPattern"] = "^(a+)+$",
            ["long"] = new string('a', 5_000) + "!",
        };
        Assert.Equal(expected, BothEngines.Evaluate(Parser.Parse(pql), profile));
    }
}

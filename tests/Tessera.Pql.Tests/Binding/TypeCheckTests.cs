using Tessera.Pql.Binding;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Binding;

/// <summary>Types of results and the checks of arguments, per family of functions, against <see cref="XdmSchema"/>.</summary>
public sealed class TypeCheckTests
{
    private static List<string> Errors(string pql) =>
        [.. Binder.Check(Parser.Parse(pql), XdmSchema.Type).Errors.Select(d => $"{d.Position}: {d.Message}")];

    private static PqlType ResultOf(string pql)
    {
        var result = Binder.Check(Parser.Parse(pql), XdmSchema.Type);
        Assert.Empty(result.Errors);
        return result.ResultType;
    }

    [Theory]
    // logic
    [InlineData("person.name and true", "1:8: 'and' expects a boolean, found string (field 'person.name')")]
    [InlineData("true or \"yes\"", "1:9: 'or' expects a boolean, found string")]
    [InlineData("not person.age", "1:12: 'not' expects a boolean, found int (field 'person.age')")]
    [InlineData("xEvent[eventType = \"a\"] and true", "1:7: 'and' expects a boolean, found array of object")]
    // comparisons
    [InlineData("person.name = 3", "1:15: '=' expects a value comparable with string, found long")]
    [InlineData("person.age != \"3\"", "1:15: '!=' expects a value comparable with int, found string")]
    [InlineData("person.age < true", "1:14: '<' expects a number, string, date or date-time, found boolean")]
    [InlineData("person.favoriteColors > 1", "1:8: '>' expects a number, string, date or date-time, found array of string (field 'person.favoriteColors')")]
    [InlineData("person.name >= 1", "1:16: '>=' expects a value comparable with string, found long")]
    [InlineData("person.birthMonth in [\"March\", \"June\"]", "1:22: 'in' expects an array of values comparable with int, found array of string")]
    [InlineData("person.birthMonth notIn 3", "1:25: 'notIn' expects an array, found long")]
    // arithmetic
    [InlineData("person.name + 1 > 2", "1:8: '+' expects a number, found string (field 'person.name')")]
    [InlineData("-person.name = 1", "1:9: 'neg' expects a number, found string (field 'person.name')")]
    [InlineData("person.age % \"5\" = 0", "1:14: '%' expects a number, found string")]
    // strings
    [InlineData("person.age.startsWith(\"1\")", "1:8: 'startsWith' expects a string, found int (field 'person.age')")]
    [InlineData("person.name.contains(1)", "1:22: 'contains' expects a string, found long")]
    [InlineData("person.name.equals(\"John\", \"no\")", "1:28: 'equals' expects a boolean, found string")]
    [InlineData("person.age like \"1%\"", "1:8: 'like' expects a string, found int (field 'person.age')")]
    [InlineData("person.name.matches(1)", "1:21: 'matches' expects a string, found long")]
    [InlineData("emailAddress.regexGroup(\"@(\\\\w+)\", \"1\") = \"x\"", "1:36: 'regexGroup' expects an integer, found string")]
    // arrays
    [InlineData("person.name.includes(\"a\")", "1:8: 'includes' expects an array, found string (field 'person.name')")]
    [InlineData("person.favoriteColors.includes(1)", "1:32: 'includes' expects a value comparable with string, found long")]
    [InlineData("person.favoriteColors.intersects([1, 2])", "1:34: 'intersects' expects an array of values comparable with string, found array of long")]
    [InlineData("person.favoriteColors.subsetOf(person.name)", "1:39: 'subsetOf' expects an array, found string (field 'person.name')")]
    [InlineData("person.name.distinct().count() > 1", "1:8: 'distinct' expects an array, found string (field 'person.name')")]
    [InlineData("person.gender.head() = \"f\"", "1:8: 'head' expects an array, found string (field 'person.gender')")]
    [InlineData("orders.filter(price)", "1:15: 'filter' expects a boolean, found double (field 'price')")]
    [InlineData("orders.topN(storeId = \"1\", 5)", "1:21: 'topN' expects a number, string, date or date-time, found boolean")]
    [InlineData("orders.bottomN(price, \"5\")", "1:23: 'bottomN' expects an integer, found string")]
    [InlineData("orders.sum(storeId) > 1", "1:12: 'sum' expects a number, found string (field 'storeId')")]
    [InlineData("person.favoriteColors.sum() > 1", "1:8: 'sum' expects an array of numbers, found array of string (field 'person.favoriteColors')")]
    [InlineData("(sum X.storeId over X from orders) > 1", "1:8: 'sum' expects a number, found string (field 'X.storeId')")]
    [InlineData("(average X.price over X from person.name) > 1", "1:37: 'average' expects an array, found string (field 'person.name')")]
    // maps
    [InlineData("person.get(\"name\") = \"x\"", "1:1: 'get' expects a map, found object (field 'person')")]
    [InlineData("identityMap.get(1).count() > 0", "1:17: 'get' expects a string, found long")]
    [InlineData("orders.keys().count() > 0", "1:1: 'keys' expects a map, found array of object (field 'orders')")]
    // conditionals and time
    [InlineData("if(person.name, 1, 2) = 1", "1:11: 'if' expects a boolean, found string (field 'person.name')")]
    [InlineData("person.age occurs last week", "1:8: 'occurs' expects a date or date-time, found int (field 'person.age')")]
    [InlineData("person.birthday occurs < \"3\" days before now", "1:26: 'occurs' expects an integer, found string")]
    [InlineData("person.birthday occurs between 3 and today", "1:32: 'occurs' expects a date or date-time, found long")]
    [InlineData("person.age.getMonth() = 6", "1:8: 'getMonth' expects a date or date-time, found int (field 'person.age')")]
    [InlineData("date(2020, \"3\", 14) occurs before now", "1:12: 'date' expects an integer, found string")]
    [InlineData("chain(xEvent, commerce, [A: WHAT(eventType = \"x\")])", "1:15: a chain's time field expects a date or date-time, found object (field 'commerce')")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType)])", "1:35: WHAT expects a boolean, found string (field 'eventType')")]
    [InlineData("chain(xEvent, timestamp, [A: WHAT(eventType = \"x\") COUNT(\"2\")])", "1:58: COUNT expects an integer, found string")]
    [InlineData("chain(person, timestamp, [A: WHAT(true)])", "1:7: a chain expects an array, found object (field 'person')")]
    // quantifiers, audiences
    [InlineData("exists X from xEvent where X.eventType", "1:30: 'exists' expects a boolean, found string (field 'X.eventType')")]
    [InlineData("forall X from person where true", "1:15: 'forall' expects an array, found object (field 'person')")]
    [InlineData("inSegment(person.name)", "1:18: 'inSegment' expects an audience id as a string literal, found a string that is not a literal")]
    [InlineData("inSegment(42)", "1:11: 'inSegment' expects an audience id as a string literal, found long")]
    public void Type_errors_say_what_was_expected_and_found_and_where(string pql, string expected)
    {
        Assert.Equal([expected], Errors(pql));
    }

    [Theory]
    [InlineData("person.nme.startsWith(\"J\")", "1:8: unknown field 'nme'; did you mean 'name'?")]
    [InlineData("person.name.startWith(\"J\")", "1:13: unknown function 'startWith'; did you mean 'startsWith'?")]
    [InlineData("orders.cnt() > 1", "1:8: unknown function 'cnt'; did you mean 'count'?")]
    [InlineData("frobnicate(1)", "1:1: unknown function 'frobnicate'")]
    [InlineData("frobnicate(persn.age)", "1:12: unknown field 'persn'; did you mean 'person'?|1:1: unknown function 'frobnicate'")]
    public void Unknown_fields_and_functions_suggest_the_nearest_known_name(string pql, string expected)
    {
        Assert.Equal(expected.Split('|'), Errors(pql));
    }

    [Theory]
    [InlineData("person.age.years > 1", "1:12: 'years' is looked up on a value that has no fields (an int)")]
    [InlineData("person.birthday.month > 1", "1:17: 'month' is looked up on a value that has no fields (a date)")]
    public void A_field_of_a_scalar_is_an_error_naming_the_scalar(string pql, string expected)
    {
        Assert.Equal([expected], Errors(pql));
    }

    [Theory]
    [InlineData("person.name.startsWith()", "1:13: 'startsWith' takes 1 to 2 arguments after the value it is called on, found 0")]
    [InlineData("startsWith(person.name, \"a\", true, 4)", "1:1: 'startsWith' takes 2 to 3 arguments, found 4")]
    [InlineData("now(1) occurs before today", "1:1: 'now' takes 0 arguments, found 1")]
    [InlineData("if(true, 1) = 1", "1:1: 'if' takes 3 arguments, found 2")]
    [InlineData("person.favoriteColors.head(1) = \"red\"", "1:23: 'head' takes 0 arguments after the value it is called on, found 1")]
    [InlineData("inSegment()", "1:1: 'inSegment' takes 1 argument, found 0")]
    public void Wrong_argument_counts_are_errors(string pql, string expected)
    {
        Assert.Equal([expected], Errors(pql));
    }

    [Theory]
    [InlineData("person.age = 30.5 and person.age > loyalty.points", "boolean")]
    [InlineData("person.age + 1", "long")]
    [InlineData("person.age + 1.5", "double")]
    [InlineData("loyalty.points / 2", "double")]
    [InlineData("person.name.regexGroup(\"(\\\\w+)\", 1)", "string")]
    [InlineData("person.favoriteColors.intersection([\"red\"])", "array of string")]
    [InlineData("orders.topN(price, 5).head()", "object")]
    [InlineData("orders.map(price)", "array of double")]
    [InlineData("orders.map((O) => O.storeId)", "array of string")]
    [InlineData("orders.groupBy(storeId)", "map of array of object")]
    [InlineData("orders.groupBy(storeId).map((K, G) => G.count())", "map of long")]
    [InlineData("orders.groupBy(storeId).map((K, G) => mapEntry(K, G.sum(price)))", "map of double")]
    [InlineData("mapEntry(\"a\", 1)", "map of long")]
    [InlineData("person.orders.storeId", "array of string")]
    [InlineData("orders.count()", "long")]
    [InlineData("orders.sum(price)", "double")]
    [InlineData("person.orders.average(price)", "double")]
    [InlineData("numbers.max()", "long")]
    [InlineData("identityMap.get(\"email\")", "array of object")]
    [InlineData("identityMap.keys()", "array of string")]
    [InlineData("segmentMembership.values()", "array of map of object")]
    [InlineData("if(true, 1, 2.5)", "double")]
    [InlineData("if(true, person.birthday, now())", "date-time")]
    [InlineData("date(2020, 3, 14)", "date")]
    [InlineData("today()", "date-time")]
    [InlineData("currentMonth()", "int")]
    [InlineData("person.birthday.getYear()", "int")]
    [InlineData("select X from xEvent where X.eventType = \"a\"", "array of object")]
    [InlineData("exists X from xEvent where X.eventType = \"a\"", "boolean")]
    [InlineData("xEvent[eventType = \"a\"]", "array of object")]
    [InlineData("sum X.commerce.order.priceTotal over X from xEvent", "double")]
    [InlineData("count X over X from xEvent", "long")]
    [InlineData("let T = person.birthYear in T + 1", "long")]
    [InlineData("preferences.anything.deeper", "unknown")]
    [InlineData("[1, 2.5]", "array of double")]
    [InlineData("[1, \"a\"]", "array of unknown")]
    [InlineData("person.name.equals(\"John\", false)", "boolean")]
    public void Results_have_the_types_of_their_functions(string pql, string expected)
    {
        Assert.Equal(expected, ResultOf(pql).ToString());
    }

    [Theory]
    // numbers across int, long and double
    [InlineData("person.age = loyalty.points and person.age < 30.5 and person.birthYear in [1990, 1991.0]")]
    // dates, date-times and ISO text
    [InlineData("person.birthday = \"1990-01-01\" and loyalty.joined < now() and product.saleDate >= person.birthdate")]
    [InlineData("product.saleDate occurs between \"2020-01-01\" and date(2021, 1, 1)")]
    // null and unknown are compatible with everything
    [InlineData("person.name = null and person.age != null and preferences.x.startsWith(\"a\") and preferences.y + 1 > preferences.z")]
    [InlineData("$2.anything = 1")]
    // a nested filter is a condition of its filter
    [InlineData("xEvent[productListItems[SKU = \"PS\"]].count() > 0")]
    public void Compatible_types_check_clean(string pql)
    {
        Assert.Empty(Errors(pql));
    }

    [Theory]
    // lambda parameters are typed from the receiver's items
    [InlineData("orders.map((O) => O.prize)", "1:21: unknown field 'prize'; did you mean 'price'?")]
    [InlineData("orders.filter((O) => O.storeId > 1)", "1:34: '>' expects a value comparable with string, found long")]
    [InlineData("orders.topN((O) => O.orderId, 2).head().storeId = 1", "1:51: '=' expects a value comparable with string, found long")]
    [InlineData("xEvent.groupBy((E) => E.web.webPageDetails.nam)", "1:44: unknown field 'nam'; did you mean 'name'?")]
    [InlineData("xEvent.exists((E) => E.productListItems.sum(quantity) > \"3\")", "1:57: '>' expects a value comparable with long, found string")]
    // the implicit parameter inside a per-item argument is the item
    [InlineData("orders.filter(storeId = 1)", "1:25: '=' expects a value comparable with string, found long")]
    // map over a map: the key is a string, the value the item
    [InlineData("orders.groupBy(storeId).map((K, G) => K > 1)", "1:43: '>' expects a value comparable with string, found long")]
    [InlineData("orders.groupBy(storeId).map((K, G) => G.prize)", "1:41: unknown field 'prize'; did you mean 'price'?")]
    [InlineData("orders.filter(person.age > 1)", "1:15: unknown field 'person'")]
    public void Lambda_parameters_and_per_item_arguments_are_typed_from_the_receivers_items(string pql, string expected)
    {
        Assert.Equal(expected.Split('|'), Errors(pql));
    }

    [Theory]
    [InlineData("xEvent[productListItems[SKU = \"PS\" or ^^.person.gender = 1]]", "1:58: '=' expects a value comparable with string, found long")]
    [InlineData("xEvent[productListItems[^.eventType = 1]]", "1:39: '=' expects a value comparable with string, found long")]
    [InlineData("xEvent[productListItems[^.SKU = \"PS\"]]", "1:27: unknown field 'SKU'")]
    [InlineData("xEvent[productListItems[quantity > ^^.person.age and ^.timestamp occurs last week and ^^.eventType = \"x\"]]", "1:90: unknown field 'eventType'")]
    [InlineData("xEvent[productListItems[^^^.person.age > 1]]", "1:25: '^' climbs 3 levels out of 2 enclosing filters")]
    public void Carets_in_nested_filters_have_the_types_of_the_enclosing_items(string pql, string expected)
    {
        Assert.Equal([expected], Errors(pql));
    }

    [Theory]
    [InlineData("person.name.matches(\"[\")", "1:21: \"[\" is not a regular expression: Invalid pattern '[' at offset 1. Unterminated [] set.")]
    [InlineData("emailAddress.regexGroup(\"(\", 1) = \"x\"", "1:25: \"(\" is not a regular expression: Invalid pattern '(' at offset 1. Not enough )'s.")]
    public void A_literal_pattern_that_is_not_a_regular_expression_is_refused_by_the_checker_not_when_run(string pql, string expected) =>
        Assert.Equal([expected], Errors(pql));
}

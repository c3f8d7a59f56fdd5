using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Syntax;

public sealed class ParserTests
{
    [Theory]
    [InlineData("homeAddress.stateProvince = workAddress.stateProvince")]
    [InlineData("$1.homeAddress.stateProvince = $1.homeAddress.stateProvince")]
    [InlineData("(Profile) => Profile.homeAddress.stateProvince = Profile.workAddress.stateProvince")]
    [InlineData("xEvent[productListItems[SKU = \"PS\"]]")]
    [InlineData("xEvent[productListItems[SKU = \"PS\" or ^^.person.gender = \"female\"]]")]
    [InlineData("person.birthYear >= 1990 and person.birthYear < 2000 or not person.isEmployee")]
    [InlineData("homeAddress.country.startsWith(\"US\", false)")]
    [InlineData("person.gender in [\"male\", \"female\"]")]
    [InlineData("person.birthMonth notIn [1, 2, 3]")]
    [InlineData("exists X from xEvent where X.eventType = \"commerce.purchases\"")]
    [InlineData("forall X from xEvent where X.commerce.order.priceTotal > 100.5")]
    [InlineData("select X from xEvent where X.commerce.purchases.value > 0")]
    [InlineData("let X = -201, Y = 3.14 in X * (Y + 1) - -(2)")]
    [InlineData("count(xEvent[eventType = \"web.webpagedetails.pageViews\"]) > 3")]
    [InlineData("person.birthDate < date(2000, 1, 1) and if(loyalty.points > 10, true, false)")]
    [InlineData("inSegment(\"a1b2c3\")")]
    [InlineData("map.get(\"key\").startsWith(\"v\")")]
    [InlineData("groups.map((K, G) => K)")]
    [InlineData("a - (b - c)")]
    [InlineData("not (a or b) and !c")]
    public void Documented_shapes_parse_and_print_back_to_the_same_tree(string text)
    {
        var tree = Parser.Parse(text);
        var canonical = Printer.Print(tree);
        var again = Parser.Parse(canonical);
        Assert.Equal(tree, again);
        Assert.Equal(canonical, Printer.Print(again));
    }

    [Fact]
    public void Operators_bind_as_documented()
    {
        Assert.Equal("a or b and c", Printer.Print(Parser.Parse("a or (b and c)")));
        Assert.Equal("(a or b) and c", Printer.Print(Parser.Parse("(a or b) and c")));
        Assert.Equal("a + b * c", Printer.Print(Parser.Parse("a+(b*c)")));
        Assert.Equal("(a + b) * c", Printer.Print(Parser.Parse("(a+b)*c")));
        Assert.Equal("not a = b", Printer.Print(Parser.Parse("!(a = b)")));
        var minus = Assert.IsType<Literal>(Parser.Parse("-201"));
        Assert.Equal(-201L, minus.Value);
        Assert.IsType<FunctionCall>(Parser.Parse("- 201")); // Spaced: a negation of 201.
    }

    [Fact]
    public void Named_parameters_are_told_from_fields()
    {
        var lambda = Assert.IsType<Lambda>(Parser.Parse("(Profile) => Profile.age > age"));
        var comparison = Assert.IsType<FunctionCall>(lambda.Body);
        var left = Assert.IsType<FieldLookup>(comparison.Arguments[0]);
        Assert.Equal(new Parameter(0, "Profile"), left.Target);
        Assert.Equal(new FieldLookup(null, "age"), comparison.Arguments[1]);
    }

    [Theory]
    [InlineData("a = ", 1, 5, "expected a value")]
    [InlineData("a.startsWith(\"x\"", 1, 17, "expected ')' or ','")]
    [InlineData("xEvent[a = 1", 1, 13, "']' closing the filter")]
    [InlineData("a = \"open", 1, 5, "string is not closed")]
    [InlineData("a = 1\n  and # b", 2, 7, "unexpected character '#'")]
    [InlineData("exists X from xEvent", 1, 21, "expected 'where'")]
    [InlineData("a b", 1, 3, "unexpected 'b' after the end")]
    [InlineData("$0.a", 1, 1, "parameter number")]
    public void Errors_say_what_and_where(string text, int line, int column, string message)
    {
        var error = Assert.Throws<PqlException>(() => Parser.Parse(text));
        Assert.Equal((line, column), (error.Position.Line, error.Position.Column));
        Assert.Contains(message, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_refused_not_a_stack_overflow()
    {
        var error = Assert.Throws<PqlException>(() => Parser.Parse(new string('(', 5_000) + "a" + new string(')', 5_000)));
        Assert.Contains("nested deeper", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(HeightLimitTests.OperatorChains), MemberType = typeof(HeightLimitTests))]
    public void A_chain_of_operators_taller_than_the_limit_is_refused_not_a_stack_overflow(string operand, string link)
    {
        // Parsed in a loop, a chain makes the tree one level deeper per operator; 5,000 of them parsed without a word
        // and then overflowed the stack of the checker (tessera audience create, pql check, the API: the server died).
        string Chain(int links) => link.StartsWith(' ') ? string.Join(link, Enumerable.Repeat(operand, links + 1)) : operand + string.Concat(Enumerable.Repeat(link, links));

        var error = Assert.Throws<PqlException>(() => Parser.Parse(Chain(5_000)));

        Assert.Contains($"nested deeper than {Parser.MaxHeight} levels", error.Reason, StringComparison.Ordinal);
        Assert.NotNull(Parser.Parse(Chain(Parser.MaxHeight - 10))); // A long chain within the limit parses.
    }
}

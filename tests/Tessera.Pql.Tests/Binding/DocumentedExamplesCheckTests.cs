using System.Text.Json;
using Tessera.Pql.Binding;
using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Binding;

/// <summary>
/// Every documented example that parses checks with no error against the open profile, and against an
/// XDM-like schema holding the fields the examples read, except the ones listed here: each is an error
/// in the page's own text, not a gap of the checker.
/// </summary>
public sealed class DocumentedExamplesCheckTests
{
    /// <summary>The examples that do not check against <see cref="XdmSchema"/>, the first error each gives, and why the page is wrong.</summary>
    private static readonly Dictionary<string, (string Error, string Reason)> PageErrors = new()
    {
        ["X.timestamp occurs before today"] = ("1:1: unknown field 'X'", "X is a variable of an enclosing quantifier the page leaves out"),
        ["X.timestamp occurs last month"] = ("1:1: unknown field 'X'", "X is a variable of an enclosing quantifier the page leaves out"),
        ["X.timestamp occurs <= 3 days before now"] = ("1:1: unknown field 'X'", "X is a variable of an enclosing quantifier the page leaves out"),
        ["timestamp occurs on date(2019,12,31)"] = ("1:1: unknown field 'timestamp'", "timestamp is an event's field, written here at the profile's level"),
        ["person.filter(age >= 21)"] = ("1:1: 'filter' expects an array, found object (field 'person')", "person is one object, not an array of people"),
        ["numbers.map(square)"] = ("1:13: 'square' is looked up on a value that has no fields (a long)", "'square' names no field of a number; PQL has no named functions to pass"),
        ["orders.sum(order.price)"] = ("1:12: unknown field 'order'; did you mean 'orderId'?", "inside sum the item (an order) is the implicit parameter: orders.sum(price)"),
        ["orders.average(order.price)"] = ("1:16: unknown field 'order'; did you mean 'orderId'?", "inside average the item (an order) is the implicit parameter: orders.average(price)"),
        ["orders.min(order.price)"] = ("1:12: unknown field 'order'; did you mean 'orderId'?", "inside min the item (an order) is the implicit parameter: orders.min(price)"),
        ["orders.max(order.price)"] = ("1:12: unknown field 'order'; did you mean 'orderId'?", "inside max the item (an order) is the implicit parameter: orders.max(price)"),
        ["chain(xEvent, timestamp, [X: WHAT(var1._experience.analytics.endUser.firstWeb.webPageDetails.isHomePage = \"true\")])"] =
            ("1:35: unknown field 'var1'", "var1 is bound by nothing in a chain (copied from a select), and isHomePage is a boolean compared with the string \"true\""),
    };

    public static TheoryData<string> Parsing()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", "documented-examples.json")));
        var data = new TheoryData<string>();
        foreach (var pql in document.RootElement.EnumerateArray().Select(e => e.GetProperty("pql").GetString()!).Distinct())
        {
            try
            {
                Parser.Parse(pql);
                data.Add(pql);
            }
            catch (PqlException)
            {
                // Not a checker concern: Syntax/DocumentedExamplesTests keeps the list of what does not parse.
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Parsing))]
    public void Checks_clean_against_the_open_profile(string pql)
    {
        Assert.Empty(Binder.Check(Parser.Parse(pql), ObjectType.OpenProfile).Errors);
    }

    [Theory]
    [MemberData(nameof(Parsing))]
    public void Checks_against_an_xdm_schema_unless_the_page_is_wrong(string pql)
    {
        var errors = Binder.Check(Parser.Parse(pql), XdmSchema.Type).Errors.Select(e => $"{e.Position}: {e.Message}").ToList();
        if (PageErrors.TryGetValue(pql, out var known))
        {
            Assert.True(errors.Count > 0, $"checks clean now: take it off the list ({known.Reason})");
            Assert.Equal(known.Error, errors[0]);
        }
        else
        {
            Assert.Empty(errors);
        }
    }

    [Fact]
    public void Every_listed_page_error_is_a_documented_example()
    {
        var examples = Parsing().Select(row => row.Data).ToHashSet();
        Assert.All(PageErrors.Keys, pql => Assert.Contains(pql, examples));
    }
}

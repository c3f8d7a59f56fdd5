using Tessera.Pql.Syntax;

namespace Tessera.Pql.Tests.Syntax;

public sealed class ChainPrintTests
{
    [Fact]
    public void A_step_prints_each_clause_under_its_own_name()
    {
        var today = new FunctionCall("today", null, []);
        var chain = new Chain("chain", new FieldLookup(null, "xEvent"), new FieldLookup(null, "timestamp"),
            [new ChainStep("S1", null, null, new Occurs(null, null, null, null, "between", today, today), new Literal(LiteralKind.Integer, 7L))]);
        Assert.Equal("chain(xEvent, timestamp, [S1: WHEN(between today and today) COUNT(7)])", Printer.Print(chain));
        Assert.Equal(chain, Parser.Parse(Printer.Print(chain)));
    }
}

using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tessera.Pql.Binding;
using Tessera.Pql.Classification;
using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;
using Tessera.Pql.Tests.Binding;

namespace Tessera.Pql.Tests.Syntax;

/// <summary>
/// The tallest tree the parser accepts goes through every stage that walks a tree (checker, classifier, compiler, both
/// evaluators, columnar compilation, the time horizon, the projection, printing) on a thread with a small stack: each walker
/// moves on to a fresh stack when its own runs low (<c>DeepTrees</c>), so the height limit is the parser's alone and does not
/// depend on the stack of the thread that asks. Without that, a 1.5 MB stack overflowed at 300 calls in a chain.
/// </summary>
public sealed class HeightLimitTests
{
    /// <summary>Far below any thread's stack the server may check and evaluate on (8 MB here, 1 to 1.5 MB on other platforms).</summary>
    private const int StackBytes = 256 * 1024;

    private static readonly JsonObject Profile = JsonNode.Parse("""
        {"tier":"gold","vip":true,"points":3,"name":"Ann","a":{"b":{}},
         "xEvent":[{"timestamp":"2026-11-01T10:00:00Z","a":1},{"timestamp":"2026-11-01T11:00:00Z","a":2}]}
        """)!.AsObject();

    /// <summary>Chains of operators: each link makes the tree one level taller (the parser's height test reads them too).</summary>
    public static readonly TheoryData<string, string> OperatorChains = new()
    {
        { "tier = \"gold\"", " or " },
        { "vip", " and " },
        { "points", " + " },
        { "points", " * " },
        { "a", ".b" },
        { "xEvent", "[a = 1]" },
        { "name", ".lower()" },
    };

    [Theory]
    [MemberData(nameof(OperatorChains))]
    [InlineData("not ", "")]
    [InlineData("(", ")")]
    public void The_tallest_accepted_tree_passes_every_stage_on_a_small_stack(string operand, string link)
    {
        var tallest = Tallest(operand, link);
        Assert.Throws<PqlException>(() => Parser.Parse(Chain(operand, link, tallest.Links + 1))); // The limit is where this test stands.

        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var now = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
                Assert.Equal(Printer.Print(tallest.Tree), Printer.Print(Parser.Parse(Chain(operand, link, tallest.Links))));
                Binder.Check(tallest.Tree, XdmSchema.Type);
                EvaluationModeClassifier.Classify(tallest.Tree);
                ColumnarAudiences.Compile([tallest.Tree], TimeZoneInfo.Utc);
                // The evaluators may refuse a tree that does not type (a.b.b…), alike; what must not happen is the stack running out.
                Assert.Equal(Outcome(() => Interpreter.Evaluate(tallest.Tree, Profile, new FakeTimeProvider(now))),
                    Outcome(() => PqlCompiler.Compile(tallest.Tree).Evaluate(PqlProfile.FromJson(Profile), now).ToObject()));
                Outcome(() => TimeHorizon.NextChange(tallest.Tree, Profile, now));
                EventProjection.Of([tallest.Tree]);
                PqlJson.ToJson(tallest.Tree);
                PqlTree.FieldPaths(tallest.Tree);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, StackBytes);
        thread.Start();
        thread.Join();

        Assert.Null(failure);
    }

    private static object? Outcome(Func<object?> evaluate)
    {
        try
        {
            return evaluate();
        }
        catch (PqlException)
        {
            return typeof(PqlException);
        }
    }

    /// <summary>The chain with the most links that still parses (found by halving: the height a link adds differs by operator).</summary>
    private static (int Links, PqlNode Tree) Tallest(string operand, string link)
    {
        var (low, high) = (1, 4 * Parser.MaxHeight);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (TryParse(Chain(operand, link, middle)) is null)
            {
                high = middle - 1;
            }
            else
            {
                low = middle;
            }
        }
        return (low, TryParse(Chain(operand, link, low)) ?? throw new InvalidOperationException("a chain of one link does not parse"));
    }

    private static PqlNode? TryParse(string pql)
    {
        try
        {
            return Parser.Parse(pql);
        }
        catch (PqlException)
        {
            return null;
        }
    }

    private static string Chain(string operand, string link, int links) => operand switch
    {
        "not " => string.Concat(Enumerable.Repeat("not ", links)) + "vip",
        "(" => new string('(', links) + "vip" + new string(')', links),
        _ when link.StartsWith(' ') => string.Join(link, Enumerable.Repeat(operand, links + 1)),
        _ => operand + string.Concat(Enumerable.Repeat(link, links)),
    };
}

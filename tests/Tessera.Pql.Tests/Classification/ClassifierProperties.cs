using FsCheck.Xunit;
using Tessera.Pql.Classification;
using Tessera.Pql.Syntax;
using Tessera.Pql.Tests.Syntax;

namespace Tessera.Pql.Tests.Classification;

/// <summary>
/// On random trees of every node kind (the syntax properties' generator): the classifier never throws,
/// always says why, and keeps two sound monotonicity rules.
/// </summary>
public sealed class ClassifierProperties
{
    private static readonly Func<string, AudienceReference?> SomeAudiences = id => (id.Length % 3) switch
    {
        0 => null,
        1 => new AudienceReference(EvaluationMode.Batch, ProfileOnly: true),
        _ => new AudienceReference(EvaluationMode.Streaming, ProfileOnly: false),
    };

    private static PqlNode RandomTree(int seed) => SyntaxProperties.Node(new Random(seed), depth: 0, bound: []);

    [Property(Replay = "(20261129,21)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool Random_trees_classify_with_the_deciding_reason_first(int seed)
    {
        var tree = RandomTree(seed);
        foreach (var audiences in new[] { null, SomeAudiences })
        {
            var result = EvaluationModeClassifier.Classify(tree, audiences);
            if (result.Reasons.Count == 0 || !result.Reasons[0].EndsWith(": " + EvaluationModeClassifier.Name(result.Mode), StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{Printer.Print(tree)} => {result}");
            }
        }
        return true;
    }

    /// <summary>
    /// A profile attribute adds no event condition and no audience, so it can only help: it may lift the
    /// "only negated event conditions" rule, never push a query to a slower engine.
    /// </summary>
    [Property(Replay = "(20261129,25)", MaxTest = 1000, EndSize = 100_000_000)]
    public bool A_profile_attribute_conjunct_never_makes_a_query_slower(int seed)
    {
        var tree = RandomTree(seed);
        var alone = EvaluationModeClassifier.Classify(tree, SomeAudiences).Mode;
        var attribute = new FunctionCall(">", null, [new FieldLookup(null, "age"), new Literal(LiteralKind.Integer, 18L)]);
        return EvaluationModeClassifier.Classify(new FunctionCall("and", null, [tree, attribute]), SomeAudiences).Mode <= alone
            && EvaluationModeClassifier.Classify(new FunctionCall("and", null, [attribute, tree]), SomeAudiences).Mode <= alone;
    }

    /// <summary>An event condition with no time window is batch whatever else the query says (the May 2025 rule).</summary>
    [Property(Replay = "(20261129,23)", MaxTest = 500, EndSize = 100_000_000)]
    public bool An_unwindowed_event_conjunct_always_makes_batch(int seed)
    {
        var anyEvent = new Filter(new FieldLookup(null, "xEvent"), new FunctionCall("=", null, [new FieldLookup(null, "eventType"), new Literal(LiteralKind.String, "x")]));
        var tree = new FunctionCall("and", null, [RandomTree(seed), anyEvent]);
        return EvaluationModeClassifier.Classify(tree, SomeAudiences).Mode == EvaluationMode.Batch;
    }
}

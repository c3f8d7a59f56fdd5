namespace Tessera.Pql.Syntax;

/// <summary>Walks expression trees: a node's direct children, every node, and the field paths an expression reads.</summary>
public static class PqlTree
{
    public static IEnumerable<PqlNode> Children(PqlNode node)
    {
        IEnumerable<PqlNode?> children = node switch
        {
            ArrayLiteral array => array.Items,
            FieldLookup field => [field.Target],
            FunctionCall call => call.Arguments.Prepend(call.Receiver),
            Filter filter => [filter.Source, filter.Condition],
            Lambda lambda => [lambda.Body],
            Quantifier quantifier => quantifier.Clauses.SelectMany(clause => new[] { clause.Source, clause.Condition }),
            Aggregation aggregation => [aggregation.Value, aggregation.Source, aggregation.Condition],
            Let let => let.Bindings.Select(binding => binding.Value).Append(let.Body),
            Occurs occurs => [occurs.Subject, occurs.Amount, occurs.Anchor, occurs.Until],
            Chain chain => chain.Steps.SelectMany(step => new[] { step.What, step.Where, step.When, step.Count }).Prepend(chain.TimeField).Prepend(chain.Source),
            _ => [],
        };
        return children.OfType<PqlNode>();
    }

    /// <summary>The node and every node below it, parents first.</summary>
    public static IEnumerable<PqlNode> Nodes(PqlNode node) => Children(node).SelectMany(Nodes).Prepend(node);

    /// <summary>
    /// The dotted paths of every field lookup chain in the expression (<c>person.email</c>,
    /// <c>xEvent.commerce.order.price</c>), each as written from its base: the profile, an event, or a
    /// variable's item (an over-approximation of what is read, as governance wants).
    /// </summary>
    public static IReadOnlySet<string> FieldPaths(PqlNode expression)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        var inner = new HashSet<PqlNode>(ReferenceEqualityComparer.Instance);
        foreach (var node in Nodes(expression))
        {
            if (node is not FieldLookup lookup || inner.Contains(lookup))
            {
                continue;
            }
            var parts = new List<string>();
            PqlNode? current = lookup;
            while (current is FieldLookup step)
            {
                inner.Add(step);
                parts.Add(step.Field);
                current = step.Target;
            }
            parts.Reverse();
            paths.Add(string.Join('.', parts));
        }
        return paths;
    }
}

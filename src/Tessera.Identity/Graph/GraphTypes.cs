namespace Tessera.Identity.Graph;

/// <summary>An identity as the graph knows it: namespace code and normalized value.</summary>
public readonly record struct IdentityKey(string Namespace, string Value)
{
    public override string ToString() => $"{Namespace}:{Value}";

    /// <summary>Parses <c>Namespace:value</c> (the value may itself contain colons).</summary>
    public static bool TryParse(string text, out IdentityKey key)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            key = default;
            return false;
        }
        key = new IdentityKey(text[..colon].Trim(), text[(colon + 1)..].Trim());
        return key.Namespace.Length > 0 && key.Value.Length > 0;
    }
}

/// <summary>Whether a link holds its two identities together, and if not, which rule cut it.</summary>
public enum LinkState : byte
{
    Kept,
    /// <summary>It would have put two identities of a unique namespace in one graph.</summary>
    CutUniqueNamespace,
    /// <summary>It would have taken a graph over the size cap.</summary>
    CutSizeCap,
}

/// <summary>Where a link was seen last: the record or event that carried both identities.</summary>
public readonly record struct LinkOrigin(string Dataset, string Batch, string? Record, DateTimeOffset Time);

/// <summary>A link between two identities, with the newest occurrence that carried it.</summary>
public sealed record LinkInfo(IdentityKey From, IdentityKey To, LinkState State, LinkOrigin Origin, int Occurrences);

/// <summary>A cut link and the rule that cut it, with the identities on either side that clashed.</summary>
public sealed record CutLink(LinkInfo Link, string Rule, string Detail);

/// <summary>One graph: its identities (primary first, then by rank) and its primary identity.</summary>
public sealed record GraphSnapshot(IdentityKey Primary, IReadOnlyList<IdentityKey> Identities);

/// <summary>Why two identities are, or are not, in one graph.</summary>
/// <param name="Path">Joined: the kept links from A to B. Not joined but once linked: the path with the fewest cut links.</param>
/// <param name="Cuts">The cut links on <paramref name="Path"/> and what cut each.</param>
public sealed record Explanation(IdentityKey A, IdentityKey B, bool Joined, IReadOnlyList<LinkInfo> Path, IReadOnlyList<CutLink> Cuts, string Summary);

/// <summary>What changes between two derivations of the same links (a rules change, as a dry run).</summary>
public sealed record GraphDiff(int GraphsBefore, int GraphsAfter, int Merged, int Split, int PrimaryChanged, int LinksCutBefore, int LinksCutAfter);

/// <summary>What adding an occurrence did to the graphs, for whoever keeps views of them.</summary>
public enum GraphChange : byte
{
    /// <summary>No graph changed shape (new identities may have appeared as graphs of one).</summary>
    None,
    /// <summary>Two graphs became one.</summary>
    Merged,
    /// <summary>A region was derived again: graphs in it may have split, merged or changed primary.</summary>
    Rederived,
}

using System.Text;
using System.Text.Json;
using Tessera.Profiles.Fragments;

namespace Tessera.Profiles.Views;

/// <summary>
/// Merges fragments into a profile's attributes, path by path: each path's value depends only on the
/// fragments' states at that path, so a change to some paths is merged again for those paths alone.
/// A fragment that has no value at a path (never had one, or erased it) takes no part there: one
/// dataset erasing a field does not erase what another dataset knows.
/// </summary>
public static class AttributeMerger
{
    public static SortedDictionary<string, MergedValue> Merge(IEnumerable<Fragment> fragments, MergeRule rule)
    {
        var allowed = fragments.Where(f => rule.Allows(f.Dataset)).ToList();
        // Every live path once, in order: a list sorted once (most profiles are one fragment, whose paths are distinct).
        var paths = new List<string>();
        foreach (var fragment in allowed)
        {
            foreach (var (path, state) in fragment.Fields)
            {
                if (state.IsLive)
                {
                    paths.Add(path);
                }
            }
        }
        paths.Sort(string.CompareOrdinal);
        var merged = new SortedDictionary<string, MergedValue>(StringComparer.Ordinal);
        for (var i = 0; i < paths.Count; i++)
        {
            if ((i == 0 || !string.Equals(paths[i], paths[i - 1], StringComparison.Ordinal)) && Resolve(paths[i], allowed, rule) is { } value)
            {
                merged[paths[i]] = value;
            }
        }
        return merged;
    }

    /// <summary>The merged value at one path; null when no allowed fragment has one.</summary>
    public static MergedValue? Resolve(string path, IEnumerable<Fragment> fragments, MergeRule rule) =>
        Resolve(path, fragments as IReadOnlyList<Fragment> ?? [.. fragments], rule);

    private static MergedValue? Resolve(string path, IReadOnlyList<Fragment> fragments, MergeRule rule)
    {
        // The first candidate is held apart: a path most often has one (one fragment), and then no list is made.
        (Fragment Fragment, FieldState State)? first = null;
        List<(Fragment Fragment, FieldState State)>? candidates = null;
        var allUnion = true;
        for (var i = 0; i < fragments.Count; i++)
        {
            var fragment = fragments[i];
            if (rule.Allows(fragment.Dataset) && fragment.Fields.TryGetValue(path, out var state) && state.IsLive)
            {
                if (first is null)
                {
                    first = (fragment, state);
                }
                else
                {
                    (candidates ??= [first.Value]).Add((fragment, state));
                }
                allUnion &= state.Kind != FieldKind.Value && state.Kind == first.Value.State.Kind;
            }
        }
        if (first is not { } only)
        {
            return null;
        }
        if (allUnion)
        {
            candidates ??= [only];
            return only.State.Kind == FieldKind.UnionArray ? UnionArray(candidates, rule) : UnionMap(candidates, rule);
        }
        if (candidates is null)
        {
            var value = only.State.Kind == FieldKind.Value ? only.State.Value : Whole(only.State);
            return new MergedValue(value.Json!, value.Stamp, only.Fragment.Dataset, value.Batch, only.Fragment.Identity);
        }
        MergedValue? winner = null;
        foreach (var (fragment, state) in candidates)
        {
            var value = state.Kind == FieldKind.Value ? state.Value : Whole(state);
            if (winner is null || rule.Beats(fragment.Dataset, fragment.Identity, value.Stamp, winner))
            {
                winner = new MergedValue(value.Json!, value.Stamp, fragment.Dataset, value.Batch, fragment.Identity);
            }
        }
        return winner;
    }

    private static MergedValue UnionArray(List<(Fragment Fragment, FieldState State)> candidates, MergeRule rule)
    {
        var elements = new Dictionary<string, MergedValue>(StringComparer.Ordinal);
        foreach (var (fragment, state) in candidates)
        {
            foreach (var (json, value) in state.Elements!)
            {
                if (!elements.TryGetValue(json, out var current) || rule.Beats(fragment.Dataset, fragment.Identity, value.Stamp, current))
                {
                    elements[json] = new MergedValue(json, value.Stamp, fragment.Dataset, value.Batch, fragment.Identity);
                }
            }
        }
        // Elements in the order they were last written, so the array reads oldest to newest.
        var ordered = elements.Values.OrderBy(e => e.Stamp).ThenBy(e => e.Json, StringComparer.Ordinal).ToList();
        var newest = ordered[^1];
        return newest with { Json = "[" + string.Join(',', ordered.Select(e => e.Json)) + "]" };
    }

    private static MergedValue UnionMap(List<(Fragment Fragment, FieldState State)> candidates, MergeRule rule)
    {
        var entries = new SortedDictionary<string, MergedValue>(StringComparer.Ordinal);
        foreach (var (fragment, state) in candidates)
        {
            foreach (var (key, value) in state.Entries!)
            {
                if (value.Json is not null
                    && (!entries.TryGetValue(key, out var current) || rule.Beats(fragment.Dataset, fragment.Identity, value.Stamp, current)))
                {
                    entries[key] = new MergedValue(value.Json, value.Stamp, fragment.Dataset, value.Batch, fragment.Identity);
                }
            }
        }
        var newest = entries.Values.MaxBy(e => e.Stamp)!;
        return newest with { Json = MapJson(entries.Select(e => (e.Key, e.Value.Json))) };
    }

    /// <summary>A union field's value taken whole, when another dataset folds the same path whole.</summary>
    private static StampedValue Whole(FieldState state)
    {
        if (state.Kind == FieldKind.UnionArray)
        {
            var ordered = state.Elements!.Values.OrderBy(e => e.Stamp).ThenBy(e => e.Json, StringComparer.Ordinal).ToList();
            return new StampedValue(ordered[^1].Stamp, ordered[^1].Batch, "[" + string.Join(',', ordered.Select(e => e.Json)) + "]");
        }
        var live = state.Entries!.Where(e => e.Value.Json is not null).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var newest = live.MaxBy(e => e.Value.Stamp).Value;
        return new StampedValue(newest.Stamp, newest.Batch, MapJson(live.Select(e => (e.Key, e.Value.Json!))));
    }

    private static string MapJson(IEnumerable<(string Key, string Json)> entries)
    {
        var text = new StringBuilder("{");
        foreach (var (key, json) in entries)
        {
            if (text.Length > 1)
            {
                text.Append(',');
            }
            text.Append(JsonSerializer.Serialize(key)).Append(':').Append(json);
        }
        return text.Append('}').ToString();
    }
}

using Tessera.Abstractions;

namespace Tessera.Catalog;

/// <summary>
/// Only additive evolution is accepted: new optional fields, wider enums, looser bounds. Anything
/// that could make stored data invalid or change identities is refused, naming the field and why.
/// <c>merge</c> and <c>lastUpdated</c> may be added, changed or removed freely: they change how stored
/// versions merge into a profile, not which data is valid (so <see cref="CompareField"/> ignores them).
/// </summary>
public static class SchemaEvolution
{
    public static IReadOnlyList<string> BreakingChanges(SchemaDocument current, SchemaDocument proposed)
    {
        var problems = new List<string>();
        if (current.Class != proposed.Class)
        {
            problems.Add($"class changed from {current.Class} to {proposed.Class} (a schema's class is fixed)");
        }
        Compare("", SchemaCompiler.MergedFields(current), SchemaCompiler.MergedFields(proposed), problems);
        return problems;
    }

    private static void Compare(string parent, IReadOnlyDictionary<string, FieldDefinition> before, IReadOnlyDictionary<string, FieldDefinition> after, List<string> problems)
    {
        foreach (var (name, old) in before)
        {
            var path = parent.Length == 0 ? name : $"{parent}.{name}";
            if (!after.TryGetValue(name, out var now))
            {
                problems.Add($"field '{path}': removed (stored data and audiences may use it)");
                continue;
            }
            CompareField(path, old, now, problems);
        }
        foreach (var (name, now) in after)
        {
            if (!before.ContainsKey(name) && now.Required)
            {
                var path = parent.Length == 0 ? name : $"{parent}.{name}";
                problems.Add($"field '{path}': a new field cannot be required (records already stored do not have it)");
            }
            if (!before.ContainsKey(name) && now.Identity is { Primary: true })
            {
                var path = parent.Length == 0 ? name : $"{parent}.{name}";
                problems.Add($"field '{path}': a new field cannot be the primary identity (stored records are keyed by the current one)");
            }
        }
    }

    private static void CompareField(string path, FieldDefinition old, FieldDefinition now, List<string> problems)
    {
        if (old.Type != now.Type)
        {
            problems.Add($"field '{path}': type changed from {SchemaCompiler.TypeName(old.Type)} to {SchemaCompiler.TypeName(now.Type)}");
            return;
        }
        if (!old.Required && now.Required)
        {
            problems.Add($"field '{path}': became required (records already stored may lack it)");
        }
        if (now.Enum is not null)
        {
            if (old.Enum is null)
            {
                problems.Add($"field '{path}': an enum was added (stored values may be outside it)");
            }
            else
            {
                var removed = old.Enum.Except(now.Enum, StringComparer.Ordinal).ToList();
                if (removed.Count > 0)
                {
                    problems.Add($"field '{path}': enum values removed: {string.Join(", ", removed)}");
                }
            }
        }
        if (now.Pattern is not null && now.Pattern != old.Pattern)
        {
            problems.Add($"field '{path}': pattern {(old.Pattern is null ? "added" : "changed")} (stored values may not match it)");
        }
        if (now.Min is { } newMin && (old.Min is null || newMin > old.Min))
        {
            problems.Add($"field '{path}': minimum raised to {newMin}");
        }
        if (now.Max is { } newMax && (old.Max is null || newMax < old.Max))
        {
            problems.Add($"field '{path}': maximum lowered to {newMax}");
        }
        if (now.MaxLength is { } newLength && (old.MaxLength is null || newLength < old.MaxLength))
        {
            problems.Add($"field '{path}': maxLength lowered to {newLength}");
        }
        if (old.Open && !now.Open)
        {
            problems.Add($"field '{path}': no longer open (stored free-form content would not conform)");
        }
        if (old.Identity != now.Identity && (old.Identity is not null || now.Identity is { Primary: true }))
        {
            problems.Add($"field '{path}': identity descriptor changed (identities already linked would change meaning)");
        }
        switch (old.Type)
        {
            case FieldType.Object:
                Compare(path, old.Fields ?? new Dictionary<string, FieldDefinition>(), now.Fields ?? new Dictionary<string, FieldDefinition>(), problems);
                break;
            case FieldType.Array when old.Items is not null && now.Items is not null:
                CompareField(path + "[]", old.Items, now.Items, problems);
                break;
            case FieldType.Map when old.Values is not null && now.Values is not null:
                CompareField(path + "{}", old.Values, now.Values, problems);
                break;
        }
    }
}

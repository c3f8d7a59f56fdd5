using Tessera.Identity.Graph;

namespace Tessera.Profiles.Fragments;

/// <summary>A value as of a stamp, with the batch that wrote it; a null <see cref="Json"/> is an explicit erasure.</summary>
public readonly record struct StampedValue(Stamp Stamp, string Batch, string? Json);

/// <summary>
/// The folded state of one field of a fragment. A plain field is one stamped value (null: erased).
/// A union array keeps each distinct element with the newest stamp that wrote it; a union map keeps
/// each key's newest value; both forget what was written before their last explicit null.
/// </summary>
public sealed class FieldState
{
    private FieldState(FieldKind kind) => Kind = kind;

    public FieldKind Kind { get; }

    /// <summary>Plain fields: the newest value; union fields: the newest stamp of anything written (or cleared).</summary>
    public StampedValue Value { get; private set; }

    /// <summary>Union fields: the newest explicit null; what is older is gone.</summary>
    public Stamp Cleared { get; private set; }

    /// <summary>Union arrays: element JSON → its newest write.</summary>
    public Dictionary<string, StampedValue>? Elements { get; private set; }

    /// <summary>Union maps: key → its newest value (null JSON: the key was erased).</summary>
    public Dictionary<string, StampedValue>? Entries { get; private set; }

    /// <summary>Whether the field has a value a profile shows (not erased; a union with something left).</summary>
    public bool IsLive => Kind switch
    {
        FieldKind.UnionArray => Elements!.Count > 0,
        FieldKind.UnionMap => Entries!.Values.Any(static e => e.Json is not null),
        _ => Value.Json is not null,
    };

    public static FieldState Plain(StampedValue value) => new(FieldKind.Value) { Value = value };

    public static FieldState Union(FieldKind kind) => kind switch
    {
        FieldKind.UnionArray => new FieldState(kind) { Elements = new(StringComparer.Ordinal), Value = new StampedValue(default, "", null) },
        FieldKind.UnionMap => new FieldState(kind) { Entries = new(StringComparer.Ordinal), Value = new StampedValue(default, "", null) },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Folds a write into a plain field; true when the field changed.</summary>
    public bool SetPlain(StampedValue value)
    {
        if (value.Stamp <= Value.Stamp)
        {
            return false;
        }
        Value = value;
        return true;
    }

    /// <summary>Folds a union write (or an explicit null, which clears); true when the field changed.</summary>
    public bool FoldUnion(FieldWrite write, Stamp stamp, string batch)
    {
        if (stamp <= Cleared)
        {
            return false;
        }
        if (stamp > Value.Stamp)
        {
            Value = new StampedValue(stamp, batch, null);
        }
        if (write.IsNull)
        {
            return Clear(stamp);
        }
        var changed = false;
        if (Elements is not null && write.Elements is not null)
        {
            foreach (var element in write.Elements)
            {
                changed |= Newer(Elements, element, new StampedValue(stamp, batch, element));
            }
        }
        if (Entries is not null && write.Entries is not null)
        {
            foreach (var (key, json) in write.Entries)
            {
                changed |= Newer(Entries, key, new StampedValue(stamp, batch, json));
            }
        }
        return changed;
    }

    /// <summary>Forgets everything older than <paramref name="stamp"/> (an explicit null here or on an enclosing object).</summary>
    public bool Clear(Stamp stamp)
    {
        if (Kind == FieldKind.Value)
        {
            return SetPlain(new StampedValue(stamp, Value.Batch, null));
        }
        if (stamp <= Cleared)
        {
            return false;
        }
        Cleared = stamp;
        var values = (Elements ?? Entries)!;
        var before = values.Count;
        foreach (var (key, value) in values)
        {
            if (value.Stamp < stamp)
            {
                values.Remove(key);
            }
        }
        return values.Count != before;
    }

    private static bool Newer(Dictionary<string, StampedValue> values, string key, StampedValue value)
    {
        if (values.TryGetValue(key, out var existing) && existing.Stamp >= value.Stamp)
        {
            return false;
        }
        values[key] = value;
        return true; // Even the same JSON: its stamp and source are what a merge policy reads.
    }
}

/// <summary>
/// What one dataset holds about one primary identity: every record version of it folded field by
/// field. A newer record replaces only the fields it carries; a field it sets to null is erased
/// (an object set to null erases everything below it). The fold is order-free: versions may
/// arrive in any order (a late file, a replay) and give the same fragment.
/// </summary>
public sealed class Fragment(string dataset, IdentityKey identity)
{
    private readonly Dictionary<string, FieldState> _fields = new(StringComparer.Ordinal);

    public string Dataset { get; } = dataset;

    public IdentityKey Identity { get; } = identity;

    /// <summary>The newest version folded in.</summary>
    public Stamp Newest { get; private set; }

    /// <summary>
    /// The stamps of the versions folded in, sorted. A version can arrive twice (a read that saw a
    /// commit before its notification, or a load that replays what was committed while it ran):
    /// the second time it is neither counted nor folded (folding it again would change nothing).
    /// </summary>
    private readonly List<Stamp> _stamps = [];

    public int Versions => _stamps.Count;

    public IReadOnlyDictionary<string, FieldState> Fields => _fields;

    /// <summary>Folds a version in; adds to <paramref name="changed"/> the paths whose shown value may have changed.</summary>
    public void Apply(RecordVersion version, ICollection<string>? changed = null)
    {
        var at = _stamps.Count > 0 && version.Stamp > _stamps[^1] ? ~_stamps.Count : _stamps.BinarySearch(version.Stamp);
        if (at >= 0)
        {
            return;
        }
        _stamps.Insert(~at, version.Stamp);
        Newest = Stamp.Max(Newest, version.Stamp);
        foreach (var write in version.Writes)
        {
            if (ErasedByAncestor(write.Path, version.Stamp))
            {
                continue;
            }
            if (_fields.TryGetValue(write.Path, out var state) && state.Kind != FieldKind.Value && write.Kind == state.Kind)
            {
                if (state.FoldUnion(write, version.Stamp, version.Batch))
                {
                    changed?.Add(write.Path);
                }
            }
            else if (write.Kind is FieldKind.UnionArray or FieldKind.UnionMap && state is null)
            {
                state = FieldState.Union(write.Kind);
                _fields[write.Path] = state;
                if (state.FoldUnion(write, version.Stamp, version.Batch) || write.IsNull)
                {
                    changed?.Add(write.Path);
                }
            }
            else if (state is null)
            {
                _fields[write.Path] = FieldState.Plain(new StampedValue(version.Stamp, version.Batch, write.Value));
                changed?.Add(write.Path);
            }
            else if (state.Kind == FieldKind.Value)
            {
                if (state.SetPlain(new StampedValue(version.Stamp, version.Batch, write.IsNull ? null : write.Value ?? Render(write))))
                {
                    changed?.Add(write.Path);
                }
            }
            else if (write.IsNull)
            {
                if (state.Clear(version.Stamp))
                {
                    changed?.Add(write.Path);
                }
            }
            if (write.IsNull)
            {
                EraseBelow(write.Path, version.Stamp, changed);
            }
        }
    }

    private bool ErasedByAncestor(string path, Stamp stamp)
    {
        for (var dot = path.LastIndexOf('.'); dot > 0; dot = path.LastIndexOf('.', dot - 1))
        {
            if (_fields.TryGetValue(path[..dot], out var ancestor) && ancestor.Kind == FieldKind.Value
                && ancestor.Value.Json is null && ancestor.Value.Stamp > stamp)
            {
                return true;
            }
        }
        return false;
    }

    private void EraseBelow(string path, Stamp stamp, ICollection<string>? changed)
    {
        var prefix = path + ".";
        List<string>? gone = null;
        foreach (var (candidate, state) in _fields)
        {
            if (!candidate.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            if (state.Kind == FieldKind.Value)
            {
                if (state.Value.Stamp < stamp)
                {
                    (gone ??= []).Add(candidate);
                }
            }
            else if (state.Clear(stamp))
            {
                changed?.Add(candidate);
            }
        }
        foreach (var candidate in gone ?? [])
        {
            var wasLive = _fields[candidate].IsLive;
            _fields.Remove(candidate);
            if (wasLive)
            {
                changed?.Add(candidate);
            }
        }
    }

    /// <summary>A union write landing on a field another schema version folds whole: kept as its JSON.</summary>
    private static string Render(FieldWrite write) => write.Elements is not null
        ? $"[{string.Join(',', write.Elements)}]"
        : "{" + string.Join(',', write.Entries!.Where(e => e.Value is not null).Select(e => $"{System.Text.Json.JsonSerializer.Serialize(e.Key)}:{e.Value}")) + "}";
}

using System.Text.Json.Nodes;
using Tessera.Pql.Evaluation;
using Tessera.Profiles;

namespace Tessera.Segmentation.Engines;

/// <summary>
/// The streaming engine's dependency index for one compiled program: from event fields and their
/// values (<c>eventType = "x"</c>, <c>page = "p5"</c>) to the audiences an event with them may change,
/// so that an event is evaluated against those audiences only (docs/segmentation.md, "Streaming").
/// </summary>
internal sealed class DependencyIndex
{
    private readonly AudienceProgram _program;
    private readonly bool[] _streamed;
    private readonly EventReads[] _reads;
    private readonly List<int> _unguarded = [];
    private readonly List<(string[] Path, Dictionary<string, List<int>> ByValue)> _guarded = [];
    private readonly Dictionary<string, int> _position = new(StringComparer.Ordinal);

    public DependencyIndex(AudienceProgram program)
    {
        _program = program;
        var audiences = program.Audiences;
        _streamed = new bool[audiences.Count];
        _reads = new EventReads[audiences.Count];
        var paths = new Dictionary<string, Dictionary<string, List<int>>>(StringComparer.Ordinal);
        for (var i = 0; i < audiences.Count; i++)
        {
            _position[audiences[i].Audience.Id] = i;
            _streamed[i] = audiences[i].Audience.Mode is "streaming" or "edge";
            var reads = _reads[i] = EventReads.Of(audiences[i].Tree);
            if (!_streamed[i] || !reads.ReadsEvents)
            {
                continue;
            }
            if (reads.Guards is not { } guards)
            {
                _unguarded.Add(i);
                continue;
            }
            foreach (var guard in guards)
            {
                var path = string.Join('\0', guard.Path);
                if (!paths.TryGetValue(path, out var byValue))
                {
                    paths[path] = byValue = new Dictionary<string, List<int>>(StringComparer.Ordinal);
                    _guarded.Add((guard.Path, byValue));
                }
                foreach (var value in guard.Values)
                {
                    if (!byValue.TryGetValue(value, out var list))
                    {
                        byValue[value] = list = [];
                    }
                    if (!list.Contains(i))
                    {
                        list.Add(i);
                    }
                }
            }
        }
        Streamed = [.. audiences.Where((_, i) => _streamed[i])];
        Policies = [.. Streamed.Select(a => a.Audience.MergePolicy).Distinct()];
    }

    /// <summary>The streamed (streaming and edge) audiences, dependencies first.</summary>
    public IReadOnlyList<CompiledAudience> Streamed { get; }

    /// <summary>The merge policies the streamed audiences read with.</summary>
    public IReadOnlyList<string?> Policies { get; }

    /// <summary>
    /// Marks in <paramref name="relevant"/> (one flag per audience of the program) the streamed
    /// audiences of <paramref name="policy"/> to evaluate: all of them when <paramref name="full"/>;
    /// otherwise those <paramref name="added"/> events may change, and those reading their answers.
    /// Returns whether any is marked.
    /// </summary>
    public bool Select(bool[] relevant, string? policy, bool full, IReadOnlyList<PqlValue> added)
    {
        Array.Clear(relevant);
        var audiences = _program.Audiences;
        if (full)
        {
            for (var i = 0; i < relevant.Length; i++)
            {
                relevant[i] = _streamed[i];
            }
        }
        else if (added.Count > 0)
        {
            foreach (var i in _unguarded)
            {
                relevant[i] = true;
            }
            foreach (var (path, byValue) in _guarded)
            {
                foreach (var item in added)
                {
                    switch (Read(item, path))
                    {
                        case { Kind: PqlKind.String } text:
                            if (byValue.TryGetValue(text.String, out var list))
                            {
                                foreach (var i in list)
                                {
                                    relevant[i] = true;
                                }
                            }
                            break;
                        case { Kind: PqlKind.Null or PqlKind.Boolean or PqlKind.Integer or PqlKind.Double }:
                            break;
                        default:
                            // Something a field read does not simply compare (an array it projects over): every audience of the path.
                            foreach (var list2 in byValue.Values)
                            {
                                foreach (var i in list2)
                                {
                                    relevant[i] = true;
                                }
                            }
                            break;
                    }
                }
            }
            // An audience reading another's answer follows it (dependencies come first).
            for (var i = 0; i < relevant.Length; i++)
            {
                if (!relevant[i] && _streamed[i] && _reads[i].Segments is var segments && (segments is null ? AnySelected(relevant, i) : AnySelected(relevant, segments)))
                {
                    relevant[i] = true;
                }
            }
        }
        var any = false;
        for (var i = 0; i < relevant.Length; i++)
        {
            relevant[i] &= audiences[i].Audience.MergePolicy == policy;
            any |= relevant[i];
        }
        return any;
    }

    /// <summary>
    /// For each audience, the events of <paramref name="events"/> (in order) it can see, into
    /// <paramref name="seen"/> (one slot per audience of the program): null when it may see them
    /// all (it reads events without a guard); for one that reads no events, or only through guards,
    /// the events that may pass one of its guards. Its answer at every instant is the same on the
    /// profile with only those events (the others change nothing, one by one), so it is evaluated,
    /// and its next change computed, on that smaller profile: fewer events to read, fewer instants to try.
    /// </summary>
    public void Visible(List<PqlValue>?[] seen, IReadOnlyList<PqlValue> events)
    {
        for (var i = 0; i < seen.Length; i++)
        {
            if (!_streamed[i] || (_reads[i].ReadsEvents && _reads[i].Guards is null))
            {
                seen[i] = null;
            }
            else
            {
                (seen[i] ??= []).Clear();
            }
        }
        if (_guarded.Count == 0)
        {
            return;
        }
        // The engine's parts call this at once: scratch of their own.
        var marks = seen.Length <= 1024 ? stackalloc bool[seen.Length] : new bool[seen.Length];
        foreach (var item in events)
        {
            marks.Clear();
            foreach (var (path, byValue) in _guarded)
            {
                switch (Read(item, path))
                {
                    case { Kind: PqlKind.String } text:
                        if (byValue.TryGetValue(text.String, out var list))
                        {
                            foreach (var i in list)
                            {
                                marks[i] = true;
                            }
                        }
                        break;
                    case { Kind: PqlKind.Null or PqlKind.Boolean or PqlKind.Integer or PqlKind.Double }:
                        break;
                    default:
                        foreach (var all in byValue.Values)
                        {
                            foreach (var i in all)
                            {
                                marks[i] = true;
                            }
                        }
                        break;
                }
            }
            for (var i = 0; i < marks.Length; i++)
            {
                if (marks[i])
                {
                    seen[i]?.Add(item);
                }
            }
        }
    }

    private static bool AnySelected(bool[] relevant, int before)
    {
        for (var i = 0; i < before; i++)
        {
            if (relevant[i])
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether any of <paramref name="segments"/> is selected (asked for every audience of every profile: no closure, no boxed enumerator).</summary>
    private bool AnySelected(bool[] relevant, HashSet<string> segments)
    {
        foreach (var id in segments)
        {
            if (_position.TryGetValue(id, out var at) && relevant[at])
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether the audience at <paramref name="position"/> reads no other audience's answer.</summary>
    public bool ReadsNoSegments(int position) => _reads[position].Segments is { Count: 0 };

    /// <summary>Whether any marked audience reads other audiences' answers (then the profile's memberships are read).</summary>
    public bool ReadsSegments(bool[] relevant)
    {
        for (var i = 0; i < relevant.Length; i++)
        {
            if (relevant[i] && _reads[i].Segments is not { Count: 0 })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The value at a field path of an event: null through a missing field or a value that is not a record; the array itself when one is met.</summary>
    private static PqlValue Read(PqlValue item, string[] path)
    {
        foreach (var name in path)
        {
            if (item.Kind == PqlKind.Array)
            {
                return item;
            }
            if (item.Kind != PqlKind.Record)
            {
                return PqlValue.Null;
            }
            item = item.Record.Get(name);
        }
        return item;
    }
}

/// <summary>
/// A profile as the streaming engine last evaluated it (and committed the answers of): the program
/// version, identities and attributes it had, and its events converted, by reference. The next event
/// of the profile is converted alone and appended; the others are reused.
/// </summary>
internal sealed record EvaluatedProfile(long Version, IReadOnlyList<string> Identities, JsonObject Attributes, PqlValue AttributesValue,
    EvaluationEvent[] Refs, PqlValue[] Values, EventProjection? Projection);

/// <summary>
/// The recently evaluated profiles, bounded: past <paramref name="capacity"/> it starts again empty
/// (a profile not found is read and converted whole, and evaluated against every audience).
/// </summary>
internal sealed class EvaluatedProfiles(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Sandbox, string Policy, string Primary), EvaluatedProfile> _profiles = [];

    public EvaluatedProfile? Get((string, string, string) key)
    {
        lock (_gate)
        {
            return _profiles.GetValueOrDefault(key);
        }
    }

    public void Set((string, string, string) key, EvaluatedProfile profile)
    {
        lock (_gate)
        {
            if (_profiles.Count >= capacity && !_profiles.ContainsKey(key))
            {
                _profiles.Clear();
            }
            _profiles[key] = profile;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _profiles.Clear();
        }
    }
}

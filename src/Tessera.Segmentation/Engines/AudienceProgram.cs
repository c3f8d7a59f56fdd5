using Tessera.Pql.Evaluation;
using Tessera.Pql.Syntax;

namespace Tessera.Segmentation.Engines;

/// <summary>One audience ready to evaluate: its definition, parsed and compiled, and what it reads of the clock (for its next change).</summary>
internal sealed record CompiledAudience(Audience Audience, PqlNode Tree, CompiledExpression Compiled, TimeHorizon.ClockReading Clock);

/// <summary>
/// The published audiences of a sandbox compiled once per catalog version, in dependency order (an
/// audience after every audience it reads through <c>inSegment</c>), so that one pass over a profile
/// can answer <c>inSegment</c> from the answers it has just given.
/// </summary>
internal sealed class AudienceProgram
{
    private readonly Dictionary<string, int> _positions;

    private AudienceProgram(long version, IReadOnlyList<CompiledAudience> audiences, TimeZoneInfo zone)
    {
        Version = version;
        _zone = zone;
        Audiences = audiences;
        Events = EventProjection.Of(audiences.Select(a => a.Tree));
        _positions = new Dictionary<string, int>(audiences.Count, StringComparer.Ordinal);
        for (var i = 0; i < audiences.Count; i++)
        {
            _positions[audiences[i].Audience.Id] = i;
        }
    }

    public long Version { get; }

    /// <summary>
    /// The program's dependency index, made on first use and kept with it (read on every event without
    /// a lock; two first users may both make it, the same index).
    /// </summary>
    public DependencyIndex Dependencies => _dependencies ??= new DependencyIndex(this);

    private DependencyIndex? _dependencies;

    private readonly TimeZoneInfo _zone;

    /// <summary>The audiences with their event conditions taken out for columnar evaluation (a batch run's), made on first use.</summary>
    public ColumnarAudiences Columnar => _columnar ??= ColumnarAudiences.Compile([.. Audiences.Select(a => a.Tree)], _zone);

    private ColumnarAudiences? _columnar;

    /// <summary>
    /// The event fields the audiences can read: the engines convert and keep only those of each event (all of them
    /// when null). The same for every program compiled from the same audiences.
    /// </summary>
    public EventProjection? Events { get; }

    /// <summary>Dependencies first.</summary>
    public IReadOnlyList<CompiledAudience> Audiences { get; }

    /// <summary>The position in <see cref="Audiences"/> of the audience <paramref name="id"/>, when the program holds it.</summary>
    public bool TryGetPosition(string id, out int position) => _positions.TryGetValue(id, out position);

    /// <param name="published">Published audiences, dependencies first (as the catalog gives them).</param>
    public static AudienceProgram Compile(long version, IReadOnlyList<Audience> published, TimeZoneInfo zone) =>
        new(version, [.. published.Select(a =>
        {
            var tree = Parser.Parse(a.Pql);
            return new CompiledAudience(a, tree, PqlCompiler.Compile(tree, zone), TimeHorizon.ClockReading.Of(tree, zone));
        })], zone);

    /// <summary>
    /// Whether the profile (<paramref name="converted"/>) qualifies at <paramref name="now"/> for each audience
    /// <paramref name="include"/> selects (with its position in <see cref="Audiences"/>), in dependency order. <c>inSegment</c> of an audience
    /// evaluated earlier in this pass reads that answer; of any other, the profile's current
    /// membership (<paramref name="currentMembers"/>, read only if an audience asks: it is a store read).
    /// With <paramref name="columnar"/> (the profile's events in a buffer of <see cref="Columnar"/>), the columnar audiences
    /// read their event conditions from it, and <paramref name="converted"/> needs events only for the others.
    /// </summary>
    /// <param name="results">A list to give the answers in (cleared first), for a caller that evaluates many profiles in turn.</param>
    public List<(CompiledAudience Audience, int Position, bool Qualifies)> Evaluate(PqlProfile converted, DateTimeOffset now,
        Func<IReadOnlySet<string>> currentMembers, Func<Audience, bool> include, (ColumnarEvents Events, int Profile)? columnar = null,
        List<(CompiledAudience Audience, int Position, bool Qualifies)>? results = null)
    {
        results?.Clear();
        results ??= new List<(CompiledAudience, int, bool)>(Audiences.Count);
        // By position in the program: 0 not answered in this pass, 1 no, 2 yes (a batch run asks this of every profile).
        var answered = new byte[Audiences.Count];
        IReadOnlySet<string>? current = null;
        // One delegate for the pass (a local function converted at each call would allocate one per audience).
        Func<string, bool> inSegment = id => TryGetPosition(id, out var at) && answered[at] != 0 ? answered[at] == 2 : (current ??= currentMembers()).Contains(id);
        for (var i = 0; i < Audiences.Count; i++)
        {
            var audience = Audiences[i];
            if (!include(audience.Audience))
            {
                continue;
            }
            // A condition that is an array (a bare xEvent[...]) holds when it is not empty, as in a filter.
            var qualifies = ValueOperations.Holds(columnar is var (events, profile) && Columnar.IsColumnar(i)
                ? events.Evaluate(i, profile, converted, inSegment)
                : audience.Compiled.Evaluate(converted, now, inSegment));
            answered[i] = qualifies ? (byte)2 : (byte)1;
            results.Add((audience, i, qualifies));
        }
        return results;
    }
}

/// <summary>The compiled programs of an engine, one per sandbox, compiled again when the catalog changes.</summary>
internal sealed class AudiencePrograms(Audiences.AudienceCatalog audiences)
{
    // Read on every evaluation without a lock; two callers meeting a new version may both compile it (the same program).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AudienceProgram> _programs = new(StringComparer.Ordinal);

    public AudienceProgram For(string sandbox)
    {
        var (version, published) = audiences.Published(sandbox);
        if (!_programs.TryGetValue(sandbox, out var program) || program.Version != version)
        {
            program = AudienceProgram.Compile(version, published, TimeZoneInfo.Utc);
            _programs[sandbox] = program;
        }
        return program;
    }
}

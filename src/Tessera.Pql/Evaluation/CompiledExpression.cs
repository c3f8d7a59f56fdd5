namespace Tessera.Pql.Evaluation;

/// <summary>One node's compiled meaning: a closure over the evaluation's frame.</summary>
internal delegate PqlValue Code(Frame frame);

/// <summary>
/// The state of one evaluation: a slot per implicit level and bound variable (assigned when
/// compiling, so nothing is looked up by name), the clock, and the time windows that depend only on
/// the clock, kept while the clock reads the same (a batch run evaluates every profile at one instant).
/// </summary>
internal sealed class Frame(int slots, int windows, TimeWindow time)
{
    public readonly PqlValue[] Slots = new PqlValue[slots];
    public readonly TimeInterval?[] Windows = new TimeInterval?[windows];
    public readonly long[] WindowClock = Enumerable.Repeat(long.MinValue, windows).ToArray();
    public readonly TimeWindow Time = time;
    public DateTimeOffset Now;
    public PqlValue Profile;
    public Func<string, bool>? InSegment;

    /// <summary>The values <see cref="ExternalValue"/> nodes read, from <see cref="ExternalOffset"/> on (a caller's, valid during one evaluation).</summary>
    public PqlValue[]? External;
    public int ExternalOffset;
}

/// <summary>
/// A value given with each evaluation instead of computed from the profile: the columnar engine rewrites an
/// audience's event conditions (<c>count(xEvent[...])</c>, chains) into these and computes them for many profiles at once.
/// </summary>
internal sealed record ExternalValue(int Index) : Syntax.PqlNode
{
    public bool Equals(ExternalValue? other) => other is not null && Index == other.Index;

    public override int GetHashCode() => Index;
}

/// <summary>
/// An expression compiled to closures for one time zone: evaluate it per profile with
/// <see cref="Evaluate(PqlProfile, DateTimeOffset, Func{string, bool}?)"/> or <see cref="Matches"/>. Safe to share between threads.
/// </summary>
public sealed class CompiledExpression
{
    private readonly Code _root;
    private readonly int _slots;
    private readonly int _windows;
    private readonly TimeWindow _time;
    private Frame? _spare;

    internal CompiledExpression(Code root, int slots, int windows, TimeWindow time)
    {
        _root = root;
        _slots = slots;
        _windows = windows;
        _time = time;
    }

    public TimeZoneInfo Zone => _time.Zone;

    /// <summary>The expression's value for <paramref name="profile"/> at <paramref name="now"/>.</summary>
    /// <param name="inSegment">Membership of the profile in an audience, when the caller knows it better than the profile's <c>segmentMembership</c>.</param>
    public PqlValue Evaluate(PqlProfile profile, DateTimeOffset now, Func<string, bool>? inSegment = null) => Evaluate(profile, now, inSegment, null, 0);

    /// <summary>As <see cref="Evaluate(PqlProfile, DateTimeOffset, Func{string, bool}?)"/>, with the values of the expression's <see cref="ExternalValue"/>s from <paramref name="external"/>[<paramref name="offset"/>..].</summary>
    internal PqlValue Evaluate(PqlProfile profile, DateTimeOffset now, Func<string, bool>? inSegment, PqlValue[]? external, int offset)
    {
        if (!ReferenceEquals(profile.Zone, _time.Zone) && !profile.Zone.Equals(_time.Zone))
        {
            throw new ArgumentException($"the profile was read in zone {profile.Zone.Id}, the expression compiled for {_time.Zone.Id}", nameof(profile));
        }
        var frame = Interlocked.Exchange(ref _spare, null) ?? new Frame(_slots, _windows, _time);
        try
        {
            frame.Now = now.ToUniversalTime();
            frame.Profile = profile.Root;
            frame.InSegment = inSegment;
            frame.External = external;
            frame.ExternalOffset = offset;
            frame.Slots[0] = profile.Root;
            return _root(frame);
        }
        finally
        {
            frame.External = null;
            _spare = frame;
        }
    }

    /// <summary>Whether the expression holds (is <c>true</c>) for <paramref name="profile"/> at <paramref name="now"/>.</summary>
    public bool Matches(PqlProfile profile, DateTimeOffset now, Func<string, bool>? inSegment = null) => Evaluate(profile, now, inSegment).IsTrue;
}

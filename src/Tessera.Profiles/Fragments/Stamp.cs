namespace Tessera.Profiles.Fragments;

/// <summary>
/// When a value was written, as an order: the record's effective time (its last-updated field, else
/// its ingestion time), then the batch's position in ingestion order, then the row in the batch. The
/// greater stamp is the newer value; no two records share one.
/// </summary>
public readonly record struct Stamp(long Ticks, long Order, long Row) : IComparable<Stamp>
{
    public DateTimeOffset Time => new(Ticks, TimeSpan.Zero);

    public int CompareTo(Stamp other)
    {
        var byTime = Ticks.CompareTo(other.Ticks);
        if (byTime != 0)
        {
            return byTime;
        }
        var byOrder = Order.CompareTo(other.Order);
        return byOrder != 0 ? byOrder : Row.CompareTo(other.Row);
    }

    public static bool operator >(Stamp a, Stamp b) => a.CompareTo(b) > 0;

    public static bool operator <(Stamp a, Stamp b) => a.CompareTo(b) < 0;

    public static bool operator >=(Stamp a, Stamp b) => a.CompareTo(b) >= 0;

    public static bool operator <=(Stamp a, Stamp b) => a.CompareTo(b) <= 0;

    public static Stamp Max(Stamp a, Stamp b) => a >= b ? a : b;
}

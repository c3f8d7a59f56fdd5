namespace Tessera.Generator;

/// <summary>
/// A small SplitMix64 generator. Every customer, device and order draws from its own stream,
/// seeded by (seed, stream, index), so any part of the data can be produced on its own, in any
/// order, without keeping a list of all customers: customer 42's email is the same whether the
/// CRM file or a login event asks for it.
/// </summary>
internal struct Rng
{
    private ulong _state;

    private Rng(ulong state) => _state = state;

    public static Rng For(int seed, Stream stream, long index) =>
        new(Mix(Mix(((ulong)(uint)seed << 8) ^ (ulong)stream) + 0x9E3779B97F4A7C15UL * (ulong)index));

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>0 ≤ result &lt; <paramref name="bound"/>.</summary>
    public int Next(int bound) => (int)(((NextUInt64() >> 32) * (ulong)bound) >> 32);

    /// <summary><paramref name="min"/> ≤ result &lt; <paramref name="max"/>.</summary>
    public int Next(int min, int max) => min + Next(max - min);

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => NextDouble() < probability;

    public T Pick<T>(T[] items) => items[Next(items.Length)];

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The independent streams; adding one never changes what the others draw.</summary>
    public enum Stream : ulong
    {
        Customer = 1,
        Crm = 2,
        Loyalty = 3,
        Orders = 4,
        Online = 5,
        Device = 6,
        Late = 7,
        Visits = 8,
        Consent = 9,
    }
}

using Tessera.Identity.Graph;

namespace Tessera.Identity.Tests.Graph;

public sealed class GrowingSlotsTests
{
    [Fact]
    public void Slots_keep_their_values_and_their_place_as_chunks_are_added()
    {
        var slots = new GrowingSlots<long>();
        slots.EnsureCapacity(1);
        Assert.Equal(16, slots.Capacity); // a small table stays small
        const int count = 200_000; // three full chunks and part of a fourth
        for (var i = 0; i < count; i++)
        {
            slots.EnsureCapacity(i + 1);
            slots[i] = i * 7L;
            if (i == 70_000)
            {
                slots[5] += 1; // a slot written after chunks were added is the same slot
            }
        }
        ref var first = ref slots[1];
        slots.EnsureCapacity(count + 100_000);
        first = -1; // a reference taken before growth still points into the slots: nothing moved
        Assert.Equal(-1, slots[1]);
        Assert.Equal(36, slots[5]);
        for (var i = 6; i < count; i++)
        {
            Assert.Equal(i * 7L, slots[i]);
        }
        Assert.Equal(0, slots[count]); // new slots are zero
        Assert.Throws<ArgumentOutOfRangeException>(() => slots[slots.Capacity]);
        Assert.Throws<ArgumentOutOfRangeException>(() => slots[-1]);
        Assert.Equal(count, slots.Chunks(count).Sum(chunk => chunk.Length));
        Assert.Equal(Enumerable.Range(0, count).Select(i => i == 1 ? -1 : i == 5 ? 36 : i * 7L),
            slots.Chunks(count).SelectMany(chunk => chunk.ToArray()));
    }

    [Fact]
    public void Sized_up_front_it_holds_at_most_one_chunk_more_than_asked()
    {
        var slots = new GrowingSlots<int>();
        slots.EnsureCapacity(1_000_000);
        Assert.InRange(slots.Capacity, 1_000_000, 1_000_000 + 65_536);
        var small = new GrowingSlots<int>();
        small.EnsureCapacity(1_000);
        Assert.Equal(1_000, small.Capacity);
        Assert.Throws<ArgumentOutOfRangeException>(() => small[1_000]); // past the first chunk, short of a full one
    }
}

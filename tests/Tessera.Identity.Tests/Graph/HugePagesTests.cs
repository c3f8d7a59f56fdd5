using System.Runtime.CompilerServices;
using Tessera.Identity.Graph;

namespace Tessera.Identity.Tests.Graph;

public sealed class HugePagesTests
{
    /// <summary>A block large enough to be cleared on every core, and not a whole number of chunks, comes back all zeros.</summary>
    [Theory]
    [InlineData(100 << 20)]
    [InlineData((100 << 20) + 12_345)]
    [InlineData(4096)]
    public unsafe void Clear_zeroes_every_byte(int bytes)
    {
        var block = GC.AllocateUninitializedArray<byte>(bytes + 2, pinned: true);
        block.AsSpan().Fill(0xAB);
        HugePages.Clear(Unsafe.AsPointer(ref block[1]), (nuint)bytes);
        Assert.Equal(0xAB, block[0]); // nothing before the block
        Assert.Equal(0xAB, block[^1]); // nor after it
        Assert.Equal(-1, block.AsSpan(1, bytes).IndexOfAnyExcept((byte)0));
    }
}

using System.Text;
using FsCheck.Xunit;
using Tessera.Identity.Graph;

namespace Tessera.Identity.Tests.Graph;

public sealed class TextArenaTests
{
    [Property(Replay = "(31337,543675)", MaxTest = 200)]
    public bool Every_text_comes_back_as_written(string[]? texts)
    {
        var arena = new TextArena();
        var written = (texts ?? []).Select(t => t ?? "").ToList();
        var handles = written.Select(arena.Append).ToList();
        return handles.Select(arena.GetString).SequenceEqual(written)
            && arena.Bytes >= written.Sum(t => Encoding.UTF8.GetByteCount(t));
    }

    [Fact]
    public void Texts_fill_chunks_and_one_longer_than_a_chunk_gets_its_own()
    {
        var arena = new TextArena();
        var small = Enumerable.Range(0, 400_000).Select(i => $"record-{i}-zoë").ToList();
        var handles = small.Select(arena.Append).ToList(); // more than one 4 MiB chunk
        var huge = new string('h', 5 << 20);
        var hugeHandle = arena.Append(Encoding.UTF8.GetBytes(huge));
        var after = arena.Append("after");
        Assert.True(handles[^1] >> 32 > 0, "the small texts span several chunks");
        Assert.Equal(small, handles.Select(arena.GetString));
        Assert.Equal(huge, arena.GetString(hugeHandle));
        Assert.Equal("after", arena.GetString(after));
        Assert.Equal("", arena.GetString(arena.Append("")));
    }
}

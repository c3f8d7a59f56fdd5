#:property AllowUnsafeBlocks=true

// What zeroing 1 GiB of new native memory costs here, on one core and in 4 MiB chunks on every core (as HugePages.Clear
// does for the identity graph's large tables), three rounds each, the memory freed after each: the first round of each run
// is memory new to the process, later ones mostly memory it had (BENCHMARKS.md, "New tables zeroed on every core").
// Swap the order of the two ways to see each on new memory.
//   dotnet run -c Release bench/scripts/parallel-clear.cs
using System.Diagnostics;
using System.Runtime.InteropServices;

const nuint Bytes = 1u << 30;
const int Chunk = 4 << 20;
for (var round = 0; round < 3; round++)
{
    foreach (var parallel in new[] { false, true })
    {
        Console.WriteLine($"{(parallel ? "parallel" : "serial  ")} {Clear(parallel):F0} ms / GiB");
    }
}

static unsafe double Clear(bool parallel)
{
    var block = NativeMemory.AlignedAlloc(Bytes, 2 << 20);
    _ = Madvise((nint)block, Bytes, 14); // MADV_HUGEPAGE, as the graph's tables
    var clock = Stopwatch.StartNew();
    if (parallel)
    {
        var address = (nint)block;
        Parallel.For(0L, (long)(Bytes / Chunk), chunk => NativeMemory.Clear((void*)(address + (nint)(chunk * Chunk)), Chunk));
    }
    else
    {
        NativeMemory.Clear(block, Bytes);
    }
    var elapsed = clock.Elapsed.TotalMilliseconds;
    NativeMemory.AlignedFree(block);
    return elapsed;
}

[DllImport("libc", EntryPoint = "madvise")]
static extern int Madvise(nint address, nuint length, int advice);

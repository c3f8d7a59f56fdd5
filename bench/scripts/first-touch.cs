#:property PublishAot=false
#:property AllowUnsafeBlocks=true

// What memory costs the first time it is touched, on this machine: 400 MiB written a byte per 4 KiB page, three ways in
// turn, three rounds: a managed array taken fresh (the GC keeps what it freed, so only its first round is fresh), native
// memory in 4 KiB pages, and native memory advised to Linux as huge pages (MADV_HUGEPAGE; both native ways freed after each
// round, so every round is fresh). Page faults that cost far more than the work on the page are why a derivation takes its
// large buffer in huge pages (BENCHMARKS.md, "A page first touched").
//   dotnet run -c Release bench/scripts/first-touch.cs
using System.Diagnostics;
using System.Runtime.InteropServices;

const int Page = 4096;
const nuint Bytes = 400u << 20;
for (var round = 1; round <= 3; round++)
{
    var clock = Stopwatch.StartNew();
    var array = GC.AllocateUninitializedArray<byte>((int)Bytes);
    for (var i = 0; i < array.Length; i += Page)
    {
        array[i] = 1;
    }
    var first = clock.Elapsed.TotalMilliseconds;
    clock.Restart();
    for (var i = 0; i < array.Length; i += Page)
    {
        array[i] = 2;
    }
    var again = clock.Elapsed.TotalMilliseconds;
    array = null;
    GC.Collect();
    Console.WriteLine($"round {round}: managed array {first,7:F1} ms ({first * 1000 / (Bytes / Page),5:F2} µs a page; touched again {again:F1} ms), " +
        $"native 4 KiB pages {Native(huge: false),7:F1} ms, native huge pages {Native(huge: true),7:F1} ms");
}

static unsafe double Native(bool huge)
{
    var clock = Stopwatch.StartNew();
    var memory = (byte*)NativeMemory.AlignedAlloc(Bytes, 2 << 20);
    if (huge && OperatingSystem.IsLinux())
    {
        _ = Libc.madvise((nint)memory, Bytes, 14); // MADV_HUGEPAGE
    }
    for (nuint i = 0; i < Bytes; i += Page)
    {
        memory[i] = 1;
    }
    var took = clock.Elapsed.TotalMilliseconds;
    NativeMemory.AlignedFree(memory);
    return took;
}

static partial class Libc
{
    [LibraryImport("libc")]
    public static partial int madvise(nint address, nuint length, int advice);
}

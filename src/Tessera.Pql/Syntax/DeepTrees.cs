using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Tessera.Pql.Syntax;

/// <summary>
/// Lets a recursive walk of an expression tree go as deep as the parser allows (<see cref="Parser.MaxHeight"/>) on any
/// thread: a walker asks <see cref="StackIsLow"/> at each node and, when it is, continues that node on a fresh thread
/// with a large stack, waiting for it. A thread's stack is 8 MB on this Linux (`ulimit -s`) but 1 to 1.5 MB on other
/// platforms .NET runs on (Windows, musl-based containers): 1.5 MB held about 300 levels of the checker in a debug build,
/// and a stack overflow ends the process, so a server checking an audience would die of one.
/// </summary>
internal static class DeepTrees
{
    /// <summary>Each continuation gets this much: hundreds of levels of any walker.</summary>
    private const int FreshStackBytes = 16 * 1024 * 1024;

    /// <summary>Whether the current thread's stack is too nearly spent for another level (a few nanoseconds to ask).</summary>
    public static bool StackIsLow => !RuntimeHelpers.TryEnsureSufficientExecutionStack();

    /// <summary>Runs <paramref name="walk"/> on a new thread with a large stack and gives its result, or rethrows what it threw as it was thrown.</summary>
    public static T OnFreshStack<T>(Func<T> walk)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = walk();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, FreshStackBytes)
        { IsBackground = true, Name = "tessera pql deep tree" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>As <see cref="OnFreshStack{T}(Func{T})"/>, for a walk that gives nothing.</summary>
    public static void OnFreshStack(Action walk) => OnFreshStack(() =>
    {
        walk();
        return true;
    });
}

namespace Tessera.Pql;

/// <summary>The stack of implicit parameters every pass over a tree keeps (binder, interpreter, compiler).</summary>
internal static class Scopes
{
    /// <summary>Runs <paramref name="body"/> with <paramref name="item"/> on top of <paramref name="stack"/>, and takes it off after.</summary>
    public static T Within<TItem, T>(this List<TItem> stack, TItem item, Func<T> body)
    {
        stack.Add(item);
        try
        {
            return body();
        }
        finally
        {
            stack.RemoveAt(stack.Count - 1);
        }
    }
}

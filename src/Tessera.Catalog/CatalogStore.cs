using System.Text;
using System.Text.Json.Serialization.Metadata;
using Tessera.Storage;

namespace Tessera.Catalog;

/// <summary>
/// Typed access to the catalog space. Keys are <c>kind \0 sandbox \0 name</c>, so a sandbox's
/// objects of one kind are one prefix scan and sandboxes never see each other's.
/// </summary>
public sealed class CatalogStore(IStore store)
{
    public IStore Store => store;

    public static byte[] Key(string kind, string sandbox, string name) =>
        Encoding.UTF8.GetBytes($"{kind}\0{sandbox}\0{name}");

    public T? Get<T>(string kind, string sandbox, string name, JsonTypeInfo<T> type) where T : class
    {
        var bytes = store.Get(StoreSpace.Catalog, 0, Key(kind, sandbox, name));
        return bytes is null ? null : System.Text.Json.JsonSerializer.Deserialize(bytes, type);
    }

    public List<T> List<T>(string kind, string sandbox, JsonTypeInfo<T> type)
    {
        var prefix = Encoding.UTF8.GetBytes($"{kind}\0{sandbox}\0");
        var result = new List<T>();
        foreach (var (_, value) in store.Scan(StoreSpace.Catalog, 0, prefix))
        {
            result.Add(System.Text.Json.JsonSerializer.Deserialize(value, type)!);
        }
        return result;
    }

    public static void Put<T>(WriteSet writes, string kind, string sandbox, string name, T value, JsonTypeInfo<T> type) =>
        writes.Put(StoreSpace.Catalog, 0, Key(kind, sandbox, name), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, type));

    public async Task PutAsync<T>(string kind, string sandbox, string name, T value, JsonTypeInfo<T> type)
    {
        using var writes = new WriteSet(1024);
        Put(writes, kind, sandbox, name, value, type);
        await store.CommitAsync(writes).ConfigureAwait(false);
    }
}

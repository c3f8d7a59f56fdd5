using System.Text;
using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Server.Tests;

/// <summary>Reads stored facts straight from the store, to check what the API acknowledged.</summary>
public static class StoredFacts
{
    /// <summary>Facts of <paramref name="dataset"/> in <paramref name="sandbox"/> across every shard.</summary>
    public static int Count(Workspace workspace, string sandbox, string dataset)
    {
        var count = 0;
        foreach (var tag in new[] { FactKeys.EventTag, FactKeys.RecordTag })
        {
            for (var shard = 0; shard < workspace.Store.ShardCount; shard++)
            {
                foreach (var (key, _) in workspace.Store.Scan(StoreSpace.Facts, shard, [tag, 0]))
                {
                    var parts = Encoding.UTF8.GetString(key).Split('\0');
                    // tag, sandbox, namespace, value, dataset[, _id]
                    if (parts[1] == sandbox && parts[4] == dataset)
                    {
                        count++;
                    }
                }
            }
        }
        return count;
    }

    /// <summary>The stored event, or null.</summary>
    public static JsonElement? Event(Workspace workspace, string sandbox, string dataset, IdentityValue primary, string id) =>
        Get(workspace, FactKeys.EventTag, sandbox, dataset, primary, id);

    /// <summary>The stored profile record, or null.</summary>
    public static JsonElement? Record(Workspace workspace, string sandbox, string dataset, IdentityValue primary) =>
        Get(workspace, FactKeys.RecordTag, sandbox, dataset, primary, null);

    private static JsonElement? Get(Workspace workspace, byte tag, string sandbox, string dataset, IdentityValue primary, string? id)
    {
        var buffer = new byte[FactKeys.MaxKeyBytes(sandbox, primary, dataset, id)];
        var length = FactKeys.FactKey(buffer, tag, sandbox, primary, dataset, id, out _, out _);
        var value = workspace.Store.Get(StoreSpace.Facts, FactKeys.ShardOf(sandbox, primary, workspace.Store.ShardCount), buffer.AsSpan(0, length));
        if (value is null)
        {
            return null;
        }
        using var document = JsonDocument.Parse(value);
        return document.RootElement.Clone();
    }
}

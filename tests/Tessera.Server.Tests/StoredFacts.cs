using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Ingestion;
using Tessera.Storage;

namespace Tessera.Server.Tests;

/// <summary>Reads stored facts straight from the store, to check what the API acknowledged.</summary>
public static class StoredFacts
{
    /// <summary>Facts (events and record versions) of <paramref name="dataset"/> in <paramref name="sandbox"/> across every shard.</summary>
    public static int Count(Workspace workspace, string sandbox, string dataset)
    {
        var count = 0;
        foreach (var tag in new[] { FactKeys.EventTag, FactKeys.RecordTag })
        {
            for (var shard = 0; shard < workspace.Store.ShardCount; shard++)
            {
                foreach (var (key, _) in workspace.Store.Scan(StoreSpace.Facts, shard, FactKeys.SandboxPrefix(tag, sandbox)))
                {
                    if (FactKeys.TryParse(key, out var parsed) && parsed.Dataset == dataset)
                    {
                        count++;
                    }
                }
            }
        }
        return count;
    }

    /// <summary>The stored event, or null.</summary>
    public static JsonElement? Event(Workspace workspace, string sandbox, string dataset, IdentityValue primary, string id)
    {
        var value = workspace.Store.Get(StoreSpace.Facts, FactKeys.ShardOf(sandbox, primary, workspace.Store.ShardCount), FactKeys.EventKey(sandbox, primary, dataset, id));
        if (value is null)
        {
            return null;
        }
        using var document = JsonDocument.Parse(value);
        return document.RootElement.Clone();
    }

    /// <summary>The newest stored version (by time, order, row) of the profile record, or null.</summary>
    public static JsonElement? Record(Workspace workspace, string sandbox, string dataset, IdentityValue primary)
    {
        var shard = FactKeys.ShardOf(sandbox, primary, workspace.Store.ShardCount);
        JsonElement? newest = null;
        foreach (var (_, value) in workspace.Store.Scan(StoreSpace.Facts, shard, FactKeys.IdentityDatasetPrefix(FactKeys.RecordTag, sandbox, primary, dataset)))
        {
            using var document = JsonDocument.Parse(value);
            var version = document.RootElement.Clone();
            if (newest is null || Rank(version).CompareTo(Rank(newest.Value)) > 0)
            {
                newest = version;
            }
        }
        return newest;
    }

    private static (DateTimeOffset Time, long Order, long Row) Rank(JsonElement version) =>
        (version.GetProperty("time").GetDateTimeOffset(), version.GetProperty("order").GetInt64(), version.GetProperty("row").GetInt64());
}

using FsCheck.Xunit;

namespace Tessera.Storage.Tests;

/// <summary>One store shared by the property runs; every run writes under its own key prefix.</summary>
public sealed class SharedStore : IDisposable
{
    private int _run;

    public TempStore Temp { get; } = new(shards: 4);

    public string NextPrefix() => $"run{Interlocked.Increment(ref _run):D5}/";

    public void Dispose() => Temp.Dispose();
}

/// <summary>Model-based: random sequences of puts and deletes, committed in random groupings, leave the store equal to a dictionary.</summary>
public sealed class StoreModelProperties(SharedStore shared) : IClassFixture<SharedStore>
{
    [Property(Replay = "(424242,987653)", MaxTest = 60)]
    public bool Committed_sets_leave_the_store_equal_to_a_dictionary_model(int[] operations)
    {
        var store = shared.Temp.Store;
        var prefix = shared.NextPrefix();
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var pending = new List<Task>();
        var sets = new List<WriteSet>();
        var current = new WriteSet(64);
        for (var i = 0; i < operations.Length; i++)
        {
            var op = operations[i];
            var shard = (op >>> 1) & 3;
            var key = $"{prefix}{shard}/{(op >>> 3) & 15:D2}";
            if ((op & 1) == 0)
            {
                var value = $"{i}:{op}";
                current.Put(StoreSpace.Facts, shard, Bytes.Of(key), Bytes.Of(value));
                model[key] = value;
            }
            else
            {
                current.Delete(StoreSpace.Facts, shard, Bytes.Of(key));
                model.Remove(key);
            }
            if (((op >>> 7) & 3) == 0)
            {
                // Several sets in flight at once: the store applies them in the order they were queued.
                pending.Add(store.CommitAsync(current));
                sets.Add(current);
                current = new WriteSet(64);
            }
        }
        pending.Add(store.CommitAsync(current));
        sets.Add(current);
        Task.WhenAll(pending).GetAwaiter().GetResult();
        sets.ForEach(s => s.Dispose());

        var stored = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var shard = 0; shard < store.ShardCount; shard++)
        {
            foreach (var (key, value) in store.Scan(StoreSpace.Facts, shard, Bytes.Of($"{prefix}{shard}/")))
            {
                stored[Bytes.Text(key)] = Bytes.Text(value);
            }
        }
        return stored.SequenceEqual(model);
    }
}

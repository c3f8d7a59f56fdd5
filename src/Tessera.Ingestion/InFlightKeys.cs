namespace Tessera.Ingestion;

/// <summary>
/// Event keys that streaming requests have checked as new and are committing. Two concurrent
/// requests carrying the same event (a client's retry racing its original) both find it absent
/// from the store; the reservation makes exactly one of them store it, and the other waits for
/// that commit before it answers "duplicate" — so a duplicate is only acknowledged once the event
/// is durable.
/// </summary>
public sealed class InFlightKeys
{
    // Striped by the fingerprint's low bits, each stripe a plain dictionary under its own lock: every
    // event of every request reserves a key, and a ConcurrentDictionary's few locks (one per core, all
    // of them taken to grow) made four callers on two cores spin against each other.
    private const int StripeCount = 64;
    private readonly Stripe[] _stripes = [.. Enumerable.Range(0, StripeCount).Select(_ => new Stripe())];

    private Stripe StripeOf(UInt128 fingerprint) => _stripes[(int)((ulong)fingerprint & (StripeCount - 1))];

    private Task GetOrAdd(UInt128 fingerprint, Task reservation)
    {
        var stripe = StripeOf(fingerprint);
        lock (stripe.Gate)
        {
            return stripe.Keys.TryAdd(fingerprint, reservation) ? reservation : stripe.Keys[fingerprint];
        }
    }

    private void Remove(UInt128 fingerprint, Task reservation)
    {
        var stripe = StripeOf(fingerprint);
        lock (stripe.Gate)
        {
            if (stripe.Keys.TryGetValue(fingerprint, out var holder) && holder == reservation)
            {
                stripe.Keys.Remove(fingerprint);
            }
        }
    }

    private sealed class Stripe
    {
        public readonly Lock Gate = new();
        public readonly Dictionary<UInt128, Task> Keys = [];
    }

    public Scope Begin() => new(this);

    /// <summary>One request's reservations.</summary>
    public sealed class Scope : IDisposable
    {
        private readonly InFlightKeys _owner;
        private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<UInt128> _held = [];
        private readonly List<Task> _others = [];

        internal Scope(InFlightKeys owner) => _owner = owner;

        /// <summary>True when this request now owns the key; false when another request is committing it.</summary>
        public bool TryReserve(UInt128 fingerprint)
        {
            var holder = _owner.GetOrAdd(fingerprint, _committed.Task);
            if (holder == _committed.Task)
            {
                _held.Add(fingerprint);
                return true;
            }
            _others.Add(holder);
            return false;
        }

        /// <summary>Marks this request's commit done (or failed) and releases its keys.</summary>
        public void Complete(Exception? error)
        {
            if (error is null)
            {
                _committed.TrySetResult();
            }
            else
            {
                _committed.TrySetException(error);
            }
            foreach (var fingerprint in _held)
            {
                _owner.Remove(fingerprint, _committed.Task);
            }
            _held.Clear();
        }

        /// <summary>Completes when every request this one deferred to has committed; throws if one failed.</summary>
        public Task OthersCommittedAsync() => Task.WhenAll(_others);

        public void Dispose()
        {
            if (!_committed.Task.IsCompleted)
            {
                Complete(new OperationCanceledException("the request ended before its commit"));
            }
        }
    }
}

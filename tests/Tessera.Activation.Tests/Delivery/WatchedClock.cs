using Microsoft.Extensions.Time.Testing;

namespace Tessera.Activation.Tests.Delivery;

/// <summary>
/// A fake clock that says when something starts waiting on it (a timer created with a given due time), so that a
/// test advances it only once the wait it means to end has begun, never before (which would leave that wait pending).
/// </summary>
public sealed class WatchedClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Dictionary<TimeSpan, int> _created = [];
    private readonly List<(TimeSpan Due, int Count, TaskCompletionSource Done)> _waiters = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_waiters)
        {
            _created[dueTime] = Created(dueTime) + 1;
            foreach (var waiter in _waiters.Where(w => w.Due == dueTime && w.Count <= _created[dueTime]).ToList())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
        return timer;
    }

    /// <summary>Timers created so far with <paramref name="dueTime"/>.</summary>
    public int Created(TimeSpan dueTime)
    {
        lock (_waiters)
        {
            return _created.GetValueOrDefault(dueTime);
        }
    }

    /// <summary>Completes once <paramref name="count"/> timers (1: one) have been created with <paramref name="dueTime"/>.</summary>
    public Task WaitForTimerAsync(TimeSpan dueTime, int count = 1)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (Created(dueTime) >= count)
            {
                return Task.CompletedTask;
            }
            _waiters.Add((dueTime, count, done));
        }
        return done.Task;
    }
}

using System.Collections.Concurrent;

namespace PythOn.Server.Execution;

/// <summary>The run places of a single server: a lock-free count per user in memory.</summary>
public sealed class LocalRunPlaces : IRunPlaces
{
    private static readonly object Place = new();
    private readonly ConcurrentDictionary<string, int> _running = new();

    public object? TryTake(string userId, int cap, out int held)
    {
        while (true)
        {
            held = _running.GetValueOrDefault(userId);
            if (held >= cap) return null;
            if (held == 0 ? _running.TryAdd(userId, 1) : _running.TryUpdate(userId, held + 1, held))
                return Place;
        }
    }

    public void Release(string userId, object place)
    {
        while (true)
        {
            var now = _running.GetValueOrDefault(userId);
            if (now <= 1 ? _running.TryRemove(new KeyValuePair<string, int>(userId, now)) : _running.TryUpdate(userId, now - 1, now))
                return;
        }
    }

    public int Held(string userId) => _running.GetValueOrDefault(userId);
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;

namespace PythOn.Server.Execution;

/// <summary>
/// Caps the runs one user has in progress at once (PythOn:Limits:MaxConcurrentRunsPerUser), so no user can hold every
/// sandbox slot and starve the others. A run beyond the cap is refused at once with RESOURCE_EXHAUSTED (429) and a
/// Retry-After, rather than queued: a queue would still let one user's backlog delay everyone's.
/// </summary>
public sealed class UserRunGate(IOptions<PythOnOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _running = new();

    /// <summary>Takes one of the user's run places; dispose the lease when the run has ended.</summary>
    public IDisposable Enter(string userId)
    {
        var cap = Math.Max(1, options.Value.Limits.MaxConcurrentRunsPerUser);
        while (true)
        {
            var now = _running.GetValueOrDefault(userId);
            if (now >= cap)
            {
                Telemetry.ServerTelemetry.RateLimited("runs_per_user");
                throw Problems.TooMany($"you already have {now} runs in progress (the limit is {cap} at once); wait for one to finish.",
                    TimeSpan.FromSeconds(1));
            }
            if (now == 0 ? _running.TryAdd(userId, 1) : _running.TryUpdate(userId, now + 1, now))
                return new Lease(this, userId);
        }
    }

    /// <summary>Runs in progress for the user (for tests and status).</summary>
    public int Running(string userId) => _running.GetValueOrDefault(userId);

    private void Leave(string userId)
    {
        while (true)
        {
            var now = _running.GetValueOrDefault(userId);
            if (now <= 1 ? _running.TryRemove(new KeyValuePair<string, int>(userId, now)) : _running.TryUpdate(userId, now - 1, now))
                return;
        }
    }

    private sealed class Lease(UserRunGate gate, string userId) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                gate.Leave(userId);
        }
    }
}

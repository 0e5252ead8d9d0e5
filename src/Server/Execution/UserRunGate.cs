using Microsoft.Extensions.Options;
using PythOn.Server.Errors;
using PythOn.Server.Hosting;

namespace PythOn.Server.Execution;

/// <summary>
/// Caps the runs one user has in progress at once (PythOn:Limits:MaxConcurrentRunsPerUser), so no user can hold every
/// sandbox slot and starve the others. A run beyond the cap is refused at once with RESOURCE_EXHAUSTED (429) and a
/// Retry-After, rather than queued: a queue would still let one user's backlog delay everyone's. The places are counted
/// by <see cref="IRunPlaces"/>: in memory, or in PostgreSQL when several replicas share the cap.
/// </summary>
public sealed class UserRunGate(IRunPlaces places, IOptions<PythOnOptions> options)
{
    /// <summary>Takes one of the user's run places; dispose the lease when the run has ended.</summary>
    public IDisposable Enter(string userId)
    {
        var cap = Math.Max(1, options.Value.Limits.MaxConcurrentRunsPerUser);
        var place = places.TryTake(userId, cap, out var held);
        if (place is null)
        {
            Telemetry.ServerTelemetry.RateLimited("runs_per_user");
            throw Problems.TooMany($"you already have {held} runs in progress (the limit is {cap} at once); wait for one to finish.",
                TimeSpan.FromSeconds(1));
        }
        return new Lease(places, userId, place);
    }

    private sealed class Lease(IRunPlaces places, string userId, object place) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                places.Release(userId, place);
        }
    }
}

using PythOn.Server.Agents;
using PythOn.Server.Storage;

namespace PythOn.Server.SystemInfo;

/// <summary>Is this server ready for traffic: not stopping, storage writable, at least one agent with capacity.</summary>
public sealed record ReadinessReport(bool Stopping, bool StorageWritable, bool AgentAvailable)
{
    public bool Ready => !Stopping && StorageWritable && AgentAvailable;
}

/// <summary>
/// Computes readiness for GET /health/ready and grpc.health.v1. Probes are anonymous, so one answer is shared for a
/// second: a flood of probes costs one storage write and one status call per agent per second, not one per probe.
/// </summary>
public sealed class Readiness(IStorageHealth storage, AgentFleet agents, AgentMonitor monitor, IHostApplicationLifetime lifetime, ILogger<Readiness> log)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTime At, bool Storage, bool Agents)? _last;

    public bool Stopping => lifetime.ApplicationStopping.IsCancellationRequested;

    public async Task<ReadinessReport> CheckAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_last is not { } last || DateTime.UtcNow - last.At > CacheFor)
            {
                var storage = StorageWritable();
                var views = await Task.WhenAll(agents.Members.Select(m => monitor.ProbeAsync(m, cancellationToken)));
                _last = last = (DateTime.UtcNow, storage, views.Any(v => AgentProbe.From(v).HasCapacity));
            }
            return new ReadinessReport(Stopping, last.Storage, last.Agents);
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool StorageWritable()
    {
        try
        {
            storage.ProbeWrite();
            return true;
        }
        catch (Exception e)
        {
            log.LogWarning("Readiness: storage is not writable: {Error}", e.Message);
            return false;
        }
    }
}

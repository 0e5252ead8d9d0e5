using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PythOn.Server.SystemInfo;

// The parts of readiness as health checks, so grpc.health.v1 can map each public service to what it needs.

public sealed class LifecycleHealthCheck(Readiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.Stopping ? HealthCheckResult.Unhealthy("shutting down") : HealthCheckResult.Healthy());
}

public sealed class StorageHealthCheck(Readiness readiness) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        (await readiness.CheckAsync(cancellationToken)).StorageWritable ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("storage is not writable");
}

public sealed class AgentsHealthCheck(Readiness readiness) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        (await readiness.CheckAsync(cancellationToken)).AgentAvailable ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("no sandbox agent can take runs");
}

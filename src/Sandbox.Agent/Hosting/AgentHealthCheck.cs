using Microsoft.Extensions.Diagnostics.HealthChecks;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.Agent.Slots;

namespace PythOn.Sandbox.Agent.Hosting;

/// <summary>grpc.health.v1 (unauthenticated, for probes): SERVING while the agent can take runs — not draining,
/// Docker answers, and no configured language is without a live slot because its slots fail to start.
/// The reason stays in the agent's log; the probe answer is only the status.</summary>
public sealed class AgentHealthCheck(ShutdownDrain drain, DockerHost docker, SlotPool pool) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (drain.Draining)
            return HealthCheckResult.Unhealthy("shutting down");
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(2));
            await docker.PingAsync(deadline.Token);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("Docker does not answer");
        }
        var failing = LanguageRuntime.All.Where(l => pool.TargetFor(l) > 0 && pool.StartFailure(l) is not null).ToList();
        return failing.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"no slot starts for {string.Join(", ", failing.Select(l => l.Name))}");
    }
}

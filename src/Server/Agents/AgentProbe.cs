using Grpc.Core;
using PythOn.Api.V1;
using PythOn.Sandbox.V1;

namespace PythOn.Server.Agents;

/// <summary>What one agent answered to GetStatus, and whether it can take runs now.</summary>
/// <param name="HasCapacity">Reachable, Docker and the runtime image fine, slots configured, not shutting down.</param>
public sealed record AgentProbeResult(AgentHealth Health, bool HasCapacity);

/// <summary>Asks an agent for its status with a short deadline; used by Health's details and by readiness.</summary>
public static class AgentProbe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public static async Task<AgentProbeResult> ProbeAsync(string address, SandboxAgent.SandboxAgentClient client, CancellationToken cancellationToken)
    {
        if (AgentConnections.LocalProblem(address) is { } problem)
            return new(Unreachable(address, problem), false);
        try
        {
            var status = await client.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.Add(Timeout), cancellationToken: cancellationToken);
            var health = new AgentHealth
            {
                Address = address,
                Reachable = true,
                Docker = new ComponentHealth { Ok = status.DockerOk, Message = status.DockerMessage },
                ActiveRuns = status.ActiveRuns,
                SandboxesRemoving = status.SandboxesRemoving,
            };
            health.PoolReady.Add(status.PoolReady);
            health.PoolStarting.Add(status.PoolStarting);
            var capacity = status.DockerOk && status.ImageOk && !status.Draining && status.PoolTarget.Values.Sum() > 0;
            return new(health, capacity);
        }
        catch (RpcException e)
        {
            return new(Unreachable(address, $"not reachable at {address}: {e.Status.Detail}"), false);
        }
    }

    private static AgentHealth Unreachable(string address, string message) => new()
    {
        Address = address,
        Reachable = false,
        Docker = new ComponentHealth { Ok = false, Message = "unknown: agent not reachable" },
        Message = message,
    };
}

using PythOn.Api.V1;

namespace PythOn.Server.Agents;

/// <summary>What one agent answered to its last probe, and whether it can take runs now.</summary>
/// <param name="HasCapacity">Reachable, in rotation, Docker and the runtime image fine, slots configured, not shutting down.</param>
public sealed record AgentProbeResult(AgentHealth Health, bool HasCapacity);

/// <summary>An agent's state (<see cref="AgentMonitor"/>) as Health's details and readiness show it.</summary>
public static class AgentProbe
{
    public static AgentProbeResult From(AgentView view)
    {
        if (!view.Answered || view.Status is not { } status)
            return new(new AgentHealth
            {
                Address = view.Address,
                Reachable = false,
                Docker = new ComponentHealth { Ok = false, Message = "unknown: agent not reachable" },
                Message = view.LastError ?? view.OutReason ?? $"no answer yet from {view.Address}",
                InRotation = view.InRotation,
                CallsInFlight = view.OursTotal,
            }, false);
        var health = new AgentHealth
        {
            Address = view.Address,
            Reachable = true,
            Docker = new ComponentHealth { Ok = status.DockerOk, Message = status.DockerMessage },
            ActiveRuns = status.ActiveRuns,
            SandboxesRemoving = status.SandboxesRemoving,
            // Why an agent that answers is out of rotation (shutting down, its slots do not start); empty while it is in.
            Message = view.OutReason ?? "",
            InRotation = view.InRotation,
            AgentId = status.AgentId,
            CallsInFlight = view.OursTotal,
        };
        health.PoolReady.Add(status.PoolReady);
        health.PoolStarting.Add(status.PoolStarting);
        var capacity = view.InRotation && status.DockerOk && status.ImageOk && !status.Draining && status.PoolTarget.Values.Sum() > 0;
        return new(health, capacity);
    }
}

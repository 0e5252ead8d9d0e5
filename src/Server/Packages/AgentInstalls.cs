using Grpc.Core;
using PythOn.Sandbox.V1;
using PythOn.Server.Agents;
using PythOn.Server.Errors;

namespace PythOn.Server.Packages;

/// <summary>How asking an agent for a package set ended.</summary>
public abstract record InstallOutcome
{
    /// <summary>Installed: <see cref="StoreId"/> goes into RunRequest.package_stores on that agent.</summary>
    public sealed record Ready(string StoreId, IReadOnlyList<string> Resolved, bool Cached) : InstallOutcome;

    /// <summary>The installer refused or failed; <see cref="Message"/> is its own error text.</summary>
    public sealed record Failed(string Message) : InstallOutcome;

    /// <summary>Still installing when the wait ended (the agent keeps going; asking again later finds it done).</summary>
    public sealed record StillInstalling : InstallOutcome;
}

/// <summary>
/// Calls an agent's InstallPackages. The agent caches by the requested set, so asking again for a set it has is a
/// cheap lookup: the run path asks the agent it runs on every time (a store lives on one agent's disk), so with
/// several agents a set is installed on each agent the first time a run of it lands there.
/// </summary>
public sealed class AgentInstalls(AgentFleet agents, ILogger<AgentInstalls> logger)
{
    /// <summary>Installs on one agent, waiting at most <paramref name="wait"/>. Throws RpcException(Unavailable) when the
    /// agent cannot be reached, so the caller can try another one.</summary>
    public async Task<InstallOutcome> InstallAsync(SandboxAgent.SandboxAgentClient client, string language,
        IReadOnlyList<string> requirements, TimeSpan wait, CancellationToken cancellationToken)
    {
        var request = new InstallRequest { Language = language };
        request.Requirements.AddRange(requirements);
        try
        {
            using var call = client.InstallPackages(request, deadline: DateTime.UtcNow + wait, cancellationToken: cancellationToken);
            await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                if (e.EventCase != InstallEvent.EventOneofCase.Result) continue;
                var r = e.Result;
                Counted(language, !r.Ok ? "failed" : r.Cached ? "cached" : "ready");
                return r.Ok ? new InstallOutcome.Ready(r.StoreId, r.Resolved.ToList(), r.Cached) : new InstallOutcome.Failed(r.Message);
            }
            throw Problems.Unavailable("the agent ended the install without a result");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
        {
            Counted(language, "still_installing");
            return new InstallOutcome.StillInstalling();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            Counted(language, "failed");
            return new InstallOutcome.Failed(e.Status.Detail);
        }
    }

    private static void Counted(string language, string outcome) =>
        Telemetry.ServerTelemetry.PackageInstalls.Add(1, new("pyth_on.language", language), new("pyth_on.install.outcome", outcome));

    /// <summary>Installs on the first agent in rotation that answers (those with fewer of our calls first); null when
    /// none is reachable.</summary>
    public async Task<InstallOutcome?> InstallOnAnyAsync(string language, IReadOnlyList<string> requirements, TimeSpan wait,
        CancellationToken cancellationToken)
    {
        var skipped = new List<string>();
        foreach (var agent in agents.ForInstall(skipped))
        {
            using var inFlight = agent.Begin("install");
            try
            {
                return await InstallAsync(agent.Client, language, requirements, wait, cancellationToken);
            }
            catch (RpcException e) when (e.AgentUnreachable() && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Sandbox agent {Address} could not install packages: {Detail}", agent.Address, e.Status.Detail);
            }
        }
        foreach (var problem in skipped) logger.LogDebug("Skipped an agent: {Problem}", problem);
        return null;
    }
}

using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.V1;
using PythOn.Server.Hosting;

namespace PythOn.Server.Agents;

/// <summary>
/// Watches every agent of the fleet: every PythOn:Fleet:StatusIntervalMs it asks each for grpc.health.v1 (is it
/// SERVING: Docker answers, its slots start, not shutting down) and GetStatus (its idle slots per language, for
/// least-loaded routing). An agent that does not answer PythOn:Fleet:FailuresToEject probes in a row, or answers
/// NOT_SERVING, is out of rotation; its next answered probe puts it back.
/// </summary>
public sealed class AgentMonitor(AgentFleet fleet, IOptions<PythOnOptions> options, ILogger<AgentMonitor> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value.Fleet;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(o.StatusIntervalMs));
        do
        {
            await Task.WhenAll(fleet.Members.Select(m => ProbeAsync(m, stoppingToken)));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One probe of one agent; also what Health's details use, so a health call sees the agent as it is now.</summary>
    public async Task<AgentView> ProbeAsync(AgentMember member, CancellationToken cancellationToken)
    {
        var o = options.Value.Fleet;
        var wasIn = member.View().InRotation;
        if (member.Endpoint.LocalProblem is { } problem)
        {
            member.Unreachable(problem);
        }
        else
        {
            try
            {
                var oursBefore = member.OursNow();
                var deadline = DateTime.UtcNow.AddMilliseconds(o.StatusTimeoutMs);
                var health = member.Health.CheckAsync(new HealthCheckRequest(), deadline: deadline, cancellationToken: cancellationToken).ResponseAsync;
                var status = member.Client.GetStatusAsync(new GetStatusRequest(), deadline: deadline, cancellationToken: cancellationToken).ResponseAsync;
                await Task.WhenAll(health, status);
                var ours = member.OursNow();
                foreach (var (kind, count) in oursBefore) ours[kind] = Math.Max(count, ours.GetValueOrDefault(kind));
                member.Answered(status.Result, NotServingReason(health.Result, status.Result), ours);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                member.Unanswered($"not answering at {member.Address}: {e.Status.StatusCode} {e.Status.Detail}", o.FailuresToEject);
            }
            catch (ObjectDisposedException) when (!cancellationToken.IsCancellationRequested)
            {
                // DNS dropped the agent while it was probed: its channel is closed, and it is no longer in the fleet.
            }
        }
        var view = member.View();
        if (wasIn && !view.InRotation) log.LogWarning("Agent {Address} is out of rotation: {Reason}", member.Address, view.OutReason);
        if (!wasIn && view.InRotation) log.LogInformation("Agent {Address} is back in rotation", member.Address);
        return view;
    }

    private static string? NotServingReason(HealthCheckResponse health, AgentStatus status)
    {
        if (health.Status == HealthCheckResponse.Types.ServingStatus.Serving && !status.Draining) return null;
        if (status.Draining) return "shutting down";
        if (!status.DockerOk) return $"Docker does not answer there: {status.DockerMessage}";
        if (!status.ImageOk) return $"its runtime image {status.Image} is missing";
        return "it reports NOT_SERVING: its slots do not start";
    }
}

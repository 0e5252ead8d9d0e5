using System.Reflection;
using Grpc.Core;
using Microsoft.Extensions.Options;
using PythOn.Api.Languages;
using PythOn.Api.V1;
using PythOn.Sandbox.V1;
using PythOn.Server.Agents;
using PythOn.Server.Hosting;
using PythOn.Server.Storage;

namespace PythOn.Server.SystemInfo;

/// <summary>Health and Info; both are anonymous by their proto option (<c>anonymous: true</c>).</summary>
public sealed class SystemService(IStorageHealth storage, AgentFleet agents, AgentMonitor monitor, ModelSettings model, IOptions<PythOnOptions> options)
    : PythOn.Api.V1.System.SystemBase
{
    public static readonly string Version =
        typeof(SystemService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public override async Task<HealthResponse> Health(HealthRequest request, ServerCallContext context)
    {
        var full = await FullHealthAsync(context);
        // Anonymous callers learn whether the service works, nothing about how it is built (agent addresses,
        // Docker versions, error texts): those need an account's credentials or the operator key.
        return MaySeeDetails(context) ? full : new HealthResponse { Status = full.Status };
    }

    private bool MaySeeDetails(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        return http.User.Identity?.IsAuthenticated == true || Auth.OperatorKey.IsPresented(http.Request, options.Value.OperatorKey);
    }

    private async Task<HealthResponse> FullHealthAsync(ServerCallContext context)
    {
        var response = new HealthResponse { Version = Version, Storage = StorageHealth() };
        // Probed now, not the monitor's last answer: details show each agent as it is at this moment (and update the fleet).
        var views = await Task.WhenAll(agents.Members.Select(m => monitor.ProbeAsync(m, context.CancellationToken)));
        response.Agents.AddRange(views.Select(v => AgentProbe.From(v).Health));

        var reachable = response.Agents.Where(a => a.Reachable).ToList();
        response.Docker = reachable.Count == 0
            ? new ComponentHealth { Ok = false, Message = "unknown: no sandbox agent is reachable" }
            : reachable.All(a => a.Docker.Ok)
                ? new ComponentHealth { Ok = true, Message = "ok" }
                : new ComponentHealth { Ok = false, Message = string.Join("; ", reachable.Where(a => !a.Docker.Ok).Select(a => $"{a.Address}: {a.Docker.Message}")) };
        foreach (var agent in reachable)
            foreach (var (language, ready) in agent.PoolReady)
                response.Pool[language] = response.Pool.GetValueOrDefault(language) + ready;

        response.Model = new ComponentHealth { Ok = model.IsConfigured, Message = model.Status };
        response.Status = response.Storage.Ok && response.Docker.Ok ? "ok" : "degraded";
        return response;
    }

    public override Task<InfoResponse> Info(InfoRequest request, ServerCallContext context)
    {
        var limits = options.Value.Limits;
        var rates = options.Value.RateLimits;
        var response = new InfoResponse
        {
            Version = Version,
            ModelConfigured = model.IsConfigured,
            Limits = new Api.V1.Limits
            {
                MaxCodeBytes = limits.MaxCodeBytes,
                MaxStdinBytes = limits.MaxStdinBytes,
                DefaultTimeoutSeconds = limits.DefaultTimeoutSeconds,
                MaxTimeoutSeconds = limits.MaxTimeoutSeconds,
                MaxOutputBytes = limits.MaxOutputBytes,
                MemoryMb = limits.MemoryMb,
                MaxSecretBytes = limits.MaxSecretBytes,
                MaxSecrets = limits.MaxSecretsPerUser,
                MaxPackages = limits.MaxPackagesPerLanguage,
                RequestsPerMinute = rates.UserPerMinute,
                AuthAttemptsPerMinute = rates.AuthPerMinute,
            },
        };
        foreach (var language in LanguageRegistry.All)
            response.Languages.Add(new LanguageInfo
            {
                Name = language.Name,
                Extensions = { language.Extensions },
                Aliases = { language.Aliases },
                PackageManager = language.PackageManager,
            });
        return Task.FromResult(response);
    }

    private ComponentHealth StorageHealth()
    {
        try
        {
            return storage.Ping() ? new ComponentHealth { Ok = true, Message = "ok" } : new ComponentHealth { Ok = false, Message = "storage did not answer" };
        }
        catch (Exception e)
        {
            return new ComponentHealth { Ok = false, Message = $"storage error: {e.Message}" };
        }
    }
}

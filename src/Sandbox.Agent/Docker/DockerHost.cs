using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;

namespace PythOn.Sandbox.Agent.Docker;

/// <summary>The agent's Docker engine: the API client, the labels that mark our containers, orphan cleanup.</summary>
public sealed class DockerHost : IDisposable
{
    public const string AgentLabel = "pyth-on.agent";
    public const string SessionLabel = "pyth-on.agent-session";
    public const string RoleLabel = "pyth-on.role";
    public const string LanguageLabel = "pyth-on.language";
    public const string RoleSandbox = "sandbox";
    public const string RoleInstaller = "installer";

    private readonly DockerClientConfiguration _config;
    private readonly ILogger<DockerHost> _log;

    public DockerHost(IOptions<AgentOptions> options, ILogger<DockerHost> log)
    {
        _log = log;
        InstanceId = options.Value.InstanceId;
        _config = new DockerClientConfiguration(new Uri(options.Value.DockerEndpoint), defaultTimeout: TimeSpan.FromSeconds(60));
        Client = _config.CreateClient();
    }

    public DockerClient Client { get; }

    /// <summary>Stable id shared by every process of this agent (label pyth-on.agent).</summary>
    public string InstanceId { get; }

    /// <summary>Unique per process, so orphan cleanup never touches containers this process created.</summary>
    public string SessionId { get; } = Guid.NewGuid().ToString("N");

    public IDictionary<string, string> LabelsFor(string language) => new Dictionary<string, string>
    {
        [AgentLabel] = InstanceId,
        [SessionLabel] = SessionId,
        [RoleLabel] = RoleSandbox,
        [LanguageLabel] = language,
    };

    /// <summary>Removes sandboxes and install containers of this agent id; with <paramref name="onlyOtherSessions"/> only those left by
    /// earlier processes (a crash or kill -9 leaves them running).</summary>
    public async Task<int> RemoveContainersAsync(bool onlyOtherSessions, CancellationToken ct)
    {
        var found = await Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{AgentLabel}={InstanceId}"] = true,
                },
            },
        }, ct);
        var victims = found.Where(c => !onlyOtherSessions
            || !c.Labels.TryGetValue(SessionLabel, out var s) || s != SessionId).ToList();
        await Parallel.ForEachAsync(victims, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (c, token) =>
            {
                try
                {
                    await Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }, token);
                }
                catch (DockerContainerNotFoundException)
                {
                }
                catch (DockerApiException e)
                {
                    _log.LogWarning("Could not remove container {Id}: {Error}", Short(c.ID), e.Message);
                }
            });
        return victims.Count;
    }

    private string? _version;

    /// <summary>Engine version, or throws when the engine does not answer. Liveness is asked with <c>/_ping</c> and the
    /// version read only once per answering engine: dockerd's <c>/version</c> execs <c>runc --version</c> and
    /// <c>docker-init --version</c> on every call, and the server probes each agent's health and status every second
    /// (~2 % of a 2-core machine's CPU while it idled, measured with <c>perf record -a</c>).</summary>
    public async Task<string> PingAsync(CancellationToken ct)
    {
        try
        {
            await Client.System.PingAsync(ct);
            if (_version is { } known) return known;
            var v = await Client.System.GetVersionAsync(ct);
            return _version = $"Docker {v.Version} (API {v.APIVersion})";
        }
        catch
        {
            _version = null; // the engine may come back as another version
            throw;
        }
    }

    public async Task<bool> ImageExistsAsync(string image, CancellationToken ct)
    {
        try
        {
            await Client.Images.InspectImageAsync(image, ct);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public static string Short(string id) => id.Length > 12 ? id[..12] : id;

    public void Dispose()
    {
        Client.Dispose();
        _config.Dispose();
    }
}

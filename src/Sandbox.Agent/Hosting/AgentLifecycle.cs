using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Packages;
using PythOn.Sandbox.Agent.Slots;

namespace PythOn.Sandbox.Agent.Hosting;

/// <summary>Start: prepares the agent's files on the Docker host and checks Docker and the image (clear log
/// lines, no crash: GetStatus reports it). Stop: removes every sandbox of this process.</summary>
public sealed class AgentLifecycle(
    IOptions<AgentOptions> options,
    DockerHost docker,
    SlotSpec spec,
    SlotFactory factory,
    PackageStore packages,
    StoreCollector collector,
    ILogger<AgentLifecycle> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        // Empty, read-only resolver config for sandboxes (mounted over /etc/resolv.conf).
        Directory.CreateDirectory(options.Value.StateDir);
        var resolv = spec.EmptyResolvConfPath;
        if (!File.Exists(resolv) || new FileInfo(resolv).Length != 0)
        {
            File.WriteAllBytes(resolv + ".tmp", []);
            File.Move(resolv + ".tmp", resolv, overwrite: true);
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(resolv, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        SupervisorSocket.PrepareDirectory(options.Value.StateDir);

        // The package store root is mounted into every slot: it must exist before the pool creates one.
        packages.Initialize();
        collector.Collect(keep: null); // the total may have been lowered since the last start

        try
        {
            var version = await docker.PingAsync(ct);
            var image = await docker.ImageExistsAsync(options.Value.Image, ct);
            log.LogInformation("Agent {Agent} on {Version}; image {Image} {State}", docker.InstanceId, version,
                options.Value.Image, image ? "present" : "MISSING (build it with scripts/build-runtime-image.sh)");
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogError("Docker engine at {Endpoint} does not answer: {Error} (scripts/ensure-docker.sh starts one)",
                options.Value.DockerEndpoint, e.Message);
        }
    }

    public async Task StopAsync(CancellationToken ct)
    {
        await factory.DestroyAllAsync();
        try
        {
            await docker.RemoveContainersAsync(onlyOtherSessions: false, ct);
        }
        catch (Exception e)
        {
            log.LogWarning("Final sandbox sweep failed: {Error}", e.Message);
        }
        log.LogInformation("Agent {Agent} stopped; its sandboxes are removed", docker.InstanceId);
    }
}

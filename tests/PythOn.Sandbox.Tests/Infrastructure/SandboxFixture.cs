using Docker.DotNet;
using Docker.DotNet.Models;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Infrastructure;

/// <summary>
/// One agent for the whole test collection. Docker and the runtime image are prerequisites: the fixture
/// runs scripts/ensure-docker.sh and scripts/build-runtime-image.sh and fails every test loudly when either
/// fails (these tests never skip).
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public const int PythonPool = 2;
    public const int JavaScriptPool = 1;

    public string Image { get; private set; } = "";
    public string InstallerImage { get; private set; } = "";

    /// <summary>The agent's package store root (Agent:Packages:StoreRoot).</summary>
    public string StoreRoot => Path.Combine(Dir, "stores");

    /// <summary>Local PEP 503 index the agent's pip installs from (no PyPI here).</summary>
    public PythOn.Tests.Packages.PackageIndex Index { get; } = new PythOn.Tests.Packages.PackageIndex()
        .AddWheel("pyth-on-demo", "1.0")
        .AddWheel("pyth-on-other", "2.5")
        .AddWheel("pyth-on-victim", "2.0")
        .AddLyingWheel("pyth-on-liar", "1.0", claimedName: "pyth-on-victim", claimedVersion: "2.0", victimModule: "pyth_on_victim")
        .AddSdist("pyth-on-sdistonly", "1.0")
        .AddPaddedWheel("pyth-on-big", "1.0", files: 1, bytesEach: 3 << 20)
        .AddPaddedWheel("pyth-on-many", "1.0", files: 60, bytesEach: 10)
        .AddPaddedWheel("pyth-on-gc-a", "1.0", files: 1, bytesEach: 800 << 10)
        .AddPaddedWheel("pyth-on-gc-b", "1.0", files: 1, bytesEach: 800 << 10)
        .AddPaddedWheel("pyth-on-gc-c", "1.0", files: 1, bytesEach: 800 << 10);
    public string InstanceId { get; } = "test-" + Guid.NewGuid().ToString("N")[..12];
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pyth-on-sandbox-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public AgentProcess Agent { get; private set; } = null!;
    public DockerClient Docker { get; } = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
    public SandboxAgent.SandboxAgentClient Client => Agent.Client;

    public async Task InitializeAsync()
    {
        Image = await RuntimeImage.TagAsync();
        Assert.StartsWith("pyth-on-runtime:", Image);
        InstallerImage = await RuntimeImage.InstallerTagAsync();
        Assert.StartsWith("pyth-on-installer:", InstallerImage);
        Index.AddLinkElsewhere("pyth-on-loopback-trap", "1.0", $"http://127.0.0.1:{Trap.Port}/pyth_on_loopback_trap-1.0-py3-none-any.whl")
            .AddLinkElsewhere("pyth-on-named-trap", "1.0", $"http://localhost:{Trap.Port}/pyth_on_named_trap-1.0-py3-none-any.whl")
            .AddLinkElsewhere("pyth-on-metadata-trap", "1.0", "http://169.254.169.254/latest/pyth_on_metadata_trap-1.0-py3-none-any.whl");
        await Index.StartAsync();
        Agent = await AgentProcess.StartAsync(Path.Combine(Dir, "agent"), InstanceId, Image, PythonPool, JavaScriptPool,
            new Dictionary<string, string>
            {
                ["Agent__Pool__HealthCheckIntervalMs"] = "500",
                ["Agent__Packages__StoreRoot"] = StoreRoot,
                ["Agent__Packages__InstallerImage"] = InstallerImage,
                ["Agent__Packages__PipIndexUrl"] = Index.SimpleUrl,
                // The default: no network, the egress proxy reaches only the index (and the trap host below, by name).
                ["Agent__Packages__Network"] = "none",
                ["Agent__Packages__AllowedHosts__0"] = $"localhost:{Trap.Port}",
            });
    }

    /// <summary>A listener on 127.0.0.1 that no install may ever reach: it counts the connections it gets.</summary>
    public ConnectionTrap Trap { get; } = new();

    public async Task DisposeAsync()
    {
        if (Agent is not null)
            await Agent.DisposeAsync();
        await Index.DisposeAsync();
        Trap.Dispose();
        Docker.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Containers carrying the given agent id label (running or not).</summary>
    public async Task<IList<ContainerListResponse>> ContainersOfAsync(string instanceId) =>
        await Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"pyth-on.agent={instanceId}"] = true },
            },
        });

    public async Task<bool> ContainerExistsAsync(string id)
    {
        try
        {
            await Docker.Containers.InspectContainerAsync(id);
            return true;
        }
        catch (DockerContainerNotFoundException)
        {
            return false;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    // One agent, tests in sequence: the machine has two cores and the tests measure time.
    public const string Name = "sandbox";
}

/// <summary>Accepts TCP connections on 127.0.0.1 and counts them (a destination the egress policy must refuse).</summary>
public sealed class ConnectionTrap : IDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private int _connections;

    public ConnectionTrap()
    {
        _listener.Start();
        Port = ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref _connections);
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
            }
        });
    }

    public int Port { get; }
    public int Connections => Volatile.Read(ref _connections);

    public void Dispose() => _listener.Stop();
}

using Grpc.Core;

namespace PythOn.Client.Tests.Infrastructure;

/// <summary>
/// One real server process for the whole test assembly (free ports, temporary data directory, generous sign-in
/// rate limit), and on demand one real sandbox agent process on the unix socket the server is configured with.
/// </summary>
public sealed class PythOnServer : IAsyncLifetime
{
    private readonly string _dataDirectory = Paths.TempDirectory("server");
    private readonly Lock _agentGate = new();
    private Task? _agentReady;
    private ChildProcess? _server;
    private AgentProcess? _agent;

    public string GrpcAddress { get; private set; } = "";
    public string RestAddress { get; private set; } = "";
    private string AgentDirectory => Path.Combine(_dataDirectory, "agent");
    public string AgentSocket => AgentProcess.SocketPathIn(AgentDirectory);

    public async Task InitializeAsync()
    {
        var grpcPort = LoopbackPort.Free();
        var restPort = LoopbackPort.Free();
        GrpcAddress = $"http://127.0.0.1:{grpcPort}";
        RestAddress = $"http://127.0.0.1:{restPort}";
        _server = ChildProcess.Start("server", Paths.Server, Path.GetDirectoryName(Paths.Server)!,
        [
            $"--Kestrel:Endpoints:Rest:Url={RestAddress}",
            "--Kestrel:Endpoints:Rest:Protocols=Http1",
            $"--Kestrel:Endpoints:Grpc:Url={GrpcAddress}",
            "--Kestrel:Endpoints:Grpc:Protocols=Http2",
            $"--PythOn:DataDirectory={_dataDirectory}",
            $"--PythOn:Agents:0=unix:{AgentSocket}",
            "--PythOn:RateLimits:AuthPerMinute=1000",
            HostLog.LifetimeAtInformation,
        ]);
        await _server.WaitForLineAsync(HostLog.Started, TimeSpan.FromSeconds(60));
    }

    /// <summary>A library client for this server.</summary>
    public PythOnClient Client(string? apiKey = null) => new(GrpcAddress, apiKey);

    /// <summary>
    /// Starts the sandbox agent (once) on <see cref="AgentSocket"/> and waits until the server sees it. Needs Docker
    /// and the runtime image (scripts/build-runtime-image.sh); fails with the reason when either is missing.
    /// </summary>
    public Task EnsureAgentAsync()
    {
        // Every test waits for the same start; a failed start fails each of them with the same reason.
        lock (_agentGate) return _agentReady ??= StartAgentAsync();
    }

    private async Task StartAgentAsync()
    {
        // Docker running and the runtime image built by the repository's scripts; either failing fails the test with their output.
        var image = await RuntimeImage.TagAsync();
        if (!image.StartsWith("pyth-on-runtime:", StringComparison.Ordinal))
            throw new InvalidOperationException($"scripts/build-runtime-image.sh did not print an image tag last (got '{image}').");
        _agent = await AgentProcess.StartAsync(AgentDirectory, $"client-tests-{Environment.ProcessId}", image, pythonPool: 1, javaScriptPool: 1);

        // The agent answers: the server's health probe must now reach the agent and Docker through its socket.
        using var client = Client();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // Health's details are for authenticated callers.
        await client.RegisterAsync($"health-{Guid.NewGuid():N}@example.com", "health-Passw0rd!", timeout.Token);
        var health = await client.GetHealthAsync(timeout.Token);
        var agent = health.Agents.Single();
        Assert.True(agent.Reachable && agent.Docker.Ok, $"the agent started but is not usable: {agent}\nAgent output:\n{_agent.Log}");
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null) await _agent.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
        try
        {
            Directory.Delete(Paths.TestRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The server's and agent's output so far, for failure messages.</summary>
    public string Logs => $"--- server\n{_server?.Output}\n--- agent\n{_agent?.Log}";
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<PythOnServer>
{
    public const string Name = "server";
}

using System.Diagnostics;
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
    private ChildProcess? _agent;

    public string GrpcAddress { get; private set; } = "";
    public string RestAddress { get; private set; } = "";
    public string AgentSocket => Path.Combine(_dataDirectory, "agent.sock");

    public async Task InitializeAsync()
    {
        var grpcPort = Paths.FreePort();
        var restPort = Paths.FreePort();
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
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
        ]);
        await _server.WaitForLineAsync("Application started", TimeSpan.FromSeconds(60));
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
        var image = await PrepareDockerAsync();
        var stateDir = Path.Combine(_dataDirectory, "agent-state");
        Directory.CreateDirectory(stateDir);
        _agent = ChildProcess.Start("agent", Paths.Agent, Path.GetDirectoryName(Paths.Agent)!,
        [
            $"--Agent:SocketPath={AgentSocket}",
            $"--Agent:StateDir={stateDir}",
            $"--Agent:InstanceId=client-tests-{Environment.ProcessId}",
            "--Agent:Pool:Python=1",
            "--Agent:Pool:JavaScript=1",
        ]);
        await WaitForSocketAsync(TimeSpan.FromSeconds(90));

        // The socket exists: the server's health probe must now reach the agent and Docker through it.
        using var client = Client();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var health = await client.GetHealthAsync(timeout.Token);
        var agent = health.Agents.Single();
        Assert.True(agent.Reachable && agent.Docker.Ok, $"the agent started but is not usable: {agent}\nAgent output:\n{_agent.Output}");
    }

    private async Task WaitForSocketAsync(TimeSpan timeout)
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(_dataDirectory, Path.GetFileName(AgentSocket)) { EnableRaisingEvents = true };
        watcher.Created += (_, _) => created.TrySetResult();
        watcher.Renamed += (_, _) => created.TrySetResult();
        if (File.Exists(AgentSocket)) return;
        var exited = _agent!.Exited;
        var done = await Task.WhenAny(created.Task, exited, Task.Delay(timeout));
        if (done == created.Task) return;
        throw new InvalidOperationException(done == exited
            ? $"the sandbox agent exited before opening {AgentSocket}. Output:\n{_agent!.Output}"
            : $"the sandbox agent did not open {AgentSocket} within {timeout.TotalSeconds} s (is src/Sandbox.Agent merged and built?). Output:\n{_agent!.Output}");
    }

    /// <summary>
    /// Docker running and the runtime image built, as the sandbox tests do it: scripts/ensure-docker.sh, then
    /// scripts/build-runtime-image.sh (its last line is the image tag). Either failing fails the test with its output.
    /// </summary>
    private static async Task<string> PrepareDockerAsync()
    {
        await RunScriptAsync("ensure-docker.sh", TimeSpan.FromMinutes(5));
        var image = (await RunScriptAsync("build-runtime-image.sh", TimeSpan.FromMinutes(10))).TrimEnd().Split('\n')[^1].Trim();
        if (!image.StartsWith("pyth-on-runtime:", StringComparison.Ordinal))
            throw new InvalidOperationException($"scripts/build-runtime-image.sh did not print an image tag last (got '{image}').");
        return image;
    }

    private static async Task<string> RunScriptAsync(string name, TimeSpan timeout)
    {
        var script = Path.Combine(Paths.RepositoryRoot, "scripts", name);
        if (!File.Exists(script))
            throw new InvalidOperationException($"{script} does not exist: these tests need Docker and the sandbox runtime image, which it provides.");
        using var process = Process.Start(new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Paths.RepositoryRoot,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scripts/{name} did not finish within {timeout.TotalMinutes} min.\n{await stdout}\n{await stderr}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"scripts/{name} failed (exit {process.ExitCode}): these tests need Docker.\n{await stdout}\n{await stderr}");
        return await stdout;
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
    public string Logs => $"--- server\n{_server?.Output}\n--- agent\n{_agent?.Output}";
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<PythOnServer>
{
    public const string Name = "server";
}

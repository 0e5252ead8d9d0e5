using System.Diagnostics;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;

namespace PythOn.TestSupport;

/// <summary>
/// The real sandbox agent (`dotnet PythOn.Sandbox.Agent.dll`) as its own OS process on a unix socket, with a gRPC
/// client over that socket and its captured output. Nothing is faked: without Docker or the image, starting it fails
/// with the reason.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _log = new();
    private readonly Dictionary<string, string> _environment;
    private readonly GrpcChannel _channel;
    // Agents of StartAsync(purpose): their directory and label are theirs alone, so dispose clears both.
    private readonly bool _ownsDirectory;
    private Process? _process;

    private AgentProcess(string dir, string instanceId, string image, int pythonPool, int javaScriptPool,
        IReadOnlyDictionary<string, string>? extra, bool ownsDirectory)
    {
        Dir = dir;
        InstanceId = instanceId;
        Image = image;
        PythonPool = pythonPool;
        JavaScriptPool = javaScriptPool;
        _ownsDirectory = ownsDirectory;
        _environment = new Dictionary<string, string>
        {
            ["Agent__SocketPath"] = SocketPath,
            ["Agent__StateDir"] = dir,
            ["Agent__InstanceId"] = instanceId,
            ["Agent__Image"] = image,
            ["Agent__Pool__Python"] = pythonPool.ToString(),
            ["Agent__Pool__JavaScript"] = javaScriptPool.ToString(),
            ["Agent__Packages__StoreRoot"] = Path.Combine(dir, "stores"), // never the machine's store
            ["Logging__LogLevel__Default"] = "Information",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) _environment[key] = value;
        _channel = GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions
        {
            HttpHandler = UnixSocket.Handler(SocketPath),
            MaxReceiveMessageSize = 64 << 20, // runs may print up to the agent's output limit
        });
        Client = new SandboxAgent.SandboxAgentClient(_channel);
    }

    /// <summary>The agent's state directory; its socket is in it.</summary>
    public string Dir { get; }
    public string SocketPath => SocketPathIn(Dir);
    /// <summary>The value for PythOn:Agents:N.</summary>
    public string Address => "unix:" + SocketPath;
    /// <summary>The pyth-on.agent label value of this agent's containers.</summary>
    public string InstanceId { get; }
    public string Image { get; }
    public int PythonPool { get; }
    public int JavaScriptPool { get; }
    public SandboxAgent.SandboxAgentClient Client { get; }
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("the agent has not started");
    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>Everything every process of this agent (restarts included) wrote to stdout and stderr.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Where an agent on <paramref name="dir"/> listens.</summary>
    public static string SocketPathIn(string dir) => Path.Combine(dir, "agent.sock");

    /// <summary>
    /// Starts an agent on <paramref name="dir"/> (created if missing) with the given instance id and image, and waits
    /// until Docker answers and its warm pool is full. The directory and any containers the agent leaves behind stay
    /// the caller's: tests check what the agent itself removed.
    /// </summary>
    /// <summary>Starts an agent on <paramref name="dir"/>; unless <paramref name="waitForPool"/> is false, waits until
    /// its slots are all idle (false: only until it answers, for agents whose slots cannot start).</summary>
    public static Task<AgentProcess> StartAsync(string dir, string instanceId, string image, int pythonPool, int javaScriptPool,
        IReadOnlyDictionary<string, string>? extra = null, bool waitForPool = true) =>
        StartAsync(new AgentProcess(dir, instanceId, image, pythonPool, javaScriptPool, extra, ownsDirectory: false) { _waitForPool = waitForPool });

    private bool _waitForPool = true;

    /// <summary>
    /// Starts an agent of the runtime image on a fresh temporary directory, with a fresh instance id that starts with
    /// <paramref name="purpose"/>, and waits until its warm pool is full. Dispose deletes the directory and removes
    /// whatever containers carry its label.
    /// </summary>
    public static async Task<AgentProcess> StartAsync(string purpose, int pythonPool = 2, int javaScriptPool = 1,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var image = await RuntimeImage.TagAsync();
        // Short: a unix socket path is limited to 107 bytes.
        var dir = Path.Combine(Path.GetTempPath(), $"pyth-on-agent-{Guid.NewGuid().ToString("N")[..10]}");
        return await StartAsync(new AgentProcess(dir, $"{purpose}-{Guid.NewGuid().ToString("N")[..10]}", image, pythonPool, javaScriptPool,
            extra, ownsDirectory: true));
    }

    private static async Task<AgentProcess> StartAsync(AgentProcess agent)
    {
        Directory.CreateDirectory(agent.Dir);
        try
        {
            await agent.LaunchAndWaitAsync();
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }
        return agent;
    }

    /// <summary>
    /// Starts an agent that also listens on a loopback TCP port: <paramref name="start"/> gets a port that was free a
    /// moment ago. Another process can take it before the agent binds it; the agent then exits ("address already in
    /// use") and the start is tried again on a new port, up to three times.
    /// </summary>
    public static async Task<(AgentProcess Agent, int Port)> StartOnFreeLoopbackPortAsync(Func<int, Task<AgentProcess>> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPort.Free();
            try
            {
                return (await start(port), port);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    /// <summary>kill -9: the agent gets no chance to clean up; its socket file and containers stay behind.</summary>
    public void Kill()
    {
        if (_process is not null) ProcessSignals.KillHard(_process, StopTimeout, "the agent");
    }

    /// <summary>Starts a new agent process with the same socket, instance id and settings; the previous one must have exited.</summary>
    public async Task RestartAsync()
    {
        if (!HasExited) throw new InvalidOperationException("kill or stop the agent before restarting it");
        Append("----- restart -----");
        await LaunchAndWaitAsync();
    }

    /// <summary>SIGTERM and wait: the agent removes its sandboxes on a graceful stop.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process is not null) await ProcessSignals.StopAsync(_process, timeout ?? StopTimeout, "the agent", () => Log);
    }

    /// <summary>The agent's own status report.</summary>
    public async Task<AgentStatus> StatusAsync() =>
        await Client.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (Exception)
        {
            if (_process is { HasExited: false }) _process.Kill();
        }
        _process?.Dispose();
        _channel.Dispose();
        if (!_ownsDirectory) return;
        await RemoveLeftoverContainersAsync();
        try
        {
            if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A killed agent cannot clean up after itself: remove what carries its label so the suite leaves nothing behind.</summary>
    private async Task RemoveLeftoverContainersAsync()
    {
        try
        {
            var leftovers = await DockerCli.ContainersOfAgentAsync(InstanceId);
            if (leftovers.Count > 0) await DockerCli.RunAsync(["rm", "-f", .. leftovers.Select(c => c.Id)]);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Append($"could not remove leftover containers: {e.Message}");
        }
    }

    private async Task LaunchAndWaitAsync()
    {
        var dll = Repo.AgentDll;
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(HostLog.LifetimeAtInformation); // readiness waits for that line
        // Nothing from the test runner's environment may configure the agent behind the test's back.
        foreach (var name in start.Environment.Keys.ToList())
            if (name.StartsWith("Agent__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(name);
        foreach (var (key, value) in _environment) start.Environment[key] = value;

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        if (!process.Start()) throw new InvalidOperationException($"could not start the agent ({dll})");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;

        var last = "no answer yet";
        var logBefore = LogLength;
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // until stdout and stderr are read to their end: the log holds the reason
                throw new InvalidOperationException($"the agent exited with code {process.ExitCode}:\n{Log}");
            }
            // Every endpoint bound (the unix socket can answer before a TCP port turns out to be taken): it is this
            // process that serves them.
            if (!StartedSince(logBefore) || !File.Exists(SocketPath)) return false;
            try
            {
                var status = await StatusAsync();
                if (!status.DockerOk || !status.ImageOk)
                    throw new InvalidOperationException($"the agent reports Docker or its image unusable: {status.DockerMessage}\n{Log}");
                last = $"pool {status.PoolReady}";
                return !_waitForPool || status.PoolReady.GetValueOrDefault("python") >= PythonPool
                    && status.PoolReady.GetValueOrDefault("javascript") >= JavaScriptPool;
            }
            catch (RpcException e)
            {
                last = e.Status.Detail;
                return false;
            }
        }, ReadyTimeout, "the agent answers and its slots are idle", () => $"{last}\n{Log}");
    }

    private int LogLength
    {
        get { lock (_log) return _log.Length; }
    }

    private bool StartedSince(int logOffset)
    {
        lock (_log) return _log.ToString(logOffset, _log.Length - logOffset).Contains(HostLog.Started, StringComparison.Ordinal);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }
}

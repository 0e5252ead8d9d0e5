using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>
/// The real sandbox agent as its own OS process on a unix socket in a temporary directory, with its own instance id
/// (the value of the pyth-on.agent label on its containers) and captured output. Docker and the runtime image come
/// from the repository's scripts; nothing is faked, and without Docker starting it fails with the reason.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _log = new();
    private readonly Dictionary<string, string> _environment;
    private readonly GrpcChannel _channel;
    private Process? _process;

    private AgentProcess(string dir, string instanceId, string image, int pythonPool, int javaScriptPool, IReadOnlyDictionary<string, string>? extra)
    {
        Dir = dir;
        InstanceId = instanceId;
        Image = image;
        PythonPool = pythonPool;
        JavaScriptPool = javaScriptPool;
        _environment = new Dictionary<string, string>
        {
            ["Agent__SocketPath"] = SocketPath,
            ["Agent__StateDir"] = dir,
            ["Agent__InstanceId"] = instanceId,
            ["Agent__Image"] = image,
            ["Agent__Pool__Python"] = pythonPool.ToString(),
            ["Agent__Pool__JavaScript"] = javaScriptPool.ToString(),
            ["Logging__LogLevel__Default"] = "Information",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) _environment[key] = value;
        _channel = GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions { HttpHandler = UnixSocketHandler(SocketPath) });
        Client = new SandboxAgent.SandboxAgentClient(_channel);
    }

    public string Dir { get; }
    public string SocketPath => Path.Combine(Dir, "agent.sock");
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

    /// <summary>Starts an agent on a fresh directory and waits until Docker answers and its warm pool is full.</summary>
    public static async Task<AgentProcess> StartAsync(string purpose, int pythonPool = 2, int javaScriptPool = 1,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        var image = await RuntimeImage.TagAsync();
        // Short: a unix socket path is limited to 107 bytes.
        var dir = Path.Combine(Path.GetTempPath(), $"pyth-on-agent-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(dir);
        var agent = new AgentProcess(dir, $"{purpose}-{Guid.NewGuid().ToString("N")[..10]}", image, pythonPool, javaScriptPool, extra);
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

    /// <summary>kill -9: the agent gets no chance to clean up; its socket file and containers stay behind.</summary>
    public void Kill()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        if (!_process.WaitForExit(StopTimeout)) throw new TimeoutException($"agent process {_process.Id} did not die after SIGKILL");
        _process.WaitForExit(); // drain the output readers
    }

    /// <summary>Starts a new agent process with the same socket, instance id and settings; the previous one must have exited.</summary>
    public async Task RestartAsync()
    {
        if (!HasExited) throw new InvalidOperationException("kill or stop the agent before restarting it");
        Append("----- restart -----");
        await LaunchAndWaitAsync();
    }

    /// <summary>SIGTERM and wait: the agent removes its sandboxes on a graceful stop.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        if (Native.kill(_process.Id, Native.SIGTERM) != 0)
            throw new InvalidOperationException($"kill(SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            throw new TimeoutException($"the agent did not stop within {StopTimeout.TotalSeconds} s of SIGTERM:\n{Log}");
        }
        _process.WaitForExit();
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
        await RemoveLeftoverContainersAsync();
        TempDirectories.Delete(Dir);
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
        var dll = AgentBuild.Locate();
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
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
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"the agent exited with code {process.ExitCode}:\n{Log}");
            if (!File.Exists(SocketPath)) return false;
            try
            {
                var status = await StatusAsync();
                if (!status.DockerOk || !status.ImageOk)
                    throw new InvalidOperationException($"the agent reports Docker or its image unusable: {status.DockerMessage}\n{Log}");
                last = $"pool {status.PoolReady}";
                return status.PoolReady.GetValueOrDefault("python") >= PythonPool
                    && status.PoolReady.GetValueOrDefault("javascript") >= JavaScriptPool;
            }
            catch (RpcException e)
            {
                last = e.Status.Detail;
                return false;
            }
        }, ReadyTimeout, "the agent answers and its warm pool is full", () => $"{last}\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    internal static SocketsHttpHandler UnixSocketHandler(string path) => new()
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private static class Native
    {
        public const int SIGTERM = 15;

        [DllImport("libc", SetLastError = true)]
        public static extern int kill(int pid, int sig);
    }
}

/// <summary>Docker running and the sandbox runtime image built, through the repository's scripts, once per test run.</summary>
public static class RuntimeImage
{
    private static readonly Lazy<Task<string>> Tag = new(BuildAsync);
    private static readonly Lazy<Task<string>> InstallerTag = new(async () =>
    {
        await Tag.Value;
        return (await RunScriptAsync("build-installer-image.sh", TimeSpan.FromMinutes(15))).Split('\n')[^1].Trim();
    });

    /// <summary>The runtime image tag (pyth-on-runtime:&lt;hash&gt;); throws with the scripts' output when Docker or the image cannot be had.</summary>
    public static Task<string> TagAsync() => Tag.Value;

    /// <summary>The package installer image tag (pyth-on-installer:&lt;hash&gt;), built when missing.</summary>
    public static Task<string> InstallerTagAsync() => InstallerTag.Value;

    private static async Task<string> BuildAsync()
    {
        await RunScriptAsync("ensure-docker.sh", TimeSpan.FromMinutes(5));
        return (await RunScriptAsync("build-runtime-image.sh", TimeSpan.FromMinutes(10))).Split('\n')[^1].Trim();
    }

    private static async Task<string> RunScriptAsync(string script, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepoRoot.Path, "scripts", script));
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"scripts/{script} did not finish within {timeout}:\n{await stderr}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"scripts/{script} failed with exit code {process.ExitCode}:\n{await stderr}\n{await stdout}");
        return (await stdout).Trim();
    }
}

public static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "PythOn.sln"))) return dir.FullName;
        throw new InvalidOperationException($"PythOn.sln not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>The agent's build output for the configuration the tests were built in (the test project builds it first).</summary>
public static class AgentBuild
{
    public static string Locate()
    {
        var configuration = typeof(AgentBuild).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var path = Path.Combine(RepoRoot.Path, "src", "Sandbox.Agent", "bin", configuration, "net10.0", "PythOn.Sandbox.Agent.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"the agent is not built: {path} is missing (dotnet build)");
    }
}

public static class DotnetHost
{
    public static string Path
    {
        get
        {
            var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli)) return fromCli;
            var current = Environment.ProcessPath;
            if (current is not null && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
            return "dotnet";
        }
    }
}

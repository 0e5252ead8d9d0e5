using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;

namespace PythOn.Server.Tests.Generation;

/// <summary>
/// The real sandbox agent for the generate end-to-end tests, started like tests/PythOn.Sandbox.Tests does: Docker and
/// the runtime image through the repository's scripts, then the agent as its own process on a unix socket. Nothing is
/// faked; when Docker or the image cannot be had, every test of the collection fails with the reason.
/// </summary>
public sealed class SandboxAgentFixture : IAsyncLifetime
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pyth-on-generate-agent-" + Guid.NewGuid().ToString("N")[..8]);
    public string SocketPath => Path.Combine(Dir, "agent.sock");

    /// <summary>The value for PythOn:Agents:0.</summary>
    public string Address => "unix:" + SocketPath;

    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    public async Task InitializeAsync()
    {
        await RunScriptAsync("ensure-docker.sh", TimeSpan.FromMinutes(5));
        var image = (await RunScriptAsync("build-runtime-image.sh", TimeSpan.FromMinutes(10))).Split('\n')[^1].Trim();
        Directory.CreateDirectory(Dir);

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(AgentDll);
        psi.WorkingDirectory = Path.GetDirectoryName(AgentDll)!;
        psi.Environment["Agent__SocketPath"] = SocketPath;
        psi.Environment["Agent__StateDir"] = Dir;
        psi.Environment["Agent__InstanceId"] = "gen-test-" + Guid.NewGuid().ToString("N")[..10];
        psi.Environment["Agent__Image"] = image;
        psi.Environment["Agent__Pool__Python"] = "1";
        psi.Environment["Agent__Pool__JavaScript"] = "1";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var channel = GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions { HttpHandler = UnixSocketHandler(SocketPath) });
        var client = new SandboxAgent.SandboxAgentClient(channel);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        string last = "no answer yet";
        // Polling a condition with a deadline: the agent says when Docker, the image and its pool are ready.
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the agent exited with code {_process.ExitCode}:\n{Log}");
            if (File.Exists(SocketPath))
            {
                try
                {
                    var status = await client.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    if (!status.DockerOk || !status.ImageOk)
                        throw new InvalidOperationException($"the agent reports Docker or the image unusable: {status.DockerMessage}\n{Log}");
                    if (status.PoolReady.GetValueOrDefault("python") >= 1 && status.PoolReady.GetValueOrDefault("javascript") >= 1) return;
                    last = $"pool {string.Join(", ", status.PoolReady)}";
                }
                catch (Grpc.Core.RpcException e)
                {
                    last = e.Status.Detail;
                }
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the agent was not ready within 120 s ({last}):\n{Log}");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            // SIGTERM: the agent removes its containers on a graceful stop.
            _ = Kill(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
            }
        }
        _process?.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    private static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "PythOn.sln"))) return dir.FullName;
            throw new InvalidOperationException($"PythOn.sln not found above {AppContext.BaseDirectory}");
        }
    }

    private static string AgentDll
    {
        get
        {
            var configuration = typeof(SandboxAgentFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = Path.Combine(RepoRoot, "src", "Sandbox.Agent", "bin", configuration, "net10.0", "PythOn.Sandbox.Agent.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"the agent is not built: {path} is missing");
        }
    }

    private static async Task<string> RunScriptAsync(string script, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(RepoRoot, "scripts", script));
        using var process = Process.Start(psi)!;
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

    private static SocketsHttpHandler UnixSocketHandler(string path) => new()
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
                System.Net.Sockets.ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

[CollectionDefinition(Name)]
public sealed class SandboxAgentCollection : ICollectionFixture<SandboxAgentFixture>
{
    public const string Name = "generate-sandbox";
}

using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;
using PythOn.Server.Tests.Infrastructure;
using PythOn.Tests.Packages;

namespace PythOn.Server.Tests.PackageInstalls;

/// <summary>
/// Everything real for the package tests: Docker, the runtime and installer images (built by the repository's
/// scripts when missing), a local PEP 503 index with wheels built in the test (no PyPI here), the sandbox agent as
/// its own process on a unix socket with a throw-away store root, and the server in process pointed at it.
/// When Docker or an image cannot be had, every test fails with the reason (never skips).
/// </summary>
public sealed class PackageInstallFixture : IAsyncLifetime
{
    private readonly StringBuilder _log = new();
    private Process? _agent;
    private ITestServer? _server;

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pyth-on-pkg-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public string SocketPath => Path.Combine(Dir, "agent.sock");
    public string StoreRoot => Path.Combine(Dir, "stores");

    public PackageIndex Index { get; } = new PackageIndex()
        .AddWheel("pyth-on-demo", "1.0")
        .AddWheel("pyth-on-shared", "3.1")
        .AddWheel("pyth-on-request", "0.4")
        .AddWheel("pyth-on-zk", "1.2")
        .AddSdist("pyth-on-sdistonly", "1.0");

    public ITestServer Server => _server ?? throw new InvalidOperationException("not started");

    public string AgentLog
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    /// <summary>Store directories (not the hidden .staging/.requests).</summary>
    public IReadOnlyList<string> Stores() =>
        Directory.EnumerateDirectories(StoreRoot).Select(d => Path.GetFileName(d)!).Where(n => !n.StartsWith('.')).ToList();

    public async Task InitializeAsync()
    {
        await RunScriptAsync("ensure-docker.sh", TimeSpan.FromMinutes(5));
        var image = (await RunScriptAsync("build-runtime-image.sh", TimeSpan.FromMinutes(10))).Split('\n')[^1].Trim();
        var installer = (await RunScriptAsync("build-installer-image.sh", TimeSpan.FromMinutes(15))).Split('\n')[^1].Trim();
        await Index.StartAsync();
        Directory.CreateDirectory(Dir);

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(AgentDll);
        psi.WorkingDirectory = Path.GetDirectoryName(AgentDll)!;
        psi.Environment["Agent__SocketPath"] = SocketPath;
        psi.Environment["Agent__StateDir"] = Dir;
        psi.Environment["Agent__InstanceId"] = "pkg-test-" + Guid.NewGuid().ToString("N")[..10];
        psi.Environment["Agent__Image"] = image;
        psi.Environment["Agent__Pool__Python"] = "1";
        psi.Environment["Agent__Pool__JavaScript"] = "1";
        psi.Environment["Agent__Packages__StoreRoot"] = StoreRoot;
        psi.Environment["Agent__Packages__InstallerImage"] = installer;
        psi.Environment["Agent__Packages__PipIndexUrl"] = Index.SimpleUrl;
        psi.Environment["Agent__Packages__Network"] = "host";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        _agent = Process.Start(psi)!;
        _agent.OutputDataReceived += (_, e) => Append(e.Data);
        _agent.ErrorDataReceived += (_, e) => Append(e.Data);
        _agent.BeginOutputReadLine();
        _agent.BeginErrorReadLine();
        await WaitForAgentAsync();

        _server = TestServers.InProcess(new Dictionary<string, string?>
        {
            ["PythOn:Agents:0"] = "unix:" + SocketPath,
            ["PythOn:Packages:RunWaitSeconds"] = "120",
        });
    }

    private async Task WaitForAgentAsync()
    {
        using var channel = GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions { HttpHandler = UnixSocketHandler(SocketPath) });
        var client = new SandboxAgent.SandboxAgentClient(channel);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        var last = "no answer yet";
        // Polling a condition with a deadline: the agent says when Docker, the image and its pool are ready.
        while (true)
        {
            if (_agent!.HasExited) throw new InvalidOperationException($"the agent exited with code {_agent.ExitCode}:\n{AgentLog}");
            if (File.Exists(SocketPath))
            {
                try
                {
                    var status = await client.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    if (!status.DockerOk || !status.ImageOk)
                        throw new InvalidOperationException($"the agent reports Docker or the image unusable: {status.DockerMessage}\n{AgentLog}");
                    if (status.PoolReady.GetValueOrDefault("python") >= 1 && status.PoolReady.GetValueOrDefault("javascript") >= 1) return;
                    last = $"pool {string.Join(", ", status.PoolReady)}";
                }
                catch (Grpc.Core.RpcException e)
                {
                    last = e.Status.Detail;
                }
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the agent was not ready within 120 s ({last}):\n{AgentLog}");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_agent is { HasExited: false })
        {
            _ = Kill(_agent.Id, 15); // SIGTERM: the agent removes its containers
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _agent.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _agent.Kill();
            }
        }
        _agent?.Dispose();
        await Index.DisposeAsync();
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
            var configuration = typeof(PackageInstallFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
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

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

[CollectionDefinition(Name)]
public sealed class PackageInstallCollection : ICollectionFixture<PackageInstallFixture>
{
    public const string Name = "package-installs";
}

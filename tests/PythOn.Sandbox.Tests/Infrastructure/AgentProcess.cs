using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests.Infrastructure;

/// <summary>The agent as a real OS process listening on a unix socket, with a gRPC client over that socket.</summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly GrpcChannel _channel;

    private AgentProcess(Process process, string socketPath)
    {
        _process = process;
        SocketPath = socketPath;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _channel = GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
            MaxReceiveMessageSize = 64 << 20,
        });
        Client = new SandboxAgent.SandboxAgentClient(_channel);
    }

    public SandboxAgent.SandboxAgentClient Client { get; }
    public string SocketPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }

    /// <summary>Starts the agent and waits until Docker answers and the warm pool is full.</summary>
    public static async Task<AgentProcess> StartAsync(string dir, string instanceId, string image, int pythonPool, int jsPool,
        IDictionary<string, string>? extra = null)
    {
        Directory.CreateDirectory(dir);
        var socket = Path.Combine(dir, "agent.sock");
        var agentDll = Repo.AgentDll;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(agentDll)!,
        };
        psi.ArgumentList.Add(agentDll);
        psi.Environment["Agent__SocketPath"] = socket;
        psi.Environment["Agent__StateDir"] = dir;
        psi.Environment["Agent__InstanceId"] = instanceId;
        psi.Environment["Agent__Image"] = image;
        psi.Environment["Agent__Pool__Python"] = pythonPool.ToString();
        psi.Environment["Agent__Pool__JavaScript"] = jsPool.ToString();
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["Agent__Packages__StoreRoot"] = Path.Combine(dir, "stores"); // never the machine's store
        foreach (var (k, v) in extra ?? new Dictionary<string, string>())
            psi.Environment[k] = v;

        var agent = new AgentProcess(Process.Start(psi)!, socket);
        try
        {
            await Poll.UntilAsync(async () =>
            {
                if (agent.HasExited)
                    throw new InvalidOperationException($"agent exited with code {agent._process.ExitCode}:\n{agent.Log}");
                if (!File.Exists(socket))
                    return false;
                try
                {
                    var status = await agent.Client.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    if (!status.DockerOk || !status.ImageOk)
                        throw new InvalidOperationException($"agent reports Docker/image not usable: {status.DockerMessage}");
                    return status.PoolReady["python"] >= pythonPool && status.PoolReady["javascript"] >= jsPool;
                }
                catch (Grpc.Core.RpcException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(90), "the agent answers and its warm pool is full");
        }
        catch (Exception e)
        {
            await agent.DisposeAsync();
            throw new InvalidOperationException($"{e.Message}\nagent log:\n{agent.Log}", e);
        }
        return agent;
    }

    /// <summary>kill -9: no chance to clean up (leaves its containers behind as orphans).</summary>
    public async Task KillHardAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait: the agent's graceful shutdown.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
            return;
        if (SysKill(_process.Id, 15) != 0)
            throw new InvalidOperationException($"kill(SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            if (!_process.HasExited)
                _process.Kill();
        }
        _channel.Dispose();
        _process.Dispose();
    }
}

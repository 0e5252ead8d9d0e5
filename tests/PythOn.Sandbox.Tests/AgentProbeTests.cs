using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

/// <summary>grpc.health.v1 on the agent: what kubelet and Docker HEALTHCHECK ask, without the agent's token.</summary>
public sealed class AgentProbeTests
{
    private const string Token = "probe-test-token-0123456789abcdefghijklmnop";


    [Fact]
    public async Task Health_answers_serving_over_TCP_without_the_token_while_runs_still_need_it()
    {
        var (agent, port) = await AgentProcess.StartOnFreeLoopbackPortAsync(port => AgentProcess.StartAsync("probe", pythonPool: 1,
            javaScriptPool: 0, new Dictionary<string, string>
            {
                ["Agent__ListenTcp"] = $"127.0.0.1:{port}",
                ["Agent__AuthToken"] = Token,
            }));
        await using var _ = agent;
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        var run = await Assert.ThrowsAsync<RpcException>(async () =>
            await new SandboxAgent.SandboxAgentClient(channel).GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10)));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal(StatusCode.Unauthenticated, run.StatusCode);
    }

    [Fact]
    public async Task Health_answers_not_serving_when_no_slot_can_start()
    {
        // An image that exists but holds no slot supervisor (the installer's): every slot fails to start.
        var id = $"probe-broken-{Guid.NewGuid().ToString("N")[..8]}";
        var dir = Path.Combine(Path.GetTempPath(), $"pyth-on-agent-{Guid.NewGuid().ToString("N")[..10]}");
        await using var agent = await AgentProcess.StartAsync(dir, id, await RuntimeImage.InstallerTagAsync(), pythonPool: 1, javaScriptPool: 0,
            waitForPool: false);
        var client = new Health.HealthClient(GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions { HttpHandler = UnixSocket.Handler(agent.SocketPath) }));

        await Poll.UntilAsync(async () =>
            (await client.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Status == HealthCheckResponse.Types.ServingStatus.NotServing,
            TimeSpan.FromSeconds(90), "the agent reports NOT_SERVING", () => agent.Log);
        await agent.StopAsync();
        Directory.Delete(dir, recursive: true);
    }
}

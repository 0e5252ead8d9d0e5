using Grpc.Core;
using Grpc.Net.Client;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;
using PythOn.TestSupport;

namespace PythOn.Sandbox.Tests;

/// <summary>The agent's TCP endpoint: authenticated always, cleartext only on loopback unless explicitly allowed.
/// Traffic goes to 127.0.0.1 only; the non-loopback cases are refused by the configuration check before listening.</summary>
[Collection(SandboxCollection.Name)]
public sealed class AgentLinkTests(SandboxFixture fx)
{
    private static readonly string Token = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(33));
    // The token with its last character changed (replacing it with a fixed one kept it unchanged in 1 of 64 runs).
    private static readonly string WrongToken = Token[..^1] + (Token[^1] == 'x' ? 'y' : 'x');

    private Task<AgentProcess> StartAsync(Dictionary<string, string> settings)
    {
        var id = $"link-{Guid.NewGuid():N}"[..16];
        return AgentProcess.StartAsync(Path.Combine(fx.Dir, id), id, fx.Image, pythonPool: 0, javaScriptPool: 0, settings);
    }

    [Fact]
    public async Task A_tcp_caller_without_the_token_is_refused_and_one_with_it_is_served()
    {
        var (agent, port) = await AgentProcess.StartOnFreeLoopbackPortAsync(port =>
            StartAsync(new() { ["Agent__ListenTcp"] = $"127.0.0.1:{port}", ["Agent__AuthToken"] = Token }));
        await using var _ = agent;
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var client = new SandboxAgent.SandboxAgentClient(channel);

        var anonymous = await Assert.ThrowsAsync<RpcException>(() => client.GetStatusAsync(new GetStatusRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            client.GetStatusAsync(new GetStatusRequest(), new Metadata { { "authorization", "Bearer " + WrongToken } }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        var run = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = client.Run(Runs.Python("print(1)"));
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.Unauthenticated, run.StatusCode);

        var status = await client.GetStatusAsync(new GetStatusRequest(), new Metadata { { "authorization", "Bearer " + Token } });
        Assert.Equal(agent.InstanceId, status.AgentId);
    }

    [Fact]
    public async Task An_agent_with_tcp_but_no_token_does_not_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            StartAsync(new() { ["Agent__ListenTcp"] = $"127.0.0.1:{LoopbackPort.Free()}" }));
        Assert.Contains("Agent:ListenTcp needs Agent:AuthToken", error.Message);
        Assert.Contains("exited with code 2:", error.Message); // the documented exit code of a configuration error
    }

    [Fact]
    public async Task An_agent_does_not_serve_cleartext_on_a_non_loopback_address_unless_allowed()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            StartAsync(new() { ["Agent__ListenTcp"] = $"0.0.0.0:{LoopbackPort.Free()}", ["Agent__AuthToken"] = Token }));
        Assert.Contains("is not a loopback address", error.Message);
        Assert.Contains("exited with code 2:", error.Message); // the documented exit code of a configuration error
    }

    [Fact]
    public async Task A_short_token_is_refused()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            StartAsync(new() { ["Agent__ListenTcp"] = $"127.0.0.1:{LoopbackPort.Free()}", ["Agent__AuthToken"] = "short" }));
        Assert.Contains("shorter than 32 characters", error.Message);
        Assert.Contains("exited with code 2:", error.Message); // the documented exit code of a configuration error
    }
}

using System.Net;
using System.Net.Sockets;
using PythOn.Server.Tests.Infrastructure;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// Server → agent over mutual TLS: a real agent on 127.0.0.1 with Agent:Tls (its certificate and the client CA made by
/// the test) and a token, and real server processes that trust that private CA (PythOn:AgentTls:CaPath) and present a
/// client certificate (PythOn:AgentTls:CertificatePath/KeyPath) or not.
/// </summary>
public sealed class MutualTlsAgentFixture : IAsyncLifetime
{
    private MutualTlsAgent _tls = null!;

    public string Token => _tls.Token;
    public string Dir => _tls.Dir;
    public TestCertificateAuthority Ca => _tls.Ca;
    public int Port => _tls.Port;
    public AgentProcess Agent => _tls.Agent;

    public async Task InitializeAsync() => _tls = await MutualTlsAgent.StartAsync("mtls");

    /// <summary>Server settings for this agent over https, trusting the test CA, with the given client certificate.</summary>
    public Dictionary<string, string> ServerSettings(PemFiles? clientCertificate)
    {
        var settings = new Dictionary<string, string>
        {
            ["PythOn:Agents:0"] = $"https://127.0.0.1:{Port}",
            ["PythOn:AgentToken"] = Token,
            ["PythOn:AgentTls:CaPath"] = Ca.CertificatePath,
        };
        if (clientCertificate is not null)
        {
            settings["PythOn:AgentTls:CertificatePath"] = clientCertificate.CertificatePath;
            settings["PythOn:AgentTls:KeyPath"] = clientCertificate.KeyPath;
        }
        return settings;
    }

    public async Task DisposeAsync()
    {
        if (_tls is not null) await _tls.DisposeAsync();
    }
}

[Collection(SandboxedServerCollection.Name)]
public sealed class AgentMutualTlsTests(MutualTlsAgentFixture mtls) : IClassFixture<MutualTlsAgentFixture>
{
    [Fact]
    public async Task A_server_with_a_client_certificate_from_the_agents_ca_runs_programs_over_mutual_tls()
    {
        await using var server = await ServerProcess.StartAsync(mtls.ServerSettings(mtls.Ca.IssueClient("server")));
        var user = await Users.RegisterAsync(server.Rest);

        var result = await server.Rpc.Execute.ExecuteAsync(Python("print('server to agent over mTLS')"), user.Key.Metadata);

        Assert.Equal("server to agent over mTLS\n", result.Output);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task A_server_whose_client_certificate_comes_from_another_ca_cannot_use_the_agent()
    {
        var rogue = new TestCertificateAuthority(Path.Combine(mtls.Dir, "rogue"), "rogue").IssueClient("rogue-server");
        await using var server = await ServerProcess.StartAsync(mtls.ServerSettings(rogue));
        var user = await Users.RegisterAsync(server.Rest);
        var runsBefore = (await mtls.Agent.StatusAsync()).RunsServed;

        var refused = await RpcAssert.FailsWith(Grpc.Core.StatusCode.Unavailable,
            async () => await server.Rpc.Execute.ExecuteAsync(Python("print('must not run')"), user.Key.Metadata));

        // With TLS 1.3 the agent's refusal of the certificate can arrive after the client's handshake completed, so the
        // call fails either while connecting ("no sandbox agent is reachable") or on its first read ("the sandbox agent
        // at ... failed"): either way UNAVAILABLE, and the agent ran nothing.
        Assert.Matches("no sandbox agent is reachable|the sandbox agent at https://127\\.0\\.0\\.1:\\d+ failed", refused.Status.Detail);
        Assert.Equal(runsBefore, (await mtls.Agent.StatusAsync()).RunsServed);
    }
}

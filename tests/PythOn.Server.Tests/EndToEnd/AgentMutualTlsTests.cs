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
    public string Token { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(33));
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pyth-on-mtls-" + Guid.NewGuid().ToString("N")[..8]);
    public TestCertificateAuthority Ca { get; private set; } = null!;
    public int Port { get; private set; }
    public AgentProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Ca = new TestCertificateAuthority(Dir, "agents");
        var server = Ca.IssueServer("agent");
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        Agent = await AgentProcess.StartAsync("mtls", pythonPool: 1, javaScriptPool: 0, new Dictionary<string, string>
        {
            ["Agent__ListenTcp"] = $"127.0.0.1:{Port}",
            ["Agent__AuthToken"] = Token,
            ["Agent__Tls__CertificatePath"] = server.CertificatePath,
            ["Agent__Tls__KeyPath"] = server.KeyPath,
            ["Agent__Tls__ClientCaPath"] = Ca.CertificatePath,
        });
    }

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
        if (Agent is not null)
            await Agent.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
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

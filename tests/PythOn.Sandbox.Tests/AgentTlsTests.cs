using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using PythOn.Sandbox.Tests.Infrastructure;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Tests;

/// <summary>A real agent serving TCP on 127.0.0.1 with TLS and client certificates (Agent:Tls, mutual TLS) and a
/// token; the CA and every certificate are made by the test (<see cref="TestCertificateAuthority"/>).</summary>
public sealed class MutualTlsAgentFixture : IAsyncLifetime
{
    private MutualTlsAgent _tls = null!;

    public string Token => _tls.Token;
    public string Dir => _tls.Dir;
    public TestCertificateAuthority Ca => _tls.Ca;
    public int Port => _tls.Port;
    public AgentProcess Agent => _tls.Agent;
    public PemFiles Client { get; private set; } = null!;
    public PemFiles RogueClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _tls = await MutualTlsAgent.StartAsync("tls");
        Client = Ca.IssueClient("server");
        RogueClient = new TestCertificateAuthority(Dir, "rogue").IssueClient("rogue-server");
    }

    /// <summary>A client of the TCP endpoint that trusts only the test CA, presenting <paramref name="certificate"/>.</summary>
    public SandboxAgent.SandboxAgentClient Connect(string scheme, PemFiles? certificate, out GrpcChannel channel)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, errors) =>
        {
            if (presented is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(Ca.Certificate);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(presented));
        };
        if (certificate is not null)
            handler.SslOptions.ClientCertificates = [certificate.Load()];
        channel = GrpcChannel.ForAddress($"{scheme}://127.0.0.1:{Port}", new GrpcChannelOptions { HttpHandler = handler });
        return new SandboxAgent.SandboxAgentClient(channel);
    }

    public async Task DisposeAsync()
    {
        if (_tls is not null) await _tls.DisposeAsync();
    }
}

/// <summary>The agent link over mutual TLS: only a caller with a client certificate from the configured CA, over TLS,
/// with the token, is served.</summary>
[Collection(SandboxCollection.Name)]
public sealed class AgentTlsTests(MutualTlsAgentFixture tls) : IClassFixture<MutualTlsAgentFixture>
{
    private Metadata WithToken => new() { { "authorization", "Bearer " + tls.Token } };

    private async Task<RpcException> RefusedAsync(string scheme, PemFiles? certificate, Metadata? headers)
    {
        var client = tls.Connect(scheme, certificate, out var channel);
        using var _ = channel;
        var runsBefore = (await tls.Agent.StatusAsync()).RunsServed;
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.RunAsync(
            new RunRequest { Language = "python", Code = "print('must not run')" }, TimeSpan.FromSeconds(30), headers));
        Assert.Equal(runsBefore, (await tls.Agent.StatusAsync()).RunsServed);
        return refused;
    }

    /// <summary>The agent closed the connection before HTTP/2 was established. SocketsHttpHandler reports that as an
    /// HttpRequestException, which Grpc.Net.Client maps to Unavailable when it wraps the IOException of the closed
    /// connection and to Internal when it does not: measured against a Kestrel with TLS only, 20 in 3000 cleartext
    /// calls and 146 in 3000 calls without a client certificate came without it, at six calls in flight.</summary>
    private static void AssertConnectionFailed(RpcException refused)
    {
        Assert.True(refused.Status.DebugException is HttpRequestException, $"not a failed connection: {refused.Status}");
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
    }

    [Fact]
    public async Task A_tls_caller_trusting_the_ca_with_a_client_certificate_from_it_runs_a_program()
    {
        var client = tls.Connect("https", tls.Client, out var channel);
        using var _ = channel;

        var run = await client.RunAsync(new RunRequest { Language = "python", Code = "print('over mutual TLS')" }, headers: WithToken);

        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal("over mutual TLS\n", run.Stdout);
    }

    [Fact]
    public async Task A_tls_caller_without_a_client_certificate_is_refused()
    {
        var refused = await RefusedAsync("https", certificate: null, WithToken);
        AssertConnectionFailed(refused);
    }

    [Fact]
    public async Task A_tls_caller_whose_client_certificate_comes_from_another_ca_is_refused()
    {
        var refused = await RefusedAsync("https", tls.RogueClient, WithToken);
        AssertConnectionFailed(refused);
    }

    [Fact]
    public async Task A_cleartext_caller_is_refused_before_its_http2_connection_is_established()
    {
        var refused = await RefusedAsync("http", certificate: null, WithToken);
        AssertConnectionFailed(refused);
    }

    [Fact]
    public async Task A_tls_caller_with_a_valid_client_certificate_still_needs_the_token()
    {
        var refused = await RefusedAsync("https", tls.Client, headers: null);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }
}

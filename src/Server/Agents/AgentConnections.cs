using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.V1;
using PythOn.Server.Hosting;

namespace PythOn.Server.Agents;

/// <summary>One gRPC channel per configured sandbox agent ("unix:/path.sock" or "http://host:port").</summary>
public sealed class AgentConnections : IDisposable
{
    public const string DefaultAddress = "unix:/run/pyth-on/agent.sock";

    private readonly List<(string Address, GrpcChannel Channel)> _agents;

    public AgentConnections(IOptions<PythOnOptions> options)
    {
        var addresses = options.Value.Agents.Where(a => !string.IsNullOrWhiteSpace(a)).ToList();
        if (addresses.Count == 0) addresses.Add(DefaultAddress);
        _agents = addresses.Select(a => (a, Open(a, options.Value))).ToList();
    }

    public IReadOnlyList<string> Addresses => _agents.Select(a => a.Address).ToList();

    public IEnumerable<(string Address, SandboxAgent.SandboxAgentClient Client)> Clients =>
        _agents.Select(a => (a.Address, new SandboxAgent.SandboxAgentClient(a.Channel)));

    /// <summary>A plain-words reason an address cannot work right now (a missing socket file), or null.</summary>
    public static string? LocalProblem(string address) =>
        address.StartsWith("unix:", StringComparison.Ordinal) && !File.Exists(address["unix:".Length..])
            ? $"no agent socket at {address["unix:".Length..]}: is the sandbox agent running?"
            : null;

    private static GrpcChannel Open(string address, PythOnOptions options)
    {
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = address["unix:".Length..];
            var handler = new SocketsHttpHandler
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
                EnableMultipleHttp2Connections = true,
            };
            return GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions { HttpHandler = WithToken(handler, options.AgentToken) });
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new PythOn.Hosting.InvalidSettingException($"PythOn:Agents entry '{address}' must be unix:/path/to/agent.sock, https://host:port or http://host:port.");
        if (uri.Scheme == "http" && !uri.IsLoopback && !options.AllowCleartextAgents)
            throw new PythOn.Hosting.InvalidSettingException(
                $"PythOn:Agents entry '{address}' is cleartext to a non-loopback host: the link carries code, secrets and ZK master passwords. " +
                "Use https:// (Agent:Tls on the agent) or, on a network you trust, set PythOn:AllowCleartextAgents=true.");
        if (string.IsNullOrEmpty(options.AgentToken))
            throw new PythOn.Hosting.InvalidSettingException(
                $"PythOn:Agents entry '{address}' is a TCP agent: set PythOn:AgentToken to the agent's Agent:AuthToken.");
        var tcp = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        var tls = options.AgentTls;
        if (!string.IsNullOrWhiteSpace(tls.CertificatePath))
            tcp.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(tls.CertificatePath, string.IsNullOrWhiteSpace(tls.KeyPath) ? null : tls.KeyPath)];
        if (!string.IsNullOrWhiteSpace(tls.CaPath))
        {
            var ca = X509Certificate2.CreateFromPem(File.ReadAllText(tls.CaPath));
            tcp.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null) return false;
                if ((errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false; // name mismatch etc.
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        return GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = WithToken(tcp, options.AgentToken) });
    }

    private static HttpMessageHandler WithToken(HttpMessageHandler inner, string? token) =>
        string.IsNullOrEmpty(token) ? inner : new BearerToken(inner, token);

    /// <summary>Adds the agent token to every request of the channel.</summary>
    private sealed class BearerToken(HttpMessageHandler inner, string token) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation("authorization", "Bearer " + token);
            return base.SendAsync(request, cancellationToken);
        }
    }

    public void Dispose()
    {
        foreach (var (_, channel) in _agents) channel.Dispose();
    }
}

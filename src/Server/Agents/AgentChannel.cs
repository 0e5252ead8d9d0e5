using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using PythOn.Server.Hosting;

namespace PythOn.Server.Agents;

/// <summary>Opens the gRPC channel to one agent endpoint: its unix socket, or TCP with the token, TLS and the
/// client certificate of PythOn:AgentTls. An agent found through DNS is connected at its resolved address while TLS
/// checks the certificate against the DNS name, the way gRPC's own resolvers do.</summary>
public static class AgentChannel
{
    // A connect that hangs (an address that went away) must not hold a run for long: the next agent can take it.
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    // An agent that stops answering on an open connection (frozen, its host gone) fails the calls on it within ~10 s
    // (HTTP/2 pings unanswered) instead of at their deadline; a call that had not started moves to the next agent.
    private static readonly TimeSpan PingDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

    public static GrpcChannel Open(AgentEndpoint endpoint, PythOnOptions options)
    {
        if (endpoint.UnixPath is { } path)
        {
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = (_, cancellationToken) => ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken),
                EnableMultipleHttp2Connections = true,
            };
            WithTimeouts(handler);
            return GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions { HttpHandler = WithToken(handler, options.AgentToken) });
        }

        var tcp = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        WithTimeouts(tcp);
        if (endpoint.ConnectTo is { } address)
            tcp.ConnectCallback = (_, cancellationToken) => ConnectAsync(address, cancellationToken);
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
        return GrpcChannel.ForAddress(endpoint.Uri!, new GrpcChannelOptions { HttpHandler = WithToken(tcp, options.AgentToken) });
    }

    private static void WithTimeouts(SocketsHttpHandler handler)
    {
        handler.ConnectTimeout = ConnectTimeout;
        handler.KeepAlivePingDelay = PingDelay;
        handler.KeepAlivePingTimeout = PingTimeout;
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
    }

    private static async ValueTask<Stream> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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
}

using System.Net.Sockets;
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
        _agents = addresses.Select(a => (a, Open(a))).ToList();
    }

    public IReadOnlyList<string> Addresses => _agents.Select(a => a.Address).ToList();

    public IEnumerable<(string Address, SandboxAgent.SandboxAgentClient Client)> Clients =>
        _agents.Select(a => (a.Address, new SandboxAgent.SandboxAgentClient(a.Channel)));

    /// <summary>A plain-words reason an address cannot work right now (a missing socket file), or null.</summary>
    public static string? LocalProblem(string address) =>
        address.StartsWith("unix:", StringComparison.Ordinal) && !File.Exists(address["unix:".Length..])
            ? $"no agent socket at {address["unix:".Length..]}: is the sandbox agent running?"
            : null;

    private static GrpcChannel Open(string address)
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
            return GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions { HttpHandler = handler });
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new InvalidOperationException($"PythOn:Agents entry '{address}' must be unix:/path/to/agent.sock or http://host:port.");
        return GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
    }

    public void Dispose()
    {
        foreach (var (_, channel) in _agents) channel.Dispose();
    }
}

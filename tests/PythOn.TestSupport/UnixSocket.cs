using System.Net.Sockets;

namespace PythOn.TestSupport;

/// <summary>HTTP (and so gRPC) over a unix domain socket: the agent's socket, Docker's engine socket.</summary>
public static class UnixSocket
{
    /// <summary>A handler whose every connection goes to <paramref name="path"/>; the request URI's host is ignored.</summary>
    public static SocketsHttpHandler Handler(string path) => new()
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
}

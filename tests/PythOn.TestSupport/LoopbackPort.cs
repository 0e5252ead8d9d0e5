using System.Net;
using System.Net.Sockets;

namespace PythOn.TestSupport;

/// <summary>A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it); a caller that loses it to a race
/// binds again with a new one.</summary>
public static class LoopbackPort
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PythOn.Sandbox.Agent.Hosting;

/// <summary>Kestrel endpoints: a unix socket by default, TCP when configured; HTTP/2 only (gRPC).</summary>
public static class Listeners
{
    public static void Configure(KestrelServerOptions kestrel, AgentOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.SocketPath))
        {
            PrepareSocketPath(options.SocketPath);
            kestrel.ListenUnixSocket(options.SocketPath, o => o.Protocols = HttpProtocols.Http2);
        }
        if (!string.IsNullOrWhiteSpace(options.ListenTcp))
        {
            if (!IPEndPoint.TryParse(options.ListenTcp, out var endpoint) || endpoint.Port == 0)
                throw new InvalidOperationException($"Agent:ListenTcp '{options.ListenTcp}' is not an address:port such as 127.0.0.1:8090");
            kestrel.Listen(endpoint, o => o.Protocols = HttpProtocols.Http2);
        }
        if (string.IsNullOrWhiteSpace(options.SocketPath) && string.IsNullOrWhiteSpace(options.ListenTcp))
            throw new InvalidOperationException("Agent:SocketPath and Agent:ListenTcp are both empty: nothing to listen on");
    }

    /// <summary>Creates the socket's directory and removes a stale socket file; refuses when a live agent answers on it.</summary>
    private static void PrepareSocketPath(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        if (!File.Exists(path))
            return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new InvalidOperationException($"another process is listening on {path}; stop it or set Agent:SocketPath");
            }
            catch (SocketException)
            {
                // Nobody listening: a stale file from a process that died.
            }
        }
        File.Delete(path);
    }

    /// <summary>Only the owner and group may talk to the agent: it runs arbitrary code.</summary>
    public static void RestrictSocket(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;

namespace PythOn.Sandbox.Agent.Egress;

/// <summary>
/// The only way out of an install container (which runs with --network none): a small HTTP proxy on a unix socket
/// (StateDir/egress.sock) that the container reaches through a relay on its own loopback (installer/install.py). It
/// takes CONNECT host:port (HTTPS) and absolute-URI requests (plain HTTP), asks <see cref="EgressPolicy"/>, and
/// either connects to the address the policy resolved or answers 403 with the reason. Nothing else leaves the
/// container: not this server's ports, not the agent's, not link-local metadata, not private networks.
/// </summary>
public sealed class EgressProxy(IOptions<AgentOptions> options, EgressPolicy policy, ILogger<EgressProxy> log) : BackgroundService
{
    private const int MaxHeaderBytes = 16 * 1024;
    private const int MaxConnections = 64;
    private readonly SemaphoreSlim _connections = new(MaxConnections);

    public string SocketPath => Path.Combine(options.Value.StateDir, "egress.sock");

    /// <summary>Connections refused by the policy since start (for tests and status).</summary>
    public int Refused => Volatile.Read(ref _refused);
    private int _refused;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        Directory.CreateDirectory(options.Value.StateDir);
        if (File.Exists(SocketPath)) File.Delete(SocketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen(128);
        // The installer's uid must connect; what it reaches is the policy's decision, not the socket's.
        File.SetUnixFileMode(SocketPath, (UnixFileMode)0b110_110_110);
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (!_connections.Wait(0))
            {
                client.Dispose();
                continue;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    await HandleAsync(client, stop);
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
                finally
                {
                    client.Dispose();
                    _connections.Release();
                }
            }, CancellationToken.None);
        }
    }

    private async Task HandleAsync(Socket client, CancellationToken stop)
    {
        await using var downstream = new NetworkStream(client, ownsSocket: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var (head, rest) = await ReadHeadAsync(downstream, timeout.Token);
        if (head is null)
            return;
        var lines = head.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3)
        {
            await RefuseAsync(downstream, 400, "malformed request line");
            return;
        }
        var (method, target, version) = (parts[0], parts[1], parts[2]);
        string host;
        int port;
        string? originForm = null;
        if (method == "CONNECT")
        {
            var colon = target.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(target[(colon + 1)..], out port))
            {
                await RefuseAsync(downstream, 400, "CONNECT needs host:port");
                return;
            }
            host = target[..colon];
        }
        else if (Uri.TryCreate(target, UriKind.Absolute, out var uri) && uri.Scheme == "http")
        {
            (host, port, originForm) = (uri.Host, uri.Port, uri.PathAndQuery);
        }
        else
        {
            await RefuseAsync(downstream, 400, "only CONNECT and absolute http:// requests are proxied");
            return;
        }

        var (address, refusal) = await policy.ResolveAsync(host, port, timeout.Token);
        if (address is null)
        {
            Interlocked.Increment(ref _refused);
            log.LogWarning("Install egress refused: {Refusal}", refusal);
            await RefuseAsync(downstream, 403, $"pyth-on egress: {refusal}");
            return;
        }
        using var upstreamSocket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await upstreamSocket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
        await using var upstream = new NetworkStream(upstreamSocket, ownsSocket: false);
        if (originForm is null)
        {
            await downstream.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), stop);
        }
        else
        {
            // Origin-form request line, the client's headers without proxy ones, one request per connection.
            var request = new StringBuilder($"{method} {originForm} {version}\r\n");
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
                if (!line.StartsWith("proxy-", StringComparison.OrdinalIgnoreCase) && !line.StartsWith("connection:", StringComparison.OrdinalIgnoreCase))
                    request.Append(line).Append("\r\n");
            request.Append("Connection: close\r\n\r\n");
            await upstream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), stop);
        }
        if (rest.Length > 0)
            await upstream.WriteAsync(rest, stop);
        var up = downstream.CopyToAsync(upstream, stop);
        var down = upstream.CopyToAsync(downstream, stop);
        await Task.WhenAny(up, down);
        upstreamSocket.Shutdown(SocketShutdown.Both);
        client.Shutdown(SocketShutdown.Both);
    }

    private static async Task<(string? Head, byte[] Body)> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxHeaderBytes];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(filled), ct);
            if (n == 0)
                return (null, []);
            filled += n;
            var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
                return (Encoding.ASCII.GetString(buffer, 0, end), buffer[(end + 4)..filled]);
        }
        return (null, []);
    }

    private static Task RefuseAsync(Stream stream, int status, string reason) =>
        stream.WriteAsync(Encoding.UTF8.GetBytes(
            $"HTTP/1.1 {status} {(status == 403 ? "Forbidden" : "Bad Request")}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {Encoding.UTF8.GetByteCount(reason) + 1}\r\n\r\n{reason}\n")).AsTask();
}

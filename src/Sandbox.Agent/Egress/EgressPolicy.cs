using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace PythOn.Sandbox.Agent.Egress;

/// <summary>
/// Where an install may connect: only the configured index hosts (Agent:Packages:PipIndexUrl, NpmRegistry and
/// AllowedHosts, by host and port), and of their addresses never a loopback, link-local, private, unique-local,
/// multicast or unspecified one, unless that host is itself the configured index (a test's index on 127.0.0.1).
/// Decided before any connection, on the addresses the agent resolved itself; the proxy then connects to exactly
/// the address it checked, so a DNS answer cannot change between check and use.
/// </summary>
public sealed class EgressPolicy(IOptions<AgentOptions> options)
{
    private readonly HashSet<(string Host, int Port)> _configured = Configured(options.Value.Packages);

    private static HashSet<(string, int)> Configured(PackageOptions o)
    {
        var set = new HashSet<(string, int)>();
        foreach (var url in new[] { o.PipIndexUrl, o.NpmRegistry })
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
                set.Add((uri.IdnHost.ToLowerInvariant(), uri.Port));
        foreach (var entry in o.AllowedHosts)
        {
            var colon = entry.LastIndexOf(':');
            if (colon > 0 && int.TryParse(entry[(colon + 1)..], out var port))
                set.Add((entry[..colon].ToLowerInvariant(), port));
            else
                set.Add((entry.ToLowerInvariant(), 443));
        }
        return set;
    }

    /// <summary>The address to connect to for host:port, or why not.</summary>
    public async Task<(IPAddress? Address, string? Refusal)> ResolveAsync(string host, int port, CancellationToken ct)
    {
        host = host.Trim('[', ']').ToLowerInvariant();
        if (!_configured.Contains((host, port)))
            return (null, $"{host}:{port} is not a configured package index (Agent:Packages:PipIndexUrl, NpmRegistry, AllowedHosts)");
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        }
        catch (SocketException e)
        {
            return (null, $"{host} does not resolve: {e.Message}");
        }
        var usable = addresses.Where(a => IsPublic(a) || IsConfiguredLiteral(host)).ToList();
        if (usable.Count == 0)
            return (null, $"{host} resolves only to addresses installs may not reach ({string.Join(", ", addresses.Select(a => a.ToString()))})");
        return (usable[0], null);
    }

    // A configured index given as a literal address (http://127.0.0.1:PORT/simple) is allowed as written.
    private bool IsConfiguredLiteral(string host) => IPAddress.TryParse(host, out _);

    /// <summary>True for an address on the public internet: not loopback, link-local (cloud metadata at
    /// 169.254.169.254), private (RFC 1918, CGNAT, unique-local fc00::/7), multicast, broadcast or unspecified.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.Equals(IPAddress.Broadcast) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast)
            return false;
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return !(b[0] == 10 || b[0] == 0 || b[0] >= 224 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) || (b[0] == 192 && b[1] == 0 && b[2] == 0)
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)));
        return (b[0] & 0xFE) != 0xFC; // fc00::/7 unique local
    }
}

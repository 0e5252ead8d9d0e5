using System.Net;
using PythOn.Hosting;
using PythOn.Server.Hosting;

namespace PythOn.Server.Agents;

/// <summary>Where one agent listens: a unix socket, or a URI (TLS and the certificate's name from it), optionally
/// reached at an address DNS gave for the URI's host.</summary>
/// <param name="Address">How the agent is named in logs, errors and health.</param>
/// <param name="ConnectTo">For an agent found through DNS: the resolved address the socket connects to.</param>
public sealed record AgentEndpoint(string Address, string? UnixPath, Uri? Uri, IPEndPoint? ConnectTo = null)
{
    /// <summary>A plain-words reason this endpoint cannot work right now (a missing socket file), or null.</summary>
    public string? LocalProblem => UnixPath is not null && !File.Exists(UnixPath)
        ? $"no agent socket at {UnixPath}: is the sandbox agent running?"
        : null;
}

/// <summary>One PythOn:Agents entry: a fixed agent, or a DNS name standing for as many agents as it resolves to.</summary>
public abstract record AgentTarget(string Entry)
{
    public sealed record Fixed(string Entry, AgentEndpoint Endpoint) : AgentTarget(Entry);

    /// <summary>gRPC's naming, <c>dns:///host:port</c>: every A/AAAA record is one agent (a headless Service).</summary>
    public sealed record Dns(string Entry, Uri ResolverUri, string Host, int Port, string Scheme) : AgentTarget(Entry)
    {
        public AgentEndpoint EndpointAt(IPEndPoint address) =>
            new($"{address} ({Entry})", null, new UriBuilder(Scheme, Host, Port).Uri, address);
    }

    /// <summary>Parses and checks an entry; a malformed or unsafe one stops the start naming the entry and the fix.</summary>
    public static AgentTarget Parse(string entry, PythOnOptions options)
    {
        if (entry.StartsWith("unix:", StringComparison.Ordinal))
            return new Fixed(entry, new AgentEndpoint(entry, entry["unix:".Length..], null));
        if (entry.StartsWith("dns:", StringComparison.Ordinal))
            return ParseDns(entry, options);

        if (!Uri.TryCreate(entry, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new InvalidSettingException(
                $"PythOn:Agents entry '{entry}' must be unix:/path/to/agent.sock, https://host:port, http://host:port or dns:///name:port.");
        if (uri.Scheme == "http" && !uri.IsLoopback && !options.AllowCleartextAgents)
            throw Cleartext(entry);
        RequireToken(entry, options);
        return new Fixed(entry, new AgentEndpoint(entry, null, uri));
    }

    private static Dns ParseDns(string entry, PythOnOptions options)
    {
        // dns:///host:port (no DNS server authority) or dns:host:port, as gRPC names them.
        var rest = entry["dns:".Length..];
        if (rest.StartsWith("///", StringComparison.Ordinal)) rest = rest[3..];
        else if (rest.StartsWith("//", StringComparison.Ordinal))
            throw new InvalidSettingException($"PythOn:Agents entry '{entry}' names a DNS server; use dns:///name:port (the system's resolver).");
        if (!Uri.TryCreate("tcp://" + rest, UriKind.Absolute, out var parsed) || parsed.IsDefaultPort || parsed.Port <= 0
            || parsed.AbsolutePath != "/" || string.IsNullOrEmpty(parsed.Host))
            throw new InvalidSettingException($"PythOn:Agents entry '{entry}' must be dns:///name:port, e.g. dns:///agents.pyth-on.svc:8090.");
        var scheme = options.Fleet.DnsScheme;
        if (scheme == "http" && !parsed.IsLoopback && !options.AllowCleartextAgents)
            throw Cleartext(entry);
        RequireToken(entry, options);
        return new Dns(entry, new Uri($"dns:///{parsed.Authority}"), parsed.IdnHost, parsed.Port, scheme);
    }

    private static InvalidSettingException Cleartext(string entry) => new(
        $"PythOn:Agents entry '{entry}' is cleartext to a non-loopback host: the link carries code, secrets and ZK master passwords. " +
        "Use https:// or dns:/// with PythOn:Fleet:DnsScheme=https (Agent:Tls on the agent) or, on a network you trust, set PythOn:AllowCleartextAgents=true.");

    private static void RequireToken(string entry, PythOnOptions options)
    {
        if (string.IsNullOrEmpty(options.AgentToken))
            throw new InvalidSettingException($"PythOn:Agents entry '{entry}' is a TCP agent: set PythOn:AgentToken to the agent's Agent:AuthToken.");
    }
}

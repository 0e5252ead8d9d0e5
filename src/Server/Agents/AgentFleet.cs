using System.Net;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Options;
using PythOn.Server.Hosting;

namespace PythOn.Server.Agents;

/// <summary>
/// The sandbox agents of PythOn:Agents: one member (channel) per fixed entry and per address a dns:/// entry resolves
/// to. DNS entries are resolved by grpc-dotnet's own <see cref="DnsResolverFactory"/> (<see cref="AgentDiscovery"/>), again every
/// PythOn:Fleet:ResolveSeconds: agents appear and go with the records (a failed lookup keeps the agents it had). A
/// channel per agent, not one balanced channel, because a run must reach one chosen agent — the least loaded, the one
/// that installed its packages — and fail over to another by choice.
/// </summary>
public sealed class AgentFleet : IDisposable
{
    public const string DefaultAddress = "unix:/run/pyth-on/agent.sock";

    private readonly PythOnOptions _options;
    private readonly ILogger<AgentFleet> _log;
    private readonly List<AgentDiscovery> _discoveries = [];
    private readonly object _gate = new();
    // Per entry, in configuration order: its members by address.
    private readonly Dictionary<string, Dictionary<string, AgentMember>> _byEntry = new(StringComparer.Ordinal);
    private IReadOnlyList<AgentMember> _members = [];
    private int _rotation;

    public AgentFleet(IOptions<PythOnOptions> options, ILoggerFactory loggers) : this(options, loggers, null) { }

    /// <param name="dnsResolver">The resolver of dns:/// entries; tests give their own, otherwise grpc-dotnet's DNS resolver.</param>
    internal AgentFleet(IOptions<PythOnOptions> options, ILoggerFactory loggers, ResolverFactory? dnsResolver)
    {
        _options = options.Value;
        _log = loggers.CreateLogger<AgentFleet>();
        var entries = _options.Agents.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()).ToList();
        if (entries.Count == 0) entries.Add(DefaultAddress);
        // Every entry is checked before anything is opened: a bad one stops the start naming it.
        var targets = entries.Select(e => AgentTarget.Parse(e, _options)).ToList();
        Entries = entries;
        foreach (var target in targets)
        {
            _byEntry[target.Entry] = new Dictionary<string, AgentMember>(StringComparer.Ordinal);
            if (target is AgentTarget.Fixed f) Replace(f.Entry, [f.Endpoint]);
        }
        var factory = dnsResolver ?? new DnsResolverFactory(TimeSpan.FromSeconds(_options.Fleet.ResolveSeconds));
        foreach (var dns in targets.OfType<AgentTarget.Dns>())
            _discoveries.Add(new AgentDiscovery(dns.ResolverUri, factory, loggers, result => Resolved(dns, result)));
    }

    /// <summary>The configured entries (PythOn:Agents, or the default socket).</summary>
    public IReadOnlyList<string> Entries { get; }

    /// <summary>Every agent now known, in configuration order.</summary>
    public IReadOnlyList<AgentMember> Members => Volatile.Read(ref _members);

    /// <summary>
    /// The agents to try for a run in <paramref name="language"/>, best first (<see cref="AgentPicker"/>); the caller
    /// tries them in order until one takes the run. Agents that cannot take it (out of rotation, shutting down, no slot
    /// for the language) are left out and their reason added to <paramref name="skipped"/>.
    /// </summary>
    public IReadOnlyList<AgentMember> ForRun(string language, ICollection<string> skipped) => Pick(language, skipped);

    /// <summary>The agents to try for a package install, in rotation, those with fewer of our calls first.</summary>
    public IReadOnlyList<AgentMember> ForInstall(ICollection<string> skipped) => Pick(null, skipped);

    private IReadOnlyList<AgentMember> Pick(string? language, ICollection<string> skipped)
    {
        var members = Members;
        var views = members.Select(m => m.View()).ToList();
        var loads = views.Select(v => v.LoadFor(language)).ToList();
        var order = AgentPicker.Order(loads, Interlocked.Increment(ref _rotation));
        var picked = new List<AgentMember>(order.Count);
        for (var i = 0; i < members.Count; i++)
        {
            if (!order.Contains(i))
            {
                skipped.Add($"{members[i].Address}: {Why(views[i], language)}");
                continue;
            }
            if (members[i].Endpoint.LocalProblem is { } problem)
            {
                // A socket file that is gone is known at once, before any probe: no call is tried there.
                skipped.Add(problem);
                members[i].Unreachable(problem);
            }
        }
        foreach (var i in order)
            if (members[i].Endpoint.LocalProblem is null) picked.Add(members[i]);
        if (members.Count == 0) skipped.Add($"DNS has found no agent yet for {string.Join(", ", Entries)}");
        return picked;
    }

    private static string Why(AgentView view, string? language) =>
        view.OutReason ?? (view.Status is { Draining: true } ? "shutting down" : language is null ? "no slots configured" : $"no {language} slots configured");

    private void Resolved(AgentTarget.Dns dns, AgentDiscovery.ResolverResultView result)
    {
        if (result.Status.StatusCode != Grpc.Core.StatusCode.OK)
        {
            _log.LogWarning("Resolving {Entry} failed, keeping the agents it had: {Detail}", dns.Entry, result.Status.Detail);
            return;
        }
        var endpoints = result.Addresses
            .Select(a => IPAddress.TryParse(a.EndPoint.Host, out var ip) ? dns.EndpointAt(new IPEndPoint(ip, a.EndPoint.Port)) : null)
            .OfType<AgentEndpoint>().ToList();
        Replace(dns.Entry, endpoints);
    }

    /// <summary>Makes the members of <paramref name="entry"/> exactly <paramref name="endpoints"/>: new ones get a
    /// channel, kept ones keep theirs (and their state), dropped ones are retired.</summary>
    private void Replace(string entry, IReadOnlyList<AgentEndpoint> endpoints)
    {
        lock (_gate)
        {
            var current = _byEntry[entry];
            var wanted = endpoints.DistinctBy(e => e.Address).ToDictionary(e => e.Address, StringComparer.Ordinal);
            foreach (var gone in current.Keys.Where(a => !wanted.ContainsKey(a)).ToList())
            {
                _log.LogInformation("Agent {Address} left the fleet", gone);
                current.Remove(gone, out var member);
                member!.Retire();
            }
            foreach (var (address, endpoint) in wanted.Where(w => !current.ContainsKey(w.Key)))
            {
                _log.LogInformation("Agent {Address} joined the fleet", address);
                current[address] = new AgentMember(endpoint, AgentChannel.Open(endpoint, _options));
            }
            Volatile.Write(ref _members, _byEntry.Values.SelectMany(d => d.Values).ToList());
        }
    }

    public void Dispose()
    {
        foreach (var discovery in _discoveries) discovery.Dispose();
        lock (_gate)
            foreach (var member in _byEntry.Values.SelectMany(d => d.Values)) member.Retire();
    }
}

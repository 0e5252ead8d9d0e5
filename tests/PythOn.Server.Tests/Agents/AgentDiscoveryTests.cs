using System.Net;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PythOn.Server.Agents;
using PythOn.Server.Hosting;

namespace PythOn.Server.Tests.Agents;

/// <summary>
/// dns:/// entries: the fleet has one agent per resolved address and follows the answers as they change. One test
/// asks the machine's resolver for localhost; the others give the fleet a resolver whose answers the test sets.
/// </summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class AgentDiscoveryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static IOptions<PythOnOptions> Options(params string[] agents) =>
        Microsoft.Extensions.Options.Options.Create(new PythOnOptions { Agents = [.. agents], AgentToken = new string('t', 40) });

    private static string[] Addresses(AgentFleet fleet) => fleet.Members.Select(m => m.Address).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task A_dns_entry_for_localhost_becomes_one_agent_per_address_the_name_resolves_to()
    {
        var port = LoopbackPort.Free();
        var expected = (await Dns.GetHostAddressesAsync("localhost"))
            .Select(ip => $"{new IPEndPoint(ip, port)} (dns:///localhost:{port})").Distinct().Order(StringComparer.Ordinal).ToArray();
        using var fleet = new AgentFleet(Options($"dns:///localhost:{port}"), NullLoggerFactory.Instance);

        await Poll.UntilAsync(() => Task.FromResult(Addresses(fleet).SequenceEqual(expected)), Deadline,
            "the fleet has the addresses localhost resolves to", () => string.Join(", ", Addresses(fleet)));
        Assert.All(fleet.Members, m => Assert.Equal($"https://localhost:{port}/", m.Endpoint.Uri!.ToString()));
    }

    [Fact]
    public async Task Agents_join_and_leave_the_fleet_as_the_resolved_addresses_change()
    {
        var resolver = new ScriptedResolverFactory("10.0.0.1", "10.0.0.2");
        using var fleet = new AgentFleet(Options("dns:///agents.test:8090"), NullLoggerFactory.Instance, resolver);
        await UntilAddressesAsync(fleet, "10.0.0.1", "10.0.0.2");
        var kept = fleet.Members.Single(m => m.Address.StartsWith("10.0.0.2:", StringComparison.Ordinal));

        resolver.Answer("10.0.0.2", "10.0.0.3");

        await UntilAddressesAsync(fleet, "10.0.0.2", "10.0.0.3");
        Assert.Same(kept, fleet.Members.Single(m => m.Address.StartsWith("10.0.0.2:", StringComparison.Ordinal))); // its state stays
    }

    [Fact]
    public async Task A_failed_lookup_keeps_the_agents_the_fleet_had()
    {
        var resolver = new ScriptedResolverFactory("10.0.0.1");
        using var fleet = new AgentFleet(Options("dns:///agents.test:8090"), NullLoggerFactory.Instance, resolver);
        await UntilAddressesAsync(fleet, "10.0.0.1");

        resolver.Fail();
        await Poll.UntilAsync(() => Task.FromResult(resolver.Failures > 0), Deadline, "the resolver has failed once");

        Assert.Equal(["10.0.0.1:8090 (dns:///agents.test:8090)"], Addresses(fleet));
    }

    [Fact]
    public async Task Fixed_entries_and_dns_agents_serve_side_by_side()
    {
        var resolver = new ScriptedResolverFactory("10.0.0.1");
        using var fleet = new AgentFleet(Options("unix:/tmp/no-such-agent.sock", "dns:///agents.test:8090"), NullLoggerFactory.Instance, resolver);

        await UntilAddressesAsync(fleet, "10.0.0.1");
        Assert.Contains("unix:/tmp/no-such-agent.sock", Addresses(fleet));
    }

    private static Task UntilAddressesAsync(AgentFleet fleet, params string[] ips) =>
        Poll.UntilAsync(() => Task.FromResult(
                ips.All(ip => Addresses(fleet).Contains($"{ip}:8090 (dns:///agents.test:8090)"))
                && fleet.Members.Count(m => m.Address.EndsWith("(dns:///agents.test:8090)", StringComparison.Ordinal)) == ips.Length),
            Deadline, $"the fleet's DNS agents are {string.Join(", ", ips)}", () => string.Join(", ", Addresses(fleet)));

    /// <summary>A "dns" resolver whose answers the test sets: grpc-dotnet's polling resolver over a list, not the network.</summary>
    private sealed class ScriptedResolverFactory(params string[] initial) : ResolverFactory
    {
        private volatile string[]? _answer = initial;
        private Scripted? _resolver;
        public int Failures;

        public override string Name => "dns";

        public override Resolver Create(ResolverOptions options) =>
            _resolver = new Scripted(this, int.Parse(options.Address.AbsolutePath.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));

        public void Answer(params string[] ips)
        {
            _answer = ips;
            _resolver!.Refresh();
        }

        public void Fail()
        {
            _answer = null;
            _resolver!.Refresh();
        }

        private sealed class Scripted(ScriptedResolverFactory factory, int port) : PollingResolver(NullLoggerFactory.Instance)
        {
            protected override Task ResolveAsync(CancellationToken cancellationToken)
            {
                if (factory._answer is not { } ips)
                {
                    Interlocked.Increment(ref factory.Failures);
                    Listener(ResolverResult.ForFailure(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "no such host")));
                }
                else
                {
                    Listener(ResolverResult.ForResult(ips.Select(ip => new BalancerAddress(ip, port)).ToList()));
                }
                return Task.CompletedTask;
            }
        }
    }
}

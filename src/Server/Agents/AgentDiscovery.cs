using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace PythOn.Server.Agents;

/// <summary>
/// Resolves one dns:/// entry with grpc-dotnet's own resolver, again every PythOn:Fleet:ResolveSeconds, and hands each
/// resolved address set to the fleet. grpc-dotnet starts a resolver only inside a channel, so this is a channel that
/// carries no call: its load balancer (<see cref="Publisher"/>) only passes the addresses on. The agents themselves
/// get a channel each (<see cref="AgentFleet"/>).
/// </summary>
public sealed class AgentDiscovery : IDisposable
{
    private const string PolicyName = "pyth-on-agent-discovery";
    private readonly GrpcChannel _channel;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="resolver">The resolver for the "dns" scheme: grpc-dotnet's DnsResolverFactory, or a test's own.</param>
    public AgentDiscovery(Uri address, ResolverFactory resolver, ILoggerFactory loggers, Action<ResolverResultView> onResolved)
    {
        var services = new ServiceCollection();
        services.AddSingleton(resolver);
        services.AddSingleton<LoadBalancerFactory>(new PublisherFactory(onResolved));
        services.AddSingleton(loggers);
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = services.BuildServiceProvider(),
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new LoadBalancingConfig(PolicyName) } },
            DisableResolverServiceConfig = true,
        });
        // Starts the resolver; the wait for a connection never ends (no subchannel is ever made) and is cancelled on dispose.
        _ = _channel.ConnectAsync(_stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _channel.Dispose();
        _stop.Dispose();
    }

    /// <summary>A resolution: its addresses (host is an IP literal), or why it failed.</summary>
    public sealed record ResolverResultView(Status Status, IReadOnlyList<BalancerAddress> Addresses);

    private sealed class PublisherFactory(Action<ResolverResultView> onResolved) : LoadBalancerFactory
    {
        public override string Name => PolicyName;
        public override LoadBalancer Create(LoadBalancerOptions options) => new Publisher(options.Controller, onResolved);
    }

    private sealed class Publisher(IChannelControlHelper controller, Action<ResolverResultView> onResolved) : LoadBalancer
    {
        private static readonly Status NoCalls = new(StatusCode.Unavailable, "the agent discovery channel carries no calls");

        public override void UpdateChannelState(ChannelState state)
        {
            onResolved(new ResolverResultView(state.Status, state.Addresses ?? []));
            controller.UpdateState(new BalancerState(ConnectivityState.TransientFailure, new Refuse()));
        }

        public override void RequestConnection() { }

        private sealed class Refuse : SubchannelPicker
        {
            public override PickResult Pick(PickContext context) => PickResult.ForFailure(NoCalls);
        }
    }
}

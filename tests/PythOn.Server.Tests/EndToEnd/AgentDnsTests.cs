using PythOn.Server.Tests.Infrastructure;
using static PythOn.Server.Tests.Infrastructure.Runs;

namespace PythOn.Server.Tests.EndToEnd;

/// <summary>
/// An agent found through DNS: PythOn:Agents holds dns:///localhost:PORT, the real server resolves the name and reaches
/// the real agent (TLS with client certificates and a token) at the resolved address, checking its certificate
/// against the name.
/// </summary>
[Collection(SandboxedServerCollection.Name)]
public sealed class AgentDnsTests(MutualTlsAgentFixture mtls) : IClassFixture<MutualTlsAgentFixture>
{
    [Fact]
    public async Task A_server_given_a_dns_name_runs_programs_on_the_agent_at_the_address_it_resolves_to()
    {
        var settings = mtls.ServerSettings(mtls.Ca.IssueClient("server"));
        settings["PythOn:Agents:0"] = $"dns:///localhost:{mtls.Port}";
        await using var server = await ServerProcess.StartAsync(settings);
        var user = await Users.RegisterAsync(server.Rest);
        var resolved = $"127.0.0.1:{mtls.Port} (dns:///localhost:{mtls.Port})";
        // Health lists the agents the fleet has: the one DNS gave, answering.
        await Poll.UntilAsync(async () =>
            (await server.Rest.GetAsync("/api/v1/health", user.Key)).Json.Items("agents")
                .Any(a => a.Str("address") == resolved && a.Prop("reachable").GetBoolean()),
            TimeSpan.FromSeconds(30), $"health lists {resolved} as reachable", () => server.Output);
        var before = (await mtls.Agent.StatusAsync()).RunsServed;

        var result = await server.Rpc.Execute.ExecuteAsync(Python("print('found through DNS')"), user.Key.Metadata);

        Assert.Equal("found through DNS\n", result.Output);
        Assert.Equal(before + 1, (await mtls.Agent.StatusAsync()).RunsServed);
    }
}

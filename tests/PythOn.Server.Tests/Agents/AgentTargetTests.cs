using PythOn.Hosting;
using PythOn.Server.Agents;
using PythOn.Server.Hosting;

namespace PythOn.Server.Tests.Agents;

/// <summary>The forms of a PythOn:Agents entry, and the start-up refusals of unsafe or malformed ones.</summary>
[Trait(Tier.Name, Tier.Fast)]
public sealed class AgentTargetTests
{
    private static readonly PythOnOptions WithToken = new() { AgentToken = new string('t', 40) };

    [Fact]
    public void A_dns_entry_names_the_host_and_port_and_uses_tls_by_default()
    {
        var target = Assert.IsType<AgentTarget.Dns>(AgentTarget.Parse("dns:///agents.pyth-on.svc:8090", WithToken));

        Assert.Equal(("agents.pyth-on.svc", 8090, "https"), (target.Host, target.Port, target.Scheme));
        var endpoint = target.EndpointAt(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.0.0.7"), 8090));
        Assert.Equal("https://agents.pyth-on.svc:8090/", endpoint.Uri!.ToString()); // TLS checks the certificate against the name
        Assert.Equal("10.0.0.7:8090 (dns:///agents.pyth-on.svc:8090)", endpoint.Address);
    }

    [Fact]
    public void The_short_dns_form_without_slashes_is_accepted()
    {
        var target = Assert.IsType<AgentTarget.Dns>(AgentTarget.Parse("dns:agents:9000", WithToken));

        Assert.Equal(("agents", 9000), (target.Host, target.Port));
    }

    [Theory]
    [InlineData("dns:///agents")]             // no port
    [InlineData("dns:///agents:8090/path")]
    [InlineData("dns://8.8.8.8/agents:8090")] // a DNS server of its own
    [InlineData("tcp://agents:8090")]
    public void A_malformed_entry_stops_the_start_naming_it(string entry)
    {
        var error = Assert.Throws<InvalidSettingException>(() => AgentTarget.Parse(entry, WithToken));

        Assert.Contains($"'{entry}'", error.Message);
    }

    [Fact]
    public void A_cleartext_dns_entry_for_a_remote_name_needs_AllowCleartextAgents()
    {
        var options = new PythOnOptions { AgentToken = WithToken.AgentToken, Fleet = { DnsScheme = "http" } };

        Assert.Throws<InvalidSettingException>(() => AgentTarget.Parse("dns:///agents.pyth-on.svc:8090", options));
        Assert.IsType<AgentTarget.Dns>(AgentTarget.Parse("dns:///localhost:8090", options));
        options.AllowCleartextAgents = true;
        Assert.IsType<AgentTarget.Dns>(AgentTarget.Parse("dns:///agents.pyth-on.svc:8090", options));
    }

    [Fact]
    public void A_dns_entry_without_the_agent_token_stops_the_start()
    {
        var error = Assert.Throws<InvalidSettingException>(() => AgentTarget.Parse("dns:///agents:8090", new PythOnOptions()));

        Assert.Contains("PythOn:AgentToken", error.Message);
    }
}

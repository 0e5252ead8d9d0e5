using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Generation;

/// <summary>
/// The real sandbox agent for the generate end-to-end tests (<see cref="AgentProcess"/>: Docker and the runtime image
/// through the repository's scripts, then the agent as its own process on a unix socket). Nothing is faked; when Docker
/// or the image cannot be had, every test of the collection fails with the reason.
/// </summary>
public sealed class SandboxAgentFixture : IAsyncLifetime
{
    private AgentProcess? _agent;

    public AgentProcess Agent => _agent ?? throw new InvalidOperationException("the agent has not started");

    /// <summary>The value for PythOn:Agents:0.</summary>
    public string Address => Agent.Address;

    public string Log => Agent.Log;

    public async Task InitializeAsync() => _agent = await AgentProcess.StartAsync("gen-test", pythonPool: 1, javaScriptPool: 1);

    public async Task DisposeAsync()
    {
        if (_agent is not null) await _agent.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxAgentCollection : ICollectionFixture<SandboxAgentFixture>
{
    public const string Name = "generate-sandbox";
}

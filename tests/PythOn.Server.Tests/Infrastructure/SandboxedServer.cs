namespace PythOn.Server.Tests.Infrastructure;

/// <summary>
/// The real server process wired to a real sandbox agent process (its own socket, instance id and warm pool):
/// the whole path from a REST or gRPC call down to a Docker container. Shared by the tests of a class or collection.
/// </summary>
public class SandboxedServerFixture : ITestServer, IAsyncLifetime
{
    private AgentProcess? _agent;
    private ServerProcess? _server;

    /// <summary>A short word for the agent's instance id (and so its container label).</summary>
    protected virtual string Purpose => "e2e";

    /// <summary>Server settings on top of the suite defaults and the agent address.</summary>
    protected virtual IReadOnlyDictionary<string, string> ServerSettings => new Dictionary<string, string>();

    /// <summary>Agent environment variables on top of AgentProcess's own (e.g. Agent__Telemetry__OtlpEndpoint).</summary>
    protected virtual IReadOnlyDictionary<string, string>? AgentSettings => null;

    public AgentProcess Agent => _agent ?? throw new InvalidOperationException("the agent has not started");
    public ServerProcess Server => _server ?? throw new InvalidOperationException("the server has not started");
    public RestClient Rest => Server.Rest;
    public Rpc Rpc => Server.Rpc;
    public string DataDirectory => Server.DataDirectory;

    /// <summary>Both processes' captured output, for failure messages.</summary>
    public string Logs => $"--- server ---\n{Server.Output}\n--- agent ---\n{Agent.Log}";

    public virtual async Task InitializeAsync()
    {
        _agent = await AgentProcess.StartAsync(Purpose, pythonPool: 2, javaScriptPool: 2, extra: AgentSettings);
        var settings = new Dictionary<string, string>(ServerSettings) { ["PythOn:Agents:0"] = _agent.Address };
        _server = await ServerProcess.StartAsync(settings);
    }

    public virtual async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_agent is not null) await _agent.DisposeAsync();
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
}

/// <summary>
/// One agent and one server for the Execute and ZK end-to-end classes. Its tests run one after another: the machine
/// is small, and timing assertions (timeouts, streaming) must not compete with each other for the CPU.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SandboxedServerCollection : ICollectionFixture<SandboxedServerFixture>
{
    public const string Name = "sandboxed server";
}

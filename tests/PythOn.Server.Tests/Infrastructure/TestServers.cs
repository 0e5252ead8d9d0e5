using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace PythOn.Server.Tests.Infrastructure;

/// <summary>What the contract tests need from a server, in-process or a real process.</summary>
public interface ITestServer : IAsyncDisposable
{
    RestClient Rest { get; }
    Rpc Rpc { get; }
    string DataDirectory { get; }
}

public static class TestServerExtensions
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ITestServer, System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<object>>>> Shared = new();

    /// <summary>
    /// Creates something once per server (e.g. accounts with a known history) and hands the same instance to every
    /// test that asks with the same key: registration costs an Argon2 hash, so read-only tests share accounts.
    /// </summary>
    public static async Task<T> SharedAsync<T>(this ITestServer server, string key, Func<Task<T>> create) where T : class
    {
        var entries = Shared.GetOrCreateValue(server);
        var entry = entries.GetOrAdd(key, _ => new Lazy<Task<object>>(async () => await create()));
        return (T)await entry.Value;
    }

    /// <summary>The JWT signing key the server generated into its data directory.</summary>
    public static SecurityKey JwtSigningKey(this ITestServer server) =>
        new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(Path.Combine(server.DataDirectory, "jwt-signing.key")).Trim()));
}

/// <summary>One real server process shared by the tests of a class.</summary>
public sealed class ProcessServerFixture : ITestServer, IAsyncLifetime
{
    private ServerProcess? _server;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("the server process has not started");
    public RestClient Rest => Server.Rest;
    public Rpc Rpc => Server.Rpc;
    public string DataDirectory => Server.DataDirectory;

    public async Task InitializeAsync() => _server = await ServerProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
}

/// <summary>Starts servers with given settings, for tests that need their own (rate limits, restarts).</summary>
public static class TestServers
{
    public static ITestServer InProcess(IDictionary<string, string?> settings)
    {
        var server = new InProcessServer(settings);
        _ = server.Server; // start now
        return server;
    }

    public static async Task<ITestServer> ProcessAsync(IDictionary<string, string?> settings) =>
        await ServerProcess.StartAsync(settings.ToDictionary(s => s.Key, s => s.Value ?? ""));

    /// <summary>
    /// Settings of every test server unless a test overrides them: rate limits high enough that the shared servers
    /// never throttle the suite (every test calls from 127.0.0.1; the rate-limit tests set small values), a sandbox
    /// agent address where no agent can be listening, and no model provider, so results don't depend on the machine.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SuiteDefaults = new Dictionary<string, string>
    {
        ["PythOn:RateLimits:AuthPerMinute"] = "100000",
        ["PythOn:RateLimits:UserPerMinute"] = "100000",
        ["PythOn:RateLimits:AnonymousPerMinute"] = "100000",
        ["PythOn:Agents:0"] = "unix:/nonexistent/pyth-on-tests/agent.sock",
        ["PythOn:Model:Provider"] = "",
        ["ANTHROPIC_API_KEY"] = "",
    };

    /// <summary><see cref="SuiteDefaults"/> overlaid with <paramref name="settings"/>.</summary>
    public static Dictionary<string, string?> WithDefaults(IEnumerable<KeyValuePair<string, string?>>? settings)
    {
        var merged = SuiteDefaults.ToDictionary(s => s.Key, s => (string?)s.Value);
        foreach (var (key, value) in settings ?? []) merged[key] = value;
        return merged;
    }

    public static string RandomKeyBase64() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}

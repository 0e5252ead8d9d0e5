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
    /// Rate limits high enough that the shared servers never throttle the suite (every test calls from 127.0.0.1);
    /// the rate-limit tests override them with small values.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> GenerousLimits = new Dictionary<string, string>
    {
        ["PythOn:RateLimits:AuthPerMinute"] = "100000",
        ["PythOn:RateLimits:UserPerMinute"] = "100000",
        ["PythOn:RateLimits:AnonymousPerMinute"] = "100000",
    };

    /// <summary><see cref="GenerousLimits"/> overlaid with <paramref name="settings"/>.</summary>
    public static Dictionary<string, string?> WithDefaults(IEnumerable<KeyValuePair<string, string?>>? settings)
    {
        var merged = GenerousLimits.ToDictionary(s => s.Key, s => (string?)s.Value);
        foreach (var (key, value) in settings ?? []) merged[key] = value;
        return merged;
    }

    public static string RandomKeyBase64() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}

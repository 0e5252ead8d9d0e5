using PythOn.Server.Tests.Infrastructure;
using PythOn.Tests.Packages;

namespace PythOn.Server.Tests.Replicas;

/// <summary>
/// Two real server processes (replicas A and B) on one fresh PostgreSQL database with the same keys, and one real
/// sandbox agent on the one dockerd, with a local package index: the service as a team would run it behind a load
/// balancer. Each replica has its own data directory, so nothing but the database is shared.
/// </summary>
public sealed class ReplicaFixture : IAsyncLifetime
{
    public const string OperatorKey = "operator-key-of-the-replica-tests-7c2e";
    public const int RunCap = 2;

    private PostgresDatabase? _database;
    private AgentProcess? _agent;
    private ServerProcess? _a;
    private ServerProcess? _b;

    public PackageIndex Index { get; } = new PackageIndex().AddWheel("pyth-on-replicated", "1.0");

    public string StoreRoot { get; } = Path.Combine(Path.GetTempPath(), "pyth-on-replica-stores-" + Guid.NewGuid().ToString("N")[..8]);

    public ServerProcess A => _a ?? throw new InvalidOperationException("not started");
    public ServerProcess B => _b ?? throw new InvalidOperationException("not started");
    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("not started");
    public AgentProcess Agent => _agent ?? throw new InvalidOperationException("not started");

    /// <summary>Every process's output, for failure messages.</summary>
    public string Logs => $"--- replica A ---\n{_a?.Output}\n--- replica B ---\n{_b?.Output}\n--- agent ---\n{_agent?.Log}";

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        await Index.StartAsync();
        Directory.CreateDirectory(StoreRoot);
        _agent = await AgentProcess.StartAsync("replicas", pythonPool: 3, javaScriptPool: 1, new Dictionary<string, string>
        {
            ["Agent__Packages__StoreRoot"] = StoreRoot,
            ["Agent__Packages__InstallerImage"] = await RuntimeImage.InstallerTagAsync(),
            ["Agent__Packages__PipIndexUrl"] = Index.SimpleUrl,
            ["Agent__Packages__Network"] = "none",
        });
        var settings = Settings(_database.ConnectionString, _agent.Address);
        // One after the other: both migrate at start, which the migration lock makes safe, but the first start is the
        // one that creates the schema and the test should not depend on which.
        _a = await ServerProcess.StartAsync(settings);
        _b = await ServerProcess.StartAsync(settings);
    }

    /// <summary>What every replica of the test service is started with.</summary>
    public static Dictionary<string, string> Settings(string connectionString, params string[] agents)
    {
        var settings = new Dictionary<string, string>
        {
            ["PythOn:Storage:Provider"] = "PostgreSQL",
            ["PythOn:Storage:ConnectionString"] = connectionString,
            ["PythOn:SecretsKey"] = SharedKeys.Secrets,
            ["PythOn:Jwt:SigningKey"] = SharedKeys.Jwt,
            ["PythOn:OperatorKey"] = OperatorKey,
            ["PythOn:Limits:MaxConcurrentRunsPerUser"] = RunCap.ToString(),
            ["PythOn:Packages:RetrySeconds"] = "1",
            ["PythOn:Packages:RunWaitSeconds"] = "120",
        };
        for (var i = 0; i < agents.Length; i++) settings[$"PythOn:Agents:{i}"] = agents[i];
        return settings;
    }

    public async Task DisposeAsync()
    {
        if (_a is not null) await _a.DisposeAsync();
        if (_b is not null) await _b.DisposeAsync();
        if (_agent is not null) await _agent.DisposeAsync();
        await Index.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        try
        {
            Directory.Delete(StoreRoot, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The keys every replica of one test service shares (made for this test run).</summary>
    private static class SharedKeys
    {
        public static readonly string Secrets = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        public static readonly string Jwt = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    }
}

[CollectionDefinition(Name)]
public sealed class ReplicaCollection : ICollectionFixture<ReplicaFixture>
{
    public const string Name = "replicas";
}

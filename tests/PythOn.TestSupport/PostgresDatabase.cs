using Npgsql;

namespace PythOn.TestSupport;

/// <summary>
/// A fresh, empty database (pythontest_&lt;random&gt;) on the test cluster, dropped on dispose. The cluster is the one
/// scripts/ensure-postgres.sh starts (run once per test run; it is idempotent), or the server named by the
/// PYTHON_TEST_POSTGRES connection string (a superuser or a role that may create databases). A test that needs
/// PostgreSQL fails with the script's output when it cannot be had: these tests never skip.
/// </summary>
public sealed class PostgresDatabase : IDisposable, IAsyncDisposable
{
    private static readonly Lazy<Task<string>> Server = new(FindServerAsync);

    private PostgresDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>An Npgsql connection string to this database (password included: for the code under test, never for output).</summary>
    public string ConnectionString { get; }

    /// <summary>The cluster's administrative connection string (database postgres).</summary>
    public static Task<string> ServerConnectionStringAsync() => Server.Value;

    /// <summary><see cref="CreateAsync"/> for synchronous fixtures (a contract's per-test store).</summary>
    public static PostgresDatabase Create() => Task.Run(CreateAsync).GetAwaiter().GetResult();

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var server = await Server.Value;
        var name = $"pythontest_{Guid.NewGuid():N}";
        try
        {
            await ExecuteAsync(server, $"CREATE DATABASE {name}");
        }
        catch (NpgsqlException e)
        {
            var at = new NpgsqlConnectionStringBuilder(server);
            throw new InvalidOperationException($"the tests' PostgreSQL at {at.Host}:{at.Port} (" +
                (Environment.GetEnvironmentVariable("PYTHON_TEST_POSTGRES") is { Length: > 0 } ? "PYTHON_TEST_POSTGRES" : "scripts/ensure-postgres.sh") +
                $") cannot create a database: {e.Message}", e);
        }
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        return new PostgresDatabase(name, connectionString);
    }

    /// <summary>Runs one statement against this database.</summary>
    public Task ExecuteAsync(string sql) => ExecuteAsync(ConnectionString, sql);

    /// <summary>The single value of one query against this database.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public void Dispose() => Task.Run(async () => await DisposeAsync()).GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        // FORCE ends any session the code under test still pools.
        await ExecuteAsync(await Server.Value, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> FindServerAsync()
    {
        var configured = Environment.GetEnvironmentVariable("PYTHON_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        // The script's stdout is the path of the file holding the connection string (its log goes to stderr).
        var file = (await Repo.RunScriptAsync("ensure-postgres.sh", TimeSpan.FromMinutes(5))).Split('\n')[^1].Trim();
        return (await File.ReadAllTextAsync(file)).Trim();
    }
}

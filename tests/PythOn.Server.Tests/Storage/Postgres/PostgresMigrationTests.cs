using Npgsql;
using PythOn.Hosting;
using PythOn.Server.Storage.Postgres;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>The schema's versioned migrations on a real PostgreSQL: applied at start, once, and never backwards.</summary>
public sealed class PostgresMigrationTests
{
    [Fact]
    public async Task A_fresh_database_is_migrated_to_the_latest_version()
    {
        await using var database = await PostgresDatabase.CreateAsync();

        using (PostgresStore.Connect(database.ConnectionString)) { }

        Assert.Equal(PostgresMigrations.Latest, await database.ScalarAsync<int>("SELECT max(version) FROM schema_version"));
        Assert.Equal((long)PostgresMigrations.All.Count, await database.ScalarAsync<long>("SELECT count(*) FROM schema_version"));
    }

    [Fact]
    public async Task A_second_start_applies_nothing()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        PostgresMigrations.Apply(dataSource);

        Assert.Empty(PostgresMigrations.Apply(dataSource));
    }

    [Fact]
    public async Task Replicas_starting_at_once_apply_each_migration_exactly_once()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var dataSources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(database.ConnectionString)).ToList();
        try
        {
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var starts = dataSources.Select(source => Task.Run(async () =>
            {
                await go.Task;
                return PostgresMigrations.Apply(source);
            })).ToList();
            go.SetResult();
            var applied = await Task.WhenAll(starts);

            Assert.Equal(PostgresMigrations.All.Select(m => m.Version), applied.SelectMany(versions => versions).Order());
            Assert.Equal((long)PostgresMigrations.All.Count, await database.ScalarAsync<long>("SELECT count(*) FROM schema_version"));
        }
        finally
        {
            foreach (var source in dataSources) source.Dispose();
        }
    }

    [Fact]
    public async Task A_database_migrated_by_a_newer_server_refuses_the_start_with_both_versions_named()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using (PostgresStore.Connect(database.ConnectionString)) { }
        var newer = PostgresMigrations.Latest + 1;
        await database.ExecuteAsync($"INSERT INTO schema_version (version, description) VALUES ({newer}, 'from the future')");

        var refused = Assert.Throws<InvalidSettingException>(() => PostgresStore.Connect(database.ConnectionString));

        Assert.Contains($"schema version {newer}, newer than this server's {PostgresMigrations.Latest}", refused.Message);
        Assert.Equal(newer, await database.ScalarAsync<int>("SELECT max(version) FROM schema_version"));
    }

    [Fact]
    public async Task A_role_that_only_owns_its_database_can_migrate_it()
    {
        var admin = await PostgresDatabase.ServerConnectionStringAsync();
        var name = $"pythontest_owner_{Guid.NewGuid():N}";
        var password = Guid.NewGuid().ToString("N");
        await Admin(admin, $"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'");
        try
        {
            await Admin(admin, $"CREATE DATABASE {name} OWNER {name}");
            var owner = new NpgsqlConnectionStringBuilder(admin) { Database = name, Username = name, Password = password };

            using (PostgresStore.Connect(owner.ConnectionString)) { }

            await using var connection = new NpgsqlConnection(owner.ConnectionString);
            await connection.OpenAsync();
            Assert.Equal(PostgresMigrations.Latest, PostgresMigrations.Current(connection));
        }
        finally
        {
            await Admin(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            await Admin(admin, $"DROP ROLE IF EXISTS {name}");
        }
    }

    private static async Task Admin(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using PythOn.Hosting;
using PythOn.Server.Storage;
using PythOn.Server.Storage.Postgres;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>
/// Starting with the PostgreSQL provider: a database that cannot be used ends the start with a setting error (which
/// the startup guard turns into exit code 2) naming the server and never the password.
/// </summary>
public sealed class PostgresStartupTests
{
    private const string Password = "Sw0rdfish-never-shown";

    [Fact]
    public void An_unreachable_server_is_a_setting_error_naming_host_and_port_but_not_the_password()
    {
        var port = LoopbackPort.Free(); // nothing listens there

        var refused = Assert.Throws<InvalidSettingException>(() =>
            PostgresStore.Connect($"Host=127.0.0.1;Port={port};Database=pythOn;Username=pythOn;Password={Password};Timeout=5"));

        Assert.StartsWith("PythOn:Storage:ConnectionString: cannot use PostgreSQL at ", refused.Message);
        Assert.Contains($"127.0.0.1:{port}", refused.Message);
        Assert.DoesNotContain(Password, refused.Message);
    }

    [Fact]
    public async Task A_wrong_password_is_a_setting_error_that_does_not_show_it()
    {
        var server = new NpgsqlConnectionStringBuilder(await PostgresDatabase.ServerConnectionStringAsync()) { Password = Password };

        var refused = Assert.Throws<InvalidSettingException>(() => PostgresStore.Connect(server.ConnectionString));

        Assert.Contains("28P01", refused.Message); // invalid_password
        Assert.Contains($"{server.Host}:{server.Port}", refused.Message);
        Assert.DoesNotContain(Password, refused.Message);
    }

    [Fact]
    public void A_malformed_connection_string_is_a_setting_error_that_does_not_quote_it()
    {
        var refused = Assert.Throws<InvalidSettingException>(() =>
            PostgresStore.Connect($"Host=127.0.0.1;Port=not-a-port-{Password};Password={Password}"));

        Assert.StartsWith("PythOn:Storage:ConnectionString is not a valid PostgreSQL connection string", refused.Message);
        Assert.DoesNotContain(Password, refused.Message);
    }

    [Fact]
    public async Task A_host_with_an_unreachable_database_fails_to_start_with_the_setting_error()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddPythOnPostgresStorage($"Host=127.0.0.1;Port={LoopbackPort.Free()};Password={Password};Timeout=5");
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<InvalidSettingException>(() => host.StartAsync());

        Assert.DoesNotContain(Password, refused.Message);
    }

    [Fact]
    public async Task A_host_start_migrates_the_database_and_serves_every_storage_interface()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddPythOnPostgresStorage(database.ConnectionString);
        using var host = builder.Build();

        await host.StartAsync();
        try
        {
            Assert.Equal(PostgresMigrations.Latest, await database.ScalarAsync<int>("SELECT max(version) FROM schema_version"));
            Assert.Equal("PostgreSQL", host.Services.GetRequiredService<IStorageHealth>().Provider);
            Assert.NotNull(host.Services.GetRequiredService<IAccountRepository>());
            Assert.NotNull(host.Services.GetRequiredService<IRefreshTokenRepository>());
            Assert.NotNull(host.Services.GetRequiredService<ISecretRepository>());
            Assert.NotNull(host.Services.GetRequiredService<IPackageRepository>());
            Assert.NotNull(host.Services.GetRequiredService<IZkCodeRepository>());
            Assert.NotNull(host.Services.GetRequiredService<IAuditRepository>());
        }
        finally
        {
            await host.StopAsync();
        }
    }
}

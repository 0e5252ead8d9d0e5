using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PythOn.Server.Storage.Postgres;

/// <summary>The PostgreSQL provider's services (PythOn:Storage:Provider=PostgreSQL).</summary>
public static class PostgresStorageSetup
{
    /// <summary>
    /// Registers every storage interface as a singleton over one <see cref="PostgresStore"/>, which connects and
    /// migrates the schema when the host starts (before it listens): an unusable database then ends the start with
    /// <see cref="PythOn.Hosting.InvalidSettingException"/> (exit 2, one line naming host and port, never the password).
    /// </summary>
    public static IServiceCollection AddPythOnPostgresStorage(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton(_ => PostgresStore.Connect(connectionString));
        services.AddSingleton<IAccountRepository>(s => new PostgresAccountRepository(s.GetRequiredService<PostgresStore>()));
        services.AddSingleton<IRefreshTokenRepository>(s => new PostgresRefreshTokenRepository(s.GetRequiredService<PostgresStore>()));
        services.AddSingleton<ISecretRepository>(s => new PostgresSecretRepository(s.GetRequiredService<PostgresStore>()));
        services.AddSingleton<IPackageRepository>(s => new PostgresPackageRepository(s.GetRequiredService<PostgresStore>()));
        services.AddSingleton<IZkCodeRepository>(s => new PostgresZkCodeRepository(s.GetRequiredService<PostgresStore>()));
        services.AddSingleton<IAuditRepository>(s => new PostgresAuditRepository(s.GetRequiredService<PostgresStore>()));
        services.AddSingleton<IStorageHealth>(s => new PostgresStorageHealth(s.GetRequiredService<PostgresStore>()));
        services.AddHostedService(s => new MigrateAtStart(s));
        return services.AddPythOnPostgresCoordination();
    }

    /// <summary>Resolves the store at host start, so connecting and migrating happen then and not on a first request.</summary>
    private sealed class MigrateAtStart(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<PostgresStore>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

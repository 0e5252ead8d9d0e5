using PythOn.Server.Execution;
using PythOn.Server.Packages;
using PythOn.Server.ZeroKnowledge;

namespace PythOn.Server.Storage.Postgres;

public static class PostgresCoordinationSetup
{
    /// <summary>
    /// Replicas on one PostgreSQL share the per-user run cap, the ZK failure budget, the package install locks and the
    /// interactive WebSocket tickets (registered before the in-process defaults, which are added with TryAdd).
    /// </summary>
    public static IServiceCollection AddPythOnPostgresCoordination(this IServiceCollection services)
    {
        services.AddSingleton<PostgresRunPlaces>();
        services.AddSingleton<IRunPlaces>(sp => sp.GetRequiredService<PostgresRunPlaces>());
        services.AddHostedService<RunPlaceHeartbeat>();
        services.AddSingleton<IZkAttemptLedger, PostgresZkAttemptLedger>();
        services.AddSingleton<IInstallLocks, PostgresInstallLocks>();
        services.AddSingleton<IInteractiveTickets, PostgresInteractiveTickets>();
        return services;
    }
}

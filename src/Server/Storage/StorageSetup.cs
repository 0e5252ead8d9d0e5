using Microsoft.Extensions.Options;
using PythOn.Hosting;
using PythOn.Server.Hosting;
using PythOn.Server.Storage.LiteDb;
using PythOn.Server.Storage.Postgres;
using PythOn.Server.Storage.Sqlite;

namespace PythOn.Server.Storage;

/// <summary>Registers the repositories of the provider chosen by PythOn:Storage:Provider.</summary>
public static class StorageSetup
{
    public static IServiceCollection AddPythOnStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection($"{PythOnOptions.Section}:Storage").Get<StorageOptions>() ?? new StorageOptions();
        // Checked while composing (exit 2 with the setting's name): the provider decides what gets registered at all.
        if (string.Equals(options.Provider, StorageOptions.LiteDb, StringComparison.OrdinalIgnoreCase))
            return services.AddLiteDbStorage();
        if (!string.Equals(options.Provider, StorageOptions.PostgreSql, StringComparison.OrdinalIgnoreCase))
            throw new InvalidSettingException(
                $"{PythOnOptions.Section}:Storage:Provider is '{options.Provider}': use {StorageOptions.LiteDb} or {StorageOptions.PostgreSql}.");
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new InvalidSettingException(
                $"{PythOnOptions.Section}:Storage:ConnectionString is required when {PythOnOptions.Section}:Storage:Provider is {StorageOptions.PostgreSql}.");
        // Replicas on one database must share their keys: a key generated per data directory would leave secrets stored by
        // one replica undecryptable on the others, and tokens signed by one refused by the others.
        foreach (var (key, what) in new[] { ("SecretsKey", "decrypt the same secrets"), ("Jwt:SigningKey", "accept each other's tokens") })
            if (string.IsNullOrWhiteSpace(configuration[$"{PythOnOptions.Section}:{key}"]))
                throw new InvalidSettingException(
                    $"{PythOnOptions.Section}:{key} is required when {PythOnOptions.Section}:Storage:Provider is {StorageOptions.PostgreSql}: " +
                    $"every replica must {what}; set the same base64 key of 32 bytes on each.");
        return services.AddPythOnPostgresStorage(options.ConnectionString);
    }

    private static IServiceCollection AddLiteDbStorage(this IServiceCollection services)
    {
        static string Directory(IServiceProvider sp) => sp.GetRequiredService<IOptions<PythOnOptions>>().Value.FullDataDirectory;
        services.AddSingleton(sp => new SqliteAuditRepository(Directory(sp)));
        services.AddSingleton(sp =>
        {
            var file = new LiteDatabaseFile(Directory(sp));
            // Entries from before the audit log had a file of its own move there once, before anyone reads either file.
            file.MoveLegacyAudit(sp.GetRequiredService<SqliteAuditRepository>().Import);
            return file;
        });
        services.AddSingleton<IAccountRepository, LiteAccountRepository>();
        services.AddSingleton<IRefreshTokenRepository, LiteRefreshTokenRepository>();
        services.AddSingleton<ISecretRepository, LiteSecretRepository>();
        services.AddSingleton<IPackageRepository, LitePackageRepository>();
        services.AddSingleton<IZkCodeRepository, LiteZkCodeRepository>();
        // Through the LiteDB file: the audit log is read or written only after the move above.
        services.AddSingleton<IAuditRepository>(sp =>
        {
            sp.GetRequiredService<LiteDatabaseFile>();
            return sp.GetRequiredService<SqliteAuditRepository>();
        });
        services.AddSingleton<IStorageHealth, LiteStorageHealth>();
        return services;
    }
}

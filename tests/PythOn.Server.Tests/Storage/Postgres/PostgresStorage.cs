using PythOn.Server.Storage;
using PythOn.Server.Storage.Postgres;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>
/// Every repository of the PostgreSQL provider over a fresh, migrated database (dropped on dispose): what a contract
/// test's factory hands out. <see cref="Replica"/> opens one more server's view of the same database.
/// </summary>
public sealed class PostgresStorage : IAsyncDisposable
{
    private readonly List<PostgresStore> _stores = [];

    private PostgresStorage(PostgresDatabase database) => Database = database;

    public PostgresDatabase Database { get; }

    public static async Task<PostgresStorage> CreateAsync()
    {
        var storage = new PostgresStorage(await PostgresDatabase.CreateAsync());
        storage.Repos = storage.Replica(); // migrates
        return storage;
    }

    /// <summary>The repositories of the first replica.</summary>
    public Repositories Repos { get; private set; } = null!;

    /// <summary>Another replica: its own connection pool on the same database, as a second server process would have.</summary>
    public Repositories Replica()
    {
        var store = PostgresStore.Connect(Database.ConnectionString);
        _stores.Add(store);
        return new Repositories(store);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores) store.Dispose();
        await Database.DisposeAsync();
    }

    public sealed class Repositories(PostgresStore store)
    {
        public IAccountRepository Accounts { get; } = new PostgresAccountRepository(store);
        public IRefreshTokenRepository RefreshTokens { get; } = new PostgresRefreshTokenRepository(store);
        public ISecretRepository Secrets { get; } = new PostgresSecretRepository(store);
        public IPackageRepository Packages { get; } = new PostgresPackageRepository(store);
        public IZkCodeRepository ZkCode { get; } = new PostgresZkCodeRepository(store);
        public IAuditRepository Audit { get; } = new PostgresAuditRepository(store);
        public IStorageHealth Health { get; } = new PostgresStorageHealth(store);
    }
}

/// <summary>One fresh PostgreSQL database per test class (xunit class fixture).</summary>
public sealed class PostgresStorageFixture : IAsyncLifetime
{
    public PostgresStorage Storage { get; private set; } = null!;

    public async Task InitializeAsync() => Storage = await PostgresStorage.CreateAsync();

    public async Task DisposeAsync() => await Storage.DisposeAsync();
}

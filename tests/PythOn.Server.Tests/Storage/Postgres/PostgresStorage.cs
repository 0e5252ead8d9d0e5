using PythOn.Server.Storage;
using PythOn.Server.Storage.Postgres;

namespace PythOn.Server.Tests.Storage.Postgres;

/// <summary>
/// Every repository of the PostgreSQL provider over a fresh, migrated database (dropped on dispose): what a contract
/// test's per-test store is. <see cref="Replica"/> opens another server's view of the same database.
/// </summary>
public sealed class PostgresStorage : IStorageFixture, IAsyncDisposable
{
    private readonly List<PostgresStore> _stores = [];

    private PostgresStorage(PostgresDatabase database)
    {
        Database = database;
        First = Replica(); // connects and migrates
    }

    public PostgresDatabase Database { get; }

    public static PostgresStorage Create() => new(PostgresDatabase.Create());

    public static async Task<PostgresStorage> CreateAsync() => new(await PostgresDatabase.CreateAsync());

    /// <summary>The repositories below, as the first replica.</summary>
    public Repositories First { get; }

    public IAccountRepository Accounts => First.Accounts;
    public IRefreshTokenRepository RefreshTokens => First.RefreshTokens;
    public ISecretRepository Secrets => First.Secrets;
    public IPackageRepository Packages => First.Packages;
    public IZkCodeRepository ZkCode => First.ZkCode;
    public IAuditRepository Audit => First.Audit;
    public IStorageHealth Health => First.Health;

    /// <summary>Another replica: its own connection pool on the same database, as a second server process would have.</summary>
    public Repositories Replica()
    {
        var store = PostgresStore.Connect(Database.ConnectionString);
        lock (_stores) _stores.Add(store);
        return new Repositories(store);
    }

    public void Dispose()
    {
        DisposeStores();
        Database.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        DisposeStores();
        await Database.DisposeAsync();
    }

    private void DisposeStores()
    {
        lock (_stores)
            foreach (var store in _stores) store.Dispose();
    }

    /// <summary>One replica's repositories.</summary>
    public sealed class Repositories(PostgresStore store)
    {
        /// <summary>The replica's connection pool, for the coordination classes built on it.</summary>
        public PostgresStore Store => store;
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
    private PostgresStorage.Repositories? _secondReplica;

    public PostgresStorage Storage { get; private set; } = null!;

    /// <summary>A second replica on the class's database, one for all its tests.</summary>
    public PostgresStorage.Repositories SecondReplica => _secondReplica ??= Storage.Replica();

    public async Task InitializeAsync() => Storage = await PostgresStorage.CreateAsync();

    public async Task DisposeAsync() => await Storage.DisposeAsync();
}

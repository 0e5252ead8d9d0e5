namespace PythOn.Server.Tests.Storage.Postgres;

// The repository contracts on the PostgreSQL provider: each test gets a fresh, migrated database
// (scripts/ensure-postgres.sh's cluster; full tier only, like the Docker tests).

public sealed class PostgresAccountRepositoryTests : AccountRepositoryContract
{
    protected override IStorageFixture CreateStore() => PostgresStorage.Create();
}

public sealed class PostgresRefreshTokenRepositoryTests : RefreshTokenRepositoryContract
{
    protected override IStorageFixture CreateStore() => PostgresStorage.Create();
}

public sealed class PostgresSecretRepositoryTests : SecretRepositoryContract
{
    protected override IStorageFixture CreateStore() => PostgresStorage.Create();
}

public sealed class PostgresPackageRepositoryTests : PackageRepositoryContract
{
    protected override IStorageFixture CreateStore() => PostgresStorage.Create();
}

public sealed class PostgresZkCodeRepositoryTests : ZkCodeRepositoryContract
{
    protected override IStorageFixture CreateStore() => PostgresStorage.Create();
}

public sealed class PostgresAuditRepositoryTests : AuditRepositoryContract
{
    protected override IStorageFixture CreateStore() => PostgresStorage.Create();
}

public sealed class PostgresStorageHealthTests : StorageHealthContract
{
    protected override IStorageFixture CreateStore() => PostgresStorage.Create();

    [Fact]
    public void The_PostgreSQL_provider_names_itself_PostgreSQL()
    {
        Assert.Equal("PostgreSQL", Store.Health.Provider);
    }
}

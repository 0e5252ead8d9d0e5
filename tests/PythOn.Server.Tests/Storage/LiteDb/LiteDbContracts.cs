namespace PythOn.Server.Tests.Storage.LiteDb;

// The repository contracts on the LiteDB provider: each test gets a new file in a new directory.

[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDbAccountRepositoryTests : AccountRepositoryContract
{
    protected override IStorageFixture CreateStore() => new LiteDbStore();
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDbRefreshTokenRepositoryTests : RefreshTokenRepositoryContract
{
    protected override IStorageFixture CreateStore() => new LiteDbStore();
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDbSecretRepositoryTests : SecretRepositoryContract
{
    protected override IStorageFixture CreateStore() => new LiteDbStore();
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDbPackageRepositoryTests : PackageRepositoryContract
{
    protected override IStorageFixture CreateStore() => new LiteDbStore();
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDbZkCodeRepositoryTests : ZkCodeRepositoryContract
{
    protected override IStorageFixture CreateStore() => new LiteDbStore();
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDbAuditRepositoryTests : AuditRepositoryContract
{
    protected override IStorageFixture CreateStore() => new LiteDbStore();
}

[Trait(Tier.Name, Tier.Fast)]
public sealed class LiteDbStorageHealthTests : StorageHealthContract
{
    protected override IStorageFixture CreateStore() => new LiteDbStore();

    [Fact]
    public void The_LiteDB_provider_names_itself_LiteDB()
    {
        Assert.Equal("LiteDB", Store.Health.Provider);
    }
}

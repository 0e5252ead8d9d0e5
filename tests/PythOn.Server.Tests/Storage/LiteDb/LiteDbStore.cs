using PythOn.Server.Storage;
using PythOn.Server.Storage.LiteDb;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Storage.LiteDb;

/// <summary>A LiteDB file in a new temporary directory, deleted on dispose.</summary>
public sealed class LiteDbStore : IStorageFixture
{
    private readonly string _directory = TempDirectories.Create("litedb-contract");
    private readonly LiteDatabaseFile _file;

    public LiteDbStore()
    {
        _file = new LiteDatabaseFile(_directory);
        Accounts = new LiteAccountRepository(_file);
        RefreshTokens = new LiteRefreshTokenRepository(_file);
        Secrets = new LiteSecretRepository(_file);
        Packages = new LitePackageRepository(_file);
        ZkCode = new LiteZkCodeRepository(_file);
        Audit = new LiteAuditRepository(_file);
        Health = new LiteStorageHealth(_file);
    }

    public IAccountRepository Accounts { get; }
    public IRefreshTokenRepository RefreshTokens { get; }
    public ISecretRepository Secrets { get; }
    public IPackageRepository Packages { get; }
    public IZkCodeRepository ZkCode { get; }
    public IAuditRepository Audit { get; }
    public IStorageHealth Health { get; }

    public void Dispose()
    {
        _file.Dispose();
        TempDirectories.Delete(_directory);
    }
}

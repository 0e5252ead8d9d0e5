using PythOn.Server.Storage;
using PythOn.Server.Storage.LiteDb;
using PythOn.Server.Storage.Sqlite;
using PythOn.Server.Tests.Infrastructure;

namespace PythOn.Server.Tests.Storage.LiteDb;

/// <summary>A LiteDB file and the audit log's SQLite file in a new temporary directory, deleted on dispose.</summary>
public sealed class LiteDbStore : IStorageFixture
{
    private readonly string _directory = TempDirectories.Create("litedb-contract");
    private readonly LiteDatabaseFile _file;
    private readonly SqliteAuditRepository _audit;

    public LiteDbStore()
    {
        _file = new LiteDatabaseFile(_directory);
        _audit = new SqliteAuditRepository(_directory);
        Accounts = new LiteAccountRepository(_file);
        RefreshTokens = new LiteRefreshTokenRepository(_file);
        Secrets = new LiteSecretRepository(_file);
        Packages = new LitePackageRepository(_file);
        ZkCode = new LiteZkCodeRepository(_file);
        Audit = _audit;
        Health = new LiteStorageHealth(_file, _audit);
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
        _audit.Dispose();
        TempDirectories.Delete(_directory);
    }
}

using PythOn.Server.Storage.Sqlite;

namespace PythOn.Server.Storage.LiteDb;

/// <summary>A LiteDB deployment's storage: the LiteDB file and the audit log's SQLite file beside it.</summary>
public sealed class LiteStorageHealth(LiteDatabaseFile db, SqliteAuditRepository audit) : IStorageHealth
{
    public string Provider => StorageOptions.LiteDb;

    public bool Ping() => db.Ping() && audit.Ping();

    public void ProbeWrite()
    {
        db.ProbeWrite();
        audit.ProbeWrite();
    }
}

namespace PythOn.Server.Storage.LiteDb;

public sealed class LiteStorageHealth(LiteDatabaseFile db) : IStorageHealth
{
    public string Provider => StorageOptions.LiteDb;

    public bool Ping() => db.Ping();

    public void ProbeWrite() => db.ProbeWrite();
}

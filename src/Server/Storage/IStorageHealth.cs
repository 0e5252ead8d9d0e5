namespace PythOn.Server.Storage;

/// <summary>What the health and readiness checks ask of the store.</summary>
public interface IStorageHealth
{
    /// <summary>"LiteDB" or "PostgreSQL", for status output.</summary>
    string Provider { get; }

    /// <summary>A cheap read; false or an exception when the store is unusable.</summary>
    bool Ping();

    /// <summary>Readiness: a write reaches the store. Throws with the reason when not.</summary>
    void ProbeWrite();
}

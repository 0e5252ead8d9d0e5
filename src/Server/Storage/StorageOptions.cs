namespace PythOn.Server.Storage;

/// <summary>Where the server keeps its data: "PythOn:Storage" (env: PythOn__Storage__Provider, ...).</summary>
public sealed class StorageOptions
{
    public const string LiteDb = "LiteDB";
    public const string PostgreSql = "PostgreSQL";

    /// <summary>"LiteDB" (default: one file in the data directory, one server process) or "PostgreSQL" (shared by replicas).</summary>
    public string Provider { get; set; } = LiteDb;

    /// <summary>Npgsql connection string; required for PostgreSQL, unused for LiteDB. A secret: never shown.</summary>
    public string? ConnectionString { get; set; }
}
